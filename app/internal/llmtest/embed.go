package llmtest

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Dimensions is the width of the vectors the embeddings fake returns.
const Dimensions = 1536

// EmbedServer is a local server speaking the OpenAI embeddings wire format
// (POST /v1/embeddings). Vectors come from Vector, deterministic per
// text; Fail may answer a request with an error status instead.
type EmbedServer struct {
	*httptest.Server
	// Vector maps a text to its vector; default Topic.
	Vector func(text string) []float32
	// Before runs before each request is answered (n counts from 1);
	// a non-zero status is answered instead of vectors.
	Before func(n int, inputs []string) int

	mu       sync.Mutex
	requests [][]string
}

// NewEmbedServer starts the fake; it stops with the test.
func NewEmbedServer(tb testing.TB) *EmbedServer {
	tb.Helper()
	e := &EmbedServer{Vector: Topic}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	tb.Cleanup(e.Close)
	return e
}

// BaseURL is the provider base URL for Router (with /v1).
func (e *EmbedServer) BaseURL() string { return e.URL + "/v1" }

// Requests returns the inputs of every request received, in order.
func (e *EmbedServer) Requests() [][]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([][]string(nil), e.requests...)
}

func (e *EmbedServer) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Input      []string `json:"input"`
		Model      string   `json:"model"`
		Dimensions int      `json:"dimensions"`
	}
	if r.URL.Path != "/v1/embeddings" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, `{"error":{"message":"bad request","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.requests = append(e.requests, req.Input)
	n := len(e.requests)
	e.mu.Unlock()
	if e.Before != nil {
		if status := e.Before(n, req.Input); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":{"message":"temporary failure","type":"server_error"}}`))
			return
		}
	}
	data := make([]map[string]any, len(req.Input))
	tokens := 0
	for i, text := range req.Input {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": e.Vector(text)}
		tokens += len(strings.Fields(text))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// Topic is a deterministic bag-of-words embedding with real
// neighbourhoods: each word of the text (lowercased, split at anything but
// letters and digits) adds 1 to one of the 1536 axes picked by its hash,
// so texts sharing words are close and texts sharing none are (nearly)
// orthogonal. Unit length.
func Topic(text string) []float32 {
	v := make([]float32, Dimensions)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(w))
		v[h.Sum32()%Dimensions]++
	}
	var norm float64
	for _, x := range v {
		norm += float64(x * x)
	}
	if norm == 0 {
		v[0] = 1
		return v
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(norm))
	}
	return v
}
