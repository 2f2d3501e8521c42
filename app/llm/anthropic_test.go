package llm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/course"
)

const anthropicRegistry = `
providers:
  anthropic: {kind: anthropic, base_url: "${A_URL}", api_key_env: A_KEY}
models:
  claude-sonnet:
    provider: anthropic
    provider_model: claude-sonnet-4-20250514
    capabilities: [structured_output, vision]
    structured_output: ${MODE:-tool}
    max_output_tokens: 2000
    cost: {unit: tokens, in_per_1k: 0.003, out_per_1k: 0.015}
actions:
  course_structuring: {requires: [structured_output], chains: {default: [claude-sonnet]}}
  presentation_analysis: {requires: [vision], chains: {default: [claude-sonnet]}}
`

// anthropicVersion is the contract's Messages API version (the SDK's own
// default is newer; docs/design/llm.md explains the pin).
const anthropicVersion = "2023-06-01"

// Ensure tool mode sends one tool whose input_schema is the schema, forces
// it with tool_choice, authenticates with x-api-key and the API version
// header, sends the provider model name, and takes the tool input as the
// reply.
func TestAnthropicToolMode(t *testing.T) {
	f := mustFake(t, answer{Status: 200, Body: anthropicOK([]map[string]any{
		{"type": "tool_use", "id": "toolu_1", "name": structuredTool, "input": jsonObj(t, validOutline)}}, 5000, 800)})
	r, rec, _ := testRouter(t, anthropicRegistry, map[string]string{"A_URL": f.URL, "A_KEY": "sk-ant"})
	out, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionCourseStructuring}, structuringRequest())
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateCourseStructure(out.JSON); err != nil {
		t.Fatalf("reply %s: %v", out.JSON, err)
	}
	req := f.requests()[0]
	if req.Path != "/v1/messages" || req.Header.Get("X-Api-Key") != "sk-ant" || req.Header.Get("Anthropic-Version") != anthropicVersion ||
		req.Header.Get("Authorization") != "" {
		t.Fatalf("path %s headers %v", req.Path, req.Header)
	}
	b := req.Body
	if b["model"] != "claude-sonnet-4-20250514" || b["max_tokens"] != 2000.0 || b["temperature"] != 0.2 {
		t.Fatalf("body %s", req.Raw)
	}
	tools := b["tools"].([]any)
	tool := tools[0].(map[string]any)
	schema := tool["input_schema"].(map[string]any)
	if len(tools) != 1 || tool["name"] != structuredTool || schema["type"] != "object" || schema["properties"].(map[string]any)["modules"] == nil ||
		schema["$defs"] == nil || len(schema["required"].([]any)) != 5 {
		t.Fatalf("tools %s", req.Raw)
	}
	if tc := b["tool_choice"].(map[string]any); tc["type"] != "tool" || tc["name"] != structuredTool {
		t.Fatalf("tool_choice %v", tc)
	}
	if sys := b["system"].([]any)[0].(map[string]any)["text"].(string); strings.Contains(sys, "JSON schema") {
		t.Fatalf("tool mode must not paste the schema into the system prompt: %q", sys)
	}
	if row := rec.rows[0]; !row.Success || *row.UnitIn != 5000 || *row.UnitOut != 800 || *row.CostUSD != 5*0.003+0.8*0.015 {
		t.Fatalf("audit %+v", row)
	}
}

// Ensure prompt mode puts the schema in the system prompt, sends no
// tools, and images travel as base64 image blocks.
func TestAnthropicPromptModeAndImages(t *testing.T) {
	f := mustFake(t, answer{Status: 200, Body: anthropicOK([]map[string]any{{"type": "text", "text": "```\n" + validOutline + "\n```"}}, 10, 10)})
	r, _, _ := testRouter(t, anthropicRegistry, map[string]string{"A_URL": f.URL, "A_KEY": "k", "MODE": "prompt"})
	req := structuringRequest()
	req.Messages[0].Parts = append(req.Messages[0].Parts, course.LLMPart{ImageURL: "data:image/png;base64,iVBORw0KGgo="})
	if _, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionCourseStructuring}, req); err != nil {
		t.Fatal(err)
	}
	b := f.requests()[0].Body
	if b["tools"] != nil || !strings.Contains(b["system"].([]any)[0].(map[string]any)["text"].(string), `"CourseStructure"`) {
		t.Fatalf("prompt mode body %s", f.requests()[0].Raw)
	}
	img := b["messages"].([]any)[0].(map[string]any)["content"].([]any)[1].(map[string]any)
	src := img["source"].(map[string]any)
	if img["type"] != "image" || src["type"] != "base64" || src["media_type"] != "image/png" || src["data"] != "iVBORw0KGgo=" {
		t.Fatalf("image block %v", img)
	}
}

// Ensure Anthropic's error bodies are classified like the others: 529
// overloaded and 429 are retryable (Retry-After honoured), a too-long
// prompt (400) and a bad key (401) are permanent.
func TestAnthropicErrorClasses(t *testing.T) {
	cases := map[string]struct {
		answer    answer
		attempts  int
		permanent bool
		sleep     time.Duration
	}{
		"529 overloaded": {answer: answer{Status: 529, Body: anthropicError("overloaded_error", "Overloaded")}, attempts: 2, sleep: time.Second},
		"429":            {answer: answer{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: anthropicError("rate_limit_error", "slow")}, attempts: 2, sleep: 3 * time.Second},
		"500":            {answer: answer{Status: 500, Body: anthropicError("api_error", "boom")}, attempts: 2, sleep: time.Second},
		"400 too long":   {answer: answer{Status: 400, Body: anthropicError("invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum")}, attempts: 1, permanent: true},
		"401":            {answer: answer{Status: 401, Body: anthropicError("authentication_error", "invalid x-api-key")}, attempts: 1, permanent: true},
		"empty reply":    {answer: answer{Status: 200, Body: anthropicOK([]map[string]any{}, 10, 0)}, attempts: 2, sleep: time.Second},
		"schema-invalid": {answer: answer{Status: 200, Body: anthropicOK([]map[string]any{{"type": "tool_use", "id": "t", "name": structuredTool,
			"input": map[string]any{"title": "x", "modules": []any{}}}}, 10, 10)}, attempts: 2, sleep: time.Second},
		"timeout": {answer: answer{Hang: true}, attempts: 2, sleep: time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := mustFake(t, tc.answer)
			r, rec, sl := testRouter(t, anthropicRegistry, map[string]string{"A_URL": f.URL, "A_KEY": "k"},
				func(o *Options) { o.RequestTimeout = 300 * time.Millisecond })
			_, err := r.Complete(context.Background(), course.LLMCall{Action: course.ActionCourseStructuring}, structuringRequest())
			var amf *course.AllModelsFailedError
			if !errors.As(err, &amf) || amf.Permanent != tc.permanent || amf.Attempts != tc.attempts || len(rec.rows) != tc.attempts {
				t.Fatalf("error %v (%d rows), want permanent=%v after %d attempts", err, len(rec.rows), tc.permanent, tc.attempts)
			}
			if tc.attempts == 2 && (len(sl.d) != 1 || sl.d[0] != tc.sleep) {
				t.Fatalf("waits %v, want [%v]", sl.d, tc.sleep)
			}
		})
	}
}
