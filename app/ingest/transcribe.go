package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/course-supporter/course-supporter/app/course"
)

// maxTranscriptionResponse caps a transcription response body.
const maxTranscriptionResponse = 16 << 20

// Transcriber calls an OpenAI-compatible transcription endpoint:
// POST {BaseURL}/audio/transcriptions. BaseURL includes the API version
// path, as OPENAI_BASE_URL does (https://api.openai.com/v1).
type Transcriber struct {
	BaseURL  string
	APIKey   string // sent as "Authorization: Bearer"; empty = no header
	Model    string // TRANSCRIPTION_MODEL, e.g. whisper-1
	Language string // optional ISO-639-1 hint (TRANSCRIPTION_LANGUAGE)
	HTTP     *http.Client
}

// TranscriptSegment is one timed segment of a transcription, in seconds
// from the start of the audio file sent.
type TranscriptSegment struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

// Transcribe sends one audio file and returns its segments
// (response_format=verbose_json, timestamp_granularities[]=segment).
func (t *Transcriber) Transcribe(ctx context.Context, audioFile string) ([]TranscriptSegment, error) {
	body, ctype, err := t.form(audioFile)
	if err != nil {
		return nil, err
	}
	url := strings.TrimRight(t.BaseURL, "/") + "/audio/transcriptions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ctype)
	if t.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.APIKey)
	}
	client := t.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("transcription request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTranscriptionResponse))
	if err != nil {
		return nil, fmt.Errorf("transcription response: %w", err)
	}
	switch {
	case rejected(resp.StatusCode):
		// The provider refuses this request as such (bad key, model or
		// audio): retrying cannot help. The body stays in the log only.
		return nil, errors.Join(Permanent(fmt.Sprintf("Transcription was rejected by the provider (HTTP %d)", resp.StatusCode)),
			fmt.Errorf("transcription: HTTP %d: %.300s", resp.StatusCode, raw))
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("transcription: HTTP %d: %.300s", resp.StatusCode, raw)
	}
	var out struct {
		Text     string              `json:"text"`
		Segments []TranscriptSegment `json:"segments"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("transcription response: %w", err)
	}
	return out.Segments, nil
}

// rejected reports the HTTP statuses retrying cannot fix (docs/design/jobs.md, "Ingest").
func rejected(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// form builds the multipart body in memory (segments are a few MB).
func (t *Transcriber) form(audioFile string) (io.Reader, string, error) {
	f, err := os.Open(audioFile) //nolint:gosec // G304: a worker temp file
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filepath.Base(audioFile))
	if err != nil {
		return nil, "", err
	}
	if _, err := io.Copy(fw, f); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", t.Model}, {"response_format", "verbose_json"}, {"timestamp_granularities[]", "segment"}}
	if t.Language != "" {
		fields = append(fields, [2]string{"language", t.Language})
	}
	for _, kv := range fields {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return &buf, mw.FormDataContentType(), nil
}

// TranscribeAll transcribes every audio segment, at most 2 in flight
// (docs/design/jobs.md, "Ingest"), offsets each returned segment by its audio segment's
// start, and returns one transcript chunk per non-empty segment in time
// order. No speech at all is the permanent MsgNoSpeech.
func (t *Transcriber) TranscribeAll(ctx context.Context, audio []AudioSegment) ([]Chunk, error) {
	results := make([][]TranscriptSegment, len(audio))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i, a := range audio {
		g.Go(func() error {
			segs, err := t.Transcribe(gctx, a.Path)
			if err != nil {
				return fmt.Errorf("audio segment %d: %w", i, err)
			}
			results[i] = segs
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var chunks []Chunk
	for i, segs := range results {
		for _, s := range segs {
			text := cleanText(s.Text)
			if text == "" {
				continue
			}
			chunks = append(chunks, Chunk{ChunkType: ChunkTranscript, Text: text, Index: len(chunks),
				Metadata: ChunkMetadata{
					StartSec: ptr(audio[i].StartSec + s.Start), EndSec: ptr(audio[i].StartSec + s.End),
					Strategy: "transcription", Model: t.Model,
				}})
		}
	}
	if len(chunks) == 0 {
		return nil, &PermanentError{Msg: MsgNoSpeech}
	}
	return chunks, nil
}

// VideoDocument assembles the video SourceDocument from transcript chunks
// and probe results (metadata duration_sec, format, language?, strategy,
// model).
func VideoDocument(sourceURL, title string, info *MediaInfo, language, model string, chunks []Chunk) (*SourceDocument, error) {
	doc := &SourceDocument{SourceType: string(course.SourceVideo), SourceURL: sourceURL, Title: title, Chunks: chunks,
		Metadata: DocMetadata{Language: language, Strategy: "transcription", Model: model}}
	if info != nil {
		doc.Metadata.DurationSec = ptr(info.DurationSec)
		doc.Metadata.Format = info.Format
	}
	return finish(doc, MsgNoSpeech)
}
