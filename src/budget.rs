//! The budget engine: admission check, spend, refund, monthly allocation.
//!
//! Every change of `ai_budget_remaining` writes exactly one ledger row in the
//! same statement, under the state row's lock, so for every region and at
//! every moment Σ delta = remaining and each balance_after chains from the
//! previous one. Spends are one conditional UPDATE: no check-then-act race.

use crate::convert::amount_cents;
use crate::error::{invalid, required, GResult, SpiResultExt};
use crate::region::{empty_slots, lock_active_keeping_slots, with_writes};
use crate::slots::Emptying;
use crate::statements;
use grse_core::mode::Mode;
use grse_core::routing::{admits, JobType};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, PgBuiltInOids, PgOid, Uuid};

/// Reads an optional job type argument; `performance` is stored as `intel`.
pub fn job_type_arg(job_type: Option<&str>) -> GResult<Option<JobType>> {
    job_type
        .map(|t| {
            JobType::parse(t).ok_or_else(|| {
                invalid(format!(
                    "unknown job type \"{t}\": expected posting, orchestration, creative, intel or performance"
                ))
            })
        })
        .transpose()
}

/// The one-statement spend: succeeds only if the region is active, its
/// periods are current and it has the budget; writes the ledger row.
macro_rules! spend_sql {
    ($condition:literal) => {
        concat!(
            "WITH s AS (
               UPDATE grse.region_scaling_state s
                  SET ai_budget_remaining = s.ai_budget_remaining - $2,
                      ai_spend_today = s.ai_spend_today + $2,
                      period_spent = s.period_spent + $2
                 FROM grse.regions r
                WHERE s.region_id = $1 AND r.id = s.region_id AND r.active
                  AND s.ai_budget_remaining >= $2 ",
            $condition,
            "
                  AND pg_catalog.now() < s.day_ends_at AND pg_catalog.now() < s.month_ends_at
               RETURNING s.region_id, s.ai_budget_remaining)
             INSERT INTO grse.region_budget_transactions
                    (region_id, transaction_type, amount, delta, balance_after, agency_id, job_type, description)
             SELECT region_id, 'spend', $2, -$2, ai_budget_remaining, $3, $4, $5 FROM s
             RETURNING balance_after"
        )
    };
}

/// The spend without the row lock: only a region whose slots hold nothing
/// (their budget is not the pool's to give).
const SPEND_SQL: &str = spend_sql!("AND s.slot_allotment = 0");

/// The spend under the row lock, after the checks that keep the slots' budget
/// from hiding a change of mode (see `spend`).
const SPEND_LOCKED_SQL: &str = spend_sql!("");

/// Argument types of SPEND_SQL: region, amount, agency, job type, description.
const SPEND_TYPES: [PgOid; 5] = [
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
];

/// A spend charged to the pool refills the free slots only if each share
/// would be at least this many spends of its amount; the pool keeps as much
/// again above the floor (see `grse_core::slots::distribute`).
const SPENDS_PER_SHARE: i64 = 16;

/// Charges `amount` cents. `Ok(false)` (nothing written) when the budget is
/// insufficient; errors for an unknown or inactive region.
///
/// Without budget slots, one conditional UPDATE of the state row. With
/// slots, one conditional UPDATE of a free slot (see `slots::spend`); when
/// none can pay, the state row is locked, the slots are tried once more,
/// then the free ones (or, if needed, all) are emptied into the pool, the
/// spend is charged to it, and the free slots are filled again.
pub fn spend(
    client: &mut SpiClient<'_>,
    region_id: Uuid,
    amount: i64,
    agency_id: Option<Uuid>,
    job_type: Option<JobType>,
    description: Option<&str>,
) -> GResult<bool> {
    let args =
        || [region_id.into(), amount.into(), agency_id.into(), job_type.map(|t| t.as_str()).into(), description.into()];
    let slots = crate::policy::budget_slots(region_id)?;
    let charged = if slots > 1 {
        crate::slots::spend(client, region_id, slots, amount, agency_id, job_type, description)?
    } else {
        !statements::execute(client, SPEND_SQL, &SPEND_TYPES, &args())?.is_empty()
    };
    if charged {
        return Ok(true);
    }
    // Not charged: decide under the row lock (rolling a due period over).
    let facts = lock_active_keeping_slots(client, region_id)?;
    // Another spender may have filled the slots while this one waited for the
    // lock: try them again before emptying anything (else every spender that
    // queued behind a filling would empty and refill all slots in turn).
    if slots > 1
        && facts.allotment > 0
        && crate::slots::spend(client, region_id, slots, amount, agency_id, job_type, description)?
    {
        return Ok(true);
    }
    // Refuse on what the slots hold in this snapshot (spends in flight only
    // lower it; refunds and fills need the lock we hold), writing nothing.
    let held = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
    if facts.remaining + held < amount {
        return Ok(false);
    }
    // Charge the pool: with the free slots emptied into it, or all of them
    // if that is not enough or would let the slots hide a change of mode.
    let policy = crate::policy::current()?;
    let mut facts = empty_slots(client, facts, Emptying::Free)?;
    if facts.remaining < amount
        || !crate::slots::steady(client, &policy, region_id, facts.remaining - amount, facts.allotment, None)?
    {
        facts = empty_slots(client, facts, Emptying::All)?;
        if facts.remaining < amount {
            return Ok(false); // spends in flight took it meanwhile
        }
    }
    let t = statements::execute(client, SPEND_LOCKED_SQL, &SPEND_TYPES, &args())?;
    if t.is_empty() {
        return Err(crate::error::internal("a spend under the row lock was not charged"));
    }
    let pool = t.first().get_one::<i64>().or_internal()?.unwrap_or(0);
    if slots > 1 {
        let min_share = amount.max(1).saturating_mul(SPENDS_PER_SHARE);
        crate::slots::fill(client, &policy, region_id, slots, pool, facts.allotment, min_share)?;
    }
    Ok(true)
}

/// The seed's helper: charge `amount` cents if the budget allows; false (and
/// nothing written) when it does not.
#[pg_extern(volatile, parallel_unsafe)]
pub fn check_and_decrement_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    agency_id: default!(Option<Uuid>, "NULL"),
    job_type: default!(Option<&str>, "NULL"),
) -> GResult<bool> {
    decrement_budget(region_id, amount, agency_id, job_type, None)
}

/// Charge `amount` cents of AI spend, with an optional description.
#[pg_extern(volatile, parallel_unsafe)]
pub fn decrement_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    agency_id: default!(Option<Uuid>, "NULL"),
    job_type: default!(Option<&str>, "NULL"),
    description: default!(Option<&str>, "NULL"),
) -> GResult<bool> {
    let region_id = required(region_id, "region_id")?;
    let amount = amount_cents("amount", &required(amount, "amount")?)?;
    let job_type = job_type_arg(job_type)?;
    with_writes(|client| spend(client, region_id, amount, agency_id, job_type, description))
}

/// Would a job costing `cost` cents be admitted now? Refuses (allowed =
/// false, with the reason) for a frozen region, a throttled region and a
/// cost above the small-job limit, or insufficient budget.
#[pg_extern(volatile, parallel_unsafe)]
pub fn check_budget(
    region_id: Option<Uuid>,
    cost: Option<AnyNumeric>,
) -> Result<
    TableIterator<
        'static,
        (name!(allowed, bool), name!(remaining, i64), name!(requested, i64), name!(message, String)),
    >,
    pgrx::pg_sys::panic::ErrorReport,
> {
    let region_id = required(region_id, "region_id")?;
    let cost = amount_cents("cost", &required(cost, "cost")?)?;
    let policy = crate::policy::current()?;
    let (facts, held) = with_writes(|client| {
        let facts = lock_active_keeping_slots(client, region_id)?;
        let held = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
        Ok((facts, held))
    })?;
    let remaining = facts.remaining + held;
    let mode = Mode::parse(&facts.scaling_mode).unwrap_or(Mode::Frozen);
    let (allowed, message) = match admits(&policy, mode, None, cost) {
        Err(refusal) => (false, refusal.to_string()),
        Ok(()) if remaining < cost => (false, format!("Insufficient budget: {remaining} remaining, {cost} requested")),
        Ok(()) => (true, "Budget available".to_string()),
    };
    Ok(TableIterator::once((allowed, remaining, cost, message)))
}

/// Gives back `amount` cents of spend (a failed or cancelled operation).
/// A refund may not exceed what was spent and not yet refunded in the
/// current budget period, nor lift remaining above the monthly budget
/// (22023). Returns the remaining budget afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn refund_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    reason: default!(Option<&str>, "NULL"),
) -> GResult<i64> {
    let region_id = required(region_id, "region_id")?;
    let amount = amount_cents("amount", &required(amount, "amount")?)?;
    with_writes(|client| {
        let facts = lock_active_keeping_slots(client, region_id)?;
        let mut facts = empty_slots(client, facts, Emptying::Free)?;
        // slots left alone (a spend in flight) count as this snapshot shows them:
        // their balance can only fall and their spend only rise, so this is conservative
        let held = crate::slots::holdings(client, region_id, facts.allotment)?;
        let refundable = (facts.period_spent + held.period_spent - facts.period_refunded)
            .min(facts.monthly - facts.remaining - held.balance)
            .max(0);
        if amount > refundable {
            return Err(invalid(format!(
                "refund of {amount} cents exceeds the refundable amount of {refundable} cents"
            ))
            .set_detail("A refund may not exceed what was spent and not yet refunded in the current budget period."));
        }
        // empty every slot if the busy ones could hide a change of mode after the refund
        let policy = crate::policy::current()?;
        if !crate::slots::steady(client, &policy, region_id, facts.remaining + amount, facts.allotment, None)? {
            facts = empty_slots(client, facts, Emptying::All)?;
        }
        let t = client
            .update(
                "WITH s AS (
                   UPDATE grse.region_scaling_state
                      SET ai_budget_remaining = ai_budget_remaining + $2,
                          period_refunded = period_refunded + $2,
                          refunded_today = refunded_today + $2
                    WHERE region_id = $1
                   RETURNING region_id, ai_budget_remaining)
                 INSERT INTO grse.region_budget_transactions
                        (region_id, transaction_type, amount, delta, balance_after, description)
                 SELECT region_id, 'refund', $2, $2, ai_budget_remaining, $3 FROM s
                 RETURNING balance_after",
                None,
                &[region_id.into(), amount.into(), reason.into()],
            )
            .or_internal()?;
        let pool = t.first().get_one::<i64>().or_internal()?.unwrap_or(facts.remaining + amount);
        let held = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
        Ok(pool + held)
    })
}

/// Sets the monthly budget. This is an allocation: remaining moves by the
/// same difference (never below zero), written as one `allocation` ledger
/// row with that signed delta. Returns the remaining budget afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn set_monthly_budget(region_id: Option<Uuid>, amount: Option<AnyNumeric>) -> GResult<i64> {
    let region_id = required(region_id, "region_id")?;
    let monthly = amount_cents("amount", &required(amount, "amount")?)?;
    with_writes(|client| {
        let policy = crate::policy::current()?;
        let facts = lock_active_keeping_slots(client, region_id)?;
        let mut facts = empty_slots(client, facts, Emptying::Free)?;
        let diff = i128::from(monthly) - i128::from(facts.monthly);
        // Slots with a spend in flight may stay as they are if the pool alone can
        // take the change and they could not hide a change of mode under the new budget.
        let pool_after = i128::from(facts.remaining) + diff;
        if facts.allotment > 0
            && (pool_after < 0
                || !crate::slots::steady(
                    client,
                    &policy,
                    region_id,
                    pool_after as i64,
                    facts.allotment,
                    Some(monthly),
                )?)
        {
            facts = empty_slots(client, facts, Emptying::All)?;
        }
        // with slots still held (true remaining R <= old monthly): R + diff lies in [pool_after, monthly]
        let new_remaining = if facts.allotment > 0 {
            pool_after as i64
        } else {
            (i128::from(facts.remaining) + diff).clamp(0, i128::from(monthly)) as i64
        };
        let delta = new_remaining - facts.remaining;
        client
            .update(
                "WITH s AS (
                   UPDATE grse.region_scaling_state
                      SET ai_budget_monthly = $2, ai_budget_remaining = $3
                    WHERE region_id = $1
                   RETURNING region_id, ai_budget_remaining)
                 INSERT INTO grse.region_budget_transactions
                        (region_id, transaction_type, amount, delta, balance_after, description)
                 SELECT region_id, 'allocation', abs($4::bigint), $4::bigint, ai_budget_remaining,
                        'monthly budget set to ' || $2
                   FROM s WHERE $4::bigint <> 0",
                None,
                &[region_id.into(), monthly.into(), new_remaining.into(), delta.into()],
            )
            .or_internal()?;
        let held = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
        Ok(new_remaining + held)
    })
}
