//! AFTER INSERT on `grse.regions`: create the region's state row and its
//! opening `allocation` ledger row (the policy's default monthly budget).
//! Not while a dump is restored: its state row and ledger come with it.

use crate::error::{internal, SpiResultExt};
use crate::guard;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

#[pg_trigger(
    sql = "CREATE FUNCTION grse.region_after_insert() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'region_after_insert_wrapper';"
)]
fn region_after_insert_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(region_after_insert_checked(trigger))
}
trigger_entry!("region_after_insert", region_after_insert_wrapper, pg_finfo_region_after_insert_wrapper => region_after_insert_fired_wrapper);

fn region_after_insert_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    if crate::restore::restoring() {
        return Ok(None);
    }
    let new = trigger.new().ok_or_else(|| internal("region trigger without NEW row"))?;
    let id = new.get_by_name::<pgrx::Uuid>("id").or_internal()?.ok_or_else(|| internal("region id is NULL"))?;
    let tz = new.get_by_name::<String>("timezone").or_internal()?.ok_or_else(|| internal("timezone is NULL"))?;
    guard::internally(|| {
        Spi::connect_mut(|client| {
            client
                .update(
                    concat!(
                        "WITH s AS (
                       INSERT INTO grse.region_scaling_state
                              (region_id, ai_budget_monthly, ai_budget_remaining,
                               day_started_at, day_ends_at, month_started_at, month_ends_at)
                       SELECT $1, p.default_monthly_budget_cents, p.default_monthly_budget_cents,
                              d.starts_at, d.ends_at, m.starts_at, m.ends_at
                         FROM grse.policy p,
                              grse.period_bounds('day', $2, pg_catalog.now()) d,
                              grse.period_bounds('month', $2, pg_catalog.now()) m
                       RETURNING region_id, ai_budget_remaining)
                     ",
                        crate::ledger::insert_into_ledger!(),
                        "SELECT region_id, 0, 'allocation', ai_budget_remaining, ai_budget_remaining,
                            ai_budget_remaining, NULL, NULL, 'initial monthly budget', NULL, NULL
                       FROM s WHERE ai_budget_remaining > 0"
                    ),
                    None,
                    &[id.into(), tz.as_str().into()],
                )
                .or_internal()?;
            Ok::<_, ErrorReport>(())
        })
    })?;
    Ok(None)
}
