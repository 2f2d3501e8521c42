-- +goose Up
-- Business jobs: what clients see through GET /jobs/{id}. Execution is
-- River's (river_job); queue_job_id links the two. Rows are kept after
-- completion; River's cleaner removes only its own finished rows.
CREATE TABLE jobs (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid REFERENCES tenants (id) ON DELETE SET NULL,
    materialnode_id    uuid REFERENCES material_nodes (id) ON DELETE SET NULL,
    materialentry_id   uuid REFERENCES material_entries (id) ON DELETE SET NULL,
    job_type           varchar(20) NOT NULL
        CHECK (job_type IN ('ingest', 'generate', 'reconcile', 'refine', 'embed')),
    priority           varchar(20) NOT NULL DEFAULT 'normal'
        CHECK (priority IN ('normal', 'immediate')),
    status             varchar(20) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'active', 'complete', 'failed', 'cancelled')),
    queue_job_id       bigint,
    input_params       jsonb NOT NULL DEFAULT '{}',
    error_message      text,
    attempt            integer NOT NULL DEFAULT 0,
    max_attempts       integer NOT NULL CHECK (max_attempts >= 1),
    -- References structure_snapshots once generation lands.
    result_snapshot_id uuid,
    queued_at          timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,
    estimated_at       timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_unfinished_idx ON jobs (status, job_type) WHERE status IN ('queued', 'active');
CREATE INDEX jobs_tenant_queued_idx ON jobs (tenant_id, queued_at DESC);
CREATE INDEX jobs_node_idx ON jobs (materialnode_id);
CREATE INDEX jobs_entry_idx ON jobs (materialentry_id);
CREATE UNIQUE INDEX jobs_queue_job_id_key ON jobs (queue_job_id) WHERE queue_job_id IS NOT NULL;
CREATE TRIGGER jobs_updated_at BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE job_dependencies (
    job_id            uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    depends_on_job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, depends_on_job_id),
    CHECK (job_id <> depends_on_job_id)
);
CREATE INDEX job_dependencies_depends_on_idx ON job_dependencies (depends_on_job_id);

ALTER TABLE material_entries ADD CONSTRAINT material_entries_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL;

CREATE TABLE material_chunks (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    materialnode_id  uuid NOT NULL REFERENCES material_nodes (id) ON DELETE CASCADE,
    materialentry_id uuid NOT NULL REFERENCES material_entries (id) ON DELETE CASCADE,
    chunk_index      integer NOT NULL CHECK (chunk_index >= 0),
    chunk_type       varchar(30) NOT NULL,
    text             text NOT NULL,
    token_count      integer NOT NULL,
    metadata         jsonb NOT NULL DEFAULT '{}',
    content_hash     varchar(64) NOT NULL,
    -- NULL until the embed job (a later issue) fills it.
    embedding        vector(1536),
    embedding_model  varchar(100),
    embedded_at      timestamptz,
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Deferred: re-ingest replaces a material's chunks in one statement,
    -- so a key is checked at commit, after the old rows are gone.
    CONSTRAINT material_chunks_entry_index_key UNIQUE (materialentry_id, chunk_index)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX material_chunks_embedding_idx ON material_chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX material_chunks_tsv_idx ON material_chunks USING gin (tsv);
CREATE INDEX material_chunks_tenant_node_idx ON material_chunks (tenant_id, materialnode_id);
CREATE INDEX material_chunks_unembedded_idx ON material_chunks (materialentry_id) WHERE embedding IS NULL;

CREATE TABLE worker_heartbeats (
    worker_id    text PRIMARY KEY,
    hostname     text NOT NULL,
    pid          integer NOT NULL,
    version      text NOT NULL,
    queues       text[] NOT NULL,
    started_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS worker_heartbeats;
DROP TABLE IF EXISTS material_chunks;
ALTER TABLE material_entries DROP CONSTRAINT IF EXISTS material_entries_job_id_fkey;
DROP TABLE IF EXISTS job_dependencies;
DROP TABLE IF EXISTS jobs;
