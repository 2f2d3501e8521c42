package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// devTenant is the tenant dev-bootstrap creates.
const devTenant = "dev"

// devBootstrapCmd gives `make run` a working key: on an empty database it
// creates the tenant "dev" and a test key with both scopes, and prints it
// with a ready-to-paste curl. It is hidden and refuses production.
func devBootstrapCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "dev-bootstrap",
		Short:  "Create a dev tenant and key on an empty database (development only)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := e.loadConfig("cli")
			if err != nil {
				return err
			}
			if cfg.Environment == "production" {
				return errors.New("dev-bootstrap refuses to run with ENVIRONMENT=production; use `tenant create` and `key create`")
			}
			return openAdmin(cmd.Context(), cfg, func(ctx context.Context, cfg *config.Config, a *postgres.AdminService) error {
				res, err := a.BootstrapDev(ctx, course.NewAPIKey{
					TenantName: devTenant, Scopes: []string{course.ScopePrep, course.ScopeCheck},
					Label: "dev-bootstrap", Env: "test",
				})
				if err != nil {
					return err
				}
				if res.Tenant == nil {
					_, err = fmt.Fprintf(e.stdout, "dev-bootstrap: %d tenant(s) already exist, no key created; "+
						"make one with: course-supporter key create --tenant NAME --scopes prep,check --env test\n",
						res.ExistingTenants)
					return err
				}
				return printDevKey(e, cfg, res)
			})
		},
	}
}

func printDevKey(e *env, cfg *config.Config, res *postgres.DevBootstrap) error {
	port := "8000"
	if _, p, err := net.SplitHostPort(cfg.HTTP.Addr); err == nil && p != "" {
		port = p
	}
	_, err := fmt.Fprintf(e.stdout, `
  Created tenant '%s' and a development API key (scopes %s, env test):

      %s

  Try it once the API is up:

      curl -H "X-API-Key: %s" http://localhost:%s/api/v1/nodes

  The key is shown only this once. More keys: course-supporter key create --tenant %s --scopes prep,check

`, res.Tenant.Name, strings.Join(res.Key.Scopes, ","), res.Secret, res.Secret, port, res.Tenant.Name)
	return err
}
