package config_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/config"
)

// Ensure the LLM defaults of the spec and that registry variables are
// available to the registry (and only documented ones).
func TestLLMDefaultsAndVars(t *testing.T) {
	e := base()
	e["GEMINI_API_KEY"] = "g-secret"
	cfg, err := config.Load(env(e))
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.LLM
	if l.RequestTimeout != 300*time.Second || l.AttemptsPerModel != 2 || l.StructuringStrategy != "default" || l.BuiltinEnabled ||
		!l.VisionEnabled || l.VisionMaxPages != 200 || l.MaxOutputTokens != 8192 || l.ContextTokenBudget != 60000 {
		t.Fatalf("defaults %+v", l)
	}
	if v, ok := l.Lookup("GEMINI_API_KEY"); !ok || v != "g-secret" {
		t.Fatal("registry variable not passed on")
	}
	if _, ok := l.Lookup("POSTGRES_PASSWORD"); ok {
		t.Fatal("the registry must not read unrelated variables")
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config_loaded", "config", cfg)
	if strings.Contains(b.String(), "g-secret") || !strings.Contains(b.String(), "gemini_api_key=***") {
		t.Fatalf("key not masked: %s", b.String())
	}
}

// Ensure the builtin model is refused in production unless explicitly allowed.
func TestBuiltinRefusedInProduction(t *testing.T) {
	e := base()
	e["ENVIRONMENT"], e["LLM_BUILTIN_ENABLED"] = "production", "true"
	_, err := config.Load(env(e))
	var ps config.Problems
	if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(ps[0].String(), "LLM_BUILTIN_ENABLED: the offline builtin model is refused in production") {
		t.Fatalf("got %v", err)
	}
	e["LLM_BUILTIN_ALLOW_PRODUCTION"] = "true"
	if cfg, err := config.Load(env(e)); err != nil || !cfg.LLM.BuiltinEnabled {
		t.Fatalf("explicit permission: %v", err)
	}
	e["ENVIRONMENT"], e["LLM_BUILTIN_ALLOW_PRODUCTION"] = "development", "false"
	if cfg, err := config.Load(env(e)); err != nil || !cfg.LLM.BuiltinEnabled {
		t.Fatalf("development: %v", err)
	}
}
