package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// fakeVision answers chat completions like the OpenAI API: it records the
// images it was sent and describes the slide the prompt names; the slide
// numbers in fail get a 400.
type fakeVision struct {
	*httptest.Server
	mu     sync.Mutex
	images [][]byte
}

func mustFakeVision(t *testing.T, fail ...int) *fakeVision {
	t.Helper()
	f := &fakeVision{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			Model    string `json:"model"`
			Messages []struct {
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		_ = json.Unmarshal(raw, &body)
		var parts []struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			ImageURL struct {
				URL string `json:"url"`
			} `json:"image_url"`
		}
		_ = json.Unmarshal(body.Messages[len(body.Messages)-1].Content, &parts)
		var slide string
		for _, p := range parts {
			if p.Type == "image_url" {
				png, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(p.ImageURL.URL, "data:image/png;base64,"))
				f.mu.Lock()
				f.images = append(f.images, png)
				f.mu.Unlock()
			}
			if p.Type == "text" {
				slide = strings.TrimSuffix(strings.TrimPrefix(p.Text, "Describe slide "), ".")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		for _, n := range fail {
			if slide == fmt.Sprint(n) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":{"message":"image could not be processed","type":"invalid_request_error"}}`)
				return
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion", "model": body.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{
				"role": "assistant", "content": "A diagram on slide " + slide + "."}}},
			"usage": map[string]any{"prompt_tokens": 800, "completion_tokens": 12, "total_tokens": 812}})
	}))
	t.Cleanup(f.Close)
	return f
}

func visionProcessor(t *testing.T, url string, rec *llmtest.Recorder) *Processor {
	return &Processor{TmpDir: t.TempDir(), Vision: &Vision{
		LLM: llmtest.Router(t, url+"/v1", "sk-vision", rec), MaxPages: 200, TmpDir: t.TempDir(),
		Prompt: func(n int) (SlidePrompt, error) {
			return SlidePrompt{System: "Describe slides.", User: fmt.Sprintf("Describe slide %d.", n), Ref: "v1_slide"}, nil
		},
	}}
}

// Ensure each page of a PDF is rendered and described by the vision
// model: two pages, two PNG images seen by the server, two
// slide_description chunks right after their page's text, each call
// audited under the prompt version.
func TestPDFVision(t *testing.T) {
	testfiles.Tool(t, "pdftoppm", "poppler-utils")
	testfiles.Tool(t, "pdfinfo", "poppler-utils")
	f := mustFakeVision(t)
	rec := &llmtest.Recorder{}
	p := visionProcessor(t, f.URL, rec)
	file := writeTemp(t, "deck.pdf", testfiles.PDF("Gradient descent", "Learning rate"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	doc, err := p.File(ctx, Source{Type: "presentation", Filename: "deck.pdf", Path: file})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.images) != 2 {
		t.Fatalf("the vision server saw %d images, want 2", len(f.images))
	}
	for _, img := range f.images {
		if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("not a PNG: %q", img[:min(8, len(img))])
		}
	}
	want := []struct {
		typ   string
		slide int
		text  string
	}{{ChunkSlideText, 1, "Gradient descent"}, {ChunkSlideDescription, 1, "A diagram on slide 1."},
		{ChunkSlideText, 2, "Learning rate"}, {ChunkSlideDescription, 2, "A diagram on slide 2."}}
	if len(doc.Chunks) != len(want) {
		t.Fatalf("chunks %+v", doc.Chunks)
	}
	for i, w := range want {
		c := doc.Chunks[i]
		if c.ChunkType != w.typ || c.Metadata.SlideNumber != w.slide || !strings.Contains(c.Text, w.text) || c.Index != i {
			t.Errorf("chunk %d = %+v, want %s of slide %d", i, c, w.typ, w.slide)
		}
	}
	if *doc.Metadata.VisionPages != 2 || *doc.Metadata.VisionFailures != 0 || doc.Chunks[1].Metadata.Model != "vision-model" {
		t.Errorf("metadata %+v / %+v", doc.Metadata, doc.Chunks[1].Metadata)
	}
	for _, row := range rec.Calls() {
		if row.Action != "presentation_analysis" || *row.PromptRef != "v1_slide" || !row.Success {
			t.Errorf("audit %+v", row)
		}
	}
}

// Ensure a page the model cannot describe is skipped and counted, and the
// document still succeeds.
func TestPDFVisionFailedPageIsCounted(t *testing.T) {
	testfiles.Tool(t, "pdftoppm", "poppler-utils")
	testfiles.Tool(t, "pdfinfo", "poppler-utils")
	f := mustFakeVision(t, 2)
	rec := &llmtest.Recorder{}
	p := visionProcessor(t, f.URL, rec)
	file := writeTemp(t, "deck.pdf", testfiles.PDF("Gradient descent", "Learning rate"))
	doc, err := p.File(context.Background(), Source{Type: "presentation", Filename: "deck.pdf", Path: file})
	if err != nil {
		t.Fatalf("a failed page failed the document: %v", err)
	}
	if *doc.Metadata.VisionFailures != 1 || len(doc.Chunks) != 3 || doc.Chunks[1].ChunkType != ChunkSlideDescription || doc.Chunks[2].ChunkType != ChunkSlideText {
		t.Fatalf("doc %+v %+v", doc.Metadata, doc.Chunks)
	}
	failed := 0
	for _, row := range rec.Calls() {
		if !row.Success {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed audit rows, want 1 (a 400 is permanent: one attempt)", failed)
	}
}
