package jobs_test

import (
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/jobsconf"
	"github.com/course-supporter/course-supporter/app/jobs"
)

// Ensure the runner and the enqueuer default nothing: an option left at
// zero is an error naming that option (so the configuration's defaults
// pass every check before it), returned before any database is touched.
func TestZeroOptionsAreRejected(t *testing.T) {
	zero := map[string]func(*jobs.Options){
		"RetryBaseDelay":                 func(o *jobs.Options) { o.RetryBaseDelay = 0 },
		"MaintenanceMax":                 func(o *jobs.Options) { o.MaintenanceMax = 0 },
		"IngestMax":                      func(o *jobs.Options) { o.IngestMax = 0 },
		"IngestTimeout":                  func(o *jobs.Options) { o.IngestTimeout = 0 },
		"RescueGrace":                    func(o *jobs.Options) { o.RescueGrace = 0 },
		"ReaperInterval":                 func(o *jobs.Options) { o.ReaperInterval = 0 },
		"MaxWait":                        func(o *jobs.Options) { o.MaxWait = 0 },
		"Chunking":                       func(o *jobs.Options) { o.Chunking.Target = 0 },
		"Maintenance.CompletedRetention": func(o *jobs.Options) { o.Maintenance.CompletedRetention = 0 },
		"Maintenance.OrphanGrace":        func(o *jobs.Options) { o.Maintenance.OrphanGrace = 0 },
	}
	for name, edit := range zero {
		o := jobsconf.Defaults(t.TempDir())
		edit(&o)
		if _, err := jobs.NewRunner(nil, nil, jobs.Deps{}, o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s zero: %v", name, err)
		}
	}
	if _, err := jobs.NewEnqueuer(nil, jobs.EnqueueOptions{}); err == nil || !strings.Contains(err.Error(), "MaxAttempts") {
		t.Errorf("enqueuer without MaxAttempts: %v", err)
	}
	if got := jobsconf.DefaultEnqueue().MaxAttempts; got != 3 {
		t.Errorf("default MaxAttempts %d, want WORKER_MAX_TRIES's 3", got)
	}
}
