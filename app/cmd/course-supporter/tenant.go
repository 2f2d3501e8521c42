package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/course"
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
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --name NAME [--json]",
		Short: "Create an active tenant (the name is 1..200 characters and unique)",
		Long: "Create an active tenant (the name is 1..200 characters and unique).\n\n" +
			"With --json, stdout is one object: {\"id\", \"name\", \"status\", \"created_at\"}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlag("name", name); err != nil {
				return err
			}
			return withAdmin(e, cmd, func(ctx context.Context, a course.AdminService) error {
				t, err := a.CreateTenant(ctx, name)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(e.stdout, createdTenantJSON{ID: t.ID, Name: t.Name, Status: tenantStatus(t), CreatedAt: t.CreatedAt})
				}
				_, err = fmt.Fprintf(e.stdout, "Tenant '%s' created (id %s).\nNext: course-supporter key create --tenant %s --scopes prep,check\n",
					t.Name, t.ID, shellQuote(t.Name))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "tenant name (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object for scripts")
	return cmd
}

// createdTenantJSON is the output of `tenant create --json`.
type createdTenantJSON struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// tenantStatus is active or inactive.
func tenantStatus(t *course.Tenant) string {
	if t.IsActive {
		return "active"
	}
	return "inactive"
}

// tenantJSON is one tenant in `tenant list --json`.
type tenantJSON struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	IsActive   bool      `json:"is_active"`
	ActiveKeys int       `json:"active_keys"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func tenantListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List tenants with their status and number of usable keys",
		Long: "List tenants with their status and number of usable keys.\n\n" +
			"With --json, stdout is an array of {\"id\", \"name\", \"status\", \"is_active\", \"active_keys\",\n" +
			"\"created_at\", \"updated_at\"}.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(e, cmd, func(ctx context.Context, a course.AdminService) error {
				ts, err := a.ListTenants(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]tenantJSON, 0, len(ts))
					for _, t := range ts {
						out = append(out, tenantJSON{ID: t.ID, Name: t.Name, Status: tenantStatus(&t), IsActive: t.IsActive,
							ActiveKeys: t.ActiveKeys, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt})
					}
					return writeJSON(e.stdout, out)
				}
				return printTenants(e, ts)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array for scripts")
	return cmd
}

func printTenants(e *env, ts []course.Tenant) error {
	if len(ts) == 0 {
		_, err := fmt.Fprintln(e.stdout, "No tenants yet. Create one with: course-supporter tenant create --name NAME")
		return err
	}
	tb := newTable(e.stdout, "NAME", "STATUS", "ACTIVE KEYS", "CREATED", "ID")
	for _, t := range ts {
		tb.row(t.Name, tenantStatus(&t), strconv.Itoa(t.ActiveKeys), fmtTime(&t.CreatedAt, "-"), t.ID.String())
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
			return withAdmin(e, cmd, func(ctx context.Context, a course.AdminService) error {
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
