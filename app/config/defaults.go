package config

// emptyEnv is an environment with no variables set.
func emptyEnv(string) (string, bool) { return "", false }

// DefaultWorker is the worker configuration of an environment that sets
// no WORKER_* or JOB_* variable. The values are the loader's own
// fallbacks, not a copy of them, so the package that runs jobs holds no
// defaults of its own and tests get exactly what an unconfigured
// deployment gets (docs/configuration.md).
func DefaultWorker() Worker { return newLoader(emptyEnv).loadWorker() }

// DefaultIngest is the ingest configuration of an environment that sets
// none of its variables (chunk sizes, fetch bounds, ...).
func DefaultIngest() Ingest { return newLoader(emptyEnv).loadIngest("development") }

// DefaultLimits are the per-document bounds of an environment that sets
// none of the INGEST_MAX_* or FETCH_MIN_* variables.
func DefaultLimits() Limits { return newLoader(emptyEnv).loadLimits() }

// DefaultLLM is the LLM configuration of a development environment that
// sets none of its variables (strategy, output tokens, context budget).
func DefaultLLM() LLM { return newLoader(emptyEnv).loadLLM("development") }
