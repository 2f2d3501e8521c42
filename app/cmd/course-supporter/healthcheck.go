package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCmd is the container HEALTHCHECK: the runtime images carry no
// curl. It probes /livez by default, so an object storage outage does not
// mark containers unhealthy; --deep probes /health for the deploy loop.
func healthcheckCmd(e *env) *cobra.Command {
	var url string
	var deep bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if and only if the probe answers 200 in time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				url = "http://127.0.0.1:8000/livez"
				if deep {
					url = "http://127.0.0.1:8000/health"
				}
			}
			return probe(cmd.Context(), url, deep, timeout, e.stdout)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to probe (default http://127.0.0.1:8000/livez, or /health with --deep)")
	cmd.Flags().BoolVar(&deep, "deep", false, "probe /health and also require \"status\":\"ok\"")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

func probe(ctx context.Context, url string, deep bool, timeout time.Duration, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("healthcheck: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d: %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if deep {
		var doc struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Status != "ok" {
			return fmt.Errorf("healthcheck: %s is not ok: %s", url, strings.TrimSpace(string(body)))
		}
	}
	_, err = fmt.Fprintln(out, "ok")
	return err
}
