//! Triggers on `grse.policy`: the one row stays the one row, and a change
//! re-judges every region at once under the new policy.

use crate::error::{internal, maintained_by_grse, SpiResultExt};
use crate::guard;
use crate::policy;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// BEFORE INSERT OR DELETE (row) and TRUNCATE (statement): refused, but for
/// the policy row of a dump being restored or of a publisher's initial copy,
/// which replaces the row grse created (ENABLE ALWAYS, so that the apply
/// worker fires it), and grse's own delete of the row it replaces. AFTER
/// UPDATE (row, ENABLE ALWAYS): an apply worker's update of the policy drops
/// the cached policy everywhere (the statement trigger below does not fire
/// in apply workers).
#[pg_trigger(
    sql = "CREATE FUNCTION grse.policy_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'policy_guard_wrapper';"
)]
fn policy_guard_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(policy_guard_checked(trigger))
}
trigger_entry!("policy_guard", policy_guard_wrapper, pg_finfo_policy_guard_wrapper => policy_guard_fired_wrapper);

fn policy_guard_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    let relid = trigger.relid().map_err(internal)?;
    match trigger.op().map_err(internal)? {
        PgTriggerOperation::Insert if crate::restore::loading() => {
            guard::internally(|| Spi::run("DELETE FROM grse.policy")).or_internal()?;
            policy::invalidate(relid);
            Ok(trigger.new())
        }
        PgTriggerOperation::Delete if guard::is_internal() => Ok(trigger.old()),
        PgTriggerOperation::Update => {
            if crate::restore::replicating() {
                policy::invalidate(relid);
            }
            Ok(None)
        }
        PgTriggerOperation::Insert => Err(maintained_by_grse(
            "grse.policy holds exactly one row",
            &format!("Change the policy with UPDATE grse.policy SET .... {}", crate::restore::RESTORE_HINT),
        )),
        _ => Err(maintained_by_grse(
            "grse.policy holds exactly one row",
            "Change the policy with UPDATE grse.policy SET ...",
        )),
    }
}

/// AFTER UPDATE (statement): drop the cached policy and recompute every
/// region's scores and mode (recording any mode change).
#[pg_trigger(
    sql = "CREATE FUNCTION grse.policy_after_update() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'policy_after_update_wrapper';"
)]
fn policy_after_update_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(policy_after_update_checked(trigger))
}
trigger_entry!("policy_after_update", policy_after_update_wrapper, pg_finfo_policy_after_update_wrapper => policy_after_update_fired_wrapper);

fn policy_after_update_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    policy::invalidate(trigger.relid().map_err(crate::error::internal)?);
    Spi::connect_mut(|client| {
        // every state row first, never waiting long while holding some (see locking::lock_all)
        let ids = crate::region::all_ids(client, false)?;
        crate::locking::lock_every(client, &ids, crate::locking::Take::Row)?;
        client.update("UPDATE grse.region_scaling_state SET updated_at = pg_catalog.now()", None, &[]).or_internal()?;
        Ok(None)
    })
}
