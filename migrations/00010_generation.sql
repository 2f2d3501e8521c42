-- +goose Up
-- Generation results (docs/design/generation.md). A snapshot is one
-- step's CourseStructure for one node; the idempotency key of a step is
-- (node, fingerprint, mode, step_type), so an unchanged node reuses its
-- snapshot and a generate never short-circuits a reconcile or a refine.
-- The fingerprint columns of material_nodes already exist (00002).
CREATE TABLE structure_snapshots (
    id                     uuid PRIMARY KEY,
    materialnode_id        uuid NOT NULL REFERENCES material_nodes (id) ON DELETE CASCADE,
    job_id                 uuid REFERENCES jobs (id) ON DELETE SET NULL,
    externalservicecall_id uuid REFERENCES external_service_calls (id) ON DELETE SET NULL,
    node_fingerprint       varchar(64) NOT NULL,
    mode                   varchar(20) NOT NULL CHECK (mode IN ('free', 'guided')),
    step_type              varchar(20) NOT NULL CHECK (step_type IN ('generate', 'reconcile', 'refine')),
    structure              jsonb NOT NULL,
    summary                text,
    core_concepts          jsonb,
    mentioned_concepts     jsonb,
    corrections            jsonb,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT structure_snapshots_idempotency_key
        UNIQUE (materialnode_id, node_fingerprint, mode, step_type)
);
CREATE INDEX structure_snapshots_node_created_idx ON structure_snapshots (materialnode_id, created_at DESC);
CREATE INDEX structure_snapshots_job_idx ON structure_snapshots (job_id);

-- The flattened outline of a snapshot (modules, lessons, concepts,
-- exercises); read-only through the API.
CREATE TABLE structure_nodes (
    id                      uuid PRIMARY KEY,
    structuresnapshot_id    uuid NOT NULL REFERENCES structure_snapshots (id) ON DELETE CASCADE,
    parent_structurenode_id uuid REFERENCES structure_nodes (id) ON DELETE CASCADE,
    node_type               varchar(30) NOT NULL,
    "order"                 integer NOT NULL DEFAULT 0,
    title                   varchar(500) NOT NULL,
    description             text,
    learning_goal           text,
    success_criteria        text,
    expected_knowledge      jsonb,
    expected_skills         jsonb,
    prerequisites           jsonb,
    competencies            jsonb,
    key_concepts            jsonb,
    common_mistakes         jsonb,
    activities              jsonb,
    deep_dive_references    jsonb,
    timecodes               jsonb,
    slide_references        jsonb,
    web_references          jsonb,
    difficulty              varchar(20) CHECK (difficulty IN ('easy', 'medium', 'hard')),
    estimated_duration      integer,
    assessment_method       varchar(50),
    teaching_strategy       varchar(50),
    teaching_style          varchar(50),
    content_version         timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX structure_nodes_snapshot_idx ON structure_nodes (structuresnapshot_id);
CREATE INDEX structure_nodes_parent_idx ON structure_nodes (parent_structurenode_id);
CREATE INDEX structure_nodes_type_idx ON structure_nodes (node_type);
CREATE TRIGGER structure_nodes_updated_at BEFORE UPDATE ON structure_nodes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The snapshot a step produced or reused.
ALTER TABLE jobs ADD CONSTRAINT jobs_result_snapshot_id_fkey
    FOREIGN KEY (result_snapshot_id) REFERENCES structure_snapshots (id) ON DELETE SET NULL;
-- Conflict detection reads the in-flight steps of one tree.
CREATE INDEX jobs_steps_root_idx ON jobs ((input_params ->> 'root_node_id'))
    WHERE status IN ('queued', 'active') AND job_type IN ('generate', 'reconcile', 'refine');

-- +goose Down
DROP INDEX IF EXISTS jobs_steps_root_idx;
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_result_snapshot_id_fkey;
DROP TABLE IF EXISTS structure_nodes;
DROP TABLE IF EXISTS structure_snapshots;
