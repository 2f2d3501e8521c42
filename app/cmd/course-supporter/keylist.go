package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/course"
)

// keyJSON is one key in `key list --json` and `key create --json`; it
// never holds the secret.
type keyJSON struct {
	ID             uuid.UUID  `json:"id"`
	TenantID       uuid.UUID  `json:"tenant_id"`
	Tenant         string     `json:"tenant"`
	Prefix         string     `json:"prefix"`
	Label          string     `json:"label"`
	Scopes         []string   `json:"scopes"`
	RateLimitPrep  int        `json:"rate_limit_prep"`
	RateLimitCheck int        `json:"rate_limit_check"`
	Status         string     `json:"status"`
	ExpiresAt      *time.Time `json:"expires_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
	RevokedAt      *time.Time `json:"revoked_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

func toKeyJSON(k *course.APIKey, now time.Time) keyJSON {
	return keyJSON{ID: k.ID, TenantID: k.TenantID, Tenant: k.TenantName, Prefix: k.Prefix, Label: k.Label,
		Scopes: k.Scopes, RateLimitPrep: k.RateLimitPrep, RateLimitCheck: k.RateLimitCheck,
		Status: k.StatusAt(now), ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt,
		RevokedAt: k.RevokedAt, CreatedAt: k.CreatedAt}
}

func keyListCmd(e *env) *cobra.Command {
	var tenant string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --tenant NAME [--json]",
		Short: "List the keys of a tenant (never their secrets)",
		Long: "List the keys of a tenant, revoked and expired ones included (never their secrets).\n\n" +
			"With --json, stdout is an array of the objects `key create --json` prints, without \"key\".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlag("tenant", tenant); err != nil {
				return err
			}
			return withAdmin(e, cmd, func(ctx context.Context, a course.AdminService) error {
				keys, err := a.ListKeys(ctx, tenant)
				if err != nil {
					return err
				}
				now := time.Now()
				if asJSON {
					out := make([]keyJSON, 0, len(keys))
					for i := range keys {
						out = append(out, toKeyJSON(&keys[i], now))
					}
					return writeJSON(e.stdout, out)
				}
				return printKeys(e, tenant, keys, now)
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant name (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array for scripts")
	return cmd
}

func printKeys(e *env, tenant string, keys []course.APIKey, now time.Time) error {
	if len(keys) == 0 {
		_, err := fmt.Fprintf(e.stdout, "Tenant '%s' has no keys. Create one with: course-supporter key create --tenant %s --scopes prep,check\n",
			strings.TrimSpace(tenant), shellQuote(strings.TrimSpace(tenant)))
		return err
	}
	tb := newTable(e.stdout, "ID", "PREFIX", "LABEL", "SCOPES", "PREP/MIN", "CHECK/MIN", "STATUS", "EXPIRES", "LAST USED", "CREATED")
	for i := range keys {
		k := &keys[i]
		tb.row(k.ID.String(), k.Prefix, k.Label, strings.Join(k.Scopes, ","),
			strconv.Itoa(k.RateLimitPrep), strconv.Itoa(k.RateLimitCheck), k.StatusAt(now),
			fmtTime(k.ExpiresAt, "never"), fmtTime(k.LastUsedAt, "never"), fmtTime(&k.CreatedAt, "-"))
	}
	return tb.flush()
}

func keyRevokeCmd(e *env) *cobra.Command {
	var prefix, id string
	cmd := &cobra.Command{
		Use:   "revoke (--prefix P | --id UUID)",
		Short: "Revoke one active key, at once and for good",
		Long: "Revoke one active key. --prefix takes the displayed prefix (cs_live_1a2b3c4d) or a shorter\n" +
			"start of it; if several active keys match, nothing is revoked and their ids are listed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sel := strings.TrimSpace(prefix)
			switch {
			case (sel == "") == (strings.TrimSpace(id) == ""):
				return usagef("give exactly one of --prefix or --id")
			case sel == "":
				u, err := uuid.Parse(strings.TrimSpace(id))
				if err != nil {
					return usagef("--id %q is not a UUID", id)
				}
				sel = u.String()
			}
			return withAdmin(e, cmd, func(ctx context.Context, a course.AdminService) error {
				k, err := a.RevokeKey(ctx, sel)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "Key %s (id %s, tenant '%s', label '%s') revoked at %s.\n",
					k.Prefix, k.ID, k.TenantName, k.Label, fmtTime(k.RevokedAt, "-"))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "key prefix, e.g. cs_live_1a2b3c4d")
	cmd.Flags().StringVar(&id, "id", "", "key id (UUID)")
	return cmd
}
