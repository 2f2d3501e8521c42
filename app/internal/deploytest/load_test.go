package deploytest

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// repoRoot is the repository root, found from this file's location so the
// tests do not depend on the working directory.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the test file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// MustLoadCompose loads a compose file from the repository root the way
// `docker compose --env-file .env.prod.example -f FILE` would: the example
// env file feeds interpolation, bind-mount paths resolve against the root.
// profiles nil means "what COMPOSE_PROFILES in the env file selects";
// []string{"*"} activates every profile. The containers' env_file contents
// are not read (a real .env.prod must never influence a test).
//
// The example leaves secrets empty, and docker-compose.yml refuses to run
// without the database password (${POSTGRES_PASSWORD:?}), so a placeholder
// is supplied here; TestProductionRequiresDatabasePassword checks the refusal.
func MustLoadCompose(tb testing.TB, file string, profiles []string) *types.Project {
	tb.Helper()
	project, err := loadCompose(tb, file, profiles, []string{"POSTGRES_PASSWORD=placeholder-for-tests"})
	if err != nil {
		tb.Fatalf("load %s with compose-go: %v", file, err)
	}
	return project
}

func loadCompose(tb testing.TB, file string, profiles, env []string) (*types.Project, error) {
	tb.Helper()
	root := repoRoot(tb)
	opts := []cli.ProjectOptionsFn{
		// First: values set here win over the env file.
		cli.WithEnv(env),
		cli.WithWorkingDirectory(root),
		cli.WithEnvFiles(filepath.Join(root, ".env.prod.example")),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
		cli.WithoutEnvironmentResolution,
	}
	if profiles == nil {
		opts = append(opts, cli.WithDefaultProfiles())
	} else {
		opts = append(opts, cli.WithProfiles(profiles))
	}
	po, err := cli.NewProjectOptions([]string{filepath.Join(root, file)}, opts...)
	if err != nil {
		return nil, err
	}
	return po.LoadProject(context.Background())
}

// MustReadEnvFile returns the KEY=VALUE assignments of an env file (comments
// and blank lines skipped), in file order.
func MustReadEnvFile(tb testing.TB, path string) (keys []string, values map[string]string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	values = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			tb.Fatalf("%s: not KEY=VALUE: %q", path, line)
		}
		if _, dup := values[k]; dup {
			tb.Errorf("%s: %s assigned twice", path, k)
		}
		keys = append(keys, k)
		values[k] = v
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return keys, values
}
