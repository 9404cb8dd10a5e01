//! Locking a region's state row up to date: a due budget period rolled
//! over, expired holds and jobs swept, the budget slots emptied as the
//! caller needs. Every budget call takes its region's lock through here.
//!
//! Lock order, and why grse cannot deadlock on a region's rows: a
//! transaction waits for a budget slot row only in [`prelock_slots`], which
//! takes every slot of the region (in slot order) *before* the state row and
//! only while the transaction holds no row of that region. Everything that
//! holds a state row takes slots only without waiting (the free ones, `SKIP
//! LOCKED`; a slot another transaction holds is left as it is, or, where
//! every slot is needed and was not taken first, refused with 55P03). So a
//! transaction waiting for a slot holds no row of the region, a transaction
//! holding the state row waits for no slot, and no cycle of waits can form
//! among one region's rows. Transactions that touch several regions in
//! opposite orders can deadlock as they would on any rows (without slots
//! too); grse's own multi-region functions take regions in id order.

use crate::error::{inactive_region, not_found, GResult, SpiResultExt};
use crate::region::lock_row;
use crate::slots::Emptying;
use crate::state::Locked;
use pgrx::prelude::*;
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

/// When [`prelock_slots`] takes a region's slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prelock {
    /// Whenever they may hold budget: the caller needs every slot.
    Always,
    /// Only if a budget period is due (the lazy roll-over needs every slot).
    IfDue,
}

const BEFORE_LOCK_SQL: &str =
    "SELECT EXISTS (SELECT 1 FROM grse.region_budget_slots b WHERE b.region_id = s.region_id) AS slotted,
        (pg_catalog.now() >= s.day_ends_at OR pg_catalog.now() >= s.month_ends_at) AS due,
        ARRAY[s.xmin::text::bigint, s.xmax::text::bigint]
          || ARRAY(SELECT x FROM grse.region_budget_slots b,
                          LATERAL unnest(ARRAY[b.xmin::text::bigint, b.xmax::text::bigint]) AS u(x)
                    WHERE b.region_id = s.region_id) AS xids
   FROM grse.region_scaling_state s WHERE s.region_id = $1";

/// Takes every budget slot row of the region, in slot order, waiting for
/// spends in flight, before the caller locks its state row, so that
/// `Emptying::All` finds them all its own. Only when the region has slot
/// rows (whether or not they hold budget now: one may be filled while the
/// caller waits for the state row) and, with [`Prelock::IfDue`], a period
/// is due; and only while this transaction holds no row of the region (it
/// wrote or locked none: the version it sees of each was not written or
/// locked by it), so nothing it holds can be what a slot's holder waits
/// for. Otherwise it takes nothing and waits for nothing.
pub fn prelock_slots(client: &mut SpiClient<'_>, region_id: Uuid, when: Prelock) -> GResult<()> {
    let t = client.update(BEFORE_LOCK_SQL, Some(1), &[region_id.into()]).or_internal()?;
    if t.is_empty() {
        return Ok(());
    }
    let row = t.first();
    let slotted = row.get_by_name::<bool, _>("slotted").or_internal()?.unwrap_or(false);
    let due = row.get_by_name::<bool, _>("due").or_internal()?.unwrap_or(false);
    if !slotted || (when == Prelock::IfDue && !due) {
        return Ok(());
    }
    let xids = row.get_by_name::<Vec<i64>, _>("xids").or_internal()?.unwrap_or_default();
    // SAFETY: a plain check of the backend's own transaction state.
    let held = xids.iter().any(|x| {
        *x != 0 && unsafe { pg_sys::TransactionIdIsCurrentTransactionId(pg_sys::TransactionId::from_inner(*x as u32)) }
    });
    if held {
        return Ok(());
    }
    client
        .update(
            "SELECT slot_no FROM grse.region_budget_slots WHERE region_id = $1 ORDER BY slot_no FOR UPDATE",
            None,
            &[region_id.into()],
        )
        .or_internal()?;
    Ok(())
}

/// Whether the region may have budget slots, so that [`prelock_slots`]
/// has anything to look at (a cached answer: no query).
fn may_have_slots(region_id: Uuid) -> GResult<bool> {
    Ok(crate::policy::budget_slots(region_id)? > 1)
}

/// Locks the region's state row and reads its facts; `None` if there is no
/// such region. Budget slots are emptied into the state row first (all of
/// them, taken before the state row: see [`prelock_slots`]), so the facts
/// (and the row) hold the whole remaining budget.
pub fn lock(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Option<Locked>> {
    prelock_slots(client, region_id, Prelock::Always)?;
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
/// date: a due budget period rolled over (every budget slot emptied for it,
/// taken before the state row), expired holds and jobs swept (the free slots
/// emptied). P0002 if there is no region.
pub fn lock_current(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
    if may_have_slots(region_id)? {
        prelock_slots(client, region_id, Prelock::IfDue)?;
    }
    let mut facts = lock_row(client, region_id)?.ok_or_else(|| not_found("region", region_id))?;
    if facts.day_due || facts.month_due {
        facts = empty_slots(client, facts, Emptying::All)?;
        facts = crate::periods::roll_if_due(client, facts, "lazy")?;
    }
    if facts.expiry_due {
        facts = empty_slots(client, facts, Emptying::Free)?;
        facts = crate::expiry::sweep(client, facts)?.0;
    }
    Ok(facts)
}

/// Locks an existing region's state row up to date (see [`lock_current`])
/// with every budget slot emptied into it (taken before the state row: see
/// [`prelock_slots`]): the pool is the whole remaining budget. What job
/// migration and keyed (idempotent) calls work on.
pub fn lock_whole(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
    prelock_slots(client, region_id, Prelock::Always)?;
    let facts = lock_current(client, region_id)?;
    empty_slots(client, facts, Emptying::All)
}

/// Takes the region's state row and every one of its slot rows if all are
/// free at once (`SKIP LOCKED`: never waits); false, with nothing kept,
/// when one is not. What the scheduled maintenance (roll-overs, the expiry
/// sweeper) uses to pass over a region a transaction is busy with (its next
/// budget call does the work lazily).
pub fn take_if_free(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<bool> {
    let sub = crate::subxact::SubXact::begin();
    if take_at_once(client, region_id)? {
        sub.commit();
        Ok(true)
    } else {
        sub.rollback();
        Ok(false)
    }
}

/// Whether this transaction could take the region's state row and every one
/// of its slot rows at once, and took them (`SKIP LOCKED`: never waits).
/// Rows taken before a `false` are the caller's to release (it runs this in
/// a subtransaction it rolls back).
fn take_at_once(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<bool> {
    let t = client
        .update(
            "WITH s AS (SELECT region_id FROM grse.region_scaling_state WHERE region_id = $1 FOR UPDATE SKIP LOCKED),
                  b AS (SELECT slot_no FROM grse.region_budget_slots WHERE region_id = $1 ORDER BY slot_no
                        FOR UPDATE SKIP LOCKED)
             SELECT (SELECT count(*) FROM s) = 1
                    AND (SELECT count(*) FROM b) = (SELECT count(*) FROM grse.region_budget_slots WHERE region_id = $1)
                    AS taken",
            Some(1),
            &[region_id.into()],
        )
        .or_internal()?;
    Ok(t.first().get_by_name::<bool, _>("taken").or_internal()?.unwrap_or(false))
}

/// Locks several regions up to date with every slot emptied (as
/// [`lock_whole`] each, in id order) without ever waiting while this call
/// holds one of them: each is taken only if it is free at once; if one is
/// not, everything this call took is released, it waits for that region
/// alone (holding nothing), and starts again. What a function that works on
/// several regions in one call (job migration) locks them with, so it
/// cannot close a cycle with a transaction that holds one of them and waits
/// for another. `regions` must be sorted and free of duplicates.
pub fn lock_whole_all(client: &mut SpiClient<'_>, regions: &[Uuid]) -> GResult<Vec<Locked>> {
    const ATTEMPTS: usize = 20;
    for _ in 0..ATTEMPTS {
        let sub = crate::subxact::SubXact::begin();
        let mut busy = None;
        for r in regions {
            if !take_at_once(client, *r)? {
                busy = Some(*r);
                break;
            }
        }
        match busy {
            None => {
                sub.commit();
                return regions.iter().map(|r| lock_whole(client, *r)).collect();
            }
            Some(r) => {
                sub.rollback();
                // wait until that region is free, holding nothing of this call
                let wait = crate::subxact::SubXact::begin();
                prelock_slots(client, r, Prelock::Always)?;
                lock_row(client, r)?;
                wait.rollback();
            }
        }
    }
    // still contended after that many rounds: take them in id order, waiting
    regions.iter().map(|r| lock_whole(client, *r)).collect()
}

/// Runs `body` — a call that takes every slot of a region before its state
/// row ([`prelock_slots`]) and then empties them all — again if a slot row
/// appeared after its prelock and another transaction took it (a first
/// filling of the region's slots raced it): the attempt is undone, which
/// releases everything it locked, and the next one takes the new rows too.
/// Up to three attempts; then the 55P03 stands.
pub fn with_all_slots<T>(client: &mut SpiClient<'_>, body: impl Fn(&mut SpiClient<'_>) -> GResult<T>) -> GResult<T> {
    const ATTEMPTS: usize = 3;
    for attempt in 1..=ATTEMPTS {
        let sub = crate::subxact::SubXact::begin();
        match body(client) {
            Err(e) if attempt < ATTEMPTS && crate::slots::is_slots_busy(&e) => sub.rollback(),
            Ok(v) => {
                sub.commit();
                return Ok(v);
            }
            Err(e) => {
                sub.rollback();
                return Err(e);
            }
        }
    }
    unreachable!("the last attempt returns")
}
