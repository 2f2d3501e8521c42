package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/course-supporter/course-supporter/app/internal/testdb"
)

const (
	gib = int64(1) << 30
	mib = int64(1) << 20
)

// ownImage services run the image CI builds (pinned by the deployed commit
// and digest, written by scripts/deploy.sh); every other image is a third
// party's.
var ownImage = map[string]bool{"app": true, "worker": true, "migrate": true}

// pinnedByDigest is a third-party image reference pinned by tag and digest.
var pinnedByDigest = regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)

// oneShot services run to completion (`run --rm`) and need no healthcheck.
var oneShot = map[string]bool{"migrate": true, "certbot": true}

// Ensure the production stack loads with the example env file and contains
// every service of the runbook, under the expected container names.
func TestProductionServices(t *testing.T) {
	all := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	// app and worker have no fixed name: a deploy runs the new release
	// beside the old one (scripts/deploy.sh); they are reached by alias.
	want := map[string]string{
		"app":         "",
		"worker":      "",
		"migrate":     "",
		"postgres-cs": "course-supporter-db",
		"netdata":     "netdata",
		"nginx":       "course-supporter-nginx",
		"certbot":     "course-supporter-certbot",
	}
	got := all.ServiceNames()
	slices.Sort(got)
	var wantNames []string
	for name := range want {
		wantNames = append(wantNames, name)
	}
	slices.Sort(wantNames)
	if !slices.Equal(got, wantNames) {
		t.Fatalf("services = %v, want %v", got, wantNames)
	}
	for name, container := range want {
		if s := all.Services[name]; s.ContainerName != container {
			t.Errorf("%s: container_name = %q, want %q", name, s.ContainerName, container)
		}
	}

	// COMPOSE_PROFILES=worker (the example) starts app, worker, db, netdata:
	// no edge, and never the one-shot migration.
	def := MustLoadCompose(t, "docker-compose.yml", nil)
	gotDefault := def.ServiceNames()
	slices.Sort(gotDefault)
	if want := []string{"app", "netdata", "postgres-cs", "worker"}; !slices.Equal(gotDefault, want) {
		t.Errorf("services with COMPOSE_PROFILES from the example = %v, want %v", gotDefault, want)
	}
	edge := MustLoadCompose(t, "docker-compose.yml", []string{"edge"})
	for _, name := range []string{"nginx", "certbot"} {
		if _, ok := edge.Services[name]; !ok {
			t.Errorf("profile edge does not add %s", name)
		}
	}
}

// Ensure the stack refuses to start without a database password instead of
// initialising PostgreSQL with an empty one.
func TestProductionRequiresDatabasePassword(t *testing.T) {
	_, err := loadCompose(t, "docker-compose.yml", []string{"*"}, nil)
	if err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
		t.Fatalf("loading with the example's empty POSTGRES_PASSWORD: err = %v, want a required-variable error", err)
	}
}

// Ensure nothing but the edge nginx publishes a port: the app, the worker and
// the database are reachable only through nginx and the compose networks.
func TestProductionPublishesNoAppOrDatabasePort(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	for name, s := range p.Services {
		if name == "nginx" {
			continue
		}
		if len(s.Ports) > 0 {
			t.Errorf("%s publishes ports %v", name, s.Ports)
		}
	}
	var published []string
	for _, port := range p.Services["nginx"].Ports {
		published = append(published, port.Published+"->"+strconv.FormatUint(uint64(port.Target), 10))
	}
	slices.Sort(published)
	if want := []string{"443->443", "80->80"}; !slices.Equal(published, want) {
		t.Errorf("nginx ports = %v, want %v", published, want)
	}
}

// Ensure every long-running service has a healthcheck that Docker will run,
// with the commands and timings the runbook documents.
func TestProductionHealthchecks(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	for name, s := range p.Services {
		if oneShot[name] {
			if s.Restart != "no" {
				t.Errorf("%s is one-shot but restart = %q", name, s.Restart)
			}
			continue
		}
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
			t.Errorf("%s has no healthcheck", name)
			continue
		}
		if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil {
			t.Errorf("%s healthcheck lacks interval, timeout or retries: %+v", name, hc)
		}
		if s.Restart != "unless-stopped" {
			t.Errorf("%s restart = %q, want unless-stopped", name, s.Restart)
		}
	}
	wantTest := map[string]string{
		"app":         "CMD course-supporter healthcheck",
		"worker":      "CMD course-supporter healthcheck --url http://127.0.0.1:9090/livez",
		"postgres-cs": "CMD-SHELL pg_isready -U ${POSTGRES_USER} -d ${POSTGRES_DB}",
	}
	for name, want := range wantTest {
		if got := strings.Join(p.Services[name].HealthCheck.Test, " "); got != want {
			t.Errorf("%s healthcheck = %q, want %q", name, got, want)
		}
	}
	db := p.Services["postgres-cs"].HealthCheck
	if time.Duration(*db.Interval) != 10*time.Second || time.Duration(*db.Timeout) != 5*time.Second || *db.Retries != 5 {
		t.Errorf("postgres-cs healthcheck timings = %v/%v/%d, want 10s/5s/5", *db.Interval, *db.Timeout, *db.Retries)
	}
	for _, name := range []string{"app", "worker", "migrate"} {
		dep, ok := p.Services[name].DependsOn["postgres-cs"]
		if !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s must depend on postgres-cs being healthy, got %+v", name, dep)
		}
	}
	if len(p.Services["nginx"].DependsOn) != 0 {
		t.Errorf("nginx must start without the app (it answers 502), depends_on = %v", p.Services["nginx"].DependsOn)
	}
}

// Ensure log rotation on every service, so logs cannot fill the disk.
func TestProductionLogRotation(t *testing.T) {
	for _, file := range []string{"docker-compose.yml", "docker-compose.dev.yml"} {
		p := MustLoadCompose(t, file, []string{"*"})
		for name, s := range p.Services {
			l := s.Logging
			if l == nil || l.Driver != "json-file" || l.Options["max-size"] != "10m" || l.Options["max-file"] != "5" {
				t.Errorf("%s %s: logging = %+v, want json-file 10m x 5", file, name, l)
			}
		}
	}
}

// Ensure memory, CPU and process limits on every service, sized so that the
// services that run together fit the 8 GB / 2 vCPU host with room for the OS,
// the page cache and a deploy's second app container.
func TestProductionLimits(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	var total int64
	for name, s := range p.Services {
		if s.MemLimit <= 0 || s.CPUS <= 0 || s.PidsLimit <= 0 {
			t.Errorf("%s: mem_limit %d, cpus %v, pids_limit %d: all must be set", name, s.MemLimit, s.CPUS, s.PidsLimit)
		}
		if s.CPUS > 2 {
			t.Errorf("%s: cpus %v exceeds the host's 2 vCPU", name, s.CPUS)
		}
		if s.PidsLimit > 256 {
			t.Errorf("%s: pids_limit %d, want <= 256", name, s.PidsLimit)
		}
		if !oneShot[name] {
			total += int64(s.MemLimit)
		}
	}
	if total > 5*gib {
		t.Errorf("long-running services may use %d MiB together; keep it under 5 GiB of the 8 GB host", total/mib)
	}
	want := map[string]int64{"app": 768 * mib, "worker": 1536 * mib, "postgres-cs": 2 * gib, "netdata": 200 * mib, "nginx": 128 * mib}
	for name, limit := range want {
		if got := int64(p.Services[name].MemLimit); got != limit {
			t.Errorf("%s mem_limit = %d MiB, want %d MiB", name, got/mib, limit/mib)
		}
	}
	if s := p.Services["worker"]; s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < 90*time.Second {
		t.Errorf("worker stop_grace_period must cover WORKER_SHUTDOWN_TIMEOUT (>= 90s), got %v", s.StopGracePeriod)
	}
}

// Ensure the hardening table of the runbook: app, worker and migrate run as
// 10001 on a read-only root with a small /tmp tmpfs, no capabilities and no
// privilege escalation; nginx keeps only the four capabilities it needs.
func TestProductionHardening(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	for name, s := range p.Services {
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: security_opt lacks no-new-privileges:true (%v)", name, s.SecurityOpt)
		}
	}
	for _, name := range []string{"app", "worker", "migrate"} {
		s := p.Services[name]
		if !s.ReadOnly || s.User != "10001:10001" || !slices.Equal(s.CapDrop, []string{"ALL"}) || len(s.CapAdd) > 0 {
			t.Errorf("%s: read_only %v user %q cap_drop %v cap_add %v", name, s.ReadOnly, s.User, s.CapDrop, s.CapAdd)
		}
		if !slices.ContainsFunc(s.Tmpfs, func(m string) bool { return strings.HasPrefix(m, "/tmp:") && strings.Contains(m, "size=64m") }) {
			t.Errorf("%s: tmpfs %v, want /tmp with size=64m", name, s.Tmpfs)
		}
		if !hasVolume(s, types.VolumeTypeVolume, "worker-tmp", "/var/tmp/course-supporter") {
			t.Errorf("%s: worker-tmp is not mounted at WORKER_TMP_DIR", name)
		}
		if got := envValue(s, "POSTGRES_HOST"); got != "postgres-cs" {
			t.Errorf("%s: POSTGRES_HOST = %q, want postgres-cs", name, got)
		}
		if len(s.EnvFiles) != 1 || filepath.Base(s.EnvFiles[0].Path) != ".env.prod" {
			t.Errorf("%s: env_file = %+v, want .env.prod", name, s.EnvFiles)
		}
	}
	nginx := p.Services["nginx"]
	capAdd := slices.Clone(nginx.CapAdd)
	slices.Sort(capAdd)
	if !nginx.ReadOnly || !slices.Equal(nginx.CapDrop, []string{"ALL"}) ||
		!slices.Equal(capAdd, []string{"CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"}) {
		t.Errorf("nginx: read_only %v cap_drop %v cap_add %v", nginx.ReadOnly, nginx.CapDrop, nginx.CapAdd)
	}
	for _, dir := range []string{"/var/cache/nginx", "/var/run", "/etc/nginx/conf.d"} {
		if !slices.Contains(nginx.Tmpfs, dir) {
			t.Errorf("nginx: no tmpfs at %s (%v)", dir, nginx.Tmpfs)
		}
	}
	if db := p.Services["postgres-cs"]; !hasVolume(db, types.VolumeTypeVolume, "pgdata-cs", "/var/lib/postgresql/data") {
		t.Errorf("postgres-cs: named volume pgdata-cs not mounted at the data directory")
	}
}

// Ensure every image is pinned: no :latest, no untagged image, every
// third-party image by tag and digest (what runs is the digest; CI's job
// "images" checks that the tag still names it), and the app by the deployed
// commit.
func TestProductionImagesPinned(t *testing.T) {
	_, env := MustReadEnvFile(t, filepath.Join(repoRoot(t), ".env.prod.example"))
	for _, file := range []string{"docker-compose.yml", "docker-compose.dev.yml"} {
		p := MustLoadCompose(t, file, []string{"*"})
		for name, s := range p.Services {
			ref := s.Image
			if at := strings.Index(ref, "@"); at >= 0 {
				ref = ref[:at]
			}
			slash := strings.LastIndex(ref, "/")
			colon := strings.LastIndex(ref, ":")
			if colon <= slash || strings.HasSuffix(ref, ":latest") {
				t.Errorf("%s %s: image %q is not pinned to a tag", file, name, s.Image)
			}
		}
	}
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	for _, file := range []string{"docker-compose.yml", "docker-compose.dev.yml"} {
		for name, s := range MustLoadCompose(t, file, []string{"*"}).Services {
			if ownImage[name] && file == "docker-compose.yml" {
				continue
			}
			if !pinnedByDigest.MatchString(s.Image) {
				t.Errorf("%s %s: image %q must be pinned as tag@sha256:<64 hex>", file, name, s.Image)
			}
		}
	}
	for _, name := range []string{"app", "worker", "migrate"} {
		if got, want := p.Services[name].Image, env["IMAGE_REPO"]+":"+env["IMAGE_TAG"]; got != want {
			t.Errorf("%s: image %q, want %q", name, got, want)
		}
	}
	// What scripts/deploy.sh writes into .env.prod: the digest wins.
	d := "sha256:" + strings.Repeat("ab", 32)
	byDigest, err := loadCompose(t, "docker-compose.yml", []string{"*"}, []string{"POSTGRES_PASSWORD=x", "IMAGE_DIGEST=" + d})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"app", "worker", "migrate"} {
		if got, want := byDigest.Services[name].Image, env["IMAGE_REPO"]+":"+env["IMAGE_TAG"]+"@"+d; got != want {
			t.Errorf("%s with IMAGE_DIGEST: image %q, want %q", name, got, want)
		}
	}
	if p.Services["app"].Build != nil {
		t.Error("app has a build section: the server must never build (CI pushes the image)")
	}
	dev := MustLoadCompose(t, "docker-compose.dev.yml", []string{"*"})
	if got, want := dev.Services["postgres"].Image, p.Services["postgres-cs"].Image; got != want {
		t.Errorf("dev postgres image %q differs from production %q", got, want)
	}
	// Tests on a machine with Docker (testcontainers) and the CI workflow's
	// service containers run the production database image too.
	if testdb.Image != p.Services["postgres-cs"].Image {
		t.Errorf("testdb.Image %q differs from production %q", testdb.Image, p.Services["postgres-cs"].Image)
	}
	for _, wf := range []string{".github/workflows/ci.yml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), wf))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`image: (pgvector/\S+)`).FindAllStringSubmatch(string(b), -1) {
			if m[1] != p.Services["postgres-cs"].Image {
				t.Errorf("%s uses %s, want the production image %s", wf, m[1], p.Services["postgres-cs"].Image)
			}
		}
	}
}

// Ensure the commands and the migration contract: serve and worker never
// migrate, and the migration is a one-shot that `up` does not start.
func TestProductionCommands(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	want := map[string]string{"app": "serve", "worker": "worker", "migrate": "migrate up"}
	for name, cmd := range want {
		if got := strings.Join(p.Services[name].Command, " "); got != cmd {
			t.Errorf("%s command = %q, want %q", name, got, cmd)
		}
	}
	if got := p.Services["migrate"].Profiles; !slices.Equal(got, []string{"migrate"}) {
		t.Errorf("migrate profiles = %v, want [migrate]", got)
	}
	if got := p.Services["worker"].Profiles; !slices.Equal(got, []string{"worker"}) {
		t.Errorf("worker profiles = %v, want [worker]", got)
	}
	db := strings.Join(p.Services["postgres-cs"].Command, " ")
	for _, setting := range []string{"shared_buffers=512MB", "effective_cache_size=1536MB", "work_mem=16MB", "maintenance_work_mem=256MB", "max_connections=60"} {
		if !strings.Contains(db, setting) {
			t.Errorf("postgres-cs command lacks %s: %q", setting, db)
		}
	}
}

// Ensure every file a service bind-mounts from the repository exists, so a
// renamed file fails here rather than as an empty directory in a container.
func TestProductionBindMountsExist(t *testing.T) {
	root := repoRoot(t)
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind || !strings.HasPrefix(v.Source, root+string(filepath.Separator)) {
				continue // named volumes, host paths such as /proc
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s, which does not exist", name, v.Source)
			}
			if !v.ReadOnly {
				t.Errorf("%s mounts repository file %s read-write", name, v.Source)
			}
		}
	}
	// Repository configuration is mounted as directories only: `git checkout`
	// gives a changed file a new inode, which a single-file bind mount of a
	// running container never sees. (The certbot hook is exempt: certbot runs
	// as a fresh `run --rm` container each time.)
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind || !strings.HasPrefix(v.Source, root+string(filepath.Separator)) || name == "certbot" {
				continue
			}
			if fi, err := os.Stat(v.Source); err == nil && !fi.IsDir() {
				t.Errorf("%s mounts the single file %s; mount its directory so a deploy's checkout reaches the container", name, v.Source)
			}
		}
	}
	for _, f := range []string{"infra/nginx/entrypoint.sh", "infra/nginx/render.sh", "infra/netdata/entrypoint.sh"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Ensure the development file publishes its ports on loopback only and
// brings an S3 server with the bucket next to the production database image.
func TestDevStack(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.dev.yml", []string{"*"})
	for _, name := range []string{"postgres", "minio", "minio-init"} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("dev stack lacks %s", name)
		}
	}
	ports := map[string][]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("dev %s publishes %s on %q, want 127.0.0.1 only", name, port.Published, port.HostIP)
			}
			ports[name] = append(ports[name], port.Published)
		}
	}
	if !slices.Equal(ports["postgres"], []string{"5432"}) || !slices.Contains(ports["minio"], "9000") {
		t.Errorf("dev ports = %v, want postgres 5432 and minio 9000", ports)
	}
	if cmd := strings.Join(p.Services["minio-init"].Command, " "); !strings.Contains(cmd, "mb") {
		t.Errorf("minio-init does not create the bucket: %q", cmd)
	}
}

func hasVolume(s types.ServiceConfig, typ, source, target string) bool {
	for _, v := range s.Volumes {
		if v.Type == typ && v.Source == source && v.Target == target {
			return true
		}
	}
	return false
}

func envValue(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}
