//! Locking a region's state row up to date: a due budget period rolled
//! over, expired holds and jobs swept, the budget slots emptied as the
//! caller needs. Every budget call takes its region's lock through here.

use crate::error::{inactive_region, not_found, GResult};
use crate::region::lock_row;
use crate::slots::Emptying;
use crate::state::Locked;
use pgrx::spi::SpiClient;
use pgrx::Uuid;

/// Empties a locked region's budget slots (if any may hold something)
/// into its state row: all of them, or the free ones (see [`Emptying`]).
pub fn empty_slots(client: &mut SpiClient<'_>, mut facts: Locked, how: Emptying) -> GResult<Locked> {
    if facts.allotment > 0 {
        let e = crate::slots::empty_into_state(client, facts.region_id, facts.remaining, how)?;
        facts.remaining += e.balance;
        facts.period_spent += e.period_spent;
        facts.allotment = e.still_held;
    }
    Ok(facts)
}

/// Locks the region's state row and reads its facts; `None` if there is no
/// such region. Budget slots are emptied into the state row first (all of
/// them), so the facts (and the row) hold the whole remaining budget.
pub fn lock(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Option<Locked>> {
    lock_row(client, region_id)?.map(|facts| empty_slots(client, facts, Emptying::All)).transpose()
}

/// Locks an existing, active region's state row, with any due budget period
/// rolled over first (lazily, exactly once; all budget slots are emptied
/// for it). Otherwise the slots are left as they are: the callers decide
/// what to empty.
pub fn lock_active_keeping_slots(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
    let facts = lock_current(client, region_id)?;
    if !facts.active {
        return Err(inactive_region(region_id));
    }
    Ok(facts)
}

/// Locks an existing region's state row (active or not) and brings it up to
/// date: a due budget period rolled over, expired holds and jobs swept
/// (all budget slots are emptied for either). P0002 if there is no region.
pub fn lock_current(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
    let mut facts = lock_row(client, region_id)?.ok_or_else(|| not_found("region", region_id))?;
    if facts.day_due || facts.month_due {
        facts = empty_slots(client, facts, Emptying::All)?;
        facts = crate::periods::roll_if_due(client, facts, "lazy")?;
    }
    if facts.expiry_due {
        facts = empty_slots(client, facts, Emptying::All)?;
        facts = crate::expiry::sweep(client, facts)?.0;
    }
    Ok(facts)
}

/// Locks an existing region's state row up to date (see [`lock_current`])
/// with every budget slot emptied into it: the pool is the whole remaining
/// budget. What holds, jobs and keyed (idempotent) calls work on.
pub fn lock_whole(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
    let facts = lock_current(client, region_id)?;
    empty_slots(client, facts, Emptying::All)
}
