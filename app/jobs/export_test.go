package jobs

// HasPeriodic reports whether the runner registered a periodic job of that
// id with River (whose elected leader alone inserts periodic jobs).
func HasPeriodic(r *Runner, id string) bool { return r.client.PeriodicJobs().RemoveByID(id) }
