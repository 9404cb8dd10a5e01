-- 61_idempotency: idempotency keys of check_and_decrement_budget, decrement_budget,
-- refund_budget and reserve_budget. A second call with the same key for the same region
-- and the same arguments writes nothing and returns what the first call returned; the
-- same key with other arguments raises 22023; a refused spend records nothing, so its
-- retry runs again. Keys are kept with the ledger row (or hold) they produced, unique per
-- region. "unchanged" compares a checksum of every grse table before and after a call.
\ir ../common/preamble.sql
\ir ../common/holds.sql

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-000000006101', 'Keyed', 'keyed', 'DE', 'UTC', true),
    ('00000000-0000-0000-0000-000000006102', 'Other', 'other', 'FR', 'UTC', true),
    ('00000000-0000-0000-0000-000000006103', 'Slotted', 'slotted', 'IT', 'UTC', true);
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-00000000a611', '00000000-0000-0000-0000-000000006101'),
    ('00000000-0000-0000-0000-00000000a612', '00000000-0000-0000-0000-000000006101');
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006101', 10000) AS keyed_remaining;

-- ---------------------------------------------------------------------------
-- Spends. The key is stored on the spend's ledger row; a retry answers true and
-- writes nothing, whichever of the two spend functions it uses with the same
-- arguments (check_and_decrement_budget is decrement_budget without a description).
-- ---------------------------------------------------------------------------
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 300,
                                       '00000000-0000-0000-0000-00000000a611', 'posting', 'spend-1') AS charged;
SELECT * FROM pg_temp.ledger('keyed', 1);
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 300,
                                       '00000000-0000-0000-0000-00000000a611', 'posting', 'spend-1') AS retry_charged;
SELECT grse.decrement_budget('00000000-0000-0000-0000-000000006101', 300, '00000000-0000-0000-0000-00000000a611',
                             'posting', NULL, 'spend-1') AS retry_via_decrement;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT * FROM pg_temp.budget() WHERE slug = 'keyed';

-- decrement_budget with a description: the description is one of the arguments
SELECT grse.decrement_budget('00000000-0000-0000-0000-000000006101', 200, NULL, 'creative', 'image batch', 'spend-2') AS charged;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.decrement_budget('00000000-0000-0000-0000-000000006101', 200, NULL, 'creative', 'image batch', 'spend-2') AS retry_charged;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;

-- the same key with other arguments (or for another function): 22023, nothing changed
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'other amount', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 301, '00000000-0000-0000-0000-00000000a611', 'posting', 'spend-1')$q$),
    (2, 'other agency', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 300, '00000000-0000-0000-0000-00000000a612', 'posting', 'spend-1')$q$),
    (3, 'no agency', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 300, NULL, 'posting', 'spend-1')$q$),
    (4, 'other job type', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 300, '00000000-0000-0000-0000-00000000a611', 'intel', 'spend-1')$q$),
    (5, 'with a description', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-000000006101', 300, '00000000-0000-0000-0000-00000000a611', 'posting', 'retry', 'spend-1')$q$),
    (6, 'without the description', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-000000006101', 200, NULL, 'creative', NULL, 'spend-2')$q$),
    (7, 'a spend key for a refund', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 300, NULL, 'spend-1')$q$),
    (8, 'a spend key for a reserve', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006101', 300, '00000000-0000-0000-0000-00000000a611', 'posting', NULL, 'spend-1')$q$)
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;

-- Keys are per region: the same key in another region is a new call.
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006102', 300, NULL, 'posting', 'spend-1') AS other_region_charged;
SELECT r.slug, t.transaction_type, t.amount, t.idempotency_key
  FROM grse.region_budget_transactions t JOIN grse.regions r ON r.id = t.region_id
 WHERE t.idempotency_key IS NOT NULL ORDER BY t.id;

-- A keyed spend refused for budget records nothing: the retry runs again, and is charged
-- once the budget allows it; a third call is a retry of that one.
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 20000, NULL, NULL, 'big-1') AS charged;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT count(*) AS rows_with_key FROM grse.region_budget_transactions WHERE idempotency_key = 'big-1';
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 20000, NULL, NULL, 'big-1') AS retry_charged;
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006101', 30000) AS keyed_remaining;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 20000, NULL, NULL, 'big-1') AS retry_charged;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 20000, NULL, NULL, 'big-1') AS retry_charged;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT * FROM pg_temp.budget() WHERE slug = 'keyed';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Refunds. A retry returns the first call's remaining, even after the budget moved.
-- ---------------------------------------------------------------------------
SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 100, 'failed post', 'refund-1') AS remaining;
SELECT * FROM pg_temp.ledger('keyed', 1);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 50) AS charged;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 100, 'failed post', 'refund-1') AS retry_remaining;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'other amount', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 101, 'failed post', 'refund-1')$q$),
    (2, 'other reason', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 100, 'other', 'refund-1')$q$),
    (3, 'no reason', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 100, NULL, 'refund-1')$q$),
    (4, 'a refund key for a spend', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 100, NULL, NULL, 'refund-1')$q$)
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
-- a keyed refund above what is refundable raises (22023) and records nothing: its
-- retry runs again and succeeds once enough has been spent
SELECT period_spent - refunded AS refundable FROM pg_temp.budget() WHERE slug = 'keyed';
SELECT t.state, t.message, t.unchanged
  FROM pg_temp.try_case($q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 21000, NULL, 'refund-2')$q$) t;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 1000) AS charged;
SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 21000, NULL, 'refund-2') AS remaining;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 21000, NULL, 'refund-2') AS retry_remaining;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Reservations. The key is on the hold (and on its `hold` ledger row); a retry
-- returns the first answer: the same hold, remaining and expiry, also once the
-- hold has resolved.
-- ---------------------------------------------------------------------------
SELECT allowed, remaining, requested, message, hold_id AS k1, expires_at AS k1_expires
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611',
                           'orchestration', '30 minutes', 'hold-1') \gset
SELECT :'allowed' AS allowed, :remaining AS remaining, :requested AS requested, :'message' AS message;
SELECT * FROM pg_temp.hold(:'k1');
SELECT * FROM pg_temp.ledger('keyed', 1);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 10) AS charged;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT allowed, hold_id = :'k1' AS same_hold, remaining, requested, expires_at = :'k1_expires' AS same_expiry, message
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611',
                           'orchestration', '30 minutes', 'hold-1');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT grse.settle_budget_hold(:'k1', 500) AS remaining_after_settle;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT allowed, hold_id = :'k1' AS same_hold, remaining, requested, expires_at = :'k1_expires' AS same_expiry, message
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611',
                           'orchestration', '30 minutes', 'hold-1');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'other amount', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006101', 701, '00000000-0000-0000-0000-00000000a611', 'orchestration', '30 minutes', 'hold-1')$q$),
    (2, 'other agency', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a612', 'orchestration', '30 minutes', 'hold-1')$q$),
    (3, 'other job type', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611', 'posting', '30 minutes', 'hold-1')$q$),
    (4, 'other ttl', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611', 'orchestration', '31 minutes', 'hold-1')$q$),
    (5, 'a hold key for a spend', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611', 'orchestration', 'hold-1')$q$),
    (6, 'a hold key for a refund', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 700, NULL, 'hold-1')$q$)
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;

-- Without a ttl the hold lives for policy hold_ttl; a retry with the same arguments (no
-- ttl) is the same call even if the policy changed in between: it returns the first answer.
SELECT hold_id AS k2 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 40, idempotency_key => 'hold-2') \gset
UPDATE grse.policy SET hold_ttl = '20 minutes';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT t.state, t.message, t.unchanged
  FROM pg_temp.try_case($q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006101', 40, idempotency_key => 'hold-2')$q$) t;
SELECT allowed, hold_id = :'k2' AS same_hold
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 40, idempotency_key => 'hold-2');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
UPDATE grse.policy SET hold_ttl = '15 minutes';
SELECT grse.release_budget_hold(:'k2') AS remaining;

-- A refused reservation records nothing: its retry runs again (frozen, then not).
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95,
       intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-000000006101';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT allowed, hold_id IS NULL AS no_hold, message
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 80, idempotency_key => 'hold-3');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006101';
SELECT allowed, hold_id IS NOT NULL AS has_hold, message, hold_id AS k3
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 80, idempotency_key => 'hold-3') \gset
SELECT :'allowed' AS allowed, :'has_hold' AS has_hold, :'message' AS message;
SELECT * FROM pg_temp.hold(:'k3');
SELECT grse.release_budget_hold(:'k3') AS remaining;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Keys outlive a budget period: after a monthly reset a retry still writes nothing.
-- ---------------------------------------------------------------------------
SELECT grse.reset_monthly_budgets() AS regions_reset;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006101', 300,
                                       '00000000-0000-0000-0000-00000000a611', 'posting', 'spend-1') AS retry_charged;
SELECT grse.refund_budget('00000000-0000-0000-0000-000000006101', 100, 'failed post', 'refund-1') AS retry_remaining;
SELECT allowed, hold_id = :'k1' AS same_hold
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006101', 700, '00000000-0000-0000-0000-00000000a611',
                           'orchestration', '30 minutes', 'hold-1');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;

-- ---------------------------------------------------------------------------
-- A region with budget slots: keyed calls work on the whole budget; their retries
-- write nothing there either (the slots keep what they hold).
-- ---------------------------------------------------------------------------
SELECT grse.set_budget_slots('00000000-0000-0000-0000-000000006103', 4) AS slots;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006103', 100) AS charged;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006103', 100, NULL, NULL, 'slot-spend') AS charged;
SELECT hold_id AS sk FROM grse.reserve_budget('00000000-0000-0000-0000-000000006103', 100, idempotency_key => 'slot-hold') \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006103', 100) AS charged;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006103', 100) AS charged;
SELECT remaining, in_slots > 0 AS slots_hold_budget, held FROM pg_temp.budget() WHERE slug = 'slotted';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006103', 100, NULL, NULL, 'slot-spend') AS retry_charged;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged_after_spend_retry;
SELECT allowed, hold_id = :'sk' AS same_hold
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006103', 100, idempotency_key => 'slot-hold');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged_after_reserve_retry;
SELECT grse.release_budget_hold(:'sk') IS NOT NULL AS released;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Key arguments: 1 to 200 characters (a 201-character key: 22001; an empty one: 22023),
-- for every keyed function; nothing changes. Keys are unique per region (unique indexes).
-- ---------------------------------------------------------------------------
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006102', 1, NULL, NULL, repeat('é', 200)) AS charged_with_200_characters;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'check_and_decrement_budget: 201 characters', format('SELECT grse.check_and_decrement_budget(%L, 1, NULL, NULL, %L)', '00000000-0000-0000-0000-000000006102', repeat('k', 201))),
    (2, 'decrement_budget: 201 characters', format('SELECT grse.decrement_budget(%L, 1, NULL, NULL, NULL, %L)', '00000000-0000-0000-0000-000000006102', repeat('k', 201))),
    (3, 'refund_budget: 201 characters', format('SELECT grse.refund_budget(%L, 1, NULL, %L)', '00000000-0000-0000-0000-000000006102', repeat('k', 201))),
    (4, 'reserve_budget: 201 characters', format('SELECT grse.reserve_budget(%L, 1, idempotency_key => %L)', '00000000-0000-0000-0000-000000006102', repeat('k', 201))),
    (5, 'check_and_decrement_budget: 201 multibyte characters', format('SELECT grse.check_and_decrement_budget(%L, 1, NULL, NULL, %L)', '00000000-0000-0000-0000-000000006102', repeat('é', 201))),
    (6, 'check_and_decrement_budget: empty', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006102', 1, NULL, NULL, '')$q$),
    (7, 'decrement_budget: empty', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-000000006102', 1, NULL, NULL, NULL, '')$q$),
    (8, 'refund_budget: empty', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-000000006102', 1, NULL, '')$q$),
    (9, 'reserve_budget: empty', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006102', 1, idempotency_key => '')$q$),
    (10, 'keyed spend: unknown region', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000061ff', 1, NULL, NULL, 'k')$q$),
    (11, 'keyed spend: amount 0', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006102', 0, NULL, NULL, 'k')$q$)
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT tablename, indexdef LIKE 'CREATE UNIQUE INDEX % (region_id, idempotency_key) WHERE (idempotency_key IS NOT NULL)' AS unique_per_region
  FROM pg_indexes WHERE schemaname = 'grse' AND indexdef LIKE '%idempotency_key%' ORDER BY tablename;

SELECT * FROM pg_temp.budget();
SELECT * FROM grse.verify_invariants();
