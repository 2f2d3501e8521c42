package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/course-supporter/course-supporter/app/course"
)

// keyCmd manages API keys: create, list, revoke.
func keyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Create, list and revoke API keys",
		RunE:  groupRunE,
	}
	cmd.AddCommand(keyCreateCmd(e), keyListCmd(e), keyRevokeCmd(e))
	return cmd
}

var shortDuration = regexp.MustCompile(`^([0-9]{1,6})([dhm])$`)

// parseExpiresIn accepts Nd, Nh, Nm or any positive Go duration.
func parseExpiresIn(s string) (time.Duration, error) {
	if m := shortDuration.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1]) // at most 6 digits
		unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[m[2]]
		if n > 0 {
			return time.Duration(n) * unit, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, usagef("--expires-in %q: want a positive duration such as 90d, 12h, 30m or 1h30m", s)
}

// keyCreateOpts are the flags of `key create`.
type keyCreateOpts struct {
	tenant, label, env, expiresIn, expiresAt string
	scopes                                   []string
	ratePrep, rateCheck                      int
	asJSON                                   bool
}

// input validates the flags that need no database and builds the request.
func (o *keyCreateOpts) input(cmd *cobra.Command) (course.NewAPIKey, error) {
	in := course.NewAPIKey{TenantName: o.tenant, Scopes: o.scopes, Label: o.label, Env: o.env,
		RateLimitPrep: o.ratePrep, RateLimitCheck: o.rateCheck}
	if err := requireFlag("tenant", o.tenant); err != nil {
		return in, err
	}
	if len(o.scopes) == 0 {
		return in, usagef("required flag --scopes is missing (prep, check or prep,check)")
	}
	for _, f := range []string{"rate-prep", "rate-check"} {
		if v, _ := cmd.Flags().GetInt(f); cmd.Flags().Changed(f) && v <= 0 {
			return in, usagef("--%s must be greater than 0", f)
		}
	}
	switch {
	case o.expiresIn != "" && o.expiresAt != "":
		return in, usagef("use either --expires-in or --expires-at, not both")
	case o.expiresIn != "":
		d, err := parseExpiresIn(o.expiresIn)
		if err != nil {
			return in, err
		}
		at := time.Now().Add(d).UTC()
		in.ExpiresAt = &at
	case o.expiresAt != "":
		at, err := time.Parse(time.RFC3339, o.expiresAt)
		if err != nil {
			return in, usagef("--expires-at %q: want RFC 3339, e.g. 2026-12-31T23:59:59Z", o.expiresAt)
		}
		in.ExpiresAt = &at
	}
	return in, nil
}

func keyCreateCmd(e *env) *cobra.Command {
	var o keyCreateOpts
	cmd := &cobra.Command{
		Use:   "create --tenant NAME --scopes prep,check [--json]",
		Short: "Create an API key and print it once",
		Long: "Create an API key for a tenant. The full key is printed once, on stdout; only its SHA-256\n" +
			"and its prefix are stored, so it can never be shown again.\n\n" +
			"With --json, stdout is one object: {\"key\", \"id\", \"prefix\", \"tenant\", \"tenant_id\", \"scopes\",\n" +
			"\"label\", \"rate_limit_prep\", \"rate_limit_check\", \"status\", \"expires_at\" (null or RFC 3339), ...};\n" +
			"\"key\" appears only in this output. The warning goes to stderr.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := o.input(cmd)
			if err != nil {
				return err
			}
			return withAdmin(e, cmd, func(ctx context.Context, a course.AdminService) error {
				k, secret, err := a.CreateKey(ctx, in)
				if err != nil {
					return err
				}
				return printCreatedKey(e, k, secret, o.asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.tenant, "tenant", "", "tenant name (required)")
	f.StringSliceVar(&o.scopes, "scopes", nil, "comma-separated scopes: prep, check (required)")
	f.StringVar(&o.label, "label", "default", "label to tell keys apart")
	f.IntVar(&o.ratePrep, "rate-prep", 0, "prep requests per minute (default RATE_LIMIT_PREP_DEFAULT)")
	f.IntVar(&o.rateCheck, "rate-check", 0, "check requests per minute (default RATE_LIMIT_CHECK_DEFAULT)")
	f.StringVar(&o.expiresIn, "expires-in", "", "expire after this long: 90d, 12h, 30m or a Go duration (default never)")
	f.StringVar(&o.expiresAt, "expires-at", "", "expire at this RFC 3339 time (default never)")
	f.StringVar(&o.env, "env", "live", "key environment: live or test")
	f.BoolVar(&o.asJSON, "json", false, "print JSON for scripts (the warning goes to stderr)")
	return cmd
}

const notShownAgain = "Store this key now: it will not be shown again (only its SHA-256 is kept)."

// printCreatedKey is the one place a secret is ever printed.
func printCreatedKey(e *env, k *course.APIKey, secret string, asJSON bool) error {
	if asJSON {
		fmt.Fprintln(e.stderr, notShownAgain)
		return writeJSON(e.stdout, struct {
			Key string `json:"key"`
			keyJSON
		}{secret, toKeyJSON(k, time.Now())})
	}
	fmt.Fprintf(e.stdout, "API key created for tenant '%s':\n\n    %s\n\n", k.TenantName, secret)
	tb := newTable(e.stdout, "  id", k.ID.String())
	tb.row("  prefix", k.Prefix)
	tb.row("  scopes", strings.Join(k.Scopes, ","))
	tb.row("  label", k.Label)
	tb.row("  rate limits", fmt.Sprintf("prep %d/min, check %d/min", k.RateLimitPrep, k.RateLimitCheck))
	tb.row("  expires", fmtTime(k.ExpiresAt, "never"))
	if err := tb.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "\n%s\n", notShownAgain)
	return err
}
