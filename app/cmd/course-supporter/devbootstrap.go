package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// devTenant is the tenant dev-bootstrap keeps a key for.
const devTenant = "dev"

// devBootstrapCmd gives `make run` a working key on every start: the key
// stored in --key-file when it still authenticates, otherwise a new test
// key with both scopes for the tenant "dev" (created or re-activated as
// needed), written to that file. It is hidden and refuses production.
func devBootstrapCmd(e *env) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:    "dev-bootstrap",
		Short:  "Print a working development API key, creating one when needed (development only)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Not loadConfig: no config_loaded line in the middle of make run's output.
			cfg, err := config.Load(e.lookup)
			if err != nil {
				return err
			}
			if cfg.Environment == "production" {
				return errors.New("dev-bootstrap refuses to run with ENVIRONMENT=production; use `tenant create` and `key create`")
			}
			db, err := postgres.Open(cmd.Context(), cfg.Database.URL, postgres.Options{MaxConns: 2})
			if err != nil {
				return err
			}
			defer db.Close()
			admin := postgres.NewAdminService(db, postgres.AdminDefaults{
				RatePrep: cfg.Auth.RatePrepDefault, RateCheck: cfg.Auth.RateCheckDefault,
			})
			secret, created, err := devKey(cmd.Context(), admin, postgres.NewKeyStore(db), keyFile)
			if err != nil {
				return cliError(err)
			}
			return printDevKey(e, cfg, secret, keyFile, created)
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", ".cache/dev/api-key", "where the development key is kept between runs (mode 0600)")
	return cmd
}

// devKey returns the stored key when it still authenticates, or creates
// and stores a new one. created reports which.
func devKey(ctx context.Context, admin course.AdminService, keys course.KeyStore, file string) (secret string, created bool, err error) {
	if b, err := os.ReadFile(filepath.Clean(file)); err == nil { // the operator's own --key-file
		secret = strings.TrimSpace(string(b))
		if ok, err := keyWorks(ctx, keys, secret); err != nil {
			return "", false, err
		} else if ok {
			return secret, false, nil
		}
	}
	if _, err := admin.CreateTenant(ctx, devTenant); err != nil && course.ErrorCode(err) != course.ECONFLICT {
		return "", false, err
	}
	// A developer may have deactivated it while trying things out.
	if _, err := admin.SetTenantActive(ctx, devTenant, true); err != nil {
		return "", false, err
	}
	_, secret, err = admin.CreateKey(ctx, course.NewAPIKey{
		TenantName: devTenant, Scopes: []string{course.ScopePrep, course.ScopeCheck},
		Label: "dev-bootstrap", Env: "test",
	})
	if err != nil {
		return "", false, err
	}
	if err := writeSecretFile(file, secret); err != nil {
		return "", false, err
	}
	return secret, true, nil
}

// keyWorks reports whether secret would authenticate now: known, active,
// its tenant active, not expired.
func keyWorks(ctx context.Context, keys course.KeyStore, secret string) (bool, error) {
	if !course.ValidKey(secret) {
		return false, nil
	}
	r, err := keys.LookupKey(ctx, course.HashKey(secret))
	if course.ErrorCode(err) == course.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = r.Authenticate(time.Now())
	return err == nil, nil
}

// writeSecretFile replaces file atomically, readable by its owner only.
func writeSecretFile(file, secret string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("dev key directory: %w", err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write dev key: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("write dev key: %w", err)
	}
	return nil
}

func printDevKey(e *env, cfg *config.Config, secret, file string, created bool) error {
	port := "8000"
	if _, p, err := net.SplitHostPort(cfg.HTTP.Addr); err == nil && p != "" {
		port = p
	}
	how := "kept in " + file
	if created {
		how = "new, saved to " + file
	}
	_, err := fmt.Fprintf(e.stdout, `
  Development API key for tenant '%s' (scopes prep,check; %s):

      %s

  Try it once the API is up (from another shell in this directory):

      curl -H "X-API-Key: $(cat %s)" http://localhost:%s/api/v1/nodes

`, devTenant, how, secret, file, port)
	return err
}
