package jobs

// HasPeriodic reports whether the runner registered a periodic job of that
// id with River (whose elected leader alone inserts periodic jobs).
func HasPeriodic(r *Runner, id string) bool { return r.client.PeriodicJobs().RemoveByID(id) }

// QueueWorkers is the concurrency the runner gave River for a queue (0
// when the queue is not there).
func QueueWorkers(r *Runner, queue string) int { return r.queues[queue].MaxWorkers }
