package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

func TestExtractAudio(t *testing.T) {
	ffmpeg := testfiles.Tool(t, "ffmpeg", "ffmpeg")
	ffprobe := testfiles.Tool(t, "ffprobe", "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clip := testfiles.Clip(t, 3, true)
	info, err := ProbeMedia(ctx, ffprobe, clip)
	if err != nil || !info.HasAudio || math.Abs(info.DurationSec-3) > 0.5 {
		t.Fatalf("probe = %+v, %v", info, err)
	}
	segs, err := ExtractAudio(ctx, ffmpeg, clip, t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 2 {
		t.Fatalf("segments = %+v, want >= 2 for 3 s at 1 s each", segs)
	}
	for i, s := range segs {
		st, err := os.Stat(s.Path)
		if err != nil || st.Size() == 0 {
			t.Errorf("segment %d file: %v", i, err)
		}
		if i > 0 && s.StartSec <= segs[i-1].StartSec {
			t.Errorf("segment starts not increasing: %+v", segs)
		}
	}
	if segs[0].StartSec != 0 {
		t.Errorf("first segment starts at %v", segs[0].StartSec)
	}
	// The segment really is mono 16 kHz.
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=sample_rate,channels", "-of", "json", segs[0].Path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Streams []struct {
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
		} `json:"streams"`
	}
	if json.Unmarshal(out, &p) != nil || len(p.Streams) != 1 || p.Streams[0].SampleRate != "16000" || p.Streams[0].Channels != 1 {
		t.Errorf("segment format = %s", out)
	}
	one, err := ExtractAudio(ctx, ffmpeg, clip, t.TempDir(), 600)
	if err != nil || len(one) != 1 {
		t.Errorf("600 s segments: %+v, %v", one, err)
	}
}

func TestNoAudioTrack(t *testing.T) {
	ffmpeg := testfiles.Tool(t, "ffmpeg", "ffmpeg")
	ffprobe := testfiles.Tool(t, "ffprobe", "ffmpeg")
	clip := testfiles.Clip(t, 3, false)
	ctx := context.Background()
	if _, err := ProbeMedia(ctx, ffprobe, clip); !IsPermanent(err) || err.Error() != MsgNoAudio {
		t.Errorf("probe: %v", err)
	}
	if _, err := ExtractAudio(ctx, ffmpeg, clip, t.TempDir(), 600); !IsPermanent(err) || err.Error() != MsgNoAudio {
		t.Errorf("extract: %v", err)
	}
	if _, err := ExtractAudio(ctx, ffmpeg, writeTemp(t, "bad.mp4", []byte("not media")), t.TempDir(), 600); err == nil {
		t.Error("corrupt media accepted")
	}
}

// fakeTranscriber serves POST /v1/audio/transcriptions like the OpenAI
// API: it checks auth and multipart fields and answers verbose_json with
// one segment per byte of the uploaded file, 1 s each.
func fakeTranscriber(t *testing.T, inFlight, maxInFlight *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, "bad request line or auth", http.StatusUnauthorized)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for k, v := range map[string]string{"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": "segment", "language": "en"} {
			if got := r.FormValue(k); got != v {
				http.Error(w, fmt.Sprintf("%s = %q", k, got), http.StatusBadRequest)
				return
			}
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, "no file", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(f)
		w.Header().Set("Content-Type", "application/json") // as the real API answers
		segs := []map[string]any{}
		for i, b := range body {
			segs = append(segs, map[string]any{"id": i, "start": float64(i), "end": float64(i) + 0.5, "text": fmt.Sprintf(" %c said ", b)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"task": "transcribe", "text": "...", "segments": segs})
	}))
}

func TestTranscribeAll(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	srv := fakeTranscriber(t, &inFlight, &maxInFlight)
	defer srv.Close()
	dir := t.TempDir()
	var audio []AudioSegment
	for i, content := range []string{"ab", "", "c", "d", "e"} { // segment 1 is silent
		p := filepath.Join(dir, fmt.Sprintf("audio_%05d.mp3", i))
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		audio = append(audio, AudioSegment{Path: p, StartSec: float64(600 * i)})
	}
	rec := &llmtest.Recorder{}
	tenant, job := uuid.New(), uuid.New()
	tr := &Transcriber{LLM: llmtest.Router(t, srv.URL+"/v1/", "sk-test", rec), Language: "en"}
	chunks, model, err := tr.TranscribeAll(context.Background(), course.LLMCall{TenantID: &tenant, JobID: &job}, audio)
	if err != nil {
		t.Fatal(err)
	}
	exp := []struct {
		text       string
		start, end float64
	}{{"a said", 0, 0.5}, {"b said", 1, 1.5}, {"c said", 1200, 1200.5}, {"d said", 1800, 1800.5}, {"e said", 2400, 2400.5}}
	if len(chunks) != len(exp) {
		t.Fatalf("chunks = %+v", chunks)
	}
	for i, e := range exp {
		c := chunks[i]
		if c.ChunkType != ChunkTranscript || c.Text != e.text || *c.Metadata.StartSec != e.start || *c.Metadata.EndSec != e.end || c.Index != i || c.Metadata.Model != "whisper-1" {
			t.Errorf("chunk %d = %+v (%v-%v), want %+v", i, c, *c.Metadata.StartSec, *c.Metadata.EndSec, e)
		}
	}
	if m := maxInFlight.Load(); m > 2 {
		t.Errorf("%d requests in flight, want at most 2", m)
	}
	// One audited call per audio segment, for the material's tenant and job.
	if rows := rec.Calls(); len(rows) != len(audio) || model != "whisper-1" {
		t.Errorf("%d audit rows for %d segments (model %q)", len(rows), len(audio), model)
	}
	for _, row := range rec.Calls() {
		if row.Action != "transcribe" || *row.TenantID != tenant || *row.JobID != job || *row.UnitType != "seconds" || !row.Success {
			t.Errorf("audit row %+v", row)
		}
	}
	doc, err := VideoDocument("s3://v", "clip.mp4", &MediaInfo{DurationSec: 2401, Format: "mp4"}, "en", "whisper-1", chunks)
	if err != nil || *doc.Metadata.DurationSec != 2401 || doc.Metadata.Strategy != "transcription" || doc.SourceType != "video" {
		t.Errorf("video doc = %+v, %v", doc, err)
	}

	_, _, err = tr.TranscribeAll(context.Background(), course.LLMCall{}, audio[1:2])
	if !IsPermanent(err) || err.Error() != MsgNoSpeech {
		t.Errorf("silent audio: %v", err)
	}
	bad := &Transcriber{LLM: llmtest.Router(t, srv.URL+"/v1", "wrong", nil), Language: "en"}
	// A rejected key cannot get better by retrying (docs/design/llm.md: 401 is permanent).
	if _, _, err := bad.TranscribeAll(context.Background(), course.LLMCall{}, audio[:1]); !IsPermanent(err) {
		t.Errorf("401 must be a permanent error, got %v", err)
	}
}

func TestVideoEndToEnd(t *testing.T) {
	ffmpeg := testfiles.Tool(t, "ffmpeg", "ffmpeg")
	var inFlight, maxInFlight atomic.Int32
	srv := fakeTranscriber(t, &inFlight, &maxInFlight)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	segs, err := ExtractAudio(ctx, ffmpeg, testfiles.Clip(t, 3, true), t.TempDir(), 2)
	if err != nil || len(segs) < 2 {
		t.Fatalf("segments %+v, %v", segs, err)
	}
	tr := &Transcriber{LLM: llmtest.Router(t, srv.URL+"/v1", "sk-test", nil), Language: "en"}
	chunks, _, err := tr.TranscribeAll(ctx, course.LLMCall{}, segs)
	if err != nil {
		t.Fatal(err)
	}
	last := chunks[len(chunks)-1]
	if *last.Metadata.StartSec < segs[len(segs)-1].StartSec {
		t.Errorf("last chunk %v not offset by its segment start %v", *last.Metadata.StartSec, segs[len(segs)-1].StartSec)
	}
}

// Ensure a provider that rejects the request (bad key) fails permanently
// with a message that carries no response body, a 5xx stays retryable,
// and no model at all is "Transcription is not configured".
func TestTranscribeRejectedIsPermanent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer busy" {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		http.Error(w, `{"error":{"message":"Incorrect API key provided: sk-wr***"}}`, http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	audio := []AudioSegment{{Path: filepath.Join(t.TempDir(), "a.mp3"), EndSec: 3}}
	if err := os.WriteFile(audio[0].Path, []byte("ID3"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := &Transcriber{LLM: llmtest.Router(t, srv.URL+"/v1", "sk-wrong", nil)}
	_, _, err := tr.TranscribeAll(context.Background(), course.LLMCall{}, audio)
	var perm *PermanentError
	if !errors.As(err, &perm) || perm.Msg != MsgTranscriptionRejected {
		t.Fatalf("401: %v", err)
	}
	tr = &Transcriber{LLM: llmtest.Router(t, srv.URL+"/v1", "busy", nil)}
	if _, _, err := tr.TranscribeAll(context.Background(), course.LLMCall{}, audio); err == nil || IsPermanent(err) {
		t.Fatalf("503 must stay retryable: %v", err)
	}
	tr = &Transcriber{LLM: llmtest.Router(t, srv.URL+"/v1", "", nil)}
	if tr.Configured() {
		t.Fatal("a provider without a key counts as configured")
	}
	p := &Processor{Transcriber: tr}
	if _, err := p.File(context.Background(), Source{Type: "video", Path: audio[0].Path}); !errors.As(err, &perm) || perm.Msg != MsgNoTranscription {
		t.Fatalf("no model: %v", err)
	}
}
