//! Budget periods: the region-local day (for `ai_spend_today`) and month (for
//! the monthly budget). A period rolls over exactly once per region, whoever
//! gets there first: the first budget call of the new period (lazy), the
//! scheduled job, or a manual reset. The state row lock serializes them and
//! the `now() >= ends_at` test is re-read under that lock, so the second
//! caller finds nothing due. A unique index on `grse.budget_rollovers`
//! records one automatic roll-over per region and local period (after a
//! timezone change a local date can come round twice: the record is then
//! kept once, `ON CONFLICT DO NOTHING`).

use crate::error::{GResult, SpiResultExt};
use crate::region::{empty_slots, lock, lock_row, with_writes};
use crate::state::Locked;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::Uuid;

/// Starts a new region-local day now: spend and refunds of the day back to 0.
pub fn start_day(client: &mut SpiClient<'_>, region_id: Uuid, source: &str) -> GResult<()> {
    client
        .update(
            "WITH s AS (
               UPDATE grse.region_scaling_state s
                  SET ai_spend_today = 0, refunded_today = 0,
                      day_started_at = b.starts_at, day_ends_at = b.ends_at,
                      day_ledger_mark = (SELECT COALESCE(max(l.id), 0) FROM grse.region_budget_transactions l
                                          WHERE l.region_id = s.region_id)
                 FROM grse.regions r, grse.period_bounds('day', r.timezone, pg_catalog.now()) b
                WHERE s.region_id = $1 AND r.id = s.region_id
               RETURNING s.region_id, b.local_start)
             INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
             SELECT region_id, 'daily', local_start, $2 FROM s
             ON CONFLICT DO NOTHING",
            None,
            &[region_id.into(), source.into()],
        )
        .or_internal()?;
    Ok(())
}

/// What remaining becomes at the start of a budget period: the monthly
/// budget less what open holds keep reserved (never below zero).
pub fn period_start_remaining(facts: &Locked) -> i64 {
    facts.monthly.saturating_sub(facts.held).max(0)
}

/// Starts a new monthly budget period now: remaining back to the monthly
/// budget (less what open holds reserve), with a `reset` ledger row
/// carrying the difference.
pub fn start_month(client: &mut SpiClient<'_>, facts: &Locked, source: &str) -> GResult<()> {
    let delta = period_start_remaining(facts) - facts.remaining;
    client
        .update(
            "WITH s AS (
               UPDATE grse.region_scaling_state s
                  SET ai_budget_remaining = GREATEST(s.ai_budget_monthly - s.ai_budget_held, 0), period_spent = 0, period_refunded = 0,
                      month_started_at = b.starts_at, month_ends_at = b.ends_at,
                      month_ledger_mark = (SELECT COALESCE(max(l.id), 0) FROM grse.region_budget_transactions l
                                            WHERE l.region_id = s.region_id)
                 FROM grse.regions r, grse.period_bounds('month', r.timezone, pg_catalog.now()) b
                WHERE s.region_id = $1 AND r.id = s.region_id
               RETURNING s.region_id, s.ai_budget_remaining, b.local_start),
             l AS (
               INSERT INTO grse.region_budget_transactions
                      (region_id, transaction_type, amount, delta, balance_after, description)
               SELECT region_id, 'reset', abs($3::bigint), $3::bigint, ai_budget_remaining,
                      'monthly budget period start (' || $2 || ')'
                 FROM s WHERE $3::bigint <> 0)
             INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
             SELECT region_id, 'monthly', local_start, $2 FROM s
             ON CONFLICT DO NOTHING",
            None,
            &[facts.region_id.into(), source.into(), delta.into()],
        )
        .or_internal()?;
    Ok(())
}

/// Rolls over whatever period of a locked region has ended; returns the
/// facts as they are afterwards.
pub fn roll_if_due(client: &mut SpiClient<'_>, mut facts: Locked, source: &str) -> GResult<Locked> {
    if facts.month_due {
        start_month(client, &facts, source)?;
        facts.remaining = period_start_remaining(&facts);
        facts.period_spent = 0;
        facts.period_refunded = 0;
        facts.month_due = false;
    }
    if facts.day_due {
        start_day(client, facts.region_id, source)?;
        facts.day_due = false;
    }
    Ok(facts)
}

fn all_region_ids(client: &mut SpiClient<'_>, only_due: bool) -> GResult<Vec<Uuid>> {
    let q = if only_due {
        "SELECT region_id FROM grse.region_scaling_state
          WHERE pg_catalog.now() >= day_ends_at OR pg_catalog.now() >= month_ends_at ORDER BY region_id"
    } else {
        "SELECT region_id FROM grse.region_scaling_state ORDER BY region_id"
    };
    let t = client.update(q, None, &[]).or_internal()?;
    let mut ids = Vec::with_capacity(t.len());
    for row in t {
        if let Some(id) = row.get::<Uuid>(1).or_internal()? {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The automatic roll-over (what pg_cron schedules): every region whose day
/// or month has ended starts its new period, exactly once. Idempotent.
/// Returns how many regions rolled over. With a region id, only that region
/// (recorded as a lazy roll-over, as when a budget call gets there first).
#[pg_extern(volatile, parallel_unsafe)]
pub fn roll_over_budget_periods(region_id: default!(Option<Uuid>, "NULL")) -> GResult<i32> {
    with_writes(|client| {
        let ids = match region_id {
            Some(id) => {
                crate::region::require_active(id).or_else(|e| {
                    // an inactive region still rolls over; only an unknown one is an error
                    lock_row(client, id)?.map(|_| ()).ok_or(e)
                })?;
                vec![id]
            }
            None => all_region_ids(client, true)?,
        };
        let source = if region_id.is_some() { "lazy" } else { "scheduled" };
        let mut rolled = 0;
        for id in ids {
            if let Some(facts) = lock_row(client, id)? {
                if facts.day_due || facts.month_due {
                    let facts = empty_slots(client, facts, crate::slots::Emptying::All)?;
                    roll_if_due(client, facts, source)?;
                    rolled += 1;
                }
            }
        }
        Ok(rolled)
    })
}

/// The seed's manual daily reset: every region's spend of the day back to 0
/// now, starting a new day period. Returns the number of regions reset.
#[pg_extern(volatile, parallel_unsafe)]
pub fn reset_daily_budget_spend() -> GResult<i32> {
    with_writes(|client| {
        let ids = all_region_ids(client, false)?;
        for id in &ids {
            if lock(client, *id)?.is_some() {
                start_day(client, *id, "manual")?;
            }
        }
        Ok(ids.len() as i32)
    })
}

/// The seed's manual monthly reset: every region's remaining budget back to
/// its monthly budget now (a `reset` ledger row per changed region), starting
/// a new budget period. Returns the number of regions reset.
#[pg_extern(volatile, parallel_unsafe)]
pub fn reset_monthly_budgets() -> GResult<i32> {
    with_writes(|client| {
        let ids = all_region_ids(client, false)?;
        for id in &ids {
            if let Some(facts) = lock(client, *id)? {
                start_month(client, &facts, "manual")?;
            }
        }
        Ok(ids.len() as i32)
    })
}
