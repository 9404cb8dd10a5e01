//! BEFORE UPDATE on plain tables with an `updated_at` column (regions,
//! licenses, the policy): `updated_at` becomes the transaction's time.

use crate::error::internal;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

#[pg_trigger(
    sql = "CREATE FUNCTION grse.touch_updated_at() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'touch_updated_at_wrapper';"
)]
fn touch_updated_at_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByRust>>, ErrorReport> {
    crate::error::raised(touch_updated_at_checked(trigger))
}
trigger_entry!("touch_updated_at", touch_updated_at_wrapper, pg_finfo_touch_updated_at_wrapper => touch_updated_at_fired_wrapper);

fn touch_updated_at_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByRust>>> {
    let mut new = trigger.new().ok_or_else(|| internal("updated_at trigger without NEW row"))?.into_owned();
    new.set_by_name("updated_at", pgrx::datetime::now()).map_err(internal)?;
    Ok(Some(new))
}
