//! Guards that make grse's records append-only and keep state rows and the
//! policy row in place. They hold for every role, the owner included, and
//! are `ENABLE ALWAYS` triggers, so `session_replication_role` does not turn
//! them off.

use crate::error::{internal, maintained_by_grse};
use crate::guard;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// On grse's records (the ledger, budget roll-overs, mode transitions):
/// INSERT only from grse itself; UPDATE, DELETE and TRUNCATE never.
#[pg_trigger]
fn append_only_guard<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(append_only_guard_checked(trigger))
}

fn append_only_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    const HINT: &str = "grse's records are append-only: correct a budget mistake with a new refund or allocation through the grse budget functions.";
    let table = format!("grse.{}", trigger.table_name().map_err(internal)?);
    match trigger.op().map_err(internal)? {
        PgTriggerOperation::Insert if guard::is_internal() => Ok(trigger.new()),
        PgTriggerOperation::Insert => {
            Err(maintained_by_grse(format!("rows of {table} are written by grse functions only"), HINT))
        }
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

/// On `grse.region_scaling_state`: DELETE and TRUNCATE are refused; a region
/// is retired by setting `grse.regions.active = false`.
#[pg_trigger]
fn state_delete_guard<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(state_delete_guard_checked(trigger))
}

fn state_delete_guard_checked<'a>(
    _trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    Err(maintained_by_grse(
        "rows of grse.region_scaling_state cannot be deleted",
        "Deactivate the region with UPDATE grse.regions SET active = false.",
    ))
}

/// On tables only grse writes (the budget slots): INSERT, UPDATE, DELETE
/// and TRUNCATE from grse's own functions only.
#[pg_trigger]
fn internal_write_guard<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(internal_write_guard_checked(trigger))
}

fn internal_write_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    if guard::is_internal() {
        return Ok(match trigger.op().map_err(internal)? {
            PgTriggerOperation::Delete => trigger.old(),
            _ => trigger.new(),
        });
    }
    Err(maintained_by_grse(
        format!("rows of grse.{} are written by grse functions only", trigger.table_name().map_err(internal)?),
        "Budget slots are filled and emptied by the grse budget functions; set their number with grse.set_budget_slots.",
    ))
}
