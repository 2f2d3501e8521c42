package ingest

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/course-supporter/course-supporter/app/course"
)

// MsgTranscriptionRejected is the permanent failure of a transcription
// every model refused (bad key, model or audio): retrying cannot help.
const MsgTranscriptionRejected = "Transcription was rejected by the provider"

// Transcriber transcribes audio through the LLM router (action
// transcribe, docs/design/llm.md): the router picks the model, retries,
// and audits one call per audio segment.
type Transcriber struct {
	LLM      course.LLM
	Language string // optional ISO-639-1 hint (TRANSCRIPTION_LANGUAGE)
}

// Configured reports whether a transcription model is usable.
func (t *Transcriber) Configured() bool {
	return t != nil && t.LLM != nil && t.LLM.Configured(course.ActionTranscribe)
}

// TranscribeAll transcribes every audio segment, at most 2 in flight
// (docs/design/jobs.md, "Ingest"), offsets each returned segment by its audio segment's
// start, and returns one transcript chunk per non-empty segment in time
// order and the provider model that transcribed. No speech at all is the
// permanent MsgNoSpeech.
func (t *Transcriber) TranscribeAll(ctx context.Context, call course.LLMCall, audio []AudioSegment) ([]Chunk, string, error) {
	call.Action = course.ActionTranscribe
	results := make([]*course.Transcription, len(audio))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i, a := range audio {
		g.Go(func() error {
			res, err := t.LLM.Transcribe(gctx, call, course.TranscriptionRequest{
				Path: a.Path, Language: t.Language, DurationSec: a.EndSec - a.StartSec,
			})
			if err != nil {
				return fmt.Errorf("audio segment %d: %w", i, transcriptionError(err))
			}
			results[i] = res
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, "", err
	}
	var (
		chunks []Chunk
		model  string
	)
	for i, a := range audio {
		res := results[i]
		model = res.Usage.ProviderModel
		for _, s := range res.Segments {
			text := cleanText(s.Text)
			if text == "" {
				continue
			}
			chunks = append(chunks, Chunk{ChunkType: ChunkTranscript, Text: text, Index: len(chunks),
				Metadata: ChunkMetadata{
					StartSec: ptr(a.StartSec + s.Start), EndSec: ptr(a.StartSec + s.End),
					Strategy: "transcription", Model: res.Usage.ProviderModel,
				}})
		}
	}
	if len(chunks) == 0 {
		return nil, model, &PermanentError{Msg: MsgNoSpeech}
	}
	return chunks, model, nil
}

// transcriptionError maps the router's verdicts to ingest failures: no
// model is the permanent MsgNoTranscription, every model refusing is the
// permanent MsgTranscriptionRejected; anything else stays retryable.
func transcriptionError(err error) error {
	var amf *course.AllModelsFailedError
	switch {
	case errors.Is(err, course.ErrLLMNotConfigured):
		return errors.Join(Permanent(MsgNoTranscription), err)
	case errors.As(err, &amf) && amf.Permanent:
		return errors.Join(Permanent(MsgTranscriptionRejected), err)
	}
	return err
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
