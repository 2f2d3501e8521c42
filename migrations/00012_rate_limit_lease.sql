-- +goose Up
-- Leases of a bucket's budget (docs/design/rate-limiting.md,
-- app/postgres/ratelimit.go). An API process takes, in one call, the
-- p_need requests waiting on it plus a lease of up to p_cap more tokens,
-- sized to p_rate requests per second for what is left of the current
-- second. Every token is counted, like any admitted request, in the second
-- it was taken in (the same row and ring as rate_limit_take, migration
-- 00007), so the sum over all processes never exceeds p_limit in any
-- rolling 60 s. The process spends the lease only until that second ends
-- (left_ms after the database read its clock): a request admitted at time
-- h is then still counted in second floor(h), as before. Tokens left over
-- are given back by a later call (p_ret_secs / p_ret_ns, one entry per
-- lease): subtracted from the second they were counted in while it is
-- still in the window, never below zero.
-- +goose StatementBegin
CREATE FUNCTION rate_limit_lease(p_tenant uuid, p_scope text, p_limit int, p_need int, p_rate real, p_cap int,
    p_ret_secs bigint[] DEFAULT '{}', p_ret_ns int[] DEFAULT '{}', p_now timestamptz DEFAULT NULL,
    OUT admitted int, OUT remaining int, OUT reset_ms bigint, OUT lease_sec bigint, OUT left_ms int)
LANGUAGE plpgsql AS $$
DECLARE
    v_last  bigint;
    v_total int;
    v_slots int[];
    v_epoch numeric;
    v_ms    bigint;
    v_sec   bigint;
    v_dirty boolean := false;
    v_want  bigint;
    k       int;
    n       int;
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
    v_epoch := extract(epoch FROM coalesce(p_now, clock_timestamp()));
    v_ms := floor(v_epoch * 1000)::bigint;
    -- As in rate_limit_take: a clock behind the row's counts in its newest second.
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
    -- Returns: only to a second still in the ring (v_sec - 60 .. v_sec).
    FOR i IN 1 .. coalesce(cardinality(p_ret_secs), 0) LOOP
        IF p_ret_secs[i] BETWEEN v_sec - 60 AND v_sec AND p_ret_ns[i] > 0 THEN
            k := (p_ret_secs[i] % 61)::int + 1;
            n := least(p_ret_ns[i], v_slots[k]);
            v_slots[k] := v_slots[k] - n;
            v_total := v_total - n;
            v_dirty := true;
        END IF;
    END LOOP;
    -- Rounded down from the exact clock (not from v_ms, which is rounded
    -- down itself): the lease must never outlive its second.
    left_ms := least(floor((v_sec + 1 - v_epoch) * 1000), 1000)::int;
    v_want := greatest(p_need, 0)::bigint
        + least(greatest(p_cap, 0)::numeric, floor(greatest(p_rate, 0)::numeric * left_ms / 1000))::bigint;
    admitted := least(v_want, greatest(p_limit - v_total, 0))::int;
    IF admitted > 0 THEN
        k := (v_sec % 61)::int + 1;
        v_slots[k] := v_slots[k] + admitted;
        v_total := v_total + admitted;
        v_dirty := true;
    END IF;
    IF v_dirty THEN
        UPDATE rate_limit_windows b SET sec = v_sec, total = v_total, slots = v_slots
            WHERE b.tenant_id = p_tenant AND b.scope = p_scope;
    END IF;
    remaining := greatest(p_limit - v_total, 0);
    lease_sec := v_sec;
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

-- +goose Down
DROP FUNCTION IF EXISTS rate_limit_lease(uuid, text, int, int, real, int, bigint[], int[], timestamptz);
