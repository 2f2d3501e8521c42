-- +goose Up
CREATE TYPE source_type_enum AS ENUM ('video', 'presentation', 'text', 'web');

CREATE TABLE material_entries (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    materialnode_id    uuid NOT NULL,
    source_type        source_type_enum NOT NULL,
    "order"            integer NOT NULL DEFAULT 0,
    source_url         varchar(2000) NOT NULL,
    storage_key        varchar(1024) UNIQUE,
    filename           varchar(500),
    content_type       varchar(200),
    raw_hash           varchar(64),
    raw_size_bytes     bigint,
    processed_raw_hash varchar(64),
    processed_hash     varchar(64),
    processed_content  text,
    processed_at       timestamptz,
    -- In-flight ingest job; the jobs table and its foreign key arrive with
    -- the job queue migration.
    job_id             uuid,
    pending_since      timestamptz,
    error_message      text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (materialnode_id, tenant_id)
        REFERENCES material_nodes (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX material_entries_tenant_id_idx ON material_entries (tenant_id);
CREATE INDEX material_entries_node_idx ON material_entries (materialnode_id);
CREATE INDEX material_entries_order_idx ON material_entries (materialnode_id, "order");
CREATE INDEX material_entries_job_id_idx ON material_entries (job_id);
CREATE TRIGGER material_entries_updated_at BEFORE UPDATE ON material_entries
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- +goose Down
DROP TABLE IF EXISTS material_entries;
DROP TYPE IF EXISTS source_type_enum;
