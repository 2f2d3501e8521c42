package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// Ensure the reaper repairs what a crash can leave behind, so no job stays
// queued or active forever: an active job whose queue record waits for a
// retry goes back to queued; a job whose queue record finished without a
// result fails (and its material leaves pending); a waiting job past
// JOB_MAX_WAIT fails; a waiting ingest job whose dependencies completed is
// released; a material pointing at a finished job is unlocked.
func TestReaperRepairsCrashLeftovers(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	up := func(name string) (material, job string) {
		m := s.upload(key, node, field("source_type", "text"), file(name, []byte("# "+name))).json(t)
		return m["id"].(string), m["job_id"].(string)
	}
	_, rescued := up("rescued.md")
	s.exec(`UPDATE jobs SET status = 'active', attempt = 1 WHERE id = $1`, rescued)
	s.exec(`UPDATE river_job SET state = 'retryable', scheduled_at = now() + interval '1 minute' WHERE id = $1`, s.queueID(rescued))

	lostMat, lost := up("lost.md")
	s.exec(`UPDATE jobs SET status = 'active', attempt = 1 WHERE id = $1`, lost)
	s.exec(`UPDATE river_job SET state = 'discarded', finalized_at = now() - interval '3 minutes' WHERE id = $1`, s.queueID(lost))
	recent, recentJob := up("recent.md") // finished a moment ago: the worker's own update may still land
	s.exec(`UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, s.queueID(recentJob))

	expired := s.addJob(tenant, rescued)
	s.exec(`UPDATE jobs SET queued_at = now() - interval '73 hours' WHERE id = $1`, expired)

	doneMat, doneJob := up("done.md")
	s.exec(`UPDATE jobs SET status = 'complete', completed_at = now() WHERE id = $1`, doneJob)
	waitingMat, waiting := up("waiting.md")
	s.exec(`UPDATE river_job SET state = 'cancelled', finalized_at = now() WHERE id = $1`, s.queueID(waiting))
	s.exec(`UPDATE jobs SET queue_job_id = NULL WHERE id = $1`, waiting)
	s.exec(`INSERT INTO job_dependencies (job_id, depends_on_job_id) VALUES ($1, $2)`, waiting, doneJob)

	st, err := postgres.NewJobStore(s.db, s.enq).Reap(t.Context(), 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := (course.ReapStats{Requeued: 1, Lost: 1, Expired: 1, Released: 1, MaterialsFixed: 1}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	job := func(id string) map[string]any { return s.call(http.MethodGet, "/api/v1/jobs/"+id, key, nil).json(t) }
	if j := job(rescued); j["status"] != "queued" || j["estimated_at"] == nil {
		t.Errorf("rescued: %v", j)
	}
	if j := job(lost); j["status"] != "failed" || j["error_message"] != "Job lost: queue record finished without a result" {
		t.Errorf("lost: %v", j)
	}
	if m := s.call(http.MethodGet, "/api/v1/materials/"+lostMat, key, nil).json(t); m["state"] != "error" {
		t.Errorf("lost material: %v", m)
	}
	if j := job(recentJob); j["status"] != "queued" {
		t.Errorf("recently finished record reaped too early: %v", j)
	}
	if m := s.call(http.MethodGet, "/api/v1/materials/"+recent, key, nil).json(t); m["state"] != "pending" {
		t.Errorf("recent material: %v", m)
	}
	if j := job(expired); j["status"] != "failed" || j["error_message"] != "Dependencies did not complete in time" {
		t.Errorf("expired: %v", j)
	}
	if j := job(waiting); j["status"] != "queued" || j["queue_job_id"] == nil {
		t.Errorf("waiting job not released: %v", j)
	}
	if m := s.call(http.MethodGet, "/api/v1/materials/"+waitingMat, key, nil).json(t); m["state"] != "pending" {
		t.Errorf("waiting material: %v", m)
	}
	// The completed job's material was left pending by the "crash": unlocked, no error.
	if m := s.call(http.MethodGet, "/api/v1/materials/"+doneMat, key, nil).json(t); m["job_id"] != nil || m["error_message"] != nil {
		t.Errorf("done material: %v", m)
	}
	// A second pass finds nothing to do.
	if st, err := postgres.NewJobStore(s.db, s.enq).Reap(t.Context(), 72*time.Hour); err != nil || st.Any() {
		t.Errorf("second pass: %+v %v", st, err)
	}
}
