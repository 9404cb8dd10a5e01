-- 60_holds: budget holds, reserve -> settle / release / expire.
-- A hold takes its amount out of ai_budget_remaining at once (a `hold` ledger row)
-- and counts it in ai_budget_held until it resolves, exactly once: settled (a
-- `release` of the held amount and a `spend` of what was used, counted as spend),
-- released (a `release`), or expired (a `release`, by expire_budget_holds() or lazily
-- by the next budget call that locks the region). reserve_budget refuses exactly as
-- check_budget does, as an answer that writes nothing. Roll-overs keep open holds
-- reserved. Hold ids are random: they are kept in psql variables, never printed.
\ir ../common/preamble.sql
\ir ../common/holds.sql

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-000000006001', 'Alpha', 'alpha', 'DE', 'UTC', true),
    ('00000000-0000-0000-0000-000000006002', 'Beta', 'beta', 'FR', 'UTC', true),
    ('00000000-0000-0000-0000-000000006003', 'Slotted', 'slotted', 'IT', 'UTC', true),
    ('00000000-0000-0000-0000-000000006004', 'Retired', 'retired', 'ES', 'UTC', false);
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-00000000a601', '00000000-0000-0000-0000-000000006001');
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006001', 10000) AS alpha_remaining;
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006002', 10000) AS beta_remaining;
SELECT hold_ttl, job_ttl FROM grse.policy;

-- ---------------------------------------------------------------------------
-- Reserve, then settle for less: the amount leaves remaining at once and is held;
-- the settle charges what was used (as spend of the hold's job type and agency)
-- and gives the rest back.
-- ---------------------------------------------------------------------------
SELECT allowed, hold_id IS NOT NULL AS has_hold, remaining, requested, expires_at - now() AS expires_in, message
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 1000, '00000000-0000-0000-0000-00000000a601',
                           'creative', '10 minutes');
SELECT id AS h1 FROM grse.budget_holds ORDER BY created_at DESC LIMIT 1 \gset
SELECT * FROM pg_temp.hold(:'h1');
SELECT agency_id FROM grse.budget_holds WHERE id = :'h1';
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 2);
-- the held 1 000 cents are not available to anyone else
SELECT allowed, remaining, message FROM grse.check_budget('00000000-0000-0000-0000-000000006001', 9001);
SELECT allowed, remaining, message FROM grse.check_budget('00000000-0000-0000-0000-000000006001', 9000);
SELECT (grse.get_budget_stats('00000000-0000-0000-0000-000000006001') ->> 'held')::bigint AS stats_held,
       (grse.get_budget_stats('00000000-0000-0000-0000-000000006001') ->> 'open_holds')::bigint AS stats_open_holds,
       (grse.get_region_scaling_summary('00000000-0000-0000-0000-000000006001') -> 'budget' ->> 'held')::bigint AS summary_held;
SELECT * FROM grse.verify_invariants();

SELECT grse.settle_budget_hold(:'h1', 600) AS remaining_after_settle;
SELECT * FROM pg_temp.hold(:'h1');
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 3);
SELECT agency_id FROM grse.region_budget_transactions WHERE hold_id = :'h1' ORDER BY id;
SELECT grse.get_budget_stats('00000000-0000-0000-0000-000000006001') -> 'spend_by_job_type' AS spend_by_job_type,
       (grse.get_budget_stats('00000000-0000-0000-0000-000000006001') ->> 'held')::bigint AS stats_held;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Release: everything goes back, nothing is spent ('performance' is stored as 'intel').
-- ---------------------------------------------------------------------------
SELECT hold_id AS h2, remaining FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 500, NULL, 'performance') \gset
SELECT :remaining AS remaining_while_held;
SELECT * FROM pg_temp.hold(:'h2');
SELECT grse.release_budget_hold(:'h2') AS remaining_after_release;
SELECT * FROM pg_temp.hold(:'h2');
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 2);

-- Settling for 0 is a settle that charges nothing (no spend row); settling for the
-- whole amount gives nothing back.
SELECT hold_id AS h3 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 300, NULL, 'posting') \gset
SELECT grse.settle_budget_hold(:'h3', 0) AS remaining_after_settle_0;
SELECT hold_id AS h4 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 400, NULL, 'posting') \gset
SELECT grse.settle_budget_hold(:'h4', 400) AS remaining_after_settle_all;
SELECT * FROM pg_temp.hold(:'h3') UNION ALL SELECT * FROM pg_temp.hold(:'h4');
SELECT * FROM pg_temp.ledger('alpha', 5);
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT grse.get_budget_stats('00000000-0000-0000-0000-000000006001') -> 'spend_by_job_type' AS spend_by_job_type;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- A hold resolves once: settling or releasing it again raises 55000 naming its
-- status, and changes nothing. Settling above the held amount raises 22023.
-- ---------------------------------------------------------------------------
SELECT hold_id AS h5 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 250) \gset
SELECT c.name, t.state, replace(replace(replace(t.message, :'h1', '<h1>'), :'h2', '<h2>'), :'h5', '<h5>') AS message,
       t.unchanged
  FROM (VALUES (1, 'settle a settled hold', format('SELECT grse.settle_budget_hold(%L, 1)', :'h1')),
               (2, 'release a settled hold', format('SELECT grse.release_budget_hold(%L)', :'h1')),
               (3, 'settle a released hold', format('SELECT grse.settle_budget_hold(%L, 1)', :'h2')),
               (4, 'release a released hold', format('SELECT grse.release_budget_hold(%L)', :'h2')),
               (5, 'settle 251 of a 250-cent hold', format('SELECT grse.settle_budget_hold(%L, 251)', :'h5')))
       AS c(n, name, stmt),
       LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
-- the hold that was over-settled is still open and settles normally
SELECT * FROM pg_temp.hold(:'h5');
SELECT grse.settle_budget_hold(:'h5', 250) AS remaining_after_settle;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Refusals are answers, exactly as check_budget's, and write nothing: frozen;
-- throttled and above the small-job limit; insufficient budget.
-- ---------------------------------------------------------------------------
SELECT pg_temp.grse_checksum() AS before \gset
SELECT r.allowed, r.hold_id IS NULL AS no_hold, r.remaining, r.requested, r.expires_at IS NULL AS no_expiry, r.message,
       c.allowed = r.allowed AND c.message = r.message AND c.remaining = r.remaining AS as_check_budget
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 10001) r,
       grse.check_budget('00000000-0000-0000-0000-000000006001', 10001) c;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;

-- beta frozen (pressure 95 everywhere)
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95,
       intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-000000006002';
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-000000006002';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT r.allowed, r.hold_id IS NULL AS no_hold, r.remaining, r.requested, r.message,
       c.allowed = r.allowed AND c.message = r.message AS as_check_budget
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 1) r,
       grse.check_budget('00000000-0000-0000-0000-000000006002', 1) c;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;

-- beta throttled (pressure 80): 101 cents are refused, 100 (the small-job limit) are held
UPDATE grse.region_scaling_state SET posting_pressure = 80, orchestration_pressure = 80, creative_pressure = 80,
       intel_pressure = 80 WHERE region_id = '00000000-0000-0000-0000-000000006002';
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-000000006002';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT r.allowed, r.hold_id IS NULL AS no_hold, r.remaining, r.requested, r.message,
       c.allowed = r.allowed AND c.message = r.message AS as_check_budget
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 101) r,
       grse.check_budget('00000000-0000-0000-0000-000000006002', 101) c;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT allowed, hold_id IS NOT NULL AS has_hold, remaining, message, hold_id AS hb
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 100) \gset
SELECT :'allowed' AS allowed, :'has_hold' AS has_hold, :remaining AS remaining, :'message' AS message;
SELECT grse.release_budget_hold(:'hb') AS beta_remaining;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006002';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Expiry. Holds past expires_at are released by expire_budget_holds() (the
-- sweeper), or lazily by the next budget call that locks their region. An
-- expired hold can no longer be settled (55000), even before a sweep reached it.
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.budget() WHERE slug IN ('alpha', 'beta');
SELECT hold_id AS e1 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 300, NULL, 'intel', '1 second') \gset
SELECT hold_id AS e2 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 200, NULL, NULL, '1 hour') \gset
SELECT hold_id AS e3 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 700, NULL, NULL, '1 second') \gset
SELECT hold_id AS e4 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, NULL, NULL, '1 second') \gset
SELECT pg_sleep(1.2);
-- nothing has run yet: still held as stored; check_budget reads them as released
SELECT * FROM pg_temp.budget() WHERE slug IN ('alpha', 'beta');
SELECT allowed, remaining FROM grse.check_budget('00000000-0000-0000-0000-000000006001', 1);
SELECT allowed, remaining FROM grse.check_budget('00000000-0000-0000-0000-000000006002', 1);
-- settling an expired hold: the region is swept first (e1 and e4 expire), then 55000
SELECT t.state, replace(t.message, :'e4', '<e4>') AS message
  FROM pg_temp.try_case(format('SELECT grse.settle_budget_hold(%L, 50)', :'e4')) t;
-- the call raised, so its sweep was undone too: the sweeper does it
SELECT status FROM grse.budget_holds WHERE id = :'e4';
SELECT grse.expire_budget_holds('00000000-0000-0000-0000-000000006001') AS expired_in_alpha;
SELECT * FROM pg_temp.hold(:'e1') UNION ALL SELECT * FROM pg_temp.hold(:'e2') UNION ALL SELECT * FROM pg_temp.hold(:'e4');
SELECT * FROM pg_temp.ledger('alpha', 2);
-- beta's expired hold was not touched by alpha's sweep
SELECT * FROM pg_temp.hold(:'e3');
SELECT * FROM pg_temp.budget() WHERE slug IN ('alpha', 'beta');
SELECT t.state, replace(t.message, :'e4', '<e4>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.settle_budget_hold(%L, 50)', :'e4')) t;
SELECT t.state, replace(t.message, :'e1', '<e1>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.release_budget_hold(%L)', :'e1')) t;
-- the sweep of every region finds beta's; a second sweep finds nothing
SELECT grse.expire_budget_holds() AS expired_everywhere;
SELECT grse.expire_budget_holds() AS expired_again;
SELECT * FROM pg_temp.hold(:'e3');
SELECT * FROM pg_temp.budget() WHERE slug IN ('alpha', 'beta');
SELECT * FROM grse.verify_invariants();

-- Lazily: a spend that needs an expired hold's money releases it first. Beta has
-- 10 000; a hold of 9 950 expires; a spend of 9 000 then succeeds.
SELECT hold_id AS e5, remaining FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 9950, NULL, NULL, '1 second') \gset
SELECT :remaining AS beta_remaining_while_held;
SELECT pg_sleep(1.2);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006002', 9000) AS charged;
SELECT * FROM pg_temp.hold(:'e5');
SELECT * FROM pg_temp.ledger('beta', 3);
SELECT * FROM pg_temp.budget() WHERE slug = 'beta';
-- ... and a reserve that needs it, too
SELECT hold_id AS e6 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 900, NULL, NULL, '1 second') \gset
SELECT pg_sleep(1.2);
SELECT allowed, remaining, message, hold_id AS e7 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006002', 950) \gset
SELECT :'allowed' AS allowed, :remaining AS remaining, :'message' AS message;
SELECT * FROM pg_temp.hold(:'e6');
SELECT * FROM pg_temp.ledger('beta', 3);
SELECT grse.release_budget_hold(:'e7') AS beta_remaining;
SELECT * FROM grse.verify_invariants();

-- Without a ttl, a hold lives for policy hold_ttl.
UPDATE grse.policy SET hold_ttl = '2 minutes';
SELECT hold_id AS p1 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 10) \gset
SELECT ttl FROM pg_temp.hold(:'p1');
SELECT grse.release_budget_hold(:'p1') AS alpha_remaining;
UPDATE grse.policy SET hold_ttl = '15 minutes';

-- ---------------------------------------------------------------------------
-- Roll-overs keep open holds reserved: right after a monthly reset or roll-over,
-- remaining = monthly budget - held. The daily reset does not touch holds.
-- ---------------------------------------------------------------------------
SELECT hold_id AS m1 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 700, NULL, 'posting') \gset
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT grse.reset_daily_budget_spend() AS regions_reset_daily;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT grse.reset_monthly_budgets() AS regions_reset_monthly;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 2);
SELECT * FROM grse.verify_invariants();
-- the lazy roll-over of a new month (the first budget call of the month does it)
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006001', 100) AS charged;
SELECT pg_temp.end_period_now('00000000-0000-0000-0000-000000006001', 'month');
SELECT allowed, remaining FROM grse.check_budget('00000000-0000-0000-0000-000000006001', 1);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006001', 50) AS charged;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 2);
SELECT period_kind, source, count(*) FROM grse.budget_rollovers
 WHERE region_id = '00000000-0000-0000-0000-000000006001' GROUP BY 1, 2 ORDER BY 1, 2;
-- the hold of last month settles in the new one: its spend counts in the new period
SELECT grse.settle_budget_hold(:'m1', 650) AS remaining_after_settle;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM grse.verify_invariants();

-- A monthly budget lowered below what holds reserve: remaining goes to 0 (never
-- below), and releasing a hold later gives back no more than the new budget less
-- what the other open holds still reserve (remaining + held never exceeds the
-- monthly budget; the excess is withdrawn by an allocation row, so the ledger
-- stays exact): 3 000 - 200 = 2 800.
SELECT hold_id AS m2 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 5000) \gset
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006001', 3000) AS remaining_after_cut;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT grse.release_budget_hold(:'m2') AS remaining_after_release;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 4);
SELECT * FROM grse.verify_invariants();
-- the same when a hold expires instead: the sweep gives back no more than 1 500 - 200 = 1 300
SELECT hold_id AS m3 FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 2000, ttl => '1 second') \gset
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006001', 1500) AS remaining_after_cut;
SELECT pg_sleep(1.2);
SELECT grse.expire_budget_holds('00000000-0000-0000-0000-000000006001') AS expired;
SELECT * FROM pg_temp.budget() WHERE slug = 'alpha';
SELECT * FROM pg_temp.ledger('alpha', 2);
SELECT * FROM grse.verify_invariants();
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006001', 10000) AS alpha_remaining;

-- ---------------------------------------------------------------------------
-- Holds on a region with budget slots: the hold takes the whole budget into the
-- pool (slots emptied, every transfer in the ledger), spends refill the slots,
-- the settle charges the pool. A refused reserve writes nothing there either.
-- ---------------------------------------------------------------------------
SELECT grse.set_budget_slots('00000000-0000-0000-0000-000000006003', 4) AS slots;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006003', 100) AS charged;
SELECT * FROM pg_temp.budget() WHERE slug = 'slotted';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT allowed, hold_id IS NULL AS no_hold, remaining, message
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006003', 99901);
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT * FROM pg_temp.budget() WHERE slug = 'slotted';
-- exactly the whole remaining budget (pool and slots) can be held
SELECT allowed, remaining, message, hold_id AS s1
  FROM grse.reserve_budget('00000000-0000-0000-0000-000000006003', 99900, NULL, 'orchestration') \gset
SELECT :'allowed' AS allowed, :remaining AS remaining, :'message' AS message;
SELECT * FROM pg_temp.budget() WHERE slug = 'slotted';
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006003', 1) AS charged_with_all_held;
SELECT grse.settle_budget_hold(:'s1', 40000) AS remaining_after_settle;
SELECT * FROM pg_temp.budget() WHERE slug = 'slotted';
SELECT * FROM grse.verify_invariants();
-- spends go to the slots again; a new hold empties them into the pool once more
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006003', 100) AS charged;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-000000006003', 100) AS charged;
SELECT remaining + in_slots AS true_remaining, in_slots > 0 AS slots_hold_budget FROM pg_temp.budget() WHERE slug = 'slotted';
SELECT hold_id AS s2, remaining FROM grse.reserve_budget('00000000-0000-0000-0000-000000006003', 5000) \gset
SELECT :remaining AS remaining_after_hold;
SELECT remaining, in_slots, held FROM pg_temp.budget() WHERE slug = 'slotted';
SELECT grse.release_budget_hold(:'s2') AS remaining_after_release;
SELECT allowed, remaining FROM grse.check_budget('00000000-0000-0000-0000-000000006003', 1);
SELECT count(*) FILTER (WHERE transaction_type = 'transfer') > 0 AS transfers_recorded,
       sum(delta) FILTER (WHERE transaction_type = 'transfer') AS transfers_net
  FROM grse.region_budget_transactions WHERE region_id = '00000000-0000-0000-0000-000000006003';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Bad input: each case raises with its SQLSTATE and changes nothing.
-- ---------------------------------------------------------------------------
SELECT hold_id AS open_hold FROM grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100) \gset
SELECT pg_temp.grse_checksum() AS before \gset
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'reserve: region_id NULL', $q$SELECT grse.reserve_budget(NULL, 100)$q$),
    (2, 'reserve: amount NULL', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', NULL)$q$),
    (3, 'reserve: amount 0', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 0)$q$),
    (4, 'reserve: amount -1', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', -1)$q$),
    (5, 'reserve: amount 1.5', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 1.5)$q$),
    (6, 'reserve: amount NaN', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 'NaN')$q$),
    (7, 'reserve: amount Infinity', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 'Infinity')$q$),
    (8, 'reserve: amount beyond bigint', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 9223372036854775808)$q$),
    (9, 'reserve: unknown region', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-0000000060ff', 100)$q$),
    (10, 'reserve: inactive region', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006004', 100)$q$),
    (11, 'reserve: unknown job type', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, NULL, 'mining')$q$),
    (12, 'reserve: unknown agency', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, '00000000-0000-0000-0000-00000000a6ff')$q$),
    (13, 'reserve: ttl negative', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, ttl => '-1 second')$q$),
    (14, 'reserve: ttl 0', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, ttl => '0')$q$),
    (15, 'reserve: ttl 1 day -25 hours', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, ttl => '1 day -25 hours')$q$),
    (16, 'reserve: ttl 7 days 1 second', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, ttl => '7 days 1 second')$q$),
    (17, 'reserve: ttl 1 month', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, ttl => '1 month')$q$),
    (18, 'reserve: ttl 1000000 years', $q$SELECT grse.reserve_budget('00000000-0000-0000-0000-000000006001', 100, ttl => '1000000 years')$q$),
    (19, 'settle: hold_id NULL', $q$SELECT grse.settle_budget_hold(NULL, 1)$q$),
    (20, 'settle: unknown hold', $q$SELECT grse.settle_budget_hold('00000000-0000-0000-0000-0000000060ff', 1)$q$),
    (21, 'settle: amount NULL', format('SELECT grse.settle_budget_hold(%L, NULL)', :'open_hold')),
    (22, 'settle: amount -1', format('SELECT grse.settle_budget_hold(%L, -1)', :'open_hold')),
    (23, 'settle: amount 0.5', format('SELECT grse.settle_budget_hold(%L, 0.5)', :'open_hold')),
    (24, 'settle: amount NaN', format('SELECT grse.settle_budget_hold(%L, %L)', :'open_hold', 'NaN')),
    (25, 'settle: amount beyond bigint', format('SELECT grse.settle_budget_hold(%L, 9223372036854775808)', :'open_hold')),
    (26, 'settle: above the held amount', format('SELECT grse.settle_budget_hold(%L, 101)', :'open_hold')),
    (27, 'release: hold_id NULL', $q$SELECT grse.release_budget_hold(NULL)$q$),
    (28, 'release: unknown hold', $q$SELECT grse.release_budget_hold('00000000-0000-0000-0000-0000000060ff')$q$),
    (29, 'expire: unknown region', $q$SELECT grse.expire_budget_holds('00000000-0000-0000-0000-0000000060ff')$q$),
    (30, 'direct INSERT of a hold', $q$INSERT INTO grse.budget_holds (id, region_id, amount, expires_at)
                                       VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000006001', 1, now() + interval '1 hour')$q$),
    (31, 'direct UPDATE of a hold', format('UPDATE grse.budget_holds SET amount = 1 WHERE id = %L', :'open_hold')),
    (32, 'direct DELETE of a hold', format('DELETE FROM grse.budget_holds WHERE id = %L', :'open_hold')),
    (33, 'direct write of ai_budget_held', $q$UPDATE grse.region_scaling_state SET ai_budget_held = 0$q$)
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT * FROM pg_temp.hold(:'open_hold');
SELECT grse.release_budget_hold(:'open_hold') AS alpha_remaining;

SELECT grse.release_budget_hold(:'e2') AS alpha_remaining;

-- Every hold has resolved; every invariant holds (ledger sums and chains per pool and slot,
-- held = open holds, each hold's ledger rows).
SELECT status, count(*), sum(amount) AS amount, sum(settled_amount) AS settled
  FROM grse.budget_holds GROUP BY status ORDER BY status;
SELECT * FROM pg_temp.budget();
SELECT * FROM grse.verify_invariants();
