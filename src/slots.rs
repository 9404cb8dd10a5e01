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
//! * Emptying (`empty`) returns every slot to the pool. It runs whenever
//!   the state row is locked for a budget change (`region::lock`), and from
//!   the state trigger when a metric write moves the floor above the pool.
//! * Every move writes `transfer` ledger rows (slot 0 is the pool) that sum
//!   to zero; each (region, slot) has its own balance chain.
//!
//! Lock order: the state row, then slot rows in slot_no order. A slot spend
//! locks one slot row and nothing else.

use crate::error::{invalid, not_found, required, GResult, SpiResultExt};
use crate::region::{lock, with_writes};
use crate::statements;
use grse_core::routing::JobType;
use grse_core::slots::{distribute, slot_for, MAX_SLOTS};
use grse_core::Policy;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{PgBuiltInOids, PgOid, Uuid};

/// A spend from the backend's slot: succeeds only if the slot holds the
/// amount, the region is active and its periods are current.
const SLOT_SPEND_SQL: &str = "WITH k AS (
       UPDATE grse.region_budget_slots b
          SET balance = b.balance - $2, spent_today = b.spent_today + $2, period_spent = b.period_spent + $2
         FROM grse.region_scaling_state s, grse.regions r
        WHERE b.region_id = $1 AND b.slot_no = $6 AND b.balance >= $2
          AND s.region_id = $1 AND r.id = $1 AND r.active
          AND pg_catalog.now() < s.day_ends_at AND pg_catalog.now() < s.month_ends_at
       RETURNING b.region_id, b.slot_no, b.balance)
     INSERT INTO grse.region_budget_transactions
            (region_id, slot_no, transaction_type, amount, delta, balance_after, agency_id, job_type, description)
     SELECT region_id, slot_no, 'spend', $2, -$2, balance, $3, $4, $5 FROM k
     RETURNING balance_after";

const SLOT_SPEND_TYPES: [PgOid; 6] = [
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::INT4OID),
];

/// Charges `amount` to this backend's slot of the region; false (nothing
/// written) when the slot cannot pay it, whatever the reason.
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
    Ok(!statements::execute(client, SLOT_SPEND_SQL, &SLOT_SPEND_TYPES, &args)?.is_empty())
}

/// What emptied slots held, now the pool's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Returned {
    pub balance: i64,
    pub spent_today: i64,
    pub period_spent: i64,
}

/// Locks the region's slot rows (slot order), empties them and writes the
/// transfer rows: one per non-empty slot, and one for the pool whose balance
/// was `pool` and becomes `pool + balance`. The caller holds the state row
/// lock and must add what is returned to the state row.
pub fn empty(client: &mut SpiClient<'_>, region_id: Uuid, pool: i64) -> GResult<Returned> {
    let t = client
        .update(
            "WITH held AS (
               SELECT slot_no, balance, spent_today, period_spent
                 FROM grse.region_budget_slots WHERE region_id = $1 ORDER BY slot_no FOR UPDATE),
             emptied AS (
               UPDATE grse.region_budget_slots b SET balance = 0, spent_today = 0, period_spent = 0
                 FROM held h WHERE b.region_id = $1 AND b.slot_no = h.slot_no
                  AND (h.balance, h.spent_today, h.period_spent) <> (0, 0, 0)),
             total AS (
               SELECT COALESCE(sum(balance), 0)::bigint AS balance, COALESCE(sum(spent_today), 0)::bigint AS spent_today,
                      COALESCE(sum(period_spent), 0)::bigint AS period_spent FROM held),
             out_rows AS (
               INSERT INTO grse.region_budget_transactions
                      (region_id, slot_no, transaction_type, amount, delta, balance_after, description)
               SELECT $1, slot_no, 'transfer', balance, -balance, 0, 'slot emptied into the pool'
                 FROM held WHERE balance > 0),
             in_row AS (
               INSERT INTO grse.region_budget_transactions
                      (region_id, slot_no, transaction_type, amount, delta, balance_after, description)
               SELECT $1, 0, 'transfer', balance, balance, $2 + balance, 'slots emptied into the pool'
                 FROM total WHERE balance > 0)
             SELECT balance, spent_today, period_spent FROM total",
            None,
            &[region_id.into(), pool.into()],
        )
        .or_internal()?;
    let row = t.first();
    let int = |i| -> GResult<i64> { Ok(row.get::<i64>(i).or_internal()?.unwrap_or(0)) };
    Ok(Returned { balance: int(1)?, spent_today: int(2)?, period_spent: int(3)? })
}

/// Locks a region's slot rows (slot order) and answers what they hold.
pub fn held(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<i64> {
    let t = client
        .update(
            "SELECT COALESCE(sum(balance), 0)::bigint FROM (
               SELECT balance FROM grse.region_budget_slots WHERE region_id = $1 ORDER BY slot_no FOR UPDATE) b",
            Some(1),
            &[region_id.into()],
        )
        .or_internal()?;
    Ok(t.first().get_one::<i64>().or_internal()?.unwrap_or(0))
}

/// Empties a locked region's slots into its state row. `pool` is the
/// state's ai_budget_remaining before; returns what came back.
pub fn empty_into_state(client: &mut SpiClient<'_>, region_id: Uuid, pool: i64) -> GResult<Returned> {
    let r = empty(client, region_id, pool)?;
    client
        .update(
            "UPDATE grse.region_scaling_state
                SET ai_budget_remaining = ai_budget_remaining + $2, ai_spend_today = ai_spend_today + $3,
                    period_spent = period_spent + $4, slot_allotment = 0
              WHERE region_id = $1",
            None,
            &[region_id.into(), r.balance.into(), r.spent_today.into(), r.period_spent.into()],
        )
        .or_internal()?;
    Ok(r)
}

/// After a spend from the pool of a locked region whose slots are empty:
/// hands the budget above the judgement's floor out to `slots` slots, if
/// each share would be at least `min_share` cents. Returns what was handed out.
pub fn fill(client: &mut SpiClient<'_>, policy: &Policy, region_id: Uuid, slots: i32, min_share: i64) -> GResult<i64> {
    let m = crate::scaling::locked_metrics(client, region_id)?;
    let Some(d) = distribute(policy, &m, slots, min_share) else {
        return Ok(0);
    };
    let handed = d.handed_out();
    client
        .update(
            "WITH shares AS (
               SELECT o::integer AS slot_no, share FROM pg_catalog.unnest($2::bigint[]) WITH ORDINALITY AS u(share, o)),
             filled AS (
               INSERT INTO grse.region_budget_slots AS b (region_id, slot_no, balance)
               SELECT $1, slot_no, share FROM shares
               ON CONFLICT (region_id, slot_no) DO UPDATE SET balance = b.balance + excluded.balance
               RETURNING b.slot_no, b.balance),
             pool AS (
               UPDATE grse.region_scaling_state
                  SET ai_budget_remaining = ai_budget_remaining - $3, slot_allotment = $3
                WHERE region_id = $1
               RETURNING ai_budget_remaining)
             INSERT INTO grse.region_budget_transactions
                    (region_id, slot_no, transaction_type, amount, delta, balance_after, description)
             SELECT $1, f.slot_no, 'transfer', s.share, s.share, f.balance, 'slot filled from the pool'
               FROM filled f JOIN shares s USING (slot_no)
             UNION ALL
             SELECT $1, 0, 'transfer', $3, -$3, ai_budget_remaining, 'slots filled from the pool' FROM pool",
            None,
            &[region_id.into(), d.shares.into(), handed.into()],
        )
        .or_internal()?;
    Ok(handed)
}

/// Sets how many budget slots a region spends from: 1 for none (one row,
/// as without slots), up to 64; NULL for the policy's default_budget_slots.
/// The region's slots are emptied into its pool first; they fill again on
/// its next spend. Returns the number now in force.
#[pg_extern(volatile, parallel_unsafe)]
pub fn set_budget_slots(region_id: Option<Uuid>, slots: Option<i32>) -> GResult<i32> {
    let region_id = required(region_id, "region_id")?;
    if let Some(n) = slots.filter(|n| !(1..=MAX_SLOTS).contains(n)) {
        return Err(invalid(format!("slots must lie in [1, {MAX_SLOTS}], got {n}")));
    }
    with_writes(|client| {
        lock(client, region_id)?.ok_or_else(|| not_found("region", region_id))?;
        client
            .update(
                "UPDATE grse.region_scaling_state SET budget_slots = $2 WHERE region_id = $1",
                None,
                &[region_id.into(), slots.into()],
            )
            .or_internal()?;
        crate::policy::invalidate_everywhere()?;
        Ok(match slots {
            Some(n) => n,
            None => crate::policy::current()?.default_budget_slots,
        })
    })
}

/// The state trigger's way to empty a region's slots (it runs as the user
/// who writes the metrics; this runs as the extension owner). Refused
/// unless called from inside grse. Returns {balance, spent_today,
/// period_spent} that came back to the pool.
#[pg_extern(volatile, parallel_unsafe)]
pub fn empty_budget_slots_internal(region_id: Uuid, pool: i64) -> GResult<Vec<i64>> {
    if !crate::guard::is_internal() {
        return Err(crate::error::maintained_by_grse(
            "grse.empty_budget_slots_internal is called by grse's state trigger only",
            "Budget slots are emptied by the grse budget functions.",
        ));
    }
    let r = with_writes(|client| empty(client, region_id, pool))?;
    Ok(vec![r.balance, r.spent_today, r.period_spent])
}
