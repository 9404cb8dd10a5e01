//! Budget slots (escrow) for hot regions: the shell around
//! `grse_core::slots`.
//!
//! A region with more than one slot keeps part of its remaining budget in
//! rows of `grse.region_budget_slots`; a spend charges the slot of its
//! backend with one conditional UPDATE that locks only that slot row, so
//! concurrent spends of one region proceed in parallel.
//!
//! * Filling (`fill`) happens under the state row lock, right after a spend
//!   that went to the pool, and hands out only the budget above the floor
//!   of the region's judgement (mode, warning index, conditions): spending
//!   it cannot change them, so slot spends never need the state row.
//!   `slot_allotment` is an upper bound of what the slots hold; the stored
//!   judgement holds for every budget in [pool, pool + allotment].
//! * Emptying (`empty`) returns slots to the pool, under the state row lock,
//!   and never waits for a slot: the free ones (`SKIP LOCKED`) for a spend
//!   the slot of its backend cannot pay, a refund, a hold, the expiry sweep
//!   and a metric write that would move the floor above the pool (the state
//!   trigger); every slot for period starts, allocations, resets, keyed
//!   calls and migrations, which take the slot rows first, before the state
//!   row (`locking::prelock_slots`), and refuse with 55P03 if they could not.
//!   A slot another transaction holds stays as it is, counted in the
//!   allotment with its last committed balance; while such a slot could
//!   hide a change of judgement, the state trigger judges the region by its
//!   pool alone (the cautious side) until the slot is back.
//! * Every move writes `transfer` ledger rows (slot 0 is the pool) that sum
//!   to zero; each (region, slot) has its own balance chain.
//!
//! Lock order (see `locking`): slot rows are waited for only before the
//! state row, by a transaction holding no row of the region; a slot spend
//! locks one slot row and nothing else, and never waits for one (it skips
//! slots other transactions hold). Every `SKIP LOCKED` statement here runs
//! with the lock waits PostgreSQL may still fall into cut short (see
//! `shortwaits`). So no deadlock can form among a
//! region's rows.

use crate::error::{GResult, SpiResultExt};
use crate::ledger::insert_into_ledger;
use crate::region::with_writes;
use crate::shortwaits::{skipping, with_short_waits};
use crate::state::Locked;
use crate::statements;
use grse_core::evaluate::RegionMetrics;
use grse_core::routing::JobType;
use grse_core::slots::{distribute, holds_steady, slot_for};
use grse_core::Policy;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{PgBuiltInOids, PgOid, Uuid};

/// A spend from a slot: the backend's own slot if it is free and holds
/// the amount, else the first free slot that does (a slot another
/// transaction holds is skipped, never waited for); only while the region
/// is active and its periods are current. The own slot is looked up by its
/// key, and the others are read in key order only when it cannot pay (the
/// second branch of the `UNION ALL` runs only when the first returned no
/// row): one index lookup in the common case, where ordering the region's
/// slots with the own one first read and sorted every slot row of the
/// region on every spend. The slot picked is updated by its key (a scalar
/// subquery, not a join with `pick`, which the planner made a scan of
/// every slot row of the region, each joined with the pick).
const SLOT_SPEND_SQL: &str = concat!(
    "WITH pick AS (
       SELECT c.slot_no FROM (
           SELECT o.slot_no FROM (SELECT b.slot_no FROM grse.region_budget_slots b
                                   WHERE b.region_id = $1 AND b.slot_no = $6 AND b.balance >= $2
                                   FOR UPDATE OF b SKIP LOCKED) o
           UNION ALL
           SELECT f.slot_no FROM (SELECT b.slot_no FROM grse.region_budget_slots b
                                   WHERE b.region_id = $1 AND b.slot_no <> $6 AND b.balance >= $2
                                   ORDER BY b.slot_no
                                   LIMIT 1
                                   FOR UPDATE OF b SKIP LOCKED) f) c
        WHERE EXISTS (SELECT 1 FROM grse.region_scaling_state s
                       WHERE s.region_id = $1 AND s.region_active
                         AND pg_catalog.now() < s.day_ends_at AND pg_catalog.now() < s.month_ends_at
                         AND (s.next_expiry_at IS NULL OR pg_catalog.now() < s.next_expiry_at))
        LIMIT 1),
     k AS (
       UPDATE grse.region_budget_slots b
          SET balance = b.balance - $2, spent_today = b.spent_today + $2, period_spent = b.period_spent + $2
        WHERE b.region_id = $1 AND b.slot_no = (SELECT p.slot_no FROM pick p) AND b.balance >= $2
       RETURNING b.region_id, b.slot_no, b.balance)
     ",
    insert_into_ledger!(),
    "SELECT region_id, slot_no, 'spend', $2, -$2, balance, $3, $4, $5, NULL::text, NULL::uuid FROM k
     RETURNING balance_after"
);

const SLOT_SPEND_TYPES: [PgOid; 6] = [
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::INT4OID),
];

/// Charges `amount` to a slot of the region (see SLOT_SPEND_SQL); false
/// (nothing written, no lock kept) when no free slot can pay it, whatever
/// the reason. Never waits for a lock.
pub fn spend(
    client: &mut SpiClient<'_>,
    region_id: Uuid,
    slots: i32,
    amount: i64,
    agency_id: Option<Uuid>,
    job_type: Option<JobType>,
    description: Option<&str>,
) -> GResult<bool> {
    // SAFETY: MyProcPid is set once at backend start.
    let slot = slot_for(unsafe { pg_sys::MyProcPid }, slots);
    let args = [
        region_id.into(),
        amount.into(),
        agency_id.into(),
        job_type.map(|t| t.as_str()).into(),
        description.into(),
        slot.into(),
    ];
    // in a subtransaction: a failed attempt must leave no slot row locked; and the caller may
    // hold the region's rows, so a lock wait the `SKIP LOCKED` falls into is cut short (see
    // `shortwaits`), and counts as no free slot
    let outcome = with_short_waits(|waits| {
        waits.end_soon();
        let charged = !statements::execute_generic(client, SLOT_SPEND_SQL, &SLOT_SPEND_TYPES, &args)?.is_empty();
        Ok(if charged { Ok(()) } else { Err(()) })
    })?;
    let charged = matches!(outcome, Some(Ok(())));
    if charged {
        crate::held::note(region_id);
    }
    Ok(charged)
}

/// A bigint column of a result row by name (NULL as 0: sums over no row).
fn int8(row: &pgrx::spi::SpiTupleTable<'_>, name: &str) -> GResult<i64> {
    Ok(row.get_by_name::<i64, _>(name).or_internal()?.unwrap_or(0))
}

/// How far to empty a region's slots. Neither waits for a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emptying {
    /// Every slot: exact totals (period starts, allocations, a change of the
    /// number of slots, keyed calls). The caller took the slot rows before
    /// the state row (`locking::prelock_slots`); a slot another transaction
    /// still holds is refused with 55P03, never waited for.
    All,
    /// The slots no other transaction holds. A slot with a spend in flight
    /// stays as it is, counted in the allotment.
    Free,
}

const SLOTS_BUSY: &str = "a budget slot of region ";

/// 55P03: every slot was needed and another transaction holds one.
fn slots_busy(region_id: Uuid) -> pgrx::pg_sys::panic::ErrorReport {
    crate::error::lock_not_available(format!("{SLOTS_BUSY}{region_id} is held by another transaction"))
    .set_detail("This call needs every budget slot of the region, and this transaction already holds a row of the region, so it may not wait for the slot.")
    .set_hint("Make the call in a transaction that has not yet written to this region, or retry when the other transaction has ended.")
}

/// Whether an error is [`slots_busy`]'s.
pub fn is_slots_busy(e: &pgrx::pg_sys::panic::ErrorReport) -> bool {
    e.message().starts_with(SLOTS_BUSY) && e.message().ends_with(" is held by another transaction")
}

/// What emptying slots returned to the pool, and what they may still hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emptied {
    pub balance: i64,
    pub spent_today: i64,
    pub period_spent: i64,
    /// An upper bound of what the slots left alone still hold (their last
    /// committed balances; at least 1 if any was left): the new allotment.
    pub still_held: i64,
}

/// Locks the region's slot rows that no other transaction holds (slot
/// order, never waiting), empties them and writes the transfer rows: one
/// per non-empty slot, and one for the pool, whose balance was `pool` and
/// becomes `pool + balance`. The caller holds the state row lock and must
/// add what is returned to the state row. With [`Emptying::All`], 55P03 if
/// a slot is left (another transaction holds it).
pub fn empty(client: &mut SpiClient<'_>, region_id: Uuid, pool: i64, how: Emptying) -> GResult<Emptied> {
    const SQL: &str = concat!(
        "WITH held AS (
           SELECT slot_no, balance, spent_today, period_spent
             FROM grse.region_budget_slots WHERE region_id = $1 ORDER BY slot_no FOR UPDATE SKIP LOCKED),
         emptied AS (
           UPDATE grse.region_budget_slots b SET balance = 0, spent_today = 0, period_spent = 0
             FROM held h WHERE b.region_id = $1 AND b.slot_no = h.slot_no
              AND (h.balance, h.spent_today, h.period_spent) <> (0, 0, 0)),
         total AS (
           SELECT COALESCE(sum(balance), 0)::bigint AS balance, COALESCE(sum(spent_today), 0)::bigint AS spent_today,
                  COALESCE(sum(period_spent), 0)::bigint AS period_spent FROM held),
         busy AS (
           SELECT COALESCE(sum(b.balance), 0)::bigint AS balance, count(*) AS n
             FROM grse.region_budget_slots b
            WHERE b.region_id = $1 AND b.slot_no NOT IN (SELECT h.slot_no FROM held h)),
         out_rows AS (
           ",
        insert_into_ledger!(),
        "SELECT $1, slot_no, 'transfer', balance, -balance, 0, NULL::uuid, NULL::text, 'slot emptied into the pool', NULL::text, NULL::uuid
             FROM held WHERE balance > 0),
         in_row AS (
           ",
        insert_into_ledger!(),
        "SELECT $1, 0, 'transfer', balance, balance, $2 + balance, NULL::uuid, NULL::text, 'slots emptied into the pool', NULL::text, NULL::uuid
             FROM total WHERE balance > 0)
         SELECT t.balance, t.spent_today, t.period_spent, u.n AS busy,
                CASE WHEN u.n > 0 THEN GREATEST(u.balance, 1) ELSE 0 END AS still_held
           FROM total t, busy u"
    );
    // under the state row lock: no lock wait may last (see `shortwaits`)
    let (busy, emptied) = skipping("emptying the budget slots", || {
        let t = crate::statements::run(client, SQL, &[region_id.into(), pool.into()])?;
        let row = t.first();
        let emptied = Emptied {
            balance: int8(&row, "balance")?,
            spent_today: int8(&row, "spent_today")?,
            period_spent: int8(&row, "period_spent")?,
            still_held: int8(&row, "still_held")?,
        };
        Ok((int8(&row, "busy")?, emptied))
    })?;
    if how == Emptying::All && busy > 0 {
        return Err(slots_busy(region_id));
    }
    Ok(emptied)
}

/// Empties a locked region's slots into its state row. `pool` is the
/// state's ai_budget_remaining before; returns what came back. Emptying
/// every slot ([`Emptying::All`]) also ends the region's automatic slots, if
/// it spends from them, and keeps it from taking them again for
/// `auto::REST_US` (see `autoslots`): every backend reads its slot count
/// again. With `held` false (the state row's allotment says the slots
/// hold nothing) the slot rows are not read.
pub fn empty_into_state(
    client: &mut SpiClient<'_>,
    region_id: Uuid,
    pool: i64,
    how: Emptying,
    held: bool,
) -> GResult<Emptied> {
    let e = if held { empty(client, region_id, pool, how)? } else { Emptied::default() };
    let t = crate::statements::run(
        client,
        "WITH o AS (
           SELECT $6 AND budget_slots IS NULL AND auto_slots_until > pg_catalog.now() AS ending
             FROM grse.region_scaling_state WHERE region_id = $1)
         UPDATE grse.region_scaling_state s
            SET ai_budget_remaining = ai_budget_remaining + $2, ai_spend_today = ai_spend_today + $3,
                period_spent = period_spent + $4, slot_allotment = $5,
                auto_slots_until = CASE WHEN o.ending THEN pg_catalog.now() ELSE s.auto_slots_until END,
                auto_slots_off_until = CASE WHEN o.ending THEN pg_catalog.now() + pg_catalog.make_interval(secs => $7)
                                            ELSE s.auto_slots_off_until END
           FROM o
          WHERE s.region_id = $1
         RETURNING o.ending",
        &[
            region_id.into(),
            e.balance.into(),
            e.spent_today.into(),
            e.period_spent.into(),
            e.still_held.into(),
            (how == Emptying::All).into(),
            crate::autoslots::rest_seconds().into(),
        ],
    )?;
    if !t.is_empty() && t.first().get_one::<bool>().or_internal()?.unwrap_or(false) {
        crate::policy::invalidate_everywhere()?;
    }
    Ok(e)
}

/// What a region's slots hold now (this transaction's snapshot, its own
/// changes included; spends in flight elsewhere not yet subtracted). No
/// query when `allotment` (the state row's) says the slots hold nothing.
pub fn holdings(client: &mut SpiClient<'_>, region_id: Uuid, allotment: i64) -> GResult<Emptied> {
    if allotment <= 0 {
        return Ok(Emptied::default());
    }
    let t = crate::statements::run(
        client,
        "SELECT balance, spent_today, period_spent FROM grse.slot_totals($1)",
        &[region_id.into()],
    )?;
    let row = t.first();
    Ok(Emptied {
        balance: int8(&row, "balance")?,
        spent_today: int8(&row, "spent_today")?,
        period_spent: int8(&row, "period_spent")?,
        still_held: 0,
    })
}

/// For an admission holding the state row lock of a region with filled
/// slots: the budget this transaction can count on for a job of `cost` —
/// the pool, plus free slots it locks (never waiting): one that covers what
/// the pool lacks, else every free one. `None` when no slot holds budget.
pub fn admissible(client: &mut SpiClient<'_>, facts: &Locked, cost: i64) -> GResult<Option<i64>> {
    let region_id = facts.region_id;
    let pool = facts.remaining;
    if facts.allotment <= 0 {
        return Ok(None);
    }
    let need = cost.saturating_sub(pool);
    if need <= 0 {
        return Ok(Some(pool));
    }
    // under the state row lock: no lock wait may last (see `shortwaits`)
    let one = skipping("counting the budget slots", || {
        let t = crate::statements::run(
            client,
            "SELECT balance FROM grse.region_budget_slots
              WHERE region_id = $1 AND balance >= $2 ORDER BY balance LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[region_id.into(), need.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        t.first().get_one::<i64>().or_internal()
    })?;
    if let Some(balance) = one {
        return Ok(Some(pool + balance));
    }
    let all = skipping("counting the budget slots", || {
        let t = crate::statements::run(
            client,
            "SELECT COALESCE(sum(balance), 0)::bigint FROM (
               SELECT balance FROM grse.region_budget_slots
                WHERE region_id = $1 AND balance > 0 FOR UPDATE SKIP LOCKED) b",
            &[region_id.into()],
        )?;
        Ok(t.first().get_one::<i64>().or_internal()?.unwrap_or(0))
    })?;
    Ok(Some(pool + all))
}

/// Would a region whose pool becomes `pool` (and monthly budget `monthly`,
/// if it changes) keep its judgement whatever its slots, holding up to
/// `held`, are spent down to? Read under the state row lock (its metrics
/// cannot change meanwhile).
pub fn steady(
    client: &mut SpiClient<'_>,
    policy: &Policy,
    region_id: Uuid,
    pool: i64,
    held: i64,
    monthly: Option<i64>,
) -> GResult<bool> {
    if held <= 0 {
        return Ok(true);
    }
    let m = crate::scaling::locked_metrics(client, region_id)?;
    let m = RegionMetrics { budget_remaining: pool, budget_monthly: monthly.unwrap_or(m.budget_monthly), ..m };
    Ok(holds_steady(policy, &m, held))
}

/// After a spend from the pool of a locked region: hands the budget above
/// the floor of the judgement (counting what busy slots may still hold,
/// `held`) out to the region's empty slots that no other transaction holds
/// (creating missing slot rows), if each share would be at least
/// `min_share` cents. `pool` is the state's ai_budget_remaining. Returns
/// what was handed out. A filling extends the region's automatic slots
/// while they last (see `autoslots`): they are being spent.
pub fn fill(
    client: &mut SpiClient<'_>,
    policy: &Policy,
    region_id: Uuid,
    slots: i32,
    pool: i64,
    held: i64,
    min_share: i64,
) -> GResult<i64> {
    // slot rows are only ever inserted under the state row lock, which is ours; under it no
    // lock wait may last (see `shortwaits`)
    let targets = skipping("filling the budget slots", || {
        let t = crate::statements::run(
            client,
            "WITH missing AS (
               INSERT INTO grse.region_budget_slots (region_id, slot_no)
               SELECT $1, n FROM pg_catalog.generate_series(1, $2) n
                WHERE NOT EXISTS (SELECT 1 FROM grse.region_budget_slots b WHERE b.region_id = $1 AND b.slot_no = n)
               RETURNING slot_no),
             free AS (
               SELECT slot_no FROM grse.region_budget_slots
                WHERE region_id = $1 AND slot_no <= $2 AND balance = 0
                ORDER BY slot_no FOR UPDATE SKIP LOCKED)
             SELECT slot_no FROM missing UNION SELECT slot_no FROM free ORDER BY 1",
            &[region_id.into(), slots.into()],
        )?;
        let mut targets: Vec<i32> = Vec::with_capacity(t.len());
        for row in t {
            targets.extend(row.get::<i32>(1).or_internal()?);
        }
        Ok(targets)
    })?;
    let m = crate::scaling::locked_metrics(client, region_id)?;
    let Some(d) = distribute(policy, &RegionMetrics { budget_remaining: pool, ..m }, held, targets.len(), min_share)
    else {
        return Ok(0);
    };
    let handed = d.handed_out();
    crate::statements::run(
        client,
            concat!(
            "WITH shares AS (
               SELECT slot_no, share FROM unnest($2::integer[], $3::bigint[]) AS u(slot_no, share)),  -- (multi-argument unnest is syntax: no schema)
             filled AS (
               UPDATE grse.region_budget_slots b SET balance = b.balance + s.share
                 FROM shares s WHERE b.region_id = $1 AND b.slot_no = s.slot_no
               RETURNING b.slot_no, b.balance, s.share),
             pool AS (
               UPDATE grse.region_scaling_state
                  SET ai_budget_remaining = ai_budget_remaining - $4, slot_allotment = slot_allotment + $4,
                      auto_slots_until = CASE WHEN budget_slots IS NULL AND auto_slots_until > pg_catalog.now()
                                              THEN GREATEST(auto_slots_until, pg_catalog.now() + pg_catalog.make_interval(secs => $5))
                                              ELSE auto_slots_until END
                WHERE region_id = $1
               RETURNING ai_budget_remaining)
             ",
                insert_into_ledger!(),
                "SELECT $1, slot_no, 'transfer', share, share, balance, NULL::uuid, NULL::text, 'slot filled from the pool', NULL::text, NULL::uuid
               FROM filled
             UNION ALL
             SELECT $1, 0, 'transfer', $4, -$4, ai_budget_remaining, NULL::uuid, NULL::text, 'slots filled from the pool', NULL::text, NULL::uuid
               FROM pool"
            ),
            &[region_id.into(), targets.into(), d.shares.into(), handed.into(), crate::autoslots::hold_seconds().into()],
        )?;
    Ok(handed)
}

/// The state trigger's way to empty a region's slots (it runs as the user
/// who writes the metrics; this runs as the extension owner). Refused
/// unless called from inside grse. `wait` (never set by grse since 0.3.0):
/// every slot ([`Emptying::All`]: 55P03 if another transaction holds one,
/// never waiting); else only the free ones. Returns {balance, spent_today,
/// period_spent, still_held} (see [`Emptied`]).
#[pg_extern(volatile, parallel_unsafe)]
pub fn empty_budget_slots_internal(region_id: Uuid, pool: i64, wait: bool) -> GResult<Vec<i64>> {
    if !crate::guard::is_internal() {
        return Err(crate::error::maintained_by_grse(
            "grse.empty_budget_slots_internal is called by grse's state trigger only",
            "Budget slots are emptied by the grse budget functions.",
        ));
    }
    let how = if wait { Emptying::All } else { Emptying::Free };
    let e = with_writes(|client| empty(client, region_id, pool, how))?;
    Ok(vec![e.balance, e.spent_today, e.period_spent, e.still_held])
}
