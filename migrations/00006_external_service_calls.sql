-- +goose Up
-- One row per attempt of an external AI call (chat, vision, transcription,
-- embeddings), success or failure, written in its own short transaction by
-- the LLM router (docs/design/llm.md). The cost report sums these rows.
-- tenant_id and job_id are SET NULL on delete so totals survive cleanup.
CREATE TABLE external_service_calls (
    id             uuid PRIMARY KEY,
    tenant_id      uuid REFERENCES tenants (id) ON DELETE SET NULL,
    job_id         uuid REFERENCES jobs (id) ON DELETE SET NULL,
    action         varchar(100) NOT NULL,
    strategy       varchar(50) NOT NULL,
    provider       varchar(50) NOT NULL,
    model_id       varchar(100) NOT NULL,
    provider_model varchar(100),
    prompt_ref     varchar(50),
    unit_type      varchar(20) CHECK (unit_type IN ('tokens', 'seconds')),
    unit_in        integer CHECK (unit_in >= 0),
    unit_out       integer CHECK (unit_out >= 0),
    latency_ms     integer CHECK (latency_ms >= 0),
    -- registry price x units; NULL when the price is unknown (never 0).
    cost_usd       numeric(14, 6) CHECK (cost_usd >= 0),
    success        boolean NOT NULL,
    error_message  text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX external_service_calls_tenant_created_idx ON external_service_calls (tenant_id, created_at);
CREATE INDEX external_service_calls_job_idx ON external_service_calls (job_id);

-- +goose Down
DROP TABLE external_service_calls;
