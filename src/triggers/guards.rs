//! Guards that make grse's records append-only and keep state rows and the
//! policy row in place. They hold for every role, the owner included, and
//! are `ENABLE ALWAYS` triggers, so `session_replication_role` does not turn
//! them off. Rows loaded from a dump in restore mode or by a logical
//! replication apply worker (see `crate::restore`) are let in as they come.

use crate::error::{internal, maintained_by_grse};
use crate::guard;
use crate::restore;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// On grse's records (the ledger, budget roll-overs, mode transitions):
/// INSERT only from grse itself; UPDATE, DELETE and TRUNCATE never.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.append_only_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'append_only_guard_wrapper';"
)]
fn append_only_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(append_only_guard_checked(trigger))
}
trigger_entry!("append_only_guard", append_only_guard_wrapper, pg_finfo_append_only_guard_wrapper => append_only_guard_fired_wrapper);

fn append_only_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    const HINT: &str = "grse's records are append-only: correct a budget mistake with a new refund or allocation through the grse budget functions.";
    let table = format!("grse.{}", trigger.table_name().map_err(internal)?);
    match trigger.op().map_err(internal)? {
        PgTriggerOperation::Insert if guard::is_internal() || restore::loading() => Ok(trigger.new()),
        PgTriggerOperation::Insert => Err(maintained_by_grse(
            format!("rows of {table} are written by grse functions only"),
            &format!("{HINT} {}", restore::RESTORE_HINT),
        )),
        op => {
            let verb = match op {
                PgTriggerOperation::Update => "UPDATE",
                PgTriggerOperation::Delete => "DELETE",
                _ => "TRUNCATE",
            };
            Err(maintained_by_grse(format!("{table} is append-only: {verb} is not allowed"), HINT))
        }
    }
}

/// The tuple a row-level BEFORE INSERT or UPDATE trigger is writing, with
/// its relation's id and descriptor.
fn written(trigger: &PgTrigger<'_>) -> (pg_sys::Oid, pg_sys::HeapTuple, pg_sys::TupleDesc) {
    let td = trigger.trigger_data();
    // SAFETY: a row-level trigger is firing: the relation and its tuples are valid.
    unsafe {
        let rel = td.tg_relation;
        let tuple = if pgrx::trigger_fired_by_update(td.tg_event) { td.tg_newtuple } else { td.tg_trigtuple };
        ((*rel).rd_id, tuple, (*rel).rd_att)
    }
}

/// On the ledger: [`append_only_guard`], and the ledger's row rules (see
/// `super::rules`) on every row inserted, a restored one included.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.ledger_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'ledger_guard_wrapper';"
)]
fn ledger_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(ledger_guard_checked(trigger))
}
trigger_entry!("ledger_guard", ledger_guard_wrapper, pg_finfo_ledger_guard_wrapper => ledger_guard_fired_wrapper);

fn ledger_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    appended_checked(trigger, super::rules::ledger)
}

/// [`append_only_guard`], with `check` on every row it lets in (from grse
/// itself or a restore).
fn appended_checked<'a>(
    trigger: &'a PgTrigger<'a>,
    check: RowCheck,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    let insert = pgrx::trigger_fired_by_insert(trigger.trigger_data().tg_event);
    if insert && (guard::is_internal() || restore::loading()) {
        let (relid, tuple, desc) = written(trigger);
        // SAFETY: the tuple being inserted into the trigger's relation, which `check` is for.
        unsafe { check(relid, tuple, desc)? };
        return Ok(trigger.new());
    }
    append_only_guard_checked(trigger)
}

/// On the mode transitions: [`append_only_guard`], and the transitions'
/// row rules (see `super::rules`) on every row inserted, a restored one included.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.transition_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'transition_guard_wrapper';"
)]
fn transition_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(transition_guard_checked(trigger))
}
trigger_entry!("transition_guard", transition_guard_wrapper, pg_finfo_transition_guard_wrapper => transition_guard_fired_wrapper);

fn transition_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    appended_checked(trigger, super::rules::transition)
}

/// On `grse.region_scaling_state`: DELETE and TRUNCATE are refused; a region
/// is retired by setting `grse.regions.active = false`.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.state_delete_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'state_delete_guard_wrapper';"
)]
fn state_delete_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(state_delete_guard_checked(trigger))
}
trigger_entry!("state_delete_guard", state_delete_guard_wrapper, pg_finfo_state_delete_guard_wrapper => state_delete_guard_fired_wrapper);

fn state_delete_guard_checked<'a>(
    _trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    Err(maintained_by_grse(
        "rows of grse.region_scaling_state cannot be deleted",
        "Deactivate the region with UPDATE grse.regions SET active = false.",
    ))
}

/// On the budget slots: [`internal_write_guard`], and the slots' row rules
/// (see `super::rules`) on every row written.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.slot_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'slot_guard_wrapper';"
)]
fn slot_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(slot_guard_checked(trigger))
}
trigger_entry!("slot_guard", slot_guard_wrapper, pg_finfo_slot_guard_wrapper => slot_guard_fired_wrapper);

fn slot_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    written_checked(trigger, super::rules::slot)
}

/// A tuple checker of `super::rules`: relation, tuple, descriptor.
type RowCheck = unsafe fn(pg_sys::Oid, pg_sys::HeapTuple, pg_sys::TupleDesc) -> crate::error::GResult<()>;

/// [`internal_write_guard`], then `check` on the row an INSERT or UPDATE writes.
fn written_checked<'a>(
    trigger: &'a PgTrigger<'a>,
    check: RowCheck,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    let out = internal_write_guard_checked(trigger)?;
    let event = trigger.trigger_data().tg_event;
    if pgrx::trigger_fired_by_insert(event) || pgrx::trigger_fired_by_update(event) {
        let (relid, tuple, desc) = written(trigger);
        // SAFETY: the tuple being written into the trigger's relation, which `check` is for.
        unsafe { check(relid, tuple, desc)? };
    }
    Ok(out)
}

/// On the job records: [`internal_write_guard`], and the jobs' row rules
/// (see `super::rules`) on every row written.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.job_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'job_guard_wrapper';"
)]
fn job_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(written_checked(trigger, super::rules::job))
}
trigger_entry!("job_guard", job_guard_wrapper, pg_finfo_job_guard_wrapper => job_guard_fired_wrapper);

/// On tables only grse writes (the budget slots, holds and jobs): INSERT, UPDATE, DELETE
/// and TRUNCATE from grse's own functions only.
#[pg_trigger(
    sql = "CREATE FUNCTION grse.internal_write_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'internal_write_guard_wrapper';"
)]
fn internal_write_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(internal_write_guard_checked(trigger))
}
trigger_entry!("internal_write_guard", internal_write_guard_wrapper, pg_finfo_internal_write_guard_wrapper => internal_write_guard_fired_wrapper);

fn internal_write_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    const HINT: &str = "Budget slots are filled and emptied by the grse budget functions; set their number with grse.set_budget_slots.";
    let op = trigger.op().map_err(internal)?;
    // a restore inserts the dumped rows; an apply worker replays the publisher's writes
    let loaded = match op {
        PgTriggerOperation::Insert => restore::loading(),
        PgTriggerOperation::Update | PgTriggerOperation::Delete => restore::replicating(),
        _ => false,
    };
    if guard::is_internal() || loaded {
        return Ok(match op {
            PgTriggerOperation::Delete => trigger.old(),
            _ => trigger.new(),
        });
    }
    let message =
        format!("rows of grse.{} are written by grse functions only", trigger.table_name().map_err(internal)?);
    Err(match op {
        PgTriggerOperation::Insert => maintained_by_grse(message, &format!("{HINT} {}", restore::RESTORE_HINT)),
        _ => maintained_by_grse(message, HINT),
    })
}
