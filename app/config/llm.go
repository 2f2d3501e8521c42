package config

import (
	"log/slog"
	"strings"
	"time"
)

// LLM holds the settings of the LLM gateway (docs/design/llm.md).
type LLM struct {
	// RegistryPath overrides the embedded registry (LLM_REGISTRY_PATH).
	RegistryPath string
	// PromptsDir overrides the embedded prompts (PROMPTS_DIR).
	PromptsDir          string
	StructuringStrategy string
	AttemptsPerModel    int
	RequestTimeout      time.Duration
	MaxOutputTokens     int
	ContextTokenBudget  int
	// BuiltinEnabled makes the offline builtin-outline model usable and
	// appends it to the structuring chains (never in production unless
	// LLM_BUILTIN_ALLOW_PRODUCTION is also set).
	BuiltinEnabled bool
	VisionEnabled  bool
	VisionMaxPages int
	// Vars are the variables the registry may reference as ${VAR}: the
	// provider keys, base URLs and model names. Reading them here keeps
	// the registry from reaching into the environment itself.
	Vars map[string]string
}

// registryVars are the variables llm.yaml may reference; every one is
// documented in .env.example.
var registryVars = []string{
	"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_DEFAULT_MODEL",
	"DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL", "DEEPSEEK_DEFAULT_MODEL",
	"GEMINI_API_KEY", "GEMINI_BASE_URL", "GEMINI_DEFAULT_MODEL",
	"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_DEFAULT_MODEL",
	"LOCAL_LLM_BASE_URL", "LOCAL_LLM_API_KEY", "LOCAL_LLM_MODEL",
	"TRANSCRIPTION_MODEL", "EMBEDDING_MODEL",
}

// secretVars are masked when the configuration is logged.
var secretVars = map[string]bool{
	"OPENAI_API_KEY": true, "DEEPSEEK_API_KEY": true, "GEMINI_API_KEY": true, "ANTHROPIC_API_KEY": true, "LOCAL_LLM_API_KEY": true,
}

// Lookup resolves a registry variable; ok is false for names the service
// does not read, which the registry reports as an error.
func (c LLM) Lookup(name string) (string, bool) {
	v, ok := c.Vars[name]
	return v, ok
}

func (l *loader) loadLLM(environment string) LLM {
	c := LLM{
		RegistryPath:        l.str("LLM_REGISTRY_PATH", ""),
		PromptsDir:          l.str("PROMPTS_DIR", ""),
		StructuringStrategy: l.oneOf("LLM_STRUCTURING_STRATEGY", "default", "default", "quality", "budget"),
		AttemptsPerModel:    int(l.integer("LLM_ATTEMPTS_PER_MODEL", 2, 1, 10)),
		RequestTimeout:      l.duration("LLM_REQUEST_TIMEOUT", 300*time.Second),
		MaxOutputTokens:     int(l.integer("LLM_MAX_OUTPUT_TOKENS", 8192, 256, 1_000_000)),
		ContextTokenBudget:  int(l.integer("LLM_CONTEXT_TOKEN_BUDGET", 60000, 1000, 10_000_000)),
		BuiltinEnabled:      l.boolean("LLM_BUILTIN_ENABLED", false),
		VisionEnabled:       l.boolean("PRESENTATION_VISION_ENABLED", true),
		VisionMaxPages:      int(l.integer("PRESENTATION_VISION_MAX_PAGES", 200, 0, 10000)),
		Vars:                map[string]string{},
	}
	allowProd := l.boolean("LLM_BUILTIN_ALLOW_PRODUCTION", false)
	for _, name := range registryVars {
		c.Vars[name], _ = l.raw(name)
	}
	if c.RequestTimeout < time.Second {
		l.fail("LLM_REQUEST_TIMEOUT", "must be at least 1s")
	}
	if c.BuiltinEnabled && environment == "production" && !allowProd {
		l.fail("LLM_BUILTIN_ENABLED", "the offline builtin model is refused in production unless LLM_BUILTIN_ALLOW_PRODUCTION=true")
	}
	return c
}

// logValue renders the LLM settings with every key masked.
func (c LLM) logValue(mask func(string) string) slog.Value {
	attrs := []slog.Attr{
		slog.String("registry_path", c.RegistryPath),
		slog.String("prompts_dir", c.PromptsDir),
		slog.String("structuring_strategy", c.StructuringStrategy),
		slog.String("request_timeout", c.RequestTimeout.String()),
		slog.Bool("builtin_enabled", c.BuiltinEnabled),
		slog.Bool("vision_enabled", c.VisionEnabled),
	}
	for _, name := range registryVars {
		v := c.Vars[name]
		if secretVars[name] {
			v = mask(v)
		}
		attrs = append(attrs, slog.String(strings.ToLower(name), v))
	}
	return slog.GroupValue(attrs...)
}
