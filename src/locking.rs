//! Locking a region's state row up to date: a due budget period rolled
//! over, expired holds and jobs swept, the budget slots emptied as the
//! caller needs. Every budget call takes its region's lock through here.
//!
//! Lock order, and why grse cannot deadlock on a region's rows: a
//! transaction waits for a budget slot row only in [`prelock_slots`], which
//! takes every slot of the region (in slot order) *before* the state row and
//! only while the transaction holds no row of that region. Everything that
//! holds a state row takes slots only without waiting (the free ones, `SKIP
//! LOCKED`, with any lock wait PostgreSQL still falls into cut short within
//! milliseconds and the statement made again: `shortwaits::skipping`; a slot
//! another transaction holds is left as it is, or, where every slot is
//! needed and was not taken first, refused with 55P03). So a
//! transaction waiting for a slot holds no row of the region, a transaction
//! holding the state row waits for no slot, and no cycle of waits can form
//! among one region's rows — but for a moment: the `SKIP LOCKED` of a state
//! row's holder can fall into a wait for a slot's holder (cut short within
//! milliseconds, see `shortwaits`), and if that slot's holder waits for the
//! state row (a refund after a slot spend), or for a slot another
//! transaction took in [`prelock_slots`] while that one waits for the state
//! row, a deadlock check run during that moment would find the cycle and
//! abort its own transaction. So every wait of a transaction that holds a
//! row of the region (a slot: `take_slots` holds the ones it took while it
//! waits for the next; `region::lock_row` and the pool spend when `held`
//! says so) is bounded too, to half of `deadlock_timeout`, and made again
//! when cut short (`shortwaits::bounded`): no backend ever reaches its
//! deadlock check while it holds a row of the region it waits for, and the
//! only waits that do (for a state row, holding nothing of its region) are
//! no part of a cycle among its rows. Transactions that touch several regions in
//! opposite orders can deadlock as they would on any rows (without slots
//! too); grse's own multi-region functions take regions in id order, and
//! never wait long while they hold some ([`lock_all`]).
//!
//! Two more rules keep [`lock_all`] from waiting while it holds regions: a
//! `SKIP LOCKED` try can still fall into a lock wait in PostgreSQL (see
//! `shortwaits`), so its tries run with lock waits cut short (the attempt
//! is undone and made again); and while it polls for a busy region it marks it
//! drained (`drain`), so that budget calls holding no row of the region
//! wait for the mark instead of taking the rows its holders give up.

use crate::error::{inactive_region, not_found, GResult, SpiResultExt};
use crate::region::lock_row;
use crate::shortwaits::{bounded, deadlock_ms, holding_ms, past_lock_timeout, until_through, with_short_waits};
use crate::slots::Emptying;
use crate::state::Locked;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::Uuid;

/// Empties a locked region's budget slots (if any may hold something)
/// into its state row: all of them, or the free ones (see [`Emptying`]).
/// Emptying all of them ends the region's automatic slots, if they are on
/// (see `slots::empty_into_state`), whether or not they hold budget now.
pub fn empty_slots(client: &mut SpiClient<'_>, mut facts: Locked, how: Emptying) -> GResult<Locked> {
    let held = facts.allotment > 0;
    if held || (how == Emptying::All && crate::policy::auto_slots_on(facts.region_id)?) {
        let e = crate::slots::empty_into_state(client, facts.region_id, facts.remaining, how, held)?;
        facts.remaining += e.balance;
        facts.period_spent += e.period_spent;
        facts.allotment = e.still_held;
        facts.row_version = None;
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

/// Whether [`prelock_slots`] must take the region's slots: the region has
/// slot rows (whether or not they hold budget now: one may be filled while
/// the caller waits for the state row), with [`Prelock::IfDue`] a budget
/// period is due, and this transaction holds no row of the region (grse
/// took none for it that it still holds, see `held`; and the version it sees
/// of each row was not written or locked by it), so nothing it holds can be
/// what a slot's holder waits for.
fn prelock_needed(client: &mut SpiClient<'_>, region_id: Uuid, when: Prelock) -> GResult<bool> {
    if crate::held::holds(region_id) {
        return Ok(false);
    }
    let t = crate::statements::run(client, BEFORE_LOCK_SQL, &[region_id.into()])?;
    if t.is_empty() {
        return Ok(false);
    }
    let row = t.first();
    let slotted = row.get_by_name::<bool, _>("slotted").or_internal()?.unwrap_or(false);
    let due = row.get_by_name::<bool, _>("due").or_internal()?.unwrap_or(false);
    if !slotted || (when == Prelock::IfDue && !due) {
        return Ok(false);
    }
    // rows taken other than through grse (an application's own `FOR UPDATE`)
    let xids = row.get_by_name::<Vec<i64>, _>("xids").or_internal()?.unwrap_or_default();
    // SAFETY: a plain check of the backend's own transaction state.
    let held = xids.iter().any(|x| {
        *x != 0 && unsafe { pg_sys::TransactionIdIsCurrentTransactionId(pg_sys::TransactionId::from_inner(*x as u32)) }
    });
    Ok(!held)
}

/// Takes every slot row of the region in slot order, waiting for spends in
/// flight — each wait bounded (`shortwaits::bounded`: the slots taken so
/// far are held meanwhile; a wait cut short undoes the caller's attempt,
/// which [`with_all_slots`] or [`lock_all`] makes again).
fn take_slots(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<()> {
    bounded("taking the budget slots", || {
        crate::statements::run(
            client,
            "SELECT slot_no FROM grse.region_budget_slots WHERE region_id = $1 ORDER BY slot_no FOR UPDATE",
            &[region_id.into()],
        )
        .map(drop)
    })?;
    crate::held::note(region_id);
    Ok(())
}

/// Takes every budget slot row of the region, in slot order, waiting for
/// spends in flight, before the caller locks its state row, so that
/// `Emptying::All` finds them all its own — only when [`prelock_needed`]
/// says so; otherwise it takes nothing and waits for nothing. Callers that
/// then empty every slot run in [`with_all_slots`] (or use
/// [`with_prelock`]), which takes them again if a slot row appeared after
/// this and another transaction took it.
pub fn prelock_slots(client: &mut SpiClient<'_>, region_id: Uuid, when: Prelock) -> GResult<()> {
    if prelock_needed(client, region_id, when)? {
        // a call collecting the region's rows goes first (see `drain`)
        crate::drain::wait_undrained(region_id);
        take_slots(client, region_id)?;
    }
    Ok(())
}

/// [`prelock_slots`], then `then` (which locks the state row and empties
/// every slot). When the slots were taken here and `then` finds one that
/// another transaction holds (a first filling of the region's slots created
/// it after the prelock), the attempt is undone — which releases everything
/// it locked, and this transaction held nothing of the region before it —
/// and made again, up to three times. Without a prelock (no slots, or rows
/// of the region held already) `then` runs once, with no subtransaction.
fn with_prelock<T>(
    client: &mut SpiClient<'_>,
    region_id: Uuid,
    when: Prelock,
    then: impl Fn(&mut SpiClient<'_>) -> GResult<T>,
) -> GResult<T> {
    if !prelock_needed(client, region_id, when)? {
        return then(client);
    }
    with_all_slots(client, |client| {
        prelock_slots(client, region_id, when)?;
        then(client)
    })
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
    with_prelock(client, region_id, Prelock::Always, |client| {
        lock_row(client, region_id)?.map(|facts| empty_slots(client, facts, Emptying::All)).transpose()
    })
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
        with_prelock(client, region_id, Prelock::IfDue, |client| bring_current(client, region_id))
    } else {
        bring_current(client, region_id)
    }
}

/// Locks the state row, rolls a due period over (every slot emptied) and
/// sweeps what expired (the free slots emptied).
fn bring_current(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
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

/// Takes the region's state row and every one of its slot rows if all are
/// free at once (`SKIP LOCKED`: never waits); false, with nothing kept,
/// when one is not. What the scheduled maintenance (roll-overs, the expiry
/// sweeper) uses to pass over a region a transaction is busy with (its next
/// budget call does the work lazily).
pub fn take_if_free(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<bool> {
    let outcome = with_short_waits(|waits| {
        // the caller may hold other regions: a wait the try falls into ends soon
        waits.end_by(std::time::Instant::now() + std::time::Duration::from_millis(attempt_ms()));
        let had = take_free(client, &[region_id], Take::Whole)?.len() == 1;
        Ok(if had { Ok(()) } else { Err(()) })
    })?;
    Ok(matches!(outcome, Some(Ok(()))))
}

/// How [`lock_all`] takes each region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// Up to date, as [`lock_current`]: due periods rolled over (every slot
    /// emptied for it), expired holds and jobs swept; the slots otherwise
    /// left as they are. What job migration needs.
    Current,
    /// As [`lock`]: every slot emptied into the state row, nothing rolled
    /// over or swept. What the manual resets need.
    Whole,
    /// The state row alone, as it is. What the monitor's refresh of every
    /// region and a policy change need.
    Row,
}

/// Of `regions` (sorted), those whose slot rows `take` needs: with
/// [`Take::Whole`] all, with [`Take::Current`] those with a budget period
/// due (rolling it over empties every slot), with [`Take::Row`] none.
fn needing_slots(client: &mut SpiClient<'_>, regions: &[Uuid], take: Take) -> GResult<Vec<Uuid>> {
    Ok(match take {
        Take::Whole => regions.to_vec(),
        // a roll-over moves the period ends forward only, so "not due" read unlocked stays true
        Take::Current => ids(crate::statements::run(
            client,
            "SELECT region_id FROM grse.region_scaling_state
              WHERE region_id = ANY ($1) AND (pg_catalog.now() >= day_ends_at OR pg_catalog.now() >= month_ends_at)",
            &[regions.to_vec().into()],
        )?)?,
        Take::Row => Vec::new(),
    })
}

/// The `region_id` column of every row.
fn ids(t: pgrx::spi::SpiTupleTable<'_>) -> GResult<Vec<Uuid>> {
    let mut out = Vec::with_capacity(t.len());
    for row in t {
        out.extend(row.get_by_name::<Uuid, _>("region_id").or_internal()?);
    }
    Ok(out)
}

/// Locks, of the slot rows of `regions`, those no other transaction holds
/// (`SKIP LOCKED`: never waits; rows this transaction holds already count as
/// its own) and returns the regions whose every slot row is now this
/// transaction's (a region without slot rows among them).
const SLOTS_FREE_SQL: &str = "WITH b AS (
       SELECT region_id FROM grse.region_budget_slots WHERE region_id = ANY ($1)
        ORDER BY region_id, slot_no FOR UPDATE SKIP LOCKED),
     got AS (SELECT region_id, count(*) AS n FROM b GROUP BY region_id),
     need AS (SELECT region_id, count(*) AS n FROM grse.region_budget_slots WHERE region_id = ANY ($1) GROUP BY region_id)
   SELECT u.region_id FROM unnest($1::uuid[]) AS u(region_id)
     LEFT JOIN need n ON n.region_id = u.region_id LEFT JOIN got g ON g.region_id = u.region_id
    WHERE COALESCE(n.n, 0) = COALESCE(g.n, 0)";

/// Locks the state rows of `regions` that no other transaction holds (`SKIP
/// LOCKED`: never waits) and returns their ids.
const ROWS_FREE_SQL: &str = "SELECT region_id FROM grse.region_scaling_state WHERE region_id = ANY ($1)
   ORDER BY region_id FOR UPDATE SKIP LOCKED";

/// One try at the rows `take` needs of `regions` (sorted; see
/// [`needing_slots`]), all of them in two statements: the free slot rows
/// first, then the state row of each region whose needed slots are all this
/// transaction's, if no other transaction holds it (`SKIP LOCKED`: never
/// waits). Returns the regions had completely (their state row is this
/// transaction's); rows taken for the others stay this transaction's (the
/// caller runs this in a subtransaction it rolls back if it gives up).
///
/// The slots come first, and the state row only once every slot needed is
/// this transaction's: a transaction holding one of the slots may be waiting
/// for the state row (a refund after a slot spend), and it can finish, and
/// give its slot up, only while this call does not hold that row.
fn take_free(client: &mut SpiClient<'_>, regions: &[Uuid], take: Take) -> GResult<Vec<Uuid>> {
    let slotted = needing_slots(client, regions, take)?;
    let ready: Vec<Uuid> = if slotted.is_empty() {
        regions.to_vec()
    } else {
        let slots_had = ids(crate::statements::run(client, SLOTS_FREE_SQL, &[slotted.clone().into()])?)?;
        regions.iter().copied().filter(|r| !slotted.contains(r) || slots_had.contains(r)).collect()
    };
    if ready.is_empty() {
        return Ok(ready);
    }
    let had = ids(crate::statements::run(client, ROWS_FREE_SQL, &[ready.into()])?)?;
    for r in &had {
        crate::held::note(*r);
    }
    Ok(had)
}

/// Calls `try_once` until it says true (then true) or `deadline` has passed
/// (then false), sleeping a millisecond between tries; it is always called
/// at least once. Never a wait in PostgreSQL's lock manager.
fn poll_until(deadline: std::time::Instant, mut try_once: impl FnMut() -> GResult<bool>) -> GResult<bool> {
    loop {
        if try_once()? {
            return Ok(true);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        // SAFETY: a plain sleep of this backend; interrupts are served right after it.
        unsafe { pg_sys::pg_usleep(1000) };
        pgrx::check_for_interrupts!();
    }
}

/// Brings the regions [`take_free`] (or the wait for the first region)
/// took up to date or empties their slots, as `take` says. Waits for
/// nothing: every row needed is this transaction's.
fn taken(client: &mut SpiClient<'_>, regions: &[Uuid], take: Take) -> GResult<()> {
    // a policy change that committed while this call waited must be the one it and the state
    // trigger judge by (see `region::lock_row`); none can commit while it holds the rows
    // SAFETY: processes pending shared invalidation messages, as any lock acquisition may.
    unsafe { pg_sys::AcceptInvalidationMessages() };
    match take {
        Take::Current => {
            for r in regions {
                bring_current(client, *r)?;
            }
        }
        Take::Whole => {
            // only the regions whose slots may hold something have anything to empty
            let filled = ids(crate::statements::run(
                client,
                "SELECT region_id FROM grse.region_scaling_state WHERE region_id = ANY ($1) AND slot_allotment > 0
                  ORDER BY region_id",
                &[regions.to_vec().into()],
            )?)?;
            for r in filled {
                let facts = lock_row(client, r)?.ok_or_else(|| not_found("region", r))?;
                empty_slots(client, facts, Emptying::All)?;
            }
        }
        Take::Row => {}
    }
    Ok(())
}

/// Locks several regions (as `take` says: see [`Take`]) so that this call
/// never waits long while it holds one of them. In an attempt, the regions
/// are taken as their rows are free (`SKIP LOCKED`: [`take_free`], all the
/// free ones at each try, tried again every millisecond), for at most
/// [`REGION_TRY_MS`] without progress in the first attempt (twice as long in
/// each next one) and never past the attempt's deadline ([`attempt_ms`]
/// after it began to hold regions: half of `deadlock_timeout`); if one is
/// not had by then, everything the attempt took is released (a
/// subtransaction rolled back: the rows are locked in it directly, so a
/// transaction that began to wait for one is woken), and the next attempt
/// first waits for that region (holding nothing of this call, as long as it
/// takes), keeps it, and takes the others the same way. A wait of this call
/// while it holds a region never lasts long enough for a cycle through it
/// to be reported as a deadlock: it gives way first. (The rows must be
/// locked in the attempt's subtransaction itself, not in a child of it that
/// committed into it: a waiter on a row of a committed subtransaction waits
/// for the whole transaction, and would not be woken by the attempt's
/// rollback.) No wait in PostgreSQL's lock manager while it holds a region
/// but one cut short within the attempt's deadline ([`ShortWaits`](crate::shortwaits::ShortWaits)): a
/// transaction that waits for a row this call holds began to wait
/// after this call took it (a row taken only when free is never handed over
/// from a queue of waiters), so its deadlock check comes `deadlock_timeout`
/// after that, when the attempt holding the row has ended. Waiting in the
/// lock queue instead (fair, and faster on rows others queue for) was tried
/// and dropped: a row handed to this call from the queue can have waiters
/// whose checks are due at once, and the stress of many calls that each hold
/// regions found such cycles (40P01).
///
/// What the functions that work on several regions in one call (job
/// migration, the manual resets, the monitor, a policy change) lock them
/// with. `regions` must be sorted and free of duplicates. After 100
/// attempts, 55P03.
pub fn lock_all(client: &mut SpiClient<'_>, regions: &[Uuid], take: Take) -> GResult<()> {
    const ATTEMPTS: usize = 100;
    let budget = std::time::Duration::from_millis(attempt_ms());
    let mut per_region = budget.min(std::time::Duration::from_millis(REGION_TRY_MS));
    let mut first: Option<Uuid> = None;
    let mut attempts = 0;
    // since when the attempts have been waiting for `first` (see below)
    let mut first_since = std::time::Instant::now();
    loop {
        // the first region not yet had, should a wait be cut short
        let pending = std::cell::Cell::new(first.or_else(|| regions.first().copied()));
        // whether the attempt is still waiting for `first`
        let on_first = std::cell::Cell::new(first.is_some());
        let outcome = with_short_waits(|waits| {
            if let Some(r) = first {
                // holding nothing of this call: waiting is safe (for the slots only if they are
                // needed); while it holds the slots taken, its waits are bounded (`take_slots`,
                // `region::lock_row`), and one cut short makes the attempt again
                match take {
                    Take::Current => prelock_slots(client, r, Prelock::IfDue)?,
                    Take::Whole => prelock_slots(client, r, Prelock::Always)?,
                    Take::Row => {}
                }
                lock_row(client, r)?;
                on_first.set(false);
                pending.set(regions.iter().copied().find(|x| *x != r));
            }
            // from here on this call holds regions: its tries, and any wait in them, end by
            // the deadline
            let deadline = std::time::Instant::now() + budget;
            let mut todo: Vec<Uuid> = regions.iter().copied().filter(|r| Some(*r) != first).collect();
            let mut progress = std::time::Instant::now();
            // the regions this attempt drains (marks, see `drain`) while it polls for them
            let mut marked: Vec<Uuid> = Vec::new();
            poll_until(deadline, || {
                waits.end_by(deadline);
                let had = take_free(client, &todo, take)?;
                if !had.is_empty() {
                    todo.retain(|r| !had.contains(r));
                    pending.set(todo.first().copied());
                    progress = std::time::Instant::now();
                }
                // the regions still busy: other calls keep off them meanwhile, so that the
                // rows their holders give up stay free; the mark goes once one is had
                marked.retain(|r| {
                    let had = !todo.contains(r);
                    if had {
                        crate::drain::unmark(*r);
                    }
                    !had
                });
                for r in todo.iter().take(MAX_MARKS) {
                    if !marked.contains(r) && crate::drain::mark(*r) {
                        marked.push(*r);
                    }
                }
                // no progress for the bound: give way (the poll's deadline ends it too)
                Ok(todo.is_empty() || std::time::Instant::now() >= progress + per_region)
            })?;
            if let Some(busy) = todo.first() {
                return Ok(Err(Some(*busy)));
            }
            // every row needed is this call's now: this waits for nothing
            match taken(client, regions, take) {
                Ok(()) => Ok(Ok(())),
                // a slot row appeared after the prelock; the message names its region
                Err(e) if crate::slots::is_slots_busy(&e) => {
                    Ok(Err(regions.iter().copied().find(|r| e.message().contains(&r.to_string()))))
                }
                Err(e) => Err(e),
            }
        })?;
        match outcome {
            Some(Ok(())) => return Ok(()),
            Some(Err(busy)) => first = busy,
            // the wait for the first region was cut short: as a single wait for it, which
            // ends only with the session's lock_timeout, it counts as no attempt
            None if on_first.get() => {
                past_lock_timeout(first_since, "taking the regions of this call")?;
                continue;
            }
            // a wait was cut short: wait for the region it was trying for first next time
            None => first = pending.get(),
        }
        first_since = std::time::Instant::now();
        attempts += 1;
        if attempts >= ATTEMPTS {
            return Err(crate::error::lock_not_available(
                "the regions of this call stayed busy with other transactions",
            )
            .set_detail(format!("{ATTEMPTS} attempts to take them all, never waiting long while holding one, failed."))
            .set_hint("Retry the call."));
        }
        // rows that stay busy longer than the bound: give them longer next time
        per_region = budget.min(per_region * 2);
    }
}

/// At most this many regions are marked drained (see `drain`) by one call
/// of [`lock_all`] at a time (each mark is an entry in the shared lock table).
const MAX_MARKS: usize = 64;

/// How long the first attempt of [`lock_all`] tries for one region while it
/// holds others (at most; never past the attempt's deadline; doubled in
/// each next attempt): long enough for a spend in flight to commit, short
/// enough that a region whose rows cannot come free while this call holds
/// the others (see [`lock_all`]) costs the other regions little.
const REGION_TRY_MS: u64 = 20;

/// How long an attempt of [`lock_all`] tries for regions while it holds
/// some: half of `deadlock_timeout` (at least 1 ms), so that before a
/// transaction that waits for a row the attempt holds reaches its own
/// deadlock check, the attempt has either given way (releasing the row) or
/// taken everything it needs and waits for nothing more.
fn attempt_ms() -> u64 {
    holding_ms()
}

/// The transaction-level advisory lock (the two-key form: `'grse'` in ASCII,
/// 1) by which the calls that lock every region take turns.
const EVERY_REGION_TURN: (i32, i32) = (0x6772_7365, 1);

/// Lets the calls that lock every region (the manual resets, `run_monitor`,
/// a policy change) take turns: waits until no other such call is in flight
/// (its transaction holds [`EVERY_REGION_TURN`]) and takes the turn, or, if
/// that takes longer than `deadlock_timeout`, goes on without it. Two of
/// them at once each hold part of the regions while they try for the rest,
/// and give way to each other over and over; one after the other, each is
/// done in a few tries. Only an optimisation: the turn is polled for
/// (`pg_try_advisory_xact_lock`, every millisecond), never waited for in the
/// lock manager, so it adds no edge to a cycle of lock waits, and a call that
/// does not get it is as correct as one that does ([`lock_all`] still takes
/// every region).
fn take_every_region_turn(client: &mut SpiClient<'_>) -> GResult<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(deadlock_ms());
    poll_until(deadline, || {
        let t = crate::statements::run(
            client,
            "SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2) AS got",
            &[EVERY_REGION_TURN.0.into(), EVERY_REGION_TURN.1.into()],
        )?;
        Ok(t.first().get_by_name::<bool, _>("got").or_internal()?.unwrap_or(false))
    })?;
    Ok(())
}

/// [`lock_all`] for the calls that lock every region (`regions` is every
/// region they work on), after their turn ([`take_every_region_turn`]).
pub fn lock_every(client: &mut SpiClient<'_>, regions: &[Uuid], take: Take) -> GResult<()> {
    take_every_region_turn(client)?;
    lock_all(client, regions, take)
}

/// Runs `body` — a call that takes every slot of a region before its state
/// row ([`prelock_slots`]) and then empties them all — in a subtransaction
/// that is undone and made again when a slot row appeared after its prelock
/// and another transaction took it (a first filling of the region's slots
/// raced it; up to three attempts, then the 55P03 stands), or when one of
/// its waits was cut short (see `shortwaits::bounded`: taking the slots one
/// after the other, and the state row while holding them, never waits long
/// enough for this backend to run a deadlock check; made again until the
/// rows come free, or the session's lock_timeout has passed). Undoing the
/// attempt releases everything it locked (taken in that subtransaction
/// itself), and this transaction held nothing of the region before it.
pub fn with_all_slots<T>(client: &mut SpiClient<'_>, body: impl Fn(&mut SpiClient<'_>) -> GResult<T>) -> GResult<T> {
    const BUSY_ATTEMPTS: usize = 3;
    let started = std::time::Instant::now();
    let mut busy = 0;
    loop {
        let last = busy + 1 >= BUSY_ATTEMPTS;
        let out = until_through("taking the region's rows", started, |_| match body(client) {
            Err(e) if !last && crate::slots::is_slots_busy(&e) => Ok(Err(())),
            other => other.map(Ok),
        })?;
        match out {
            Ok(v) => return Ok(v),
            Err(()) => busy += 1,
        }
    }
}
