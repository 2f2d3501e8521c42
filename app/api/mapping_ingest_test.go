package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/internal/testfiles"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// blocker is a blocking factor as a client decodes it.
type blocker struct {
	Type            string
	MaterialEntryID string `json:"material_entry_id"`
	Filename        *string
	MaterialState   string   `json:"material_state"`
	Message         string   `json:"message"`
	BlockedChecks   []string `json:"blocked_checks"`
}

func blockersOf(t *testing.T, m map[string]any) []blocker {
	t.Helper()
	raw, _ := json.Marshal(m["blocking_factors"])
	var out []blocker
	mustJSON(t, raw, &out)
	return out
}

func errorsOf(m map[string]any) []string {
	var out []string
	list, _ := m["validation_errors"].([]any)
	for _, e := range list {
		e := e.(map[string]any)
		out = append(out, e["field"].(string)+": "+e["message"].(string))
	}
	return out
}

// detailWarnings returns the node detail's mapping warnings as
// "slide state" strings.
func (s *stack) detailWarnings(key, node string) []string {
	s.t.Helper()
	var d []struct {
		MappingWarnings []struct {
			SlideNumber     int    `json:"slide_number"`
			ValidationState string `json:"validation_state"`
			MappingID       string `json:"mapping_id"`
		} `json:"mapping_warnings"`
	}
	mustJSON(s.t, s.call(http.MethodGet, "/api/v1/nodes/"+node+"/detail", key, nil).Raw, &d)
	out := []string{}
	for _, w := range d[0].MappingWarnings {
		out = append(out, strconv.Itoa(w.SlideNumber)+" "+w.ValidationState)
	}
	return out
}

// Ensure mappings posted while their materials are still being ingested
// are stored pending with one blocker per material, and settle with no
// further request: validated when every check passes, validation_failed
// (kept, and a warning on the node detail) when the page count or the
// duration found by the ingest rules them out, and still pending with a
// material_error blocker when the presentation's ingest finally fails.
func TestSlideMappingRevalidatedByIngest(t *testing.T) {
	t.Parallel()
	s, startWorkers := mappingStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	clip, err := os.ReadFile(testfiles.Clip(t, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	deck := s.mustUpload(key, node, "presentation", "deck.pdf", testfiles.PDF("One", "Two", "Three"))
	video := s.mustUpload(key, node, "video", "lecture.mp4", clip)
	broken := s.mustUpload(key, node, "presentation", "broken.pdf", []byte("%PDF-1.4\nthis is not a pdf body\n"))

	r, res := s.postMappings(key, node,
		item(deck, video, 2, "00:01", "00:02"), // fits: validated later
		item(deck, video, 9, "00:00", nil),     // the deck has 3 pages
		item(deck, video, 1, "00:10", nil),     // the video is 3 s long
		item(broken, video, 1, "00:00", nil),   // its ingest fails
	)
	if r.Status != http.StatusCreated || res.Created != 4 || res.Failed != 0 {
		t.Fatalf("post while ingesting: %d %s", r.Status, r.Raw)
	}
	first := res.Mappings[0]
	want := []blocker{
		{Type: "material_not_ready", MaterialEntryID: deck, Filename: strPtr("deck.pdf"), MaterialState: "pending",
			Message:       "Presentation is not ready yet; slide number will be checked after ingestion.",
			BlockedChecks: []string{"slide_number"}},
		{Type: "material_not_ready", MaterialEntryID: video, Filename: strPtr("lecture.mp4"), MaterialState: "pending",
			Message:       "Video is not ready yet; timecodes will be checked after ingestion.",
			BlockedChecks: []string{"video_timecode_start", "video_timecode_end"}},
	}
	if first["validation_state"] != "pending_validation" || first["validated_at"] != nil || !reflect.DeepEqual(blockersOf(t, first), want) {
		t.Errorf("pending mapping %v", first)
	}
	if w := s.detailWarnings(key, node); len(w) != 4 {
		t.Errorf("warnings while pending: %v", w)
	}

	startWorkers()
	for _, id := range []string{deck, video, broken} {
		s.settled(key, id)
	}
	got := map[string]map[string]any{}
	for _, m := range s.listMappings(key, node) {
		got[m["id"].(string)] = m
	}
	fits, over, late, blocked := got[res.Mappings[0]["id"].(string)], got[res.Mappings[1]["id"].(string)],
		got[res.Mappings[2]["id"].(string)], got[res.Mappings[3]["id"].(string)]
	if fits["validation_state"] != "validated" || fits["validated_at"] == nil || fits["blocking_factors"] != nil || fits["validation_errors"] != nil {
		t.Errorf("fitting mapping: %v", fits)
	}
	if over["validation_state"] != "validation_failed" ||
		!reflect.DeepEqual(errorsOf(over), []string{"slide_number: Slide number exceeds page count (3)"}) {
		t.Errorf("slide past the page count: %v", over)
	}
	if late["validation_state"] != "validation_failed" ||
		!reflect.DeepEqual(errorsOf(late), []string{"video_timecode_start: Timecode exceeds video duration (00:03)"}) {
		t.Errorf("timecode past the video: %v", late)
	}
	wantBlocked := []blocker{{Type: "material_error", MaterialEntryID: broken, Filename: strPtr("broken.pdf"), MaterialState: "error",
		Message:       "Presentation is in state 'error'; slide number will be checked after a successful retry.",
		BlockedChecks: []string{"slide_number"}}}
	if blocked["validation_state"] != "pending_validation" || !reflect.DeepEqual(blockersOf(t, blocked), wantBlocked) {
		t.Errorf("mapping of the failed deck: %v", blocked)
	}
	// The failed and the still-pending mappings are warnings on the node
	// detail, by slide; the validated one is not.
	if w := s.detailWarnings(key, node); !reflect.DeepEqual(w, []string{"1 validation_failed", "1 pending_validation", "9 validation_failed"}) {
		t.Errorf("warnings after ingest: %v", w)
	}
}

// Ensure materials in state error and integrity_broken block a mapping
// with material_error blockers, and that reaper rule 5 re-validates a
// pending mapping whose materials settled without the in-transaction
// re-validation (as after a crash), once: a second pass changes nothing.
func TestSlideMappingReaperRevalidates(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	tenant, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	deck := s.mustUpload(key, node, "presentation", "deck.pdf", pdfBytes)
	video := s.mustUpload(key, node, "video", "lecture.mp4", mp4Stub)
	// The ingests ended: the deck failed, the video was processed from
	// bytes other than the uploaded ones.
	s.exec(`UPDATE jobs SET status = 'failed', completed_at = now() WHERE materialentry_id IN ($1, $2)`, deck, video)
	s.exec(`UPDATE material_entries SET job_id = NULL, pending_since = NULL, error_message = 'PDF is encrypted, empty or unreadable' WHERE id = $1`, deck)
	s.exec(`UPDATE material_entries SET job_id = NULL, pending_since = NULL, processed_content = '{}', processed_raw_hash = 'other' WHERE id = $1`, video)

	r, res := s.postMappings(key, node, item(deck, video, 4, "01:00", "01:30"))
	if r.Status != http.StatusCreated || res.Created != 1 {
		t.Fatalf("post: %d %s", r.Status, r.Raw)
	}
	want := []blocker{
		{Type: "material_error", MaterialEntryID: deck, Filename: strPtr("deck.pdf"), MaterialState: "error",
			Message:       "Presentation is in state 'error'; slide number will be checked after a successful retry.",
			BlockedChecks: []string{"slide_number"}},
		{Type: "material_error", MaterialEntryID: video, Filename: strPtr("lecture.mp4"), MaterialState: "integrity_broken",
			Message:       "Video is in state 'integrity_broken'; timecodes will be checked after a successful retry.",
			BlockedChecks: []string{"video_timecode_start", "video_timecode_end"}},
	}
	if got := blockersOf(t, res.Mappings[0]); res.Mappings[0]["validation_state"] != "pending_validation" || !reflect.DeepEqual(got, want) {
		t.Fatalf("blockers %+v", got)
	}

	reaper := postgres.NewJobStore(s.db, s.enq)
	if st, err := reaper.Reap(t.Context(), 72*time.Hour); err != nil || st.MappingsRevalidated != 0 {
		t.Fatalf("nothing changed yet, but: %+v %v", st, err)
	}
	// Both become ready behind the store's back: a 5-page deck, a 2-minute video.
	s.exec(`UPDATE material_entries SET error_message = NULL, processed_content = '{"metadata":{"page_count":5}}',
		processed_raw_hash = raw_hash WHERE id = $1`, deck)
	s.exec(`UPDATE material_entries SET processed_raw_hash = raw_hash WHERE id = $1`, video)
	s.exec(`INSERT INTO material_chunks (id, tenant_id, materialnode_id, materialentry_id, chunk_index, chunk_type, text,
		token_count, metadata, content_hash) VALUES ($1, $2, $3, $4, 0, 'transcript', 'hello', 1, '{"start_sec": 0, "end_sec": 120.5}', 'h')`,
		uuid.Must(uuid.NewV7()), tenant, node, video)
	s.exec(`UPDATE material_nodes SET node_fingerprint = 'fp' WHERE id = $1`, node)

	st, err := reaper.Reap(t.Context(), 72*time.Hour)
	if err != nil || st.MappingsRevalidated != 1 {
		t.Fatalf("reap: %+v %v", st, err)
	}
	m := s.listMappings(key, node)[0]
	if m["validation_state"] != "validated" || m["validated_at"] == nil || m["blocking_factors"] != nil {
		t.Errorf("after rule 5: %v", m)
	}
	if n := s.count(`SELECT count(*) FROM material_nodes WHERE id = $1 AND node_fingerprint IS NULL`, node); n != 1 {
		t.Error("a mapping's change of state did not invalidate its node's chain")
	}
	if st, err := reaper.Reap(t.Context(), 72*time.Hour); err != nil || st.MappingsRevalidated != 0 {
		t.Errorf("second pass: %+v %v", st, err)
	}
}

func strPtr(s string) *string { return &s }
