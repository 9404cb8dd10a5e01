\set holds_saved_echo :ECHO
\set ECHO none
-- Helpers of the holds, idempotency, jobs and migration files (60_holds ... 63_migration),
-- included after the preamble with
--
--     \ir ../common/holds.sql
--
-- Like the preamble's, they live in pg_temp and vanish with the session. Hold and job ids are
-- random, so the files keep them in psql variables (\gset) and never print them; these helpers
-- print what the ids stand for instead.

-- pg_temp.grse_checksum(): an md5 of the whole content of every table in schema grse (found in
-- the catalog, so a table added later is covered too; every column, times included). Taken
-- before and after a call that must write nothing: equal means nothing changed.
CREATE FUNCTION pg_temp.grse_checksum() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t record;
    part text;
    acc text := '';
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'grse' AND c.relkind IN ('r', 'p') ORDER BY c.relname LOOP
        EXECUTE format('SELECT md5(COALESCE(string_agg(x::text, %L ORDER BY x::text), %L)) FROM grse.%I x',
                       '|', '', t.relname) INTO part;
        acc := acc || t.relname || ':' || part || ';';
    END LOOP;
    RETURN md5(acc);
END $$;

-- pg_temp.try_case(stmt): runs a statement that must fail; answers its SQLSTATE, its message and
-- whether every grse table is unchanged afterwards ('-----' / 'no error' if it succeeded).
CREATE FUNCTION pg_temp.try_case(stmt text, OUT state text, OUT message text, OUT unchanged boolean)
LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.grse_checksum();
BEGIN
    BEGIN
        EXECUTE stmt;
        state := '-----';
        message := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
        message := SQLERRM;
    END;
    unchanged := pg_temp.grse_checksum() = before;
END $$;

-- pg_temp.budget(): every region's budget and queue as stored (slug order): the pool and what its
-- budget slots hold, what holds reserve, the day's and the period's spend, the queue count (and
-- its manual part), the open holds and open jobs, the mode.
CREATE FUNCTION pg_temp.budget()
RETURNS TABLE (slug text, monthly bigint, remaining bigint, in_slots bigint, held bigint, spent_today bigint,
               period_spent bigint, refunded bigint, open_holds bigint, queue integer, manual integer,
               open_jobs bigint, mode text)
LANGUAGE sql AS $$
    SELECT r.slug, s.ai_budget_monthly, s.ai_budget_remaining, (grse.slot_totals(s.region_id)).balance::bigint,
           s.ai_budget_held, s.ai_spend_today, s.period_spent, s.period_refunded,
           (SELECT count(*) FROM grse.budget_holds h WHERE h.region_id = r.id AND h.status = 'held'),
           s.jobs_in_queue, s.jobs_queued_manually,
           (SELECT count(*) FROM grse.jobs j WHERE j.region_id = r.id AND j.status IN ('queued', 'running')),
           s.scaling_mode
      FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
     ORDER BY r.slug
$$;

-- pg_temp.ledger(slug, n): the last n ledger rows of a region, oldest first; `hold` numbers the
-- region's holds in the order of their `hold` ledger rows (h1, h2, ...), so random ids never print.
CREATE FUNCTION pg_temp.ledger(region_slug text, n integer)
RETURNS TABLE (kind text, amount bigint, delta bigint, balance_after bigint, job_type text, hold text,
               key text, description text)
LANGUAGE sql AS $$
    SELECT t.transaction_type, t.amount, t.delta, t.balance_after, t.job_type,
           (SELECT 'h' || h.n FROM (SELECT l.hold_id, row_number() OVER (ORDER BY l.id) AS n
                                      FROM grse.region_budget_transactions l
                                     WHERE l.region_id = t.region_id AND l.transaction_type = 'hold') h
             WHERE h.hold_id = t.hold_id),
           t.idempotency_key, t.description
      FROM (SELECT l.* FROM grse.region_budget_transactions l JOIN grse.regions r ON r.id = l.region_id
             WHERE r.slug = region_slug ORDER BY l.id DESC LIMIT n) t
     ORDER BY t.id
$$;

-- pg_temp.hold(id): one hold as stored, without its ids and times (but its time to live).
CREATE FUNCTION pg_temp.hold(hold_id uuid)
RETURNS TABLE (region text, status text, amount bigint, settled_amount bigint, job_type text, key text,
               ttl interval, resolved boolean)
LANGUAGE sql AS $$
    SELECT r.slug, h.status, h.amount, h.settled_amount, h.job_type, h.idempotency_key,
           h.expires_at - h.created_at, h.resolved_at IS NOT NULL
      FROM grse.budget_holds h JOIN grse.regions r ON r.id = h.region_id WHERE h.id = hold_id
$$;

-- pg_temp.job(id): one job record as stored, with its hold, without ids and instants (but the
-- delay before it may run and its time to live).
CREATE FUNCTION pg_temp.job(job_id uuid)
RETURNS TABLE (region text, requested text, job_type text, shard_key text, priority integer, estimated_cost bigint,
               status text, delay interval, ttl interval, started boolean, finished boolean, actual_cost bigint,
               hold_region text, hold_status text, hold_amount bigint, hold_settled bigint, hold_expires_with_job boolean)
LANGUAGE sql AS $$
    SELECT r.slug, q.slug, j.job_type, j.shard_key, j.priority, j.estimated_cost, j.status,
           j.run_after - j.created_at, j.expires_at - j.created_at, j.started_at IS NOT NULL, j.finished_at IS NOT NULL,
           j.actual_cost, hr.slug, h.status, h.amount, h.settled_amount, h.expires_at = j.expires_at
      FROM grse.jobs j JOIN grse.regions r ON r.id = j.region_id
      LEFT JOIN grse.regions q ON q.id = j.requested_region_id
      LEFT JOIN grse.budget_holds h ON h.id = j.hold_id
      LEFT JOIN grse.regions hr ON hr.id = h.region_id
     WHERE j.id = job_id
$$;

-- pg_temp.end_period_now(region, kind): makes the region's budget day or month ('day' / 'month')
-- end one second ago, which is what the state looks like when a new region-local period has
-- begun. The clock cannot move and the period columns are guarded against ordinary writes, so
-- (as superuser) the state's derive trigger, an ordinary trigger, is bypassed with
-- session_replication_role = replica for this one UPDATE (grse's ENABLE ALWAYS guards stay on).
CREATE FUNCTION pg_temp.end_period_now(region uuid, kind text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL session_replication_role = replica;
    IF kind = 'day' THEN
        UPDATE grse.region_scaling_state
           SET day_started_at = now() - interval '1 day', day_ends_at = now() - interval '1 second'
         WHERE region_id = region;
    ELSE
        UPDATE grse.region_scaling_state
           SET month_started_at = now() - interval '31 days', month_ends_at = now() - interval '1 second'
         WHERE region_id = region;
    END IF;
    SET LOCAL session_replication_role = origin;
END $$;
\set ECHO :holds_saved_echo
