package deploytest

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// Ensure the multi-host file keeps API and worker hosts stateless: the
// shared PostgreSQL comes from DATABASE_URL (no database service, loading
// fails without it), the only volume is the worker's scratch space, no
// container has a fixed name, the API runs no workers and publishes only
// its port, and both run the deployed image by digest.
func TestMultiHostIsStateless(t *testing.T) {
	dsn := "DATABASE_URL=postgres://cs:pw@db.internal:5432/course_supporter?sslmode=verify-full"
	d := "sha256:" + strings.Repeat("cd", 32)
	p, err := loadCompose(t, "docker-compose.multihost.yml", []string{"api", "worker"}, []string{dsn, "IMAGE_DIGEST=" + d})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.ServiceNames(), ","); got != "api,worker" && got != "worker,api" {
		t.Fatalf("services %s, want api and worker only", got)
	}
	for name, s := range p.Services {
		if !strings.HasSuffix(s.Image, "@"+d) {
			t.Errorf("%s: image %q is not the deployed digest", name, s.Image)
		}
		if s.ContainerName != "" {
			t.Errorf("%s: container_name %q prevents scaling", name, s.ContainerName)
		}
		if !strings.HasPrefix(envValue(s, "DATABASE_URL"), "postgres://cs:pw@db.internal") {
			t.Errorf("%s: DATABASE_URL %q, want the shared database", name, envValue(s, "DATABASE_URL"))
		}
		if len(s.DependsOn) != 0 {
			t.Errorf("%s depends on %v: nothing else runs on its host", name, s.DependsOn)
		}
		for _, v := range s.Volumes {
			if name != "worker" || v.Type != types.VolumeTypeVolume || v.Source != "worker-tmp" {
				t.Errorf("%s mounts %s:%s; hosts must hold no state", name, v.Source, v.Target)
			}
		}
		if !s.ReadOnly || s.User != "10001:10001" {
			t.Errorf("%s: read_only %v user %q, want the production hardening", name, s.ReadOnly, s.User)
		}
	}
	api := p.Services["api"]
	if envValue(api, "WORKER_IN_PROCESS") != "false" {
		t.Error("api runs workers in-process; they belong on the worker hosts")
	}
	if len(api.Ports) != 1 || api.Ports[0].Target != 8000 {
		t.Errorf("api ports %+v, want 8000 only", api.Ports)
	}
	if len(p.Services["worker"].Ports) != 0 {
		t.Error("worker publishes a port")
	}

	if _, err := loadCompose(t, "docker-compose.multihost.yml", []string{"api"}, nil); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("loading without DATABASE_URL: %v, want a refusal naming DATABASE_URL", err)
	}
}
