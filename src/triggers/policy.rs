//! Triggers on `grse.policy`: the one row stays the one row, and a change
//! re-judges every region at once under the new policy.

use crate::error::{maintained_by_grse, SpiResultExt};
use crate::policy;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// BEFORE INSERT OR DELETE (row) and TRUNCATE (statement): refused.
#[pg_trigger]
fn policy_guard<'a>(trigger: &'a PgTrigger<'a>) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(policy_guard_checked(trigger))
}

fn policy_guard_checked<'a>(
    _trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    Err(maintained_by_grse("grse.policy holds exactly one row", "Change the policy with UPDATE grse.policy SET ..."))
}

/// AFTER UPDATE (statement): drop the cached policy and recompute every
/// region's scores and mode (recording any mode change).
#[pg_trigger]
fn policy_after_update<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(policy_after_update_checked(trigger))
}

fn policy_after_update_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    policy::invalidate(trigger.relid().map_err(crate::error::internal)?);
    // lock in region id order, like every other function that locks several regions
    Spi::run(
        "UPDATE grse.region_scaling_state SET updated_at = pg_catalog.now()
          WHERE region_id IN (SELECT region_id FROM grse.region_scaling_state ORDER BY region_id FOR UPDATE)",
    )
    .or_internal()?;
    Ok(None)
}
