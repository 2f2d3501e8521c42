package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/config"
	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// tenantCmd manages tenants: create, list, deactivate, activate.
func tenantCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create, list, deactivate and activate tenants",
		RunE:  groupRunE,
	}
	cmd.AddCommand(tenantCreateCmd(e), tenantListCmd(e),
		tenantSetActiveCmd(e, "deactivate", false), tenantSetActiveCmd(e, "activate", true))
	return cmd
}

func tenantCreateCmd(e *env) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an active tenant (the name is 1..200 characters and unique)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlag("name", name); err != nil {
				return err
			}
			return withAdmin(e, cmd, func(ctx context.Context, _ *config.Config, a *postgres.AdminService) error {
				t, err := a.CreateTenant(ctx, name)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "Tenant '%s' created (id %s).\nNext: course-supporter key create --tenant %s --scopes prep,check\n",
					t.Name, t.ID, shellQuote(t.Name))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "tenant name (required)")
	return cmd
}

// tenantJSON is one tenant in `tenant list --json`.
type tenantJSON struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	IsActive   bool      `json:"is_active"`
	ActiveKeys int       `json:"active_keys"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func tenantListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tenants with their status and number of usable keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(e, cmd, func(ctx context.Context, _ *config.Config, a *postgres.AdminService) error {
				ts, err := a.ListTenants(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]tenantJSON, 0, len(ts))
					for _, t := range ts {
						out = append(out, tenantJSON{ID: t.ID, Name: t.Name, IsActive: t.IsActive,
							ActiveKeys: t.ActiveKeys, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt})
					}
					return writeJSON(e.stdout, out)
				}
				return printTenants(e, ts)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}

func printTenants(e *env, ts []course.Tenant) error {
	if len(ts) == 0 {
		_, err := fmt.Fprintln(e.stdout, "No tenants yet. Create one with: course-supporter tenant create --name NAME")
		return err
	}
	tb := newTable(e.stdout, "NAME", "STATUS", "ACTIVE KEYS", "CREATED", "ID")
	for _, t := range ts {
		status := "active"
		if !t.IsActive {
			status = "inactive"
		}
		tb.row(t.Name, status, strconv.Itoa(t.ActiveKeys), fmtTime(&t.CreatedAt, "-"), t.ID.String())
	}
	return tb.flush()
}

func tenantSetActiveCmd(e *env, verb string, active bool) *cobra.Command {
	var name string
	short := "Reactivate a tenant: its keys work again"
	if !active {
		short = "Deactivate a tenant: all its keys are rejected immediately"
	}
	cmd := &cobra.Command{
		Use:   verb + " --name NAME",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlag("name", name); err != nil {
				return err
			}
			return withAdmin(e, cmd, func(ctx context.Context, _ *config.Config, a *postgres.AdminService) error {
				t, err := a.SetTenantActive(ctx, name, active)
				if err != nil {
					return err
				}
				if active {
					_, err = fmt.Fprintf(e.stdout, "Tenant '%s' is active.\n", t.Name)
				} else {
					_, err = fmt.Fprintf(e.stdout, "Tenant '%s' is inactive: its keys are rejected until `tenant activate`.\n", t.Name)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "tenant name (required)")
	return cmd
}
