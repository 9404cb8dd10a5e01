//! Triggers on `grse.region_scaling_state`: every write recomputes the
//! derived scores and the mode in the writing transaction; a real mode change
//! (or a pin event) is recorded and announced with `NOTIFY grse_mode_changed`
//! by the same trigger, in the writing statement.

use super::row::{Changes, Col, Row};
use super::rules::{self, Derived};
use crate::clock::{now_us, timestamp_text};
use crate::convert::numeric;
use crate::error::{internal, maintained_by_grse, GResult, SpiResultExt};
use crate::guard;
use crate::modes::TransitionCause;
use crate::policy;
use grse_core::evaluate::{evaluate_from, Evaluation, RegionMetrics};
use grse_core::hysteresis::{ModeDecision, ModeState, Pin};
use grse_core::mode::Mode;
use grse_core::pressure::Pressures;
use grse_core::slots::{holds_steady, judged_budget};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// Columns only grse's own functions may change (besides region_id and fatigue).
const GUARDED_INT8: [Col; 17] = [
    Col::Allotment,
    Col::AutoUntil,
    Col::AutoOff,
    Col::Held,
    Col::NextExpiry,
    Col::Monthly,
    Col::Remaining,
    Col::SpendToday,
    Col::RefundedToday,
    Col::PeriodSpent,
    Col::PeriodRefunded,
    Col::DayMark,
    Col::MonthMark,
    Col::DayStart,
    Col::DayEnd,
    Col::MonthStart,
    Col::MonthEnd,
];

fn check_guarded_columns(old: &Row, new: &Row) -> GResult<()> {
    const HINT: &str = "Use grse.check_and_decrement_budget, grse.refund_budget, grse.set_monthly_budget or the reset functions; fatigue is refreshed by grse.update_scaling_mode.";
    let refuse = |c: Col| {
        let name = NAME_OF(c);
        maintained_by_grse(format!("column {name} of grse.region_scaling_state is maintained by grse"), HINT)
    };
    // NULL-safe: a NULL (or NaN) written into a guarded column is refused as a change
    if old.opt_uuid_bytes(Col::RegionId) != new.opt_uuid_bytes(Col::RegionId) {
        return Err(refuse(Col::RegionId));
    }
    for c in GUARDED_INT8 {
        if old.opt_int8(c) != new.opt_int8(c) {
            return Err(refuse(c));
        }
    }
    if old.score(Col::Fatigue).ok() != new.score(Col::Fatigue).ok() {
        return Err(refuse(Col::Fatigue));
    }
    if old.raw(Col::JobsManual) != new.raw(Col::JobsManual) {
        return Err(refuse(Col::JobsManual));
    }
    if old.raw(Col::RegionActive) != new.raw(Col::RegionActive) {
        return Err(maintained_by_grse(
            "column region_active of grse.region_scaling_state is maintained by grse",
            "It copies grse.regions.active: UPDATE grse.regions SET active = false (or true) changes both.",
        ));
    }
    if old.raw(Col::BudgetSlots) != new.raw(Col::BudgetSlots) {
        return Err(maintained_by_grse(
            "column budget_slots of grse.region_scaling_state is maintained by grse",
            "Use grse.set_budget_slots(region_id, slots).",
        ));
    }
    for (c, name) in [(Col::PinnedUntil, "pinned_until"), (Col::PinnedAt, "pinned_at")] {
        if old.opt_int8(c) != new.opt_int8(c) {
            return Err(pin_maintained(name));
        }
    }
    for (c, name) in [(Col::PinnedMode, "pinned_mode"), (Col::PinReason, "pin_reason")] {
        if old.opt_text(c)? != new.opt_text(c)? {
            return Err(pin_maintained(name));
        }
    }
    Ok(())
}

fn pin_maintained(name: &str) -> ErrorReport {
    maintained_by_grse(
        format!("column {name} of grse.region_scaling_state is maintained by grse"),
        "Use grse.pin_scaling_mode(region_id, mode, until, reason) and grse.unpin_scaling_mode(region_id).",
    )
}

#[allow(non_snake_case)]
fn NAME_OF(c: Col) -> &'static str {
    match c {
        Col::RegionId => "region_id",
        Col::Monthly => "ai_budget_monthly",
        Col::Remaining => "ai_budget_remaining",
        Col::SpendToday => "ai_spend_today",
        Col::RefundedToday => "refunded_today",
        Col::PeriodSpent => "period_spent",
        Col::PeriodRefunded => "period_refunded",
        Col::DayMark => "day_ledger_mark",
        Col::MonthMark => "month_ledger_mark",
        Col::DayStart => "day_started_at",
        Col::DayEnd => "day_ends_at",
        Col::MonthStart => "month_started_at",
        Col::MonthEnd => "month_ends_at",
        Col::Fatigue => "fatigue_score",
        Col::Allotment => "slot_allotment",
        Col::Held => "ai_budget_held",
        Col::NextExpiry => "next_expiry_at",
        Col::JobsManual => "jobs_queued_manually",
        Col::AutoUntil => "auto_slots_until",
        Col::AutoOff => "auto_slots_off_until",
        _ => "a derived column",
    }
}

/// Reads a state row's metrics.
fn metrics(row: &Row) -> GResult<RegionMetrics> {
    Ok(RegionMetrics {
        pressures: Pressures {
            posting: row.score(Col::Posting)?,
            orchestration: row.score(Col::Orchestration)?,
            creative: row.score(Col::Creative)?,
            intel: row.score(Col::Intel)?,
        },
        fatigue: row.score(Col::Fatigue)?,
        budget_remaining: row.int8(Col::Remaining)?,
        budget_monthly: row.int8(Col::Monthly)?,
    })
}

fn stored_mode(row: &Row) -> GResult<Mode> {
    let text = row.text(Col::Mode)?;
    Mode::parse(&text).ok_or_else(|| internal(format!("unknown stored mode {text}")))
}

/// The pin a state row carries (whether or not it has ended).
fn pin_of(row: &Row) -> GResult<Option<Pin>> {
    Ok(match row.opt_text(Col::PinnedMode)? {
        Some(text) => Some(Pin {
            mode: Mode::parse(&text).ok_or_else(|| internal(format!("unknown pinned mode {text}")))?,
            until_us: row.opt_int8(Col::PinnedUntil),
        }),
        None => None,
    })
}

/// Where a write to a state row judges the mode from: the mode the row is
/// in (`old`) and the pin it is written with (`new`).
fn mode_state(old: &Row, new: &Row) -> GResult<ModeState> {
    Ok(ModeState { mode: stored_mode(old)?, since_us: old.int8(Col::ModeSince)?, pin: pin_of(new)? })
}

/// The evaluation of a region whose pool is `m.budget_remaining` and whose
/// slots were handed `allotment`: judged at pool and slots when spending the
/// slots cannot change the judgement (the scores as of that handing out;
/// reads compute the live capacity), else at the pool alone (slots other
/// transactions hold could hide a change: the cautious side until they are
/// back, see `grse_core::slots::judged_budget`); the mode judged from
/// `state` (hysteresis, pins).
fn as_filled(
    policy: &grse_core::Policy,
    m: &RegionMetrics,
    allotment: i64,
    state: Option<&ModeState>,
) -> (Evaluation, ModeDecision) {
    let judged = RegionMetrics { budget_remaining: judged_budget(policy, m, allotment), ..*m };
    evaluate_from(policy, &judged, state, now_us())
}

/// BEFORE INSERT OR UPDATE: guard grse-maintained columns, then recompute
/// overall_pressure, capacity_score, scaling_mode, warning_index, mode_since
/// and updated_at from the row being written.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.state_before_write() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'state_before_write_wrapper';"
)]
fn state_before_write_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(state_before_write_checked(trigger))
}
crate::triggers::trigger_entry!("state_before_write", state_before_write_wrapper, pg_finfo_state_before_write_wrapper => state_before_write_fired_wrapper);

fn state_before_write_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    let td = trigger.trigger_data();
    // SAFETY: a row-level BEFORE trigger of grse.region_scaling_state is firing:
    // the relation, its descriptor and the trigger tuples are valid.
    unsafe {
        let rel = td.tg_relation;
        let relid = (*rel).rd_id;
        let desc = (*rel).rd_att;
        let is_update = pgrx::trigger_fired_by_update(td.tg_event);
        let new_tuple = if is_update { td.tg_newtuple } else { td.tg_trigtuple };
        let new = Row::deform(relid, new_tuple, desc)?;
        let old = if is_update { Some(Row::deform(relid, td.tg_trigtuple, desc)?) } else { None };
        if !guard::is_internal() {
            match &old {
                // a state row restored from a dump is taken as it was dumped
                None if crate::restore::restoring() => {
                    rules::state(&new, None, &Changes::default(), &metrics(&new)?, Derived::Stored)?;
                    return Ok(trigger.new());
                }
                None => {
                    return Err(maintained_by_grse(
                        "rows of grse.region_scaling_state are created by grse",
                        &format!(
                            "Insert into grse.regions: its state row is created with it. {}",
                            crate::restore::RESTORE_HINT
                        ),
                    ))
                }
                Some(old) => check_guarded_columns(old, &new)?,
            }
        }
        // this transaction holds the row from now on (see `held`)
        if let Ok(id) = new.uuid_bytes(Col::RegionId) {
            crate::held::note(pgrx::Uuid::from_bytes(id));
        }
        let policy = policy::current()?;
        let mut m = metrics(&new)?;
        let mut changes = Changes::default();
        if let (Some(old), false) = (&old, guard::is_internal()) {
            queue_write(old, &new, &mut changes)?;
        }
        let mut allotment = new.int8(Col::Allotment)?;
        if !holds_steady(&policy, &m, allotment) {
            allotment = empty_slots(&old, &new, &mut m, &mut changes)?;
        }
        let state = old.as_ref().map(|old| mode_state(old, &new)).transpose()?;
        let (d, decision) = as_filled(&policy, &m, allotment, state.as_ref());
        let now = pgrx::datetime::now().into_datum();
        let mode_changed = match &state {
            Some(state) => state.mode != d.mode,
            None => true,
        };
        changes.set_score(&new, Col::OverallPressure, d.overall_pressure);
        changes.set_score(&new, Col::Capacity, d.capacity);
        changes.set_score(&new, Col::Warning, d.warning_index);
        changes.set(&new, Col::Mode, d.mode.as_str().into_datum())?;
        changes.set(&new, Col::UpdatedAt, now)?;
        changes.set_nullable(&new, Col::HeldUntil, decision.held_until().map(pg_sys::Datum::from));
        if decision.pin_expired {
            // the pin has ended: cleared by the first write after it (the AFTER trigger records it)
            for c in [Col::PinnedMode, Col::PinnedUntil, Col::PinReason, Col::PinnedAt] {
                changes.set_nullable(&new, c, None);
            }
        }
        match &old {
            _ if mode_changed => changes.set(&new, Col::ModeSince, now)?,
            Some(old) => changes.set(&new, Col::ModeSince, Some(old.datum(Col::ModeSince)?))?,
            None => {}
        }
        rules::state(&new, old.as_ref(), &changes, &m, Derived::Computed(&d))?;
        let pinned_at = pinned_at_after(&new, &decision);
        let (tuple, stored) = changes.apply(new, new_tuple, desc);
        if let Some(old) = &old {
            if mode_changed || old.opt_int8(Col::PinnedAt) != pinned_at {
                record_change(old, &stored, (*rel).rd_rel.as_ref().map(|r| r.relowner))?;
            }
        }
        Ok(Some(PgHeapTuple::from_heap_tuple(pgrx::PgTupleDesc::from_pg_unchecked(desc), tuple)))
    }
}

/// A write of `jobs_in_queue` from outside grse (an app counting its own
/// jobs, `update_job_queue`) moves the manual part of the count only: the
/// jobs with records (queued or running) stay counted, so the count never
/// drops below them, and jobs_in_queue = records + jobs_queued_manually.
fn queue_write(old: &Row, new: &Row, changes: &mut Changes) -> GResult<()> {
    let int4 = |r: &Row, c: Col| -> GResult<i64> { Ok(i64::from(r.datum(c)?.value() as i32)) };
    let (old_total, new_total) = (int4(old, Col::JobsInQueue)?, int4(new, Col::JobsInQueue)?);
    if old_total == new_total {
        return Ok(());
    }
    let manual = int4(old, Col::JobsManual)?;
    let records = (old_total - manual).max(0);
    let manual = (manual + new_total - old_total).clamp(0, i64::from(i32::MAX) - records);
    changes.set(new, Col::JobsManual, (manual as i32).into_datum())?;
    changes.set(new, Col::JobsInQueue, ((records + manual) as i32).into_datum())?;
    Ok(())
}

/// A metric write would make the region's budget slots hide a change of its
/// mode or conditions (it moved the floor above the pool): the free slots
/// are emptied into the row (never waiting for one another transaction
/// holds). Returns the new allotment; if it can still hide a change, the
/// region is judged by its pool alone until those slots are back (see
/// [`as_filled`]). A budget write of grse's own (the budget functions empty
/// the free slots themselves) is left as it is.
fn empty_slots(old: &Option<Row>, new: &Row, m: &mut RegionMetrics, changes: &mut Changes) -> GResult<i64> {
    let budget_unchanged = old.as_ref().is_some_and(|old| {
        old.int8(Col::Remaining).ok() == new.int8(Col::Remaining).ok()
            && old.int8(Col::Allotment).ok() == new.int8(Col::Allotment).ok()
    });
    if !budget_unchanged {
        return new.int8(Col::Allotment);
    }
    let region_id = pgrx::Uuid::from_bytes(new.uuid_bytes(Col::RegionId)?);
    let pool = new.int8(Col::Remaining)?;
    // [balance, spent_today, period_spent, still_held]
    let back = empty_through_owner(region_id, pool)?;
    m.budget_remaining = pool + back[0];
    changes.set(new, Col::Remaining, m.budget_remaining.into_datum())?;
    changes.set(new, Col::SpendToday, (new.int8(Col::SpendToday)? + back[1]).into_datum())?;
    changes.set(new, Col::PeriodSpent, (new.int8(Col::PeriodSpent)? + back[2]).into_datum())?;
    changes.set(new, Col::Allotment, back[3].into_datum())?;
    Ok(back[3])
}

/// Empties slots through a SECURITY DEFINER function: the writer of the
/// metrics may not write slots or the ledger.
fn empty_through_owner(region_id: pgrx::Uuid, pool: i64) -> GResult<[i64; 4]> {
    let v = guard::internally(|| {
        Spi::connect_mut(|client| {
            client
                .update(
                    "SELECT grse.empty_budget_slots_internal($1, $2, false)",
                    Some(1),
                    &[region_id.into(), pool.into()],
                )
                .or_internal()?
                .first()
                .get_one::<Vec<i64>>()
                .or_internal()
        })
    })?;
    match v.as_deref() {
        Some(&[a, b, c, d]) => Ok([a, b, c, d]),
        _ => Err(crate::error::internal("emptying the budget slots returned nothing")),
    }
}

/// The C function of the AFTER trigger (`grse.state_after_mode_change()`)
/// that grse 0.1.0 and 0.2.0 created. This library keeps it so that their
/// install and upgrade scripts, which bind the function to it, still run;
/// the 0.3.0 upgrade drops the trigger and the function. It does nothing:
/// `state_before_write` records mode changes itself now.
#[no_mangle]
#[doc(hidden)]
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn state_after_mode_change_wrapper(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    crate::triggers::require_trigger_manager(fcinfo, "state_after_mode_change");
    // an AFTER trigger's result is ignored
    pg_sys::Datum::from(0usize)
}

#[no_mangle]
#[doc(hidden)]
pub extern "C" fn pg_finfo_state_after_mode_change_wrapper() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// The `pinned_at` a write stores: the one written, unless the pin has
/// ended and this write clears it.
fn pinned_at_after(new: &Row, decision: &ModeDecision) -> Option<i64> {
    if decision.pin_expired {
        None
    } else {
        new.opt_int8(Col::PinnedAt)
    }
}

/// A write that changed the mode or the pin (`old` the row before, `new`
/// the row as it will be stored): a region_mode_transitions row and NOTIFY
/// grse_mode_changed, written in the writing statement (as the owner of
/// the state table, `owner`: the writer of the metrics may not write the
/// transitions), with the reason of the judgement the row is stored with.
fn record_change(old: &Row, new: &Row, owner: Option<pg_sys::Oid>) -> GResult<()> {
    let policy = policy::current()?;
    let (d, decision) = as_filled(&policy, &metrics(new)?, new.int8(Col::Allotment)?, Some(&mode_state(old, new)?));
    let from = stored_mode(old)?;
    let to = stored_mode(new)?;
    let rule = grse_core::hysteresis::reason(&policy, &decision, d.capacity, d.overall_pressure);
    let (old_pin, new_pin) = (old.opt_int8(Col::PinnedAt), new.opt_int8(Col::PinnedAt));
    let (cause, reason) = if new_pin.is_some() && new_pin != old_pin {
        let mut reason = String::from("pinned by operator");
        if let Some(until) = new.opt_int8(Col::PinnedUntil) {
            reason.push_str(&format!(" until {}", timestamp_text(until)?));
        }
        if let Some(why) = new.opt_text(Col::PinReason)? {
            reason.push_str(&format!(": {why}"));
        }
        (TransitionCause::Pin, reason)
    } else if old_pin.is_some() && new_pin.is_none() {
        let (cause, mut reason) = match old.opt_int8(Col::PinnedUntil).filter(|until| *until <= now_us()) {
            Some(until) => (TransitionCause::PinExpired, format!("pin expired at {}", timestamp_text(until)?)),
            None => (TransitionCause::Unpin, String::from("unpinned by operator")),
        };
        if let Some(why) = old.opt_text(Col::PinReason)? {
            reason.push_str(&format!(" (pinned: {why})"));
        }
        if from != to {
            reason.push_str(&format!("; {rule}"));
        }
        (cause, reason)
    } else {
        let mut reason = rule;
        if let Some(held) = old.opt_int8(Col::HeldUntil).filter(|_| to < from) {
            reason.push_str(&format!("; held by dwell until {}", timestamp_text(held)?));
        }
        (TransitionCause::Metrics, reason)
    };
    let region_id = pgrx::Uuid::from_bytes(new.uuid_bytes(Col::RegionId)?);
    let owner = owner.ok_or_else(|| internal("the state table has no owner"))?;
    record_transition(region_id, from, to, &d, &reason, cause, owner)
}

/// SQL: records a mode change (or a pin event).
macro_rules! transition_insert_sql {
    () => {
        "INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason, cause)
       VALUES ($1, $2, $3, $4, $5, $6, $7)"
    };
}

/// Records a mode change (or a pin event) and announces it (NOTIFY grse_mode_changed).
const TRANSITION_SQL: &str = concat!(
    "WITH t AS (",
    transition_insert_sql!(),
    "
       RETURNING region_id, from_mode, to_mode, capacity, pressure, reason, cause, created_at)
     SELECT pg_catalog.pg_notify('grse_mode_changed', pg_catalog.json_build_object(
              'region_id', region_id, 'from', from_mode, 'to', to_mode,
              'capacity', capacity, 'pressure', pressure, 'reason', reason, 'cause', cause,
              'at', created_at)::text)
     FROM t"
);

/// Records a mode change without announcing it (`grse.notify_mode_changes` off).
const TRANSITION_QUIET_SQL: &str = transition_insert_sql!();

const TRANSITION_TYPES: [pgrx::PgOid; 7] = [
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::UUIDOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::TEXTOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::TEXTOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::NUMERICOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::NUMERICOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::TEXTOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::TEXTOID),
];

fn record_transition(
    region_id: pgrx::Uuid,
    from: Mode,
    to: Mode,
    d: &Evaluation,
    reason: &str,
    cause: TransitionCause,
    owner: pg_sys::Oid,
) -> GResult<()> {
    let args = [
        region_id.into(),
        from.as_str().into(),
        to.as_str().into(),
        numeric(d.capacity)?.into(),
        numeric(d.overall_pressure)?.into(),
        reason.into(),
        cause.as_str().into(),
    ];
    guard::internally(|| {
        as_user(owner, || {
            Spi::connect_mut(|client| {
                let sql =
                    if crate::notifications::mode_changes_announced() { TRANSITION_SQL } else { TRANSITION_QUIET_SQL };
                crate::statements::execute(client, sql, &TRANSITION_TYPES, &args).map(|_| ())
            })
        })
    })
}

/// Runs `f` with `user` as the current user, as PostgreSQL's own foreign-key
/// checks do (`SECURITY_LOCAL_USERID_CHANGE`: SET ROLE is refused meanwhile);
/// an ERROR inside is cleaned up by the (sub)transaction's abort, which
/// restores the user.
fn as_user<T>(user: pg_sys::Oid, f: impl FnOnce() -> T) -> T {
    let (mut saved_user, mut saved_context) = (pg_sys::Oid::INVALID, 0i32);
    // SAFETY: reads and sets this backend's current user, as ri_triggers.c does.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut saved_user, &mut saved_context);
        pg_sys::SetUserIdAndSecContext(user, saved_context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    let out = f();
    // SAFETY: as above.
    unsafe { pg_sys::SetUserIdAndSecContext(saved_user, saved_context) };
    out
}
