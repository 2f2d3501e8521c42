package testfiles

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Transcription is a local stand-in for an OpenAI-compatible
// POST /v1/audio/transcriptions endpoint. Each request must carry the
// bearer key and an audio file; it answers verbose_json with two segments
// (0–1.5 s and 1.5–3 s, relative to the uploaded segment).
type Transcription struct {
	*httptest.Server
	Calls atomic.Int32
}

// NewTranscription starts the fake; it stops with the test.
func NewTranscription(t testing.TB, apiKey string) *Transcription {
	t.Helper()
	f := &Transcription{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+apiKey {
			http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
			return
		}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, _, err := r.FormFile("file"); err != nil || r.FormValue("response_format") != "verbose_json" {
			http.Error(w, "file and response_format=verbose_json required", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json") // as the real API answers
		n := f.Calls.Load()
		_ = json.NewEncoder(w).Encode(map[string]any{"task": "transcribe", "segments": []map[string]any{
			{"id": 0, "start": 0.0, "end": 1.5, "text": fmt.Sprintf(" Welcome to part %d of the lecture.", n)},
			{"id": 1, "start": 1.5, "end": 3.0, "text": " Today we study gradient descent."},
		}})
	}))
	t.Cleanup(f.Close)
	return f
}
