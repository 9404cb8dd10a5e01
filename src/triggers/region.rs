//! Triggers of `grse.regions`. AFTER INSERT: create the region's state row
//! and its opening `allocation` ledger row (the policy's default monthly
//! budget). AFTER UPDATE OF active: copy the flag into the state row
//! (`region_active`), which the budget calls read instead of joining
//! `grse.regions`. Neither while a dump is restored: its state rows come with it.

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
    let Some(NewRegion { id, timezone: tz, active }) = new_region(trigger)? else {
        return Ok(None);
    };
    guard::internally(|| {
        Spi::connect_mut(|client| {
            client
                .update(
                    concat!(
                        "WITH s AS (
                       INSERT INTO grse.region_scaling_state
                              (region_id, ai_budget_monthly, ai_budget_remaining,
                               day_started_at, day_ends_at, month_started_at, month_ends_at, region_active)
                       SELECT $1, p.default_monthly_budget_cents, p.default_monthly_budget_cents,
                              d.starts_at, d.ends_at, m.starts_at, m.ends_at, $3
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
                    &[id.into(), tz.as_str().into(), active.into()],
                )
                .or_internal()?;
            Ok::<_, ErrorReport>(())
        })
    })?;
    Ok(None)
}

#[pg_trigger(
    sql = "CREATE FUNCTION grse.region_after_update() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'region_after_update_wrapper';"
)]
fn region_after_update_fired<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(region_after_update_checked(trigger))
}
trigger_entry!("region_after_update", region_after_update_wrapper, pg_finfo_region_after_update_wrapper => region_after_update_fired_wrapper);

/// A change of `active` reaches the state row in the same statement, under
/// the state row's lock: a budget call on the region either ran before it
/// or sees it (a spend waiting for the row re-reads `region_active`).
/// SECURITY DEFINER, like the insert trigger: the writer of `grse.regions`
/// need not be allowed to write the state row.
fn region_after_update_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    let Some(NewRegion { id, active, .. }) = new_region(trigger)? else {
        return Ok(None);
    };
    guard::internally(|| {
        Spi::connect_mut(|client| {
            client
                .update(
                    "UPDATE grse.region_scaling_state SET region_active = $2
                      WHERE region_id = $1 AND region_active IS DISTINCT FROM $2",
                    None,
                    &[id.into(), active.into()],
                )
                .or_internal()
                .map(|_| ())
        })
    })?;
    Ok(None)
}

/// What the region triggers read of the NEW row.
struct NewRegion {
    id: pgrx::Uuid,
    timezone: String,
    active: bool,
}

/// The NEW row's id, timezone and active flag; None while a dump is restored
/// (its state rows come with it).
fn new_region(trigger: &PgTrigger<'_>) -> crate::error::GResult<Option<NewRegion>> {
    if crate::restore::restoring() {
        return Ok(None);
    }
    let new = trigger.new().ok_or_else(|| internal("region trigger without NEW row"))?;
    let col = |name: &str| internal(format!("{name} is NULL in the region row"));
    Ok(Some(NewRegion {
        id: new.get_by_name::<pgrx::Uuid>("id").or_internal()?.ok_or_else(|| col("id"))?,
        timezone: new.get_by_name::<String>("timezone").or_internal()?.ok_or_else(|| col("timezone"))?,
        active: new.get_by_name::<bool>("active").or_internal()?.ok_or_else(|| col("active"))?,
    }))
}
