-- +goose Up
-- The rate limiter in constant space and constant time per request (see
-- docs/design/rate-limiting.md; the file is named for GCRA, the first
-- candidate, which that page explains was not exact enough). The sliding log of 00002 kept every
-- admitted timestamp of the last 60 s in an array and rewrote it on every
-- request: O(limit) per call and a table that bloated to hundreds of MB.
-- This keeps, per (tenant, scope), the number of admitted requests in each
-- of the last 61 whole seconds: a fixed-size row, rewritten in place (HOT,
-- hence the fillfactor), whatever the traffic or the limit.
--
-- Exactness: a request admitted at time h is counted until the end of its
-- second plus 60 s, i.e. between 60 and 61 s. So no rolling 60 s ever
-- holds more than the limit (never over-admits, across every process),
-- and a slot frees at most one second later than the exact sliding log
-- would free it, which RateLimit-Reset and Retry-After (whole seconds,
-- rounded up) report.
--
-- UNLOGGED like the table it replaces: losing it in a crash only forgives
-- a minute of traffic, and it keeps WAL off the hottest write path.
CREATE UNLOGGED TABLE rate_limit_windows (
    tenant_id uuid NOT NULL,
    scope     varchar(10) NOT NULL,
    sec       bigint NOT NULL,      -- newest second counted (Unix time)
    total     integer NOT NULL,     -- sum of slots
    slots     integer[] NOT NULL,   -- 61 per-second counts; second s in slots[s % 61 + 1]
    PRIMARY KEY (tenant_id, scope)
) WITH (fillfactor = 50);

-- One round trip for p_n requests (an API process sends the requests of a
-- bucket that arrive while its previous call is in flight together, see
-- app/postgres/ratelimit.go): lock the bucket row, read the clock, zero the
-- seconds that left the window, admit as many of the p_n as fit under
-- p_limit, and report the numbers for the RateLimit-* headers (remaining
-- after the last admitted one). Denied requests are not counted. p_now is
-- for tests only; NULL reads the database clock after the row lock, so the
-- calls of one bucket see non-decreasing times whichever process makes them.
-- +goose StatementBegin
CREATE FUNCTION rate_limit_take(p_tenant uuid, p_scope text, p_limit int, p_n int DEFAULT 1,
    p_now timestamptz DEFAULT NULL, OUT admitted int, OUT remaining int, OUT reset_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_last  bigint;
    v_total int;
    v_slots int[];
    v_ms    bigint;
    v_sec   bigint;
    v_dirty boolean := false;
    k       int;
BEGIN
    SELECT b.sec, b.total, b.slots INTO v_last, v_total, v_slots
        FROM rate_limit_windows b WHERE b.tenant_id = p_tenant AND b.scope = p_scope FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO rate_limit_windows (tenant_id, scope, sec, total, slots)
            VALUES (p_tenant, p_scope, 0, 0, array_fill(0, ARRAY[61]))
            ON CONFLICT DO NOTHING;
        SELECT b.sec, b.total, b.slots INTO v_last, v_total, v_slots
            FROM rate_limit_windows b WHERE b.tenant_id = p_tenant AND b.scope = p_scope FOR UPDATE;
    END IF;
    v_ms := floor(extract(epoch FROM coalesce(p_now, clock_timestamp())) * 1000)::bigint;
    -- A clock behind the row's (another server's, or a step back) counts
    -- in the row's newest second: conservative, never over-admits.
    v_sec := greatest(v_ms / 1000, v_last);
    IF v_sec - v_last >= 61 THEN
        v_slots := array_fill(0, ARRAY[61]);
        v_total := 0;
        v_dirty := true;
    ELSIF v_sec > v_last THEN
        FOR i IN 1 .. (v_sec - v_last)::int LOOP
            k := ((v_last + i) % 61)::int + 1;
            v_total := v_total - v_slots[k];
            v_slots[k] := 0;
        END LOOP;
        v_dirty := true;
    END IF;
    admitted := least(greatest(p_n, 0), greatest(p_limit - v_total, 0));
    IF admitted > 0 THEN
        k := (v_sec % 61)::int + 1;
        v_slots[k] := v_slots[k] + admitted;
        v_total := v_total + admitted;
        v_dirty := true;
    END IF;
    IF v_dirty THEN
        UPDATE rate_limit_windows SET sec = v_sec, total = v_total, slots = v_slots
            WHERE tenant_id = p_tenant AND scope = p_scope;
    END IF;
    remaining := greatest(p_limit - v_total, 0);
    -- Time until the oldest counted second leaves the window, i.e. a slot frees.
    reset_ms := 0;
    FOR i IN 0 .. 60 LOOP
        IF v_slots[((v_sec - 60 + i) % 61)::int + 1] > 0 THEN
            reset_ms := greatest((v_sec + 1 + i) * 1000 - v_ms, 0);
            EXIT;
        END IF;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- The old entry point delegates, so an API process of the previous release
-- keeps sharing the same budget during a rolling deploy.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_limit_hit(p_tenant uuid, p_scope text, p_limit int, p_window interval,
    OUT allowed boolean, OUT remaining int, OUT reset_ms bigint)
LANGUAGE sql AS $$
    SELECT t.admitted = 1, t.remaining, t.reset_ms FROM rate_limit_take(p_tenant, p_scope, p_limit) t
$$;
-- +goose StatementEnd

DROP TABLE rate_limit_buckets;

-- +goose Down
CREATE UNLOGGED TABLE rate_limit_buckets (
    tenant_id  uuid NOT NULL,
    scope      varchar(10) NOT NULL,
    hits       timestamptz[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, scope)
);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION rate_limit_hit(p_tenant uuid, p_scope text, p_limit int, p_window interval,
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
    reset_ms := greatest(ceil(extract(epoch FROM (v_hits[1] + p_window - v_now)) * 1000), 0)::bigint;
END;
$$;
-- +goose StatementEnd
DROP FUNCTION IF EXISTS rate_limit_take(uuid, text, int, int, timestamptz);
DROP TABLE IF EXISTS rate_limit_windows;
