package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// opsKeys are the .env.prod.example keys that configure compose and the
// operations scripts rather than the application (.env.example has those).
var opsKeys = []string{
	"COMPOSE_PROFILES", "IMAGE_REPO", "IMAGE_TAG", "IMAGE_DIGEST", "API_DOMAIN", "ACME_EMAIL", "CERTBOT_STAGING",
	"CERTBOT_STATE_DIR", "NGINX_HTPASSWD_FILE", "APP_MEM_LIMIT", "APP_GOMEMLIMIT", "NETDATA_HOSTNAME",
	"NETDATA_TELEGRAM_BOT_TOKEN", "NETDATA_TELEGRAM_CHAT_ID", "EDGE_SUBNET", "EDGE_NGINX_IP",
}

// Ensure every key of the production example is a real setting (known to
// .env.example or one of the operations keys), so a typo cannot silently
// leave a production value at its default.
func TestEnvProdExampleKeysAreKnown(t *testing.T) {
	root := repoRoot(t)
	appKeys, _ := MustReadEnvFile(t, filepath.Join(root, ".env.example"))
	prodKeys, _ := MustReadEnvFile(t, filepath.Join(root, ".env.prod.example"))
	for _, k := range prodKeys {
		if !slices.Contains(appKeys, k) && !slices.Contains(opsKeys, k) {
			t.Errorf(".env.prod.example sets %s, which is neither in .env.example nor an operations key", k)
		}
	}
}

// Ensure the example commits no secret and leaves every (secret) empty, and
// that production defaults are the production ones.
func TestEnvProdExampleHoldsNoSecrets(t *testing.T) {
	root := repoRoot(t)
	_, values := MustReadEnvFile(t, filepath.Join(root, ".env.prod.example"))
	for _, k := range []string{"POSTGRES_PASSWORD", "S3_ACCESS_KEY", "S3_SECRET_KEY", "NETDATA_TELEGRAM_BOT_TOKEN", "NETDATA_TELEGRAM_CHAT_ID"} {
		v, ok := values[k]
		if !ok {
			t.Errorf("%s is missing from .env.prod.example", k)
		} else if v != "" {
			t.Errorf("%s has a value in .env.prod.example; secrets are filled in on the server only", k)
		}
	}
	for _, k := range []string{"BACKUP_S3_ACCESS_KEY", "BACKUP_S3_SECRET_KEY"} {
		if _, ok := values[k]; ok {
			t.Errorf("%s must not be in .env.prod (the app containers receive all of it); it belongs in backup.env", k)
		}
	}
	want := map[string]string{"ENVIRONMENT": "production", "LOG_FORMAT": "json", "POSTGRES_HOST": "postgres-cs", "RATE_LIMIT_ENABLED": "true"}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %q in .env.prod.example, want %q", k, values[k], v)
		}
	}
	backup, err := os.ReadFile(filepath.Join(root, "infra/backup/backup.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(backup), "\n") {
		if (strings.HasPrefix(line, "BACKUP_S3_ACCESS_KEY=") || strings.HasPrefix(line, "BACKUP_S3_SECRET_KEY=")) && !strings.HasSuffix(line, "=") {
			t.Errorf("backup.env.example commits a key: %q", line)
		}
	}
}

// Ensure every variable docker-compose.yml interpolates without a default is
// defined in the example, so `docker compose --env-file .env.prod` fails only
// on values the operator really has to fill in.
func TestComposeVariablesAreInTheExample(t *testing.T) {
	root := repoRoot(t)
	compose, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	_, values := MustReadEnvFile(t, filepath.Join(root, ".env.prod.example"))
	ref := regexp.MustCompile(`\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}`)
	for _, line := range strings.Split(string(compose), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range ref.FindAllStringSubmatch(strings.ReplaceAll(line, "$${", "{"), -1) {
			if strings.HasPrefix(m[2], ":-") || strings.HasPrefix(m[2], "-") {
				continue
			}
			if _, ok := values[m[1]]; !ok {
				t.Errorf("docker-compose.yml needs ${%s}, which .env.prod.example does not define", m[1])
			}
		}
	}
}

// Ensure the nginx templates' production defaults name what compose runs:
// the app and netdata containers and ports, and Docker's embedded resolver.
func TestNginxDefaultsMatchCompose(t *testing.T) {
	root := repoRoot(t)
	render, err := os.ReadFile(filepath.Join(root, "infra/nginx/render.sh"))
	if err != nil {
		t.Fatal(err)
	}
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	defaults := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^: "\$\{(CS_[A-Z0-9_]+):=([^}]*)\}"`).FindAllStringSubmatch(string(render), -1) {
		defaults[m[1]] = m[2]
	}
	app := p.Services["app"]
	if want := "course-supporter-app:" + strings.TrimPrefix(envValue(app, "HTTP_ADDR"), ":"); defaults["CS_APP_UPSTREAM"] != want {
		t.Errorf("CS_APP_UPSTREAM default %q, want %q", defaults["CS_APP_UPSTREAM"], want)
	}
	if want := p.Services["netdata"].ContainerName + ":19999"; defaults["CS_NETDATA_UPSTREAM"] != want {
		t.Errorf("CS_NETDATA_UPSTREAM default %q, want %q", defaults["CS_NETDATA_UPSTREAM"], want)
	}
	if !strings.HasPrefix(defaults["CS_RESOLVER"], "127.0.0.11 valid=30s") {
		t.Errorf("CS_RESOLVER default %q, want Docker's 127.0.0.11 valid=30s", defaults["CS_RESOLVER"])
	}
	nginx := p.Services["nginx"]
	mounts := map[string]bool{}
	for _, v := range nginx.Volumes {
		mounts[v.Target] = true
	}
	for _, key := range []string{"CS_ACME_WEBROOT", "CS_HTPASSWD_FILE"} {
		if !mounts[defaults[key]] {
			t.Errorf("%s default %q is not a mount of the nginx service", key, defaults[key])
		}
	}
	// The template and snippet directories live inside the infra/nginx mount.
	for _, key := range []string{"CS_TEMPLATE_DIR", "CS_SNIPPETS_DIR"} {
		if dir := envValue(nginx, key); !strings.HasPrefix(dir, "/etc/nginx/cs/") || !mounts["/etc/nginx/cs"] {
			t.Errorf("nginx %s = %q, want a directory under the /etc/nginx/cs mount", key, dir)
		}
	}
}
