package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/course-supporter/course-supporter/app/course"
)

// openAIProvider speaks the OpenAI wire format through the official SDK,
// for every OpenAI-compatible endpoint (OpenAI, DeepSeek, Gemini's
// compatibility endpoint, local servers). The services are built without
// openai.NewClient on purpose: NewClient reads OPENAI_* from the process
// environment, which would send the OpenAI key to every compatible
// provider; here each provider gets exactly its own base URL and key.
type openAIProvider struct {
	chat  openai.ChatCompletionService
	audio openai.AudioTranscriptionService
	embed openai.EmbeddingService
}

func newOpenAI(p *ProviderSpec, hc *http.Client) *openAIProvider {
	opts := []option.RequestOption{
		option.WithBaseURL(p.BaseURL + "/"),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // the router owns retries
	}
	if p.APIKey != "" {
		opts = append(opts, option.WithAPIKey(p.APIKey))
	}
	return &openAIProvider{
		chat:  openai.NewChatCompletionService(opts...),
		audio: openai.NewAudioTranscriptionService(opts...),
		embed: openai.NewEmbeddingService(opts...),
	}
}

// Complete sends POST {base}/chat/completions; the schema travels per the
// model's structured_output mode.
func (o *openAIProvider) Complete(ctx context.Context, m *ModelSpec, req course.CompletionRequest) (*Reply, error) {
	system := req.System
	if len(req.Schema) > 0 && (m.StructuredOutput == ModeJSONObject || m.StructuredOutput == ModePrompt) {
		system += schemaInstruction(req.Schema)
	}
	var msgs []openai.ChatCompletionMessageParamUnion
	if system != "" {
		msgs = append(msgs, openai.SystemMessage(system))
	}
	for _, msg := range req.Messages {
		msgs = append(msgs, openAIMessage(msg))
	}
	params := openai.ChatCompletionNewParams{Model: m.ProviderModel, Messages: msgs}
	if n := maxTokens(req, m); n > 0 {
		params.MaxTokens = openai.Int(int64(n))
	}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	if len(req.Schema) > 0 {
		switch m.StructuredOutput {
		case ModeJSONSchema:
			params.ResponseFormat.OfJSONSchema = &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: schemaName(req), Schema: req.Schema},
			}
		case ModeJSONObject:
			params.ResponseFormat.OfJSONObject = &shared.ResponseFormatJSONObjectParam{}
		}
	}
	resp, err := o.chat.New(ctx, params)
	if err != nil {
		return nil, openAIFailure(ctx, err)
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" {
		return nil, retryable("empty reply", nil)
	}
	return &Reply{Text: resp.Choices[0].Message.Content, UnitsIn: resp.Usage.PromptTokens, UnitsOut: resp.Usage.CompletionTokens}, nil
}

func openAIMessage(msg course.LLMMessage) openai.ChatCompletionMessageParamUnion {
	if msg.Role == "assistant" {
		return openai.AssistantMessage(joinText(msg.Parts))
	}
	if len(msg.Parts) == 1 && msg.Parts[0].ImageURL == "" {
		return openai.UserMessage(msg.Parts[0].Text)
	}
	parts := make([]openai.ChatCompletionContentPartUnionParam, 0, len(msg.Parts))
	for _, p := range msg.Parts {
		if p.ImageURL != "" {
			parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: p.ImageURL}))
		} else {
			parts = append(parts, openai.TextContentPart(p.Text))
		}
	}
	return openai.UserMessage(parts)
}

// Transcribe sends POST {base}/audio/transcriptions as verbose_json with
// segment timestamps; the units are the audio's seconds.
func (o *openAIProvider) Transcribe(ctx context.Context, m *ModelSpec, req course.TranscriptionRequest) (*Reply, error) {
	f, err := os.Open(req.Path) //nolint:gosec // G304: a worker temp file
	if err != nil {
		return nil, permanent("open audio", err)
	}
	defer f.Close()
	params := openai.AudioTranscriptionNewParams{
		File: f, Model: m.ProviderModel, ResponseFormat: openai.AudioResponseFormatVerboseJSON,
		TimestampGranularities: []string{"segment"},
	}
	if req.Language != "" {
		params.Language = openai.String(req.Language)
	}
	resp, err := o.audio.New(ctx, params)
	if err != nil {
		return nil, openAIFailure(ctx, err)
	}
	v := resp.AsTranscriptionVerbose()
	r := &Reply{Text: v.Text, Seconds: v.Duration}
	if r.Seconds <= 0 {
		r.Seconds = req.DurationSec
	}
	r.UnitsIn = int64(math.Ceil(r.Seconds))
	for _, s := range v.Segments {
		r.Segments = append(r.Segments, course.TranscriptSegment{Start: s.Start, End: s.End, Text: s.Text})
	}
	return r, nil
}

// Embed sends POST {base}/embeddings for a batch of texts.
func (o *openAIProvider) Embed(ctx context.Context, m *ModelSpec, texts []string) (*Reply, error) {
	params := openai.EmbeddingNewParams{Model: m.ProviderModel, Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts}}
	if m.Dimensions > 0 {
		params.Dimensions = openai.Int(int64(m.Dimensions))
	}
	resp, err := o.embed.New(ctx, params)
	if err != nil {
		return nil, openAIFailure(ctx, err)
	}
	if len(resp.Data) != len(texts) {
		return nil, retryable(fmt.Sprintf("embeddings: %d vectors for %d texts", len(resp.Data), len(texts)), nil)
	}
	data := resp.Data
	sort.Slice(data, func(i, j int) bool { return data[i].Index < data[j].Index })
	r := &Reply{UnitsIn: resp.Usage.PromptTokens, Vectors: make([][]float32, len(data))}
	for i, d := range data {
		if m.Dimensions > 0 && len(d.Embedding) != m.Dimensions {
			return nil, permanent(fmt.Sprintf("embeddings: vector of %d dimensions, want %d", len(d.Embedding), m.Dimensions), nil)
		}
		v := make([]float32, len(d.Embedding))
		for k, x := range d.Embedding {
			v[k] = float32(x)
		}
		r.Vectors[i] = v
	}
	return r, nil
}

// openAIFailure classifies an SDK error.
func openAIFailure(ctx context.Context, err error) error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		var h http.Header
		if apiErr.Response != nil {
			h = apiErr.Response.Header
		}
		return httpFailure(apiErr.StatusCode, h, apiErr.Message, apiErr.Code+" "+apiErr.Type)
	}
	return transportFailure(ctx, err)
}

func maxTokens(req course.CompletionRequest, m *ModelSpec) int {
	if req.MaxTokens > 0 {
		return req.MaxTokens
	}
	return m.MaxOutputTokens
}

func schemaName(req course.CompletionRequest) string {
	if req.SchemaName != "" {
		return req.SchemaName
	}
	return "reply"
}

func joinText(parts []course.LLMPart) string {
	var s string
	for _, p := range parts {
		s += p.Text
	}
	return s
}
