-- +goose Up
-- updated_at follows every UPDATE, including raw SQL ones.
-- +goose StatementBegin
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        varchar(200) NOT NULL UNIQUE CHECK (length(btrim(name)) > 0),
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER tenants_updated_at BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE api_keys (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash         varchar(64) NOT NULL UNIQUE,
    key_prefix       varchar(16) NOT NULL,
    label            varchar(100) NOT NULL DEFAULT 'default',
    scopes           jsonb NOT NULL DEFAULT '[]'
                     CHECK (jsonb_typeof(scopes) = 'array' AND scopes <@ '["prep","check"]'),
    rate_limit_prep  integer NOT NULL DEFAULT 60 CHECK (rate_limit_prep > 0),
    rate_limit_check integer NOT NULL DEFAULT 300 CHECK (rate_limit_check > 0),
    is_active        boolean NOT NULL DEFAULT true,
    expires_at       timestamptz,
    last_used_at     timestamptz,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id);
CREATE INDEX api_keys_key_prefix_idx ON api_keys (key_prefix);

CREATE TABLE material_nodes (
    id                     uuid PRIMARY KEY,
    tenant_id              uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    parent_materialnode_id uuid CHECK (parent_materialnode_id <> id),
    title                  varchar(500) NOT NULL,
    description            text,
    learning_goal          text,
    expected_knowledge     jsonb,
    expected_skills        jsonb,
    "order"                integer NOT NULL DEFAULT 0,
    node_fingerprint       varchar(64),
    fingerprint_epoch      bigint NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    -- Target of composite foreign keys, so a child can only point at a
    -- parent of the same tenant.
    UNIQUE (id, tenant_id),
    FOREIGN KEY (parent_materialnode_id, tenant_id)
        REFERENCES material_nodes (id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX material_nodes_tenant_id_idx ON material_nodes (tenant_id);
CREATE INDEX material_nodes_parent_idx ON material_nodes (parent_materialnode_id);
CREATE INDEX material_nodes_siblings_idx ON material_nodes (tenant_id, parent_materialnode_id, "order");
CREATE INDEX material_nodes_roots_idx ON material_nodes (tenant_id, created_at DESC)
    WHERE parent_materialnode_id IS NULL;
CREATE TRIGGER material_nodes_updated_at BEFORE UPDATE ON material_nodes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Admitted-request timestamps of the last 60 s per (tenant, scope). UNLOGGED:
-- losing it in a crash only forgives a minute of traffic, and it avoids WAL
-- on the hottest write path.
CREATE UNLOGGED TABLE rate_limit_buckets (
    tenant_id  uuid NOT NULL,
    scope      varchar(10) NOT NULL,
    hits       timestamptz[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, scope)
);

-- One round trip per request: lock the bucket row, trim hits older than the
-- window, admit iff fewer than p_limit remain, and report the numbers for
-- the RateLimit-* headers. Denied requests are not recorded.
-- +goose StatementBegin
CREATE FUNCTION rate_limit_hit(p_tenant uuid, p_scope text, p_limit int, p_window interval,
    OUT allowed boolean, OUT remaining int, OUT reset_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_now  timestamptz := clock_timestamp();
    v_hits timestamptz[];
BEGIN
    INSERT INTO rate_limit_buckets (tenant_id, scope) VALUES (p_tenant, p_scope)
        ON CONFLICT DO NOTHING;
    SELECT ARRAY(SELECT h FROM unnest(b.hits) h WHERE h > v_now - p_window ORDER BY h)
        INTO v_hits
        FROM rate_limit_buckets b
        WHERE b.tenant_id = p_tenant AND b.scope = p_scope
        FOR UPDATE;
    allowed := coalesce(cardinality(v_hits), 0) < p_limit;
    IF allowed THEN
        v_hits := v_hits || v_now;
    END IF;
    UPDATE rate_limit_buckets SET hits = v_hits, updated_at = v_now
        WHERE tenant_id = p_tenant AND scope = p_scope;
    remaining := greatest(p_limit - cardinality(v_hits), 0);
    -- Time until the oldest counted hit leaves the window, i.e. a slot frees.
    reset_ms := greatest(ceil(extract(epoch FROM (v_hits[1] + p_window - v_now)) * 1000), 0)::bigint;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION IF EXISTS rate_limit_hit(uuid, text, int, interval);
DROP TABLE IF EXISTS rate_limit_buckets;
DROP TABLE IF EXISTS material_nodes;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS tenants;
DROP FUNCTION IF EXISTS set_updated_at();
