package deploytest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Ensure scripts/ci-verify-images.sh (CI job "images") checks every
// third-party image: those of the three compose files as compose itself
// reads them, the Dockerfile's FROM lines and the workflows' images.
func TestImageVerifierListsEveryImage(t *testing.T) {
	root := repoRoot(t)
	want := map[string]bool{}
	for _, file := range []string{"docker-compose.yml", "docker-compose.dev.yml", "docker-compose.ci.yml"} {
		for name, s := range MustLoadCompose(t, file, []string{"*"}).Services {
			if !ownImage[name] || file != "docker-compose.yml" {
				want[file+" "+s.Image] = true
			}
		}
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`).FindAllStringSubmatch(string(dockerfile), -1) {
		want["Dockerfile "+m[1]] = true
	}
	workflows, err := filepath.Glob(filepath.Join(root, ".github/workflows/*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range workflows {
		b, err := os.ReadFile(wf)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^[ \t]*image:[ \t]*(\S+)`).FindAllStringSubmatch(string(b), -1) {
			want[".github/workflows/"+filepath.Base(wf)+" "+m[1]] = true
		}
	}

	out, err := exec.Command("bash", filepath.Join(root, "scripts/ci-verify-images.sh"), "--list").Output()
	if err != nil {
		t.Fatalf("--list: %v", err)
	}
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		got[line] = true
	}
	for w := range want {
		if !got[w] {
			t.Errorf("ci-verify-images.sh does not check %q", w)
		}
	}
	for g := range got {
		if !want[g] && !strings.HasPrefix(g, "scripts/") {
			t.Errorf("ci-verify-images.sh lists %q, which is no image of these files", g)
		}
	}
}

// Ensure the verifier passes when every tag resolves to its pinned digest and
// fails, naming the image, when a tag was moved or does not resolve.
func TestImageVerifierCatchesMovedAndMissingTags(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("bash", filepath.Join(root, "scripts/ci-verify-images.sh"), "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The registry as it should be: each tag resolves to its pin.
	registry := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		_, ref, _ := strings.Cut(line, " ")
		tagged, digest, pinned := strings.Cut(ref, "@")
		if !pinned {
			digest = "sha256:" + strings.Repeat("0", 64)
		}
		registry[tagged] = digest
		registry[ref] = digest
	}
	run := func(reg map[string]string) (string, error) {
		dir := t.TempDir()
		var lines []string
		for ref, d := range reg {
			lines = append(lines, ref+" "+d)
		}
		slices.Sort(lines)
		if err := os.WriteFile(filepath.Join(dir, "registry"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fake := fmt.Sprintf(`#!/bin/sh
# docker buildx imagetools inspect --format '{{json .Manifest}}' REF
[ "$1 $2 $3 $4" = "buildx imagetools inspect --format" ] || { echo "unexpected docker $*" >&2; exit 97; }
d=$(awk -v r="$6" '$1 == r { print $2 }' %q)
[ -n "$d" ] || { echo "ERROR: $6: not found" >&2; exit 1; }
# Compact JSON, the index's digest first, then a platform manifest's: the
# verifier must take the first.
printf '{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%%s","size":1609,"manifests":[{"digest":"sha256:%%064d","platform":{"os":"linux"}}]}\n' "$d" 7
`, filepath.Join(dir, "registry"))
		if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts/ci-verify-images.sh"))
		cmd.Env = append(os.Environ(), "DOCKER="+filepath.Join(dir, "docker"))
		b, err := cmd.CombinedOutput()
		return string(b), err
	}

	if out, err := run(registry); err != nil {
		t.Fatalf("every pin agrees, yet: %v\n%s", err, out)
	}

	moved := maps.Clone(registry)
	moved["netdata/netdata:v2.10.4"] = "sha256:" + strings.Repeat("e", 64)
	out2, err := run(moved)
	if err == nil || !strings.Contains(out2, "::error file=docker-compose.yml::netdata/netdata:v2.10.4 now points at sha256:eeee") {
		t.Errorf("a moved tag: err %v, output:\n%s", err, out2)
	}

	missing := maps.Clone(registry)
	delete(missing, "certbot/certbot:v5.7.0")
	out3, err := run(missing)
	if err == nil || !strings.Contains(out3, "certbot/certbot:v5.7.0 (pinned as") || !strings.Contains(out3, "does not resolve") {
		t.Errorf("a tag that does not resolve: err %v, output:\n%s", err, out3)
	}
}
