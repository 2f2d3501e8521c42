package deploytest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goDJob holds the go.d job fields these collectors use (httpcheck,
// x509check, prometheus); go.d decodes its YAML files with the same keys.
type goDJob struct {
	Name           string `yaml:"name"`
	URL            string `yaml:"url"`
	Source         string `yaml:"source"`
	App            string `yaml:"app"`
	StatusAccepted []int  `yaml:"status_accepted"`
	ResponseMatch  string `yaml:"response_match"`
	Timeout        int    `yaml:"timeout"`
	WarnDays       int    `yaml:"days_until_expiration_warning"`
	CritDays       int    `yaml:"days_until_expiration_critical"`
	CheckRevoked   bool   `yaml:"check_revocation_status"`
	Selector       struct {
		Allow []string `yaml:"allow"`
		Deny  []string `yaml:"deny"`
	} `yaml:"selector"`
}

type goDFile struct {
	UpdateEvery        int      `yaml:"update_every"`
	AutodetectionRetry int      `yaml:"autodetection_retry"`
	Jobs               []goDJob `yaml:"jobs"`
}

// MustParseGoD decodes a go.d module file strictly: an unknown or misspelt
// key fails instead of being ignored.
func MustParseGoD(tb testing.TB, path string) goDFile {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out goDFile
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&out); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(out.Jobs) == 0 {
		tb.Fatalf("%s: no jobs", path)
	}
	return out
}

// Ensure the /health probe targets the app container's API port, accepts
// only 200, and tells "ok" from "degraded" bodies (go.d uses Go's regexp,
// so compiling it here is what go.d does).
func TestGoDHTTPCheck(t *testing.T) {
	f := MustParseGoD(t, filepath.Join(repoRoot(t), "infra/netdata/go.d/httpcheck.conf"))
	if f.UpdateEvery != 30 || f.AutodetectionRetry == 0 {
		t.Errorf("update_every %d autodetection_retry %d, want 30 s and a retry", f.UpdateEvery, f.AutodetectionRetry)
	}
	if len(f.Jobs) != 1 {
		t.Fatalf("jobs = %d, want 1", len(f.Jobs))
	}
	j := f.Jobs[0]
	if j.URL != "http://course-supporter-app:8000/health" || len(j.StatusAccepted) != 1 || j.StatusAccepted[0] != 200 {
		t.Errorf("job = %+v, want GET http://course-supporter-app:8000/health accepting 200", j)
	}
	re, err := regexp.Compile(j.ResponseMatch)
	if err != nil {
		t.Fatalf("response_match %q: %v", j.ResponseMatch, err)
	}
	ok := `{"status":"ok","checks":{"db":"ok","s3":"ok","queue":"ok"},"timestamp":"2026-03-08T12:00:00+00:00"}`
	degraded := `{"status":"degraded","checks":{"db":"ok","s3":"error: Unavailable","queue":"ok"},"timestamp":"2026-03-08T12:00:00+00:00"}`
	if !re.MatchString(ok) || re.MatchString(degraded) {
		t.Errorf("response_match %q must match the ok body and not the degraded one", j.ResponseMatch)
	}
}

// Ensure the metrics jobs scrape the internal metrics port of the app and
// the worker, and that every prometheus context an alarm uses is produced
// by a job (context = prometheus.<app>.<metric>) whose selector keeps it.
func TestGoDPrometheusFeedsTheAlarms(t *testing.T) {
	root := repoRoot(t)
	f := MustParseGoD(t, filepath.Join(root, "infra/netdata/go.d/prometheus.conf"))
	targets := map[string]bool{}
	for _, j := range f.Jobs {
		targets[j.URL] = true
		if j.App == "" {
			t.Errorf("job %s has no app: its chart contexts would follow the job name", j.Name)
		}
	}
	for _, url := range []string{"http://course-supporter-app:9090/metrics", "http://course-supporter-worker:9090/metrics"} {
		if !targets[url] {
			t.Errorf("no job scrapes %s", url)
		}
	}
	for url := range targets {
		if !strings.HasSuffix(url, ":9090/metrics") {
			t.Errorf("job target %s is not the internal metrics listener", url)
		}
	}

	contexts := MustAlarmContexts(t, filepath.Join(root, "infra/netdata/health.d/cs-app.conf"))
	found := 0
	for _, ctx := range contexts {
		app, metric, ok := strings.Cut(strings.TrimPrefix(ctx, "prometheus."), ".")
		if !strings.HasPrefix(ctx, "prometheus.") || !ok {
			continue
		}
		found++
		fed := false
		for _, j := range f.Jobs {
			if j.App == app && selectorKeeps(j.Selector.Allow, metric) {
				fed = true
			}
		}
		if !fed {
			t.Errorf("alarm context %s: no job with app %q keeps metric %s", ctx, app, metric)
		}
	}
	if found != 5 {
		t.Errorf("found %d prometheus alarm contexts, want 5 (5xx, failed jobs, backlog, heartbeat, LLM failure ratio)", found)
	}
	// The filtered jobs keep exactly the series their alarm is about.
	for _, j := range f.Jobs {
		switch j.App {
		case "cs_5xx":
			if len(j.Selector.Allow) != 1 || j.Selector.Allow[0] != `cs_http_requests_total{status=~"^5"}` {
				t.Errorf("job %s selector %v", j.Name, j.Selector.Allow)
			}
		case "cs_failed":
			if len(j.Selector.Allow) != 1 || j.Selector.Allow[0] != `cs_jobs_finished_total{status="failed"}` {
				t.Errorf("job %s selector %v", j.Name, j.Selector.Allow)
			}
		}
	}
}

// Ensure the certificate check renders from API_DOMAIN through the netdata
// entrypoint wrapper and checks the public name on 443 with 14/7 days.
func TestGoDX509CheckRendered(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	cmd := exec.Command("sh", filepath.Join(root, "infra/netdata/entrypoint.sh"))
	cmd.Env = append(os.Environ(),
		"API_DOMAIN=api.example.org",
		"CS_NETDATA_SRC="+filepath.Join(root, "infra/netdata"),
		"CS_NETDATA_CONF_DIR="+dir,
		"CS_NETDATA_ENTRYPOINT=true",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("entrypoint.sh: %v\n%s", err, out)
	}
	// The repository's files are linked by path, so a deploy's checkout is
	// what netdata reads after a recreate (a copy or a file mount would not be).
	for _, f := range []string{"go.d/httpcheck.conf", "go.d/prometheus.conf", "health_alarm_notify.conf"} {
		if target, err := os.Readlink(filepath.Join(dir, f)); err != nil || target != filepath.Join(root, "infra/netdata", f) {
			t.Errorf("%s: link to %q (%v), want the mounted repository file", f, target, err)
		}
	}
	f := MustParseGoD(t, filepath.Join(dir, "go.d", "x509check.conf"))
	j := f.Jobs[0]
	if j.Source != "https://api.example.org:443" || j.WarnDays != 14 || j.CritDays != 7 {
		t.Errorf("x509check job = %+v, want https://api.example.org:443 with 14/7 days", j)
	}

	bad := exec.Command("sh", filepath.Join(root, "infra/netdata/entrypoint.sh"))
	bad.Env = append(os.Environ(), "API_DOMAIN=evil/../x", "CS_NETDATA_CONF_DIR="+dir, "CS_NETDATA_ENTRYPOINT=true")
	if err := bad.Run(); err == nil {
		t.Error("entrypoint.sh accepted an API_DOMAIN that is not a host name")
	}
}

// Ensure the compose file gives netdata what its files need: the container
// names the collectors target, API_DOMAIN for the certificate check, and the
// Telegram variables health_alarm_notify.conf reads.
func TestNetdataWiring(t *testing.T) {
	p := MustLoadCompose(t, "docker-compose.yml", []string{"*"})
	// The app is scraped over cs-edge, the worker (which stays off cs-edge)
	// over the default network; netdata is on both.
	for name, want := range map[string][2]string{"app": {"course-supporter-app", edgeNetwork}, "worker": {"course-supporter-worker", "default"}} {
		alias, network := want[0], want[1]
		if n := p.Services[name].Networks[network]; n == nil || !slices.Contains(n.Aliases, alias) {
			t.Errorf("%s lacks the alias %s on the %s network; the go.d jobs target it", name, alias, network)
		}
		if _, ok := p.Services["netdata"].Networks[network]; !ok {
			t.Errorf("netdata is not on %s, where the go.d jobs resolve %s", network, alias)
		}
	}
	nd := p.Services["netdata"]
	for _, key := range []string{"API_DOMAIN", "NETDATA_TELEGRAM_BOT_TOKEN", "NETDATA_TELEGRAM_CHAT_ID", "DO_NOT_TRACK"} {
		if _, ok := nd.Environment[key]; !ok {
			t.Errorf("netdata lacks %s in its environment", key)
		}
	}
	notify, err := os.ReadFile(filepath.Join(repoRoot(t), "infra/netdata/health_alarm_notify.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`SEND_TELEGRAM="YES"`, `TELEGRAM_BOT_TOKEN="${NETDATA_TELEGRAM_BOT_TOKEN:-}"`, `DEFAULT_RECIPIENT_TELEGRAM="${NETDATA_TELEGRAM_CHAT_ID:-}"`} {
		if !strings.Contains(string(notify), want) {
			t.Errorf("health_alarm_notify.conf lacks %s", want)
		}
	}
}

// MustAlarmContexts returns the `on:` context of every alarm or template in a
// Netdata health file.
func MustAlarmContexts(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "on:"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// selectorKeeps reports whether a go.d allow list keeps the metric name
// (an empty list keeps everything; only the name part is compared).
func selectorKeeps(allow []string, metric string) bool {
	if len(allow) == 0 {
		return true
	}
	for _, a := range allow {
		name, _, _ := strings.Cut(a, "{")
		if name == metric {
			return true
		}
	}
	return false
}
