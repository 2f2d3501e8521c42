package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/course-supporter/course-supporter/app/course"
)

// structuredTool is the one tool of tool mode; forcing it makes the
// model's reply the tool input, which the API returns as JSON.
const structuredTool = "emit_result"

// anthropicAPIVersion is the Messages API version the service speaks
// (docs/design/llm.md, "Anthropic"). SDK v2 defaults to a newer version
// and to Bearer authentication; every field sent here (model, max_tokens,
// system, messages with text and base64 images, tools, tool_choice,
// temperature) has the same shape in this version, so the documented
// contract is pinned rather than the SDK's default.
const anthropicAPIVersion = "2023-06-01"

// anthropicProvider speaks the Messages API (POST {base}/v1/messages,
// x-api-key) through the official SDK. The SDK's environment defaults
// (ANTHROPIC_* variables, profile files) are off: the registry is the
// only source of the base URL and key.
type anthropicProvider struct {
	messages anthropic.MessageService
}

func newAnthropic(p *ProviderSpec, hc *http.Client, timeout time.Duration) *anthropicProvider {
	return &anthropicProvider{messages: anthropic.NewMessageService(
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(p.BaseURL+"/"),
		// A request carrying x-api-key is sent as it is by the SDK's
		// credential middleware; no other credential source is consulted.
		option.WithHeader("x-api-key", p.APIKey),
		option.WithHeader("anthropic-version", anthropicAPIVersion),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // the router owns retries
		// An explicit timeout also keeps the SDK from refusing large
		// max_tokens without streaming; the router's deadline is the same.
		option.WithRequestTimeout(timeout),
	)}
}

// Complete sends one Messages request. Tool mode forces a single tool
// whose input_schema is the schema; prompt mode puts it in the system
// prompt. SDK v2's parameters have no temperature field, so it is set in
// the JSON body directly (the pinned API version accepts it).
func (a *anthropicProvider) Complete(ctx context.Context, m *ModelSpec, req course.CompletionRequest) (*Reply, error) {
	system := req.System
	tool := len(req.Schema) > 0 && m.StructuredOutput == ModeTool
	if len(req.Schema) > 0 && !tool {
		system += schemaInstruction(req.Schema)
	}
	params := anthropic.MessageNewParams{Model: m.ProviderModel, MaxTokens: int64(maxTokens(req, m))}
	if params.MaxTokens <= 0 {
		params.MaxTokens = 4096 // required by the API
	}
	if system != "" {
		params.System = []anthropic.TextBlockParam{{Text: system}}
	}
	for _, msg := range req.Messages {
		blocks := make([]anthropic.ContentBlockParamUnion, 0, len(msg.Parts))
		for _, p := range msg.Parts {
			if p.ImageURL != "" {
				media, data, ok := splitDataURL(p.ImageURL)
				if !ok {
					return nil, permanent("image is not a base64 data URL", nil)
				}
				blocks = append(blocks, anthropic.NewImageBlockBase64(media, data))
				continue
			}
			blocks = append(blocks, anthropic.NewTextBlock(p.Text))
		}
		if msg.Role == "assistant" {
			params.Messages = append(params.Messages, anthropic.NewAssistantMessage(blocks...))
		} else {
			params.Messages = append(params.Messages, anthropic.NewUserMessage(blocks...))
		}
	}
	if tool {
		schema, err := toolSchema(req.Schema)
		if err != nil {
			return nil, permanent("schema is not a JSON object", err)
		}
		params.Tools = []anthropic.ToolUnionParam{anthropic.ToolUnionParamOfTool(schema, structuredTool)}
		params.ToolChoice = anthropic.ToolChoiceParamOfTool(structuredTool)
	}
	var opts []option.RequestOption
	if req.Temperature != nil {
		opts = append(opts, option.WithJSONSet("temperature", *req.Temperature))
	}
	resp, err := a.messages.New(ctx, params, opts...)
	if err != nil {
		return nil, anthropicFailure(ctx, err)
	}
	r := &Reply{UnitsIn: resp.Usage.InputTokens, UnitsOut: resp.Usage.OutputTokens}
	for _, b := range resp.Content {
		switch {
		case tool && b.Type == "tool_use" && b.Name == structuredTool:
			r.Text = string(b.Input)
		case !tool && b.Type == "text":
			r.Text += b.Text
		}
	}
	if strings.TrimSpace(r.Text) == "" || r.Text == "null" {
		return nil, retryable("empty reply", nil)
	}
	return r, nil
}

// Transcribe is not offered by the Messages API; the registry never
// gives an Anthropic model the transcription capability.
func (a *anthropicProvider) Transcribe(context.Context, *ModelSpec, course.TranscriptionRequest) (*Reply, error) {
	return nil, permanent("anthropic: transcription is not supported", nil)
}

// Embed is not offered by the Messages API.
func (a *anthropicProvider) Embed(context.Context, *ModelSpec, []string) (*Reply, error) {
	return nil, permanent("anthropic: embeddings are not supported", nil)
}

// toolSchema turns a JSON schema into the SDK's input_schema: properties
// and required are typed fields, every other keyword passes through.
func toolSchema(raw json.RawMessage) (anthropic.ToolInputSchemaParam, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return anthropic.ToolInputSchemaParam{}, err
	}
	s := anthropic.ToolInputSchemaParam{Properties: m["properties"], ExtraFields: map[string]any{}}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				s.Required = append(s.Required, name)
			}
		}
	}
	for k, v := range m {
		switch k {
		case "properties", "required", "type", "$schema", "$id":
		default:
			s.ExtraFields[k] = v
		}
	}
	return s, nil
}

// splitDataURL splits data:<media>;base64,<data>.
func splitDataURL(u string) (media, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	head, data, ok := strings.Cut(rest, ",")
	media, isB64 := strings.CutSuffix(head, ";base64")
	return media, data, ok && isB64
}

// anthropicFailure classifies an SDK error; 529 "overloaded" is
// retryable like every 5xx.
func anthropicFailure(ctx context.Context, err error) error {
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) {
		var h http.Header
		if apiErr.Response != nil {
			h = apiErr.Response.Header
		}
		return httpFailure(apiErr.StatusCode, h, apiErr.Message, string(apiErr.Type()))
	}
	return transportFailure(ctx, err)
}
