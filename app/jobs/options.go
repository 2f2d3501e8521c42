package jobs

import "fmt"

// validate rejects options left at zero. Their defaults live in app/config
// alone (config.DefaultWorker; docs/configuration.md), so a zero here is a
// wiring mistake that must fail at start, not be quietly replaced by a
// second copy of the default.
func (o *Options) validate() error {
	positive := []option{
		{"RetryBaseDelay", o.RetryBaseDelay > 0},
		{"MaintenanceMax", o.MaintenanceMax > 0},
		{"IngestMax", o.IngestMax > 0},
		{"IngestTimeout", o.IngestTimeout > 0},
		{"GenerateMax", o.GenerateMax > 0},
		{"Generation.MaxTokens", o.Generation.MaxTokens > 0},
		{"Generation.Budget", o.Generation.Budget > 0},
		{"Generation.Timeout", o.Generation.Timeout > 0},
		{"RescueGrace", o.RescueGrace > 0},
		{"ReaperInterval", o.ReaperInterval > 0},
		{"MaxWait", o.MaxWait > 0},
	}
	positive = append(positive, o.Maintenance.positive()...)
	for _, p := range positive {
		if !p.ok {
			return fmt.Errorf("jobs: option %s must be positive", p.name)
		}
	}
	if err := o.Chunking.Validate(); err != nil {
		return fmt.Errorf("jobs: option Chunking: %w", err)
	}
	return nil
}

// option is one named check of validate.
type option struct {
	name string
	ok   bool
}
