//! Scaling: capacity, pressure, mode and the scores behind them.

use crate::convert::{centi, numeric, JsonText};
use crate::error::{internal, invalid, not_found, out_of_range, required, GResult, SpiResultExt};
use crate::region::{require_active, with_writes};
use grse_core::evaluate::{evaluate, evaluate_from, Evaluation, RegionMetrics};
use grse_core::fatigue::{fatigue, FatigueInputs, Transition};
use grse_core::fixed::{parse_integer_text, DecimalError};
use grse_core::mode::Mode;
use grse_core::pressure::{ema_update, Pressures};
use grse_core::routing::JobType;
use grse_core::Centi;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, JsonB, Uuid};

/// A region's metrics, its budget being the true total (pool + slots).
const METRICS_SQL: &str = concat!(
    "SELECT s.posting_pressure, s.orchestration_pressure, s.creative_pressure, s.intel_pressure, s.fatigue_score, ",
    crate::state::true_remaining_sql!(),
    ", s.ai_budget_monthly FROM grse.region_scaling_state s WHERE s.region_id = $1"
);

fn metrics_of(t: &pgrx::spi::SpiTupleTable<'_>, region_id: Uuid) -> GResult<RegionMetrics> {
    if t.is_empty() {
        return Err(not_found("region", region_id));
    }
    let num =
        |i| -> GResult<Centi> { centi(&t.get::<AnyNumeric>(i).or_internal()?.ok_or_else(|| internal("NULL score"))?) };
    let int = |i| -> GResult<i64> { t.get::<i64>(i).or_internal()?.ok_or_else(|| internal("NULL budget")) };
    Ok(RegionMetrics {
        pressures: Pressures { posting: num(1)?, orchestration: num(2)?, creative: num(3)?, intel: num(4)? },
        fatigue: num(5)?,
        budget_remaining: int(6)?,
        budget_monthly: int(7)?,
    })
}

/// Reads a region's metrics; P0002 if there is no such region.
pub fn metrics(region_id: Uuid) -> GResult<RegionMetrics> {
    Spi::connect(|client| {
        let t = client.select(METRICS_SQL, Some(1), &[region_id.into()]).or_internal()?;
        metrics_of(&t.first(), region_id)
    })
}

/// The metrics of a region whose row this transaction has locked and
/// written (read with a fresh snapshot, so the writes are seen).
pub fn locked_metrics(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<RegionMetrics> {
    let t = crate::statements::run(client, METRICS_SQL, &[region_id.into()])?;
    metrics_of(&t.first(), region_id)
}

fn evaluation(region_id: Option<Uuid>) -> GResult<Evaluation> {
    let m = metrics(required(region_id, "region_id")?)?;
    Ok(evaluate(&*crate::policy::current()?, &m))
}

/// Overall pressure of a region under the current policy:
/// 0.30·posting + 0.25·orchestration + 0.25·creative + 0.20·intel, 2 decimals.
#[pg_extern(stable, parallel_safe)]
pub fn compute_region_pressure(region_id: Option<Uuid>) -> GResult<crate::convert::Score> {
    numeric(evaluation(region_id)?.overall_pressure)
}

/// Capacity of a region under the current policy:
/// 100·(0.40·remaining/max(monthly,1) + 0.35·(1 − pressure/100) + 0.25·(1 − fatigue/100)).
#[pg_extern(stable, parallel_safe)]
pub fn compute_region_capacity(region_id: Option<Uuid>) -> GResult<crate::convert::Score> {
    numeric(evaluation(region_id)?.capacity)
}

/// Everything the state trigger derives, recomputed now from the stored
/// metrics under the current policy, the mode judged from the stored mode
/// state (hysteresis, pin) at the instant of the last write (the invariant
/// checks compare it with what is stored).
#[pg_extern(stable, parallel_safe)]
pub fn evaluate_region(
    region_id: Option<Uuid>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(overall_pressure, crate::convert::Score),
            name!(capacity_score, crate::convert::Score),
            name!(warning_index, crate::convert::Score),
            name!(scaling_mode, String),
            name!(reason, String),
        ),
    >,
    pgrx::pg_sys::panic::ErrorReport,
> {
    let region_id = required(region_id, "region_id")?;
    let policy = crate::policy::current()?;
    let (state, at) = crate::modes::stored_mode_state(region_id)?;
    let (e, decision) = evaluate_from(&policy, &metrics(region_id)?, Some(&state), at);
    let reason = grse_core::hysteresis::reason(&policy, &decision, e.capacity, e.overall_pressure);
    Ok(TableIterator::once((
        numeric(e.overall_pressure)?,
        numeric(e.capacity)?,
        numeric(e.warning_index)?,
        e.mode.as_str().to_string(),
        reason,
    )))
}

fn mode_of(text: &str) -> GResult<Mode> {
    Mode::parse(text).ok_or_else(|| internal(format!("unknown stored mode {text}")))
}

/// Fatigue of a region now: the share of the policy's trailing window
/// (24 hours by default) it spent outside `normal`, from its transitions.
pub fn current_fatigue(client: &SpiClient<'_>, region_id: Uuid) -> GResult<Centi> {
    let head = client
        .select(
            "SELECT (extract(epoch FROM pg_catalog.now()) * 1000000)::bigint,
                    (extract(epoch FROM p.fatigue_window) * 1000000)::bigint,
                    (extract(epoch FROM r.created_at) * 1000000)::bigint,
                    COALESCE(
                      (SELECT t.to_mode FROM grse.region_mode_transitions t
                        WHERE t.region_id = $1 AND t.created_at <= pg_catalog.now() - p.fatigue_window
                        ORDER BY t.created_at DESC, t.id DESC LIMIT 1),
                      (SELECT t.from_mode FROM grse.region_mode_transitions t
                        WHERE t.region_id = $1 AND t.created_at > pg_catalog.now() - p.fatigue_window
                        ORDER BY t.created_at, t.id LIMIT 1),
                      s.scaling_mode)
               FROM grse.policy p, grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
              WHERE r.id = $1",
            Some(1),
            &[region_id.into()],
        )
        .or_internal()?;
    if head.is_empty() {
        return Err(not_found("region", region_id));
    }
    let head = head.first();
    let int = |i| -> GResult<i64> { head.get::<i64>(i).or_internal()?.ok_or_else(|| internal("NULL time")) };
    let (now_us, window_us, created_us) = (int(1)?, int(2)?, int(3)?);
    let mode_at_start = mode_of(&head.get::<String>(4).or_internal()?.unwrap_or_default())?;
    let rows = client
        .select(
            "SELECT (extract(epoch FROM t.created_at) * 1000000)::bigint, t.to_mode
               FROM grse.region_mode_transitions t, grse.policy p
              WHERE t.region_id = $1 AND t.created_at > pg_catalog.now() - p.fatigue_window
              ORDER BY t.created_at, t.id",
            None,
            &[region_id.into()],
        )
        .or_internal()?;
    let mut transitions = Vec::with_capacity(rows.len());
    for row in rows {
        let at_us = row.get::<i64>(1).or_internal()?.unwrap_or(now_us);
        let to = mode_of(&row.get::<String>(2).or_internal()?.unwrap_or_default())?;
        transitions.push(Transition { at_us, to });
    }
    Ok(fatigue(&FatigueInputs { now_us, window_us, created_us, mode_at_start, transitions }))
}

/// Writes the region's fresh fatigue score; the state trigger then re-judges
/// capacity and mode. Returns the mode afterwards.
pub fn refresh(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Mode> {
    let f = current_fatigue(client, region_id)?;
    let t = crate::statements::run(
        client,
        "UPDATE grse.region_scaling_state SET fatigue_score = $2 WHERE region_id = $1 RETURNING scaling_mode",
        &[region_id.into(), numeric(f)?.into()],
    )?;
    if t.is_empty() {
        return Err(not_found("region", region_id));
    }
    mode_of(&t.first().get_one::<String>().or_internal()?.unwrap_or_default())
}

/// Re-judges a region now: refreshes its time-dependent fatigue score and
/// lets the state trigger recompute capacity and mode from the metrics.
/// Returns the mode: normal, cautious, throttled or frozen.
#[pg_extern(volatile, parallel_unsafe)]
pub fn update_scaling_mode(region_id: Option<Uuid>) -> GResult<String> {
    let region_id = required(region_id, "region_id")?;
    require_active(region_id)?;
    with_writes(|client| refresh(client, region_id)).map(|m| m.as_str().to_string())
}

/// Reads `{"posting": 3, "creative": 1, ...}`: job counts per job type.
fn activity_counts(activity: &serde_json::Value) -> GResult<Vec<(JobType, u64)>> {
    let obj =
        activity.as_object().ok_or_else(|| invalid("activity must be a JSON object of job counts per job type"))?;
    let mut out: Vec<(JobType, u64)> = Vec::new();
    for (key, value) in obj {
        let job = JobType::parse(key).ok_or_else(|| crate::error::unknown_job_type(key, " in activity"))?;
        let jobs = match value {
            // whole numbers in any notation (3, 3.0, 3e2), read exactly, within bigint
            serde_json::Value::Number(n) => match parse_integer_text(&n.to_string()) {
                Ok(v) if v < 0 => {
                    return Err(invalid(format!("activity count for {key} must not be negative, got {n}")))
                }
                Ok(v) => v as u64,
                Err(DecimalError::OutOfRange(_)) if n.to_string().starts_with('-') => {
                    return Err(invalid(format!("activity count for {key} must not be negative, got {n}")))
                }
                Err(DecimalError::OutOfRange(_)) => {
                    return Err(out_of_range(format!("activity count for {key} is out of range for bigint, got {n}")))
                }
                Err(DecimalError::TooPrecise(_)) if n.to_string().starts_with('-') => {
                    return Err(invalid(format!("activity count for {key} must not be negative, got {n}")))
                }
                Err(_) => return Err(invalid(format!("activity count for {key} must be a whole number, got {n}"))),
            },
            other => return Err(invalid(format!("activity count for {key} must be a number, got {other}"))),
        };
        if out.iter().any(|(t, _)| *t == job) {
            return Err(invalid(format!("job type {} appears twice in activity", job.as_str())));
        }
        out.push((job, jobs));
    }
    Ok(out)
}

/// Moves each given job type's pressure by one moving-average step:
/// new = min(100, old·0.7 + (jobs·10)·0.3). Types not named keep their
/// pressure. Returns the region's pressures and mode afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn update_pressure_scores(region_id: Option<Uuid>, activity: Option<JsonText>) -> GResult<JsonB> {
    let region_id = required(region_id, "region_id")?;
    let counts = activity_counts(&required(activity, "activity")?.parse("activity")?)?;
    require_active(region_id)?;
    let policy = crate::policy::current()?;
    with_writes(|client| {
        // lock first so the moving average starts from the latest pressures
        crate::region::lock_row(client, region_id)?;
        let m = metrics(region_id)?;
        let mut p = m.pressures;
        for (job, jobs) in counts {
            let slot = match job {
                JobType::Posting => &mut p.posting,
                JobType::Orchestration => &mut p.orchestration,
                JobType::Creative => &mut p.creative,
                JobType::Intel => &mut p.intel,
            };
            *slot = ema_update(&policy, *slot, jobs);
        }
        let t = crate::statements::run(
            client,
            "UPDATE grse.region_scaling_state
                    SET posting_pressure = $2, orchestration_pressure = $3,
                        creative_pressure = $4, intel_pressure = $5
                  WHERE region_id = $1
                 RETURNING pg_catalog.jsonb_build_object(
                   'region_id', region_id, 'posting_pressure', posting_pressure,
                   'orchestration_pressure', orchestration_pressure, 'creative_pressure', creative_pressure,
                   'intel_pressure', intel_pressure, 'overall_pressure', overall_pressure,
                   'capacity_score', capacity_score, 'scaling_mode', scaling_mode)",
            &[
                region_id.into(),
                numeric(p.posting)?.into(),
                numeric(p.orchestration)?.into(),
                numeric(p.creative)?.into(),
                numeric(p.intel)?.into(),
            ],
        )?;
        t.first().get_one::<JsonB>().or_internal()?.ok_or_else(|| internal("pressure update returned nothing"))
    })
}
