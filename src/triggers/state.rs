//! Triggers on `grse.region_scaling_state`: every write recomputes the
//! derived scores and the mode in the writing transaction; a real mode change
//! is recorded and announced with `NOTIFY grse_mode_changed`.

use crate::convert::{centi, numeric};
use crate::error::{internal, maintained_by_grse, GResult, SpiResultExt};
use crate::guard;
use crate::policy;
use grse_core::evaluate::{evaluate, Evaluation, RegionMetrics};
use grse_core::pressure::Pressures;
use grse_core::Centi;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::AnyNumeric;

/// Columns only grse's own functions may change.
const BIGINT_GUARDED: [&str; 8] = [
    "ai_budget_monthly",
    "ai_budget_remaining",
    "ai_spend_today",
    "refunded_today",
    "period_spent",
    "period_refunded",
    "day_ledger_mark",
    "month_ledger_mark",
];
const TIME_GUARDED: [&str; 4] = ["day_started_at", "day_ends_at", "month_started_at", "month_ends_at"];

fn get<'t, T, A: WhoAllocated>(row: &'t PgHeapTuple<'_, A>, col: &str) -> GResult<T>
where
    T: FromDatum + IntoDatum + pgrx::datum::UnboxDatum<As<'t> = T> + 't,
{
    row.get_by_name::<T>(col).or_internal()?.ok_or_else(|| internal(format!("{col} is NULL")))
}

fn score(row: &PgHeapTuple<'_, impl WhoAllocated>, col: &str) -> GResult<Centi> {
    centi(&get::<AnyNumeric, _>(row, col)?)
}

fn check_guarded_columns(
    old: &PgHeapTuple<'_, impl WhoAllocated>,
    new: &PgHeapTuple<'_, impl WhoAllocated>,
) -> GResult<()> {
    const HINT: &str = "Use grse.check_and_decrement_budget, grse.refund_budget, grse.set_monthly_budget or the reset functions; fatigue is refreshed by grse.update_scaling_mode.";
    let refuse = |col: &str| maintained_by_grse(format!("column {col} of grse.region_scaling_state is maintained by grse"), HINT);
    if get::<pgrx::Uuid, _>(old, "region_id")? != get::<pgrx::Uuid, _>(new, "region_id")? {
        return Err(refuse("region_id"));
    }
    for col in BIGINT_GUARDED {
        if get::<i64, _>(old, col)? != get::<i64, _>(new, col)? {
            return Err(refuse(col));
        }
    }
    for col in TIME_GUARDED {
        if get::<TimestampWithTimeZone, _>(old, col)? != get::<TimestampWithTimeZone, _>(new, col)? {
            return Err(refuse(col));
        }
    }
    if score(old, "fatigue_score")? != score(new, "fatigue_score")? {
        return Err(refuse("fatigue_score"));
    }
    Ok(())
}

/// Reads a state row's metrics.
fn metrics(row: &PgHeapTuple<'_, impl WhoAllocated>) -> GResult<RegionMetrics> {
    Ok(RegionMetrics {
        pressures: Pressures {
            posting: score(row, "posting_pressure")?,
            orchestration: score(row, "orchestration_pressure")?,
            creative: score(row, "creative_pressure")?,
            intel: score(row, "intel_pressure")?,
        },
        fatigue: score(row, "fatigue_score")?,
        budget_remaining: get::<i64, _>(row, "ai_budget_remaining")?,
        budget_monthly: get::<i64, _>(row, "ai_budget_monthly")?,
    })
}

/// Evaluates a state row under the transaction's policy.
fn derive(row: &PgHeapTuple<'_, impl WhoAllocated>) -> GResult<Evaluation> {
    Ok(evaluate(&policy::current()?, &metrics(row)?))
}

/// BEFORE INSERT OR UPDATE: guard grse-maintained columns, then recompute
/// overall_pressure, capacity_score, scaling_mode, warning_index, mode_since
/// and updated_at from the row being written.
#[pg_trigger]
fn state_before_write<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, impl WhoAllocated>>, ErrorReport> {
    crate::error::raised(state_before_write_checked(trigger))
}

fn state_before_write_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByRust>>> {
    let new = trigger.new().ok_or_else(|| internal("state trigger without NEW row"))?;
    let old = trigger.old();
    if !guard::is_internal() {
        match &old {
            None => {
                return Err(maintained_by_grse(
                    "rows of grse.region_scaling_state are created by grse",
                    "Insert into grse.regions: its state row is created with it.",
                ))
            }
            Some(old) => check_guarded_columns(old, &new)?,
        }
    }
    let d = derive(&new)?;
    let now = pgrx::datetime::now();
    let mut row = new.into_owned();
    let mode_changed = match &old {
        Some(old) => get::<String, _>(old, "scaling_mode")? != d.mode.as_str(),
        None => true,
    };
    row.set_by_name("overall_pressure", numeric(d.overall_pressure)?).or_internal()?;
    row.set_by_name("capacity_score", numeric(d.capacity)?).or_internal()?;
    row.set_by_name("warning_index", numeric(d.warning_index)?).or_internal()?;
    row.set_by_name("scaling_mode", d.mode.as_str().to_string()).or_internal()?;
    row.set_by_name("updated_at", now).or_internal()?;
    match (&old, mode_changed) {
        (_, true) => row.set_by_name("mode_since", now).or_internal()?,
        (Some(old), false) => row.set_by_name("mode_since", get::<TimestampWithTimeZone, _>(old, "mode_since")?).or_internal()?,
        (None, false) => {}
    }
    Ok(Some(row))
}

/// AFTER UPDATE, only when scaling_mode changed (see the trigger's WHEN):
/// write a region_mode_transitions row and NOTIFY grse_mode_changed.
#[pg_trigger]
fn state_after_mode_change<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, ErrorReport> {
    crate::error::raised(state_after_mode_change_checked(trigger))
}

fn state_after_mode_change_checked<'a>(
    trigger: &'a PgTrigger<'a>,
) -> crate::error::GResult<Option<PgHeapTuple<'a, AllocatedByPostgres>>> {
    let new = trigger.new().ok_or_else(|| internal("mode trigger without NEW row"))?;
    let old = trigger.old().ok_or_else(|| internal("mode trigger without OLD row"))?;
    let d = derive(&new)?;
    let region_id = get::<pgrx::Uuid, _>(&new, "region_id")?;
    let from = get::<String, _>(&old, "scaling_mode")?;
    let to = get::<String, _>(&new, "scaling_mode")?;
    record_transition(region_id, &from, &to, &d)?;
    Ok(None)
}

fn record_transition(region_id: pgrx::Uuid, from: &str, to: &str, d: &Evaluation) -> GResult<()> {
    guard::internally(|| Spi::connect_mut(|client| {
        client
            .update(
                "WITH t AS (
                   INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   RETURNING region_id, from_mode, to_mode, capacity, pressure, reason, created_at)
                 SELECT pg_catalog.pg_notify('grse_mode_changed', pg_catalog.json_build_object(
                          'region_id', region_id, 'from', from_mode, 'to', to_mode,
                          'capacity', capacity, 'pressure', pressure, 'reason', reason, 'at', created_at)::text)
                 FROM t",
                None,
                &[
                    region_id.into(),
                    from.into(),
                    to.into(),
                    numeric(d.capacity)?.into(),
                    numeric(d.overall_pressure)?.into(),
                    d.reason.as_str().into(),
                ],
            )
            .or_internal()?;
        Ok(())
    }))
}
