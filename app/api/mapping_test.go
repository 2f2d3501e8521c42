package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/ingest"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
	"github.com/course-supporter/course-supporter/app/postgres"
)

// mappingStack is the API whose workers (started by the returned func)
// ingest PDFs and transcribe videos through a local fake, so tests can
// post mappings before the materials are ready.
func mappingStack(t *testing.T) (*stack, func()) {
	t.Helper()
	s := mustStack(t)
	tr := testfiles.NewTranscription(t, "sk-test")
	return s, func() {
		s.startWorkersWith(&ingest.Processor{
			Transcriber:    &ingest.Transcriber{LLM: llmtest.Router(t, tr.URL+"/v1", "sk-test", postgres.NewCallStore(s.db))},
			SegmentSeconds: 600,
			TmpDir:         t.TempDir(),
		})
	}
}

// mp4Stub has the MP4 signature the upload checks; it is never ingested.
var mp4Stub = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")

// mustUpload uploads a file material and returns its id.
func (s *stack) mustUpload(key, node, sourceType, name string, data []byte) string {
	s.t.Helper()
	r := s.upload(key, node, field("source_type", sourceType), file(name, data))
	if r.Status != http.StatusCreated {
		s.t.Fatalf("upload %s: %d %s", name, r.Status, r.Raw)
	}
	return r.json(s.t)["id"].(string)
}

// item is one SlideVideoMapEntry; end may be nil.
func item(pres, video string, slide int, start string, end any) map[string]any {
	m := map[string]any{"presentation_materialentry_id": pres, "video_materialentry_id": video,
		"slide_number": slide, "video_timecode_start": start}
	if end != nil {
		m["video_timecode_end"] = end
	}
	return m
}

// mapResult is SlideVideoMapResponse as a client decodes it.
type mapResult struct {
	Created, Skipped, Failed int
	Mappings                 []map[string]any
	SkippedItems             []struct {
		Index int
		Hint  string
	} `json:"skipped_items"`
	Rejected []struct {
		Index  int
		Errors []struct{ Field, Message, Hint string }
	}
	Hints *struct {
		Resubmit  string
		BatchSize int `json:"batch_size"`
	}
}

func (s *stack) postMappings(key, node string, items ...map[string]any) (reply, mapResult) {
	s.t.Helper()
	r := s.call(http.MethodPost, "/api/v1/nodes/"+node+"/slide-mapping", key, map[string]any{"mappings": items})
	var res mapResult
	if r.Status != http.StatusNotFound {
		mustJSON(s.t, r.Raw, &res)
	}
	return r, res
}

func (s *stack) listMappings(key, node string) []map[string]any {
	s.t.Helper()
	r := s.call(http.MethodGet, "/api/v1/nodes/"+node+"/slide-mapping", key, nil)
	var page struct {
		Items []map[string]any
		Total int
	}
	if r.Status != http.StatusOK {
		s.t.Fatalf("list mappings: %d %s", r.Status, r.Raw)
	}
	mustJSON(s.t, r.Raw, &page)
	if page.Total != len(page.Items) {
		s.t.Fatalf("total %d for %d items", page.Total, len(page.Items))
	}
	return page.Items
}

const resubmit = "Fix the rejected items and resubmit only those; created and skipped items are kept."

// Ensure every structural and content message, per field and verbatim,
// the three statuses with their bodies (hints only when something was
// rejected), deduplication within a request and across requests, the
// list order, deletion, the fingerprint invalidation of both, and the
// timecode refs generation reads.
func TestSlideMappingChecksAndStatuses(t *testing.T) {
	t.Parallel()
	s, startWorkers := mappingStack(t)
	tenant, key := s.tenantWithKey("acme")
	root := s.mustCreate(key, "", "Course")
	node := s.mustCreate(key, root, "Lesson")
	other := s.mustCreate(key, root, "Other lesson")
	clip, err := os.ReadFile(testfiles.Clip(t, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	deck := s.mustUpload(key, node, "presentation", "deck.pdf", testfiles.PDF("Intro", "Middle", "End"))
	video := s.mustUpload(key, node, "video", "lecture.mp4", clip)
	notes := s.mustUpload(key, node, "text", "notes.md", []byte("# Notes\n\nSome text."))
	elsewhere := s.mustUpload(key, other, "presentation", "other.pdf", testfiles.PDF("Other"))
	startWorkers()
	for _, id := range []string{deck, video, notes, elsewhere} {
		if m := s.settled(key, id); m["state"] != "ready" {
			t.Fatalf("material %v", m)
		}
	}

	type want struct{ field, msg, hint string }
	const tcHint = "Use MM:SS or HH:MM:SS"
	rejects := []struct {
		item map[string]any
		want []want
	}{
		{item("not-a-uuid", video, 1, "00:00", nil), []want{{"presentation_materialentry_id", "Invalid UUID", ""}}},
		{item(deck, "xyz", 1, "00:00", nil), []want{{"video_materialentry_id", "Invalid UUID", ""}}},
		{item(deck, uuid.NewString(), 1, "00:00", nil), []want{{"video_materialentry_id", "Material not found in this node", ""}}},
		{item(elsewhere, video, 1, "00:00", nil), []want{{"presentation_materialentry_id", "Material not found in this node", ""}}},
		{item(notes, video, 1, "00:00", nil), []want{{"presentation_materialentry_id", "Material is not a presentation", ""}}},
		{item(deck, deck, 1, "00:00", nil), []want{{"video_materialentry_id", "Material is not a video", ""}}},
		{item(deck, video, 1, "1:05", nil), []want{{"video_timecode_start", "Invalid timecode format", tcHint}}},
		{item(deck, video, 1, "00:01", "0:1:5"), []want{{"video_timecode_end", "Invalid timecode format", tcHint}}},
		{item(deck, video, 1, "00:02", "00:01"), []want{{"video_timecode_end", "End timecode is before start timecode", ""}}},
		{item(deck, video, 4, "00:00", nil), []want{{"slide_number", "Slide number exceeds page count (3)", ""}}},
		{item(deck, video, 1, "00:04", nil), []want{{"video_timecode_start", "Timecode exceeds video duration (00:03)", ""}}},
		{item(deck, video, 1, "00:01", "01:00"), []want{{"video_timecode_end", "Timecode exceeds video duration (00:03)", ""}}},
		{item("x", notes, 9, "7:5", "1:00:00"), []want{{"presentation_materialentry_id", "Invalid UUID", ""},
			{"video_materialentry_id", "Material is not a video", ""}, {"video_timecode_start", "Invalid timecode format", tcHint}}},
	}
	valid := item(deck, video, 1, "00:00", "00:02")
	items := []map[string]any{valid}
	for _, r := range rejects {
		items = append(items, r.item)
	}
	items = append(items, valid) // a duplicate of item 0 within the request

	// 207: one created, one skipped, every other item rejected.
	r, res := s.postMappings(key, node, items...)
	if r.Status != http.StatusMultiStatus || res.Created != 1 || res.Skipped != 1 || res.Failed != len(rejects) {
		t.Fatalf("207: %d %s", r.Status, r.Raw)
	}
	if len(res.SkippedItems) != 1 || res.SkippedItems[0].Index != len(items)-1 || res.SkippedItems[0].Hint != "already exists" {
		t.Errorf("skipped %+v", res.SkippedItems)
	}
	if res.Hints == nil || res.Hints.Resubmit != resubmit || res.Hints.BatchSize != len(rejects) {
		t.Errorf("hints %+v", res.Hints)
	}
	if len(res.Rejected) != len(rejects) {
		t.Fatalf("rejected %+v", res.Rejected)
	}
	for i, c := range rejects {
		got := res.Rejected[i]
		if got.Index != i+1 || len(got.Errors) != len(c.want) {
			t.Errorf("item %d: %+v, want %+v", i+1, got, c.want)
			continue
		}
		for j, w := range c.want {
			e := got.Errors[j]
			if e.Field != w.field || e.Message != w.msg || e.Hint == "" || (w.hint != "" && e.Hint != w.hint) {
				t.Errorf("item %d error %d: %+v, want %+v", i+1, j, e, w)
			}
		}
	}
	m := res.Mappings[0]
	if m["validation_state"] != "validated" || m["validated_at"] == nil || m["blocking_factors"] != nil ||
		m["validation_errors"] != nil || m["slide_number"] != 1.0 || m["video_timecode_end"] != "00:02" ||
		m["materialnode_id"] != node || m["presentation_materialentry_id"] != deck || m["video_materialentry_id"] != video {
		t.Errorf("created mapping %v", m)
	}

	// 422: nothing created, one rejected, one skipped (across requests).
	r, res = s.postMappings(key, node, valid, item(deck, video, 5, "00:00", nil))
	if r.Status != http.StatusUnprocessableEntity || res.Created != 0 || res.Skipped != 1 || res.Failed != 1 ||
		res.Hints == nil || res.Hints.BatchSize != 1 || len(res.Mappings) != 0 || res.Rejected[0].Index != 1 {
		t.Fatalf("422: %d %s", r.Status, r.Raw)
	}
	// 201 with everything skipped; no hints key at all.
	r, res = s.postMappings(key, node, valid)
	if r.Status != http.StatusCreated || res.Created != 0 || res.Skipped != 1 || res.SkippedItems[0].Index != 0 ||
		res.Rejected == nil || len(res.Rejected) != 0 || bytes.Contains(r.Raw, []byte(`"hints"`)) {
		t.Fatalf("all skipped: %d %s", r.Status, r.Raw)
	}

	// Creating invalidates the node's fingerprint chain; so does deleting.
	fingerprinted := func() int {
		return s.count(`SELECT count(*) FROM material_nodes WHERE id IN ($1, $2) AND node_fingerprint IS NOT NULL`, root, node)
	}
	s.exec(`UPDATE material_nodes SET node_fingerprint = 'fp' WHERE id IN ($1, $2, $3)`, root, node, other)
	r, res = s.postMappings(key, node, item(deck, video, 3, "00:01", nil), item(deck, video, 2, "00:02", "00:03"))
	if r.Status != http.StatusCreated || res.Created != 2 || bytes.Contains(r.Raw, []byte(`"hints"`)) {
		t.Fatalf("201: %d %s", r.Status, r.Raw)
	}
	if fingerprinted() != 0 || s.count(`SELECT count(*) FROM material_nodes WHERE id = $1 AND node_fingerprint = 'fp'`, other) != 1 {
		t.Error("creating mappings did not invalidate exactly the node's chain")
	}
	list := s.listMappings(key, node)
	var slides []float64
	for _, m := range list {
		slides = append(slides, m["slide_number"].(float64))
	}
	if !reflect.DeepEqual(slides, []float64{1, 2, 3}) {
		t.Errorf("list order %v", slides)
	}
	s.exec(`UPDATE material_nodes SET node_fingerprint = 'fp' WHERE id IN ($1, $2)`, root, node)
	third := list[2]["id"].(string)
	if r := s.call(http.MethodDelete, "/api/v1/slide-mapping/"+third, key, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	if fingerprinted() != 0 {
		t.Error("deleting a mapping did not invalidate the chain")
	}
	if r := s.call(http.MethodDelete, "/api/v1/slide-mapping/"+third, key, nil); r.Status != 404 || r.detail(t) != "Mapping not found" {
		t.Errorf("second delete: %d %s", r.Status, r.Raw)
	}
	if n := len(s.listMappings(key, node)); n != 2 {
		t.Errorf("%d mappings after delete", n)
	}

	// Generation reads slide chunks with the refs of validated mappings.
	store := postgres.NewMappingStore(s.db)
	got, err := store.PresentationChunks(t.Context(), tenant, []uuid.UUID{uuid.MustParse(deck), uuid.MustParse(video)})
	if err != nil {
		t.Fatal(err)
	}
	chunks := got[uuid.MustParse(deck)]
	if len(got) != 1 || len(chunks) != 3 {
		t.Fatalf("presentation chunks %+v", got)
	}
	refs := func(i int) string {
		var out []string
		for _, r := range chunks[i].TimecodeRefs {
			end := "-"
			if r.End != nil {
				end = *r.End
			}
			out = append(out, r.VideoMaterialID.String()+" "+r.Start+" "+end)
		}
		return strings.Join(out, ",")
	}
	if chunks[0].SlideNumber != 1 || refs(0) != video+" 00:00 00:02" || refs(1) != video+" 00:02 00:03" || refs(2) != "" {
		t.Errorf("refs: %q %q %q", refs(0), refs(1), refs(2))
	}
	if !strings.Contains(chunks[0].Text, "Intro") {
		t.Errorf("chunk text %q", chunks[0].Text)
	}
	if foreign, _ := store.PresentationChunks(t.Context(), uuid.New(), []uuid.UUID{uuid.MustParse(deck)}); len(foreign) != 0 {
		t.Error("another tenant reads the chunks")
	}
}

// Ensure the request's shape is checked as a whole: no items, more than
// 500, a slide below 1 or a timecode of the wrong shape are 422 with
// validation items, and nothing is stored.
func TestSlideMappingShape(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = item(uuid.NewString(), uuid.NewString(), 1, "00:00", nil)
	}
	for name, body := range map[string]any{
		"empty":      map[string]any{"mappings": []any{}},
		"missing":    map[string]any{},
		"501 items":  map[string]any{"mappings": many},
		"slide 0":    map[string]any{"mappings": []any{item("a", "b", 0, "00:00", nil)}},
		"start text": map[string]any{"mappings": []any{item("a", "b", 1, "noon", nil)}},
		"end text":   map[string]any{"mappings": []any{item("a", "b", 1, "00:00", "later")}},
	} {
		r := s.call(http.MethodPost, "/api/v1/nodes/"+node+"/slide-mapping", key, body)
		var d struct{ Detail []map[string]any }
		if r.Status != http.StatusUnprocessableEntity || json.Unmarshal(r.Raw, &d) != nil || len(d.Detail) == 0 {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if n := s.count(`SELECT count(*) FROM slide_video_mappings`); n != 0 {
		t.Errorf("%d rows stored", n)
	}
}

// Ensure 20 concurrent identical requests store exactly one row: one
// request creates it, every other skips it, and none fails.
func TestSlideMappingConcurrentIdenticalRequests(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	deck := s.mustUpload(key, node, "presentation", "deck.pdf", pdfBytes)
	video := s.mustUpload(key, node, "video", "lecture.mp4", mp4Stub)
	base := s.listen()
	body, _ := json.Marshal(map[string]any{"mappings": []any{item(deck, video, 3, "01:00", nil)}})
	const n = 20
	var wg sync.WaitGroup
	results := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/nodes/"+node+"/slide-mapping", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var res mapResult
			_ = json.Unmarshal(raw, &res)
			results[i] = resp.Status
			if resp.StatusCode == http.StatusCreated {
				results[i] = map[int]string{1: "created", 0: "skipped"}[res.Created]
			}
		}()
	}
	wg.Wait()
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	if count["created"] != 1 || count["skipped"] != n-1 {
		t.Errorf("outcomes %v", count)
	}
	if rows := s.count(`SELECT count(*) FROM slide_video_mappings`); rows != 1 {
		t.Errorf("%d rows", rows)
	}
}

// Ensure another tenant's node is 404 on every mapping route, its
// materials are "not found in this node" for the caller's own node, and
// its mappings cannot be deleted.
func TestSlideMappingIsolation(t *testing.T) {
	t.Parallel()
	s := mustStack(t)
	_, victimKey := s.tenantWithKey("victim")
	_, attackerKey := s.tenantWithKey("attacker")
	vNode := s.mustCreate(victimKey, "", "Secret")
	deck := s.mustUpload(victimKey, vNode, "presentation", "deck.pdf", pdfBytes)
	video := s.mustUpload(victimKey, vNode, "video", "lecture.mp4", mp4Stub)
	r, res := s.postMappings(victimKey, vNode, item(deck, video, 1, "00:00", nil))
	if r.Status != http.StatusCreated || res.Created != 1 {
		t.Fatalf("victim: %d %s", r.Status, r.Raw)
	}
	victimMapping := res.Mappings[0]["id"].(string)
	aNode := s.mustCreate(attackerKey, "", "Mine")

	r, res = s.postMappings(attackerKey, aNode, item(deck, video, 1, "00:00", nil))
	if r.Status != http.StatusUnprocessableEntity || len(res.Rejected) != 1 || len(res.Rejected[0].Errors) != 2 {
		t.Fatalf("foreign materials: %d %s", r.Status, r.Raw)
	}
	for _, e := range res.Rejected[0].Errors {
		if e.Message != "Material not found in this node" {
			t.Errorf("foreign material error %+v", e)
		}
	}
	if r, _ := s.postMappings(attackerKey, vNode, item(deck, video, 2, "00:00", nil)); r.Status != 404 || r.detail(t) != "Node not found" {
		t.Errorf("post to a foreign node: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodGet, "/api/v1/nodes/"+vNode+"/slide-mapping", attackerKey, nil); r.Status != 404 || r.detail(t) != "Node not found" {
		t.Errorf("list a foreign node: %d %s", r.Status, r.Raw)
	}
	if r := s.call(http.MethodDelete, "/api/v1/slide-mapping/"+victimMapping, attackerKey, nil); r.Status != 404 || r.detail(t) != "Mapping not found" {
		t.Errorf("delete a foreign mapping: %d %s", r.Status, r.Raw)
	}
	if n := len(s.listMappings(victimKey, vNode)); n != 1 {
		t.Errorf("victim has %d mappings", n)
	}
	if n := s.count(`SELECT count(*) FROM slide_video_mappings`); n != 1 {
		t.Errorf("%d rows", n)
	}
}
