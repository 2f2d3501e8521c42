package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// Ensure nginx gives up on a stalled client within a minute: its body and
// send timeouts are idle bounds between two reads or writes, and at
// 900 s four stalled uploads held every upload slot for 15 minutes
// (docs/operations/limits.md, "Uploads").
func TestNginxClientIdleTimeouts(t *testing.T) {
	path := filepath.Join(repoRoot(t), "infra", "nginx", "templates", "course-supporter-20-https.conf.template")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"client_body_timeout", "send_timeout"} {
		m := regexp.MustCompile(`(?m)^\s*` + d + `\s+(\d+)s;`).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s: no `%s <N>s;` directive", path, d)
			continue
		}
		if n, _ := strconv.Atoi(string(m[1])); n < 10 || n > 60 {
			t.Errorf("%s %ss: want between 10 s (a slow but live client) and 60 s", d, m[1])
		}
	}
}
