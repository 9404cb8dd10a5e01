//! The SQL-facing period functions: the automatic roll-over (what pg_cron
//! schedules) and the seed's manual daily and monthly resets. The period
//! rules themselves are in `periods`.

use crate::error::GResult;
use crate::locking::{empty_slots, lock_every, Take};
use crate::periods::{roll_if_due, start_day, start_month};
use crate::region::{lock_row, with_writes};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::Uuid;

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
            None => crate::region::all_ids(client, true)?,
        };
        let source = if region_id.is_some() { "lazy" } else { "scheduled" };
        let mut rolled = 0;
        for id in ids {
            if region_id.is_none() {
                // the scheduled run passes over a region a transaction is busy with (holding
                // the regions it did, it must not wait): that region rolls over lazily at its
                // next budget call, or at the next run
                if !crate::locking::take_if_free(client, id)? {
                    continue;
                }
                if roll_locked(client, id, source)? {
                    rolled += 1;
                }
            } else {
                // a due period empties every slot: take them before the state row (again if a
                // slot row appeared meanwhile, see `locking::with_all_slots`)
                let roll = |client: &mut SpiClient<'_>| {
                    crate::locking::prelock_slots(client, id, crate::locking::Prelock::IfDue)?;
                    roll_locked(client, id, source)
                };
                if crate::locking::with_all_slots(client, roll)? {
                    rolled += 1;
                }
            }
        }
        Ok(rolled)
    })
}

/// Rolls a due period of a region over under its state row lock (every
/// slot emptied for it: the caller took them). Whether it was due.
fn roll_locked(client: &mut SpiClient<'_>, id: Uuid, source: &str) -> GResult<bool> {
    match lock_row(client, id)? {
        Some(facts) if facts.day_due || facts.month_due => {
            let facts = empty_slots(client, facts, crate::slots::Emptying::All)?;
            roll_if_due(client, facts, source)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The seed's manual daily reset: every region's spend of the day back to 0
/// now, starting a new day period. Returns the number of regions reset.
#[pg_extern(volatile, parallel_unsafe)]
pub fn reset_daily_budget_spend() -> GResult<i32> {
    with_writes(|client| {
        let ids = crate::region::all_ids(client, false)?;
        // every region, each with every slot emptied, never waiting long while holding some
        lock_every(client, &ids, Take::Whole)?;
        start_day(client, &ids, "manual")?;
        Ok(ids.len() as i32)
    })
}

/// The seed's manual monthly reset: every region's remaining budget back to
/// its monthly budget now (a `reset` ledger row per changed region), starting
/// a new budget period. Returns the number of regions reset.
#[pg_extern(volatile, parallel_unsafe)]
pub fn reset_monthly_budgets() -> GResult<i32> {
    with_writes(|client| {
        let ids = crate::region::all_ids(client, false)?;
        // every region, each with every slot emptied, never waiting long while holding some
        lock_every(client, &ids, Take::Whole)?;
        start_month(client, &ids, "manual")?;
        Ok(ids.len() as i32)
    })
}
