//! Guards that make the ledger append-only and keep state rows and the
//! policy row in place. They hold for every role, the owner included.

use crate::error::{internal, maintained_by_grse};
use crate::guard;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// On `grse.region_budget_transactions`: INSERT only from grse's budget
/// functions; UPDATE, DELETE and TRUNCATE never.
#[pg_trigger]
fn ledger_guard<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(ledger_guard_checked(trigger))
}

fn ledger_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    const HINT: &str = "The ledger is append-only: correct a mistake with a new refund or allocation through the grse budget functions.";
    match trigger.op().map_err(internal)? {
        PgTriggerOperation::Insert if guard::is_internal() => Ok(trigger.new()),
        PgTriggerOperation::Insert => Err(maintained_by_grse(
            "rows of grse.region_budget_transactions are written by the grse budget functions only",
            HINT,
        )),
        op => {
            let verb = match op {
                PgTriggerOperation::Update => "UPDATE",
                PgTriggerOperation::Delete => "DELETE",
                _ => "TRUNCATE",
            };
            Err(maintained_by_grse(
                format!("grse.region_budget_transactions is append-only: {verb} is not allowed"),
                HINT,
            ))
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
