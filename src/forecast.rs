//! Budget forecasting from the ledger (`grse_core::forecast` has the method):
//! `forecast_budget(region_id, window)`, and the inputs of the
//! `forecast_days_left` alert metric.

use crate::clock::timestamp_text;
use crate::error::{internal, invalid, not_found, required, GResult, SpiResultExt};
use grse_core::forecast::{forecast, Forecast, ForecastInputs, MICROS_PER_DAY};
use pgrx::datum::{Interval, TimestampWithTimeZone};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{JsonB, Uuid};
use serde_json::{json, Value};

/// The window alert rules use for `forecast_days_left`.
pub const DEFAULT_WINDOW_US: i64 = 7 * MICROS_PER_DAY;

/// The longest forecast window (366 days).
const MAX_WINDOW_US: i64 = 366 * MICROS_PER_DAY;

/// Per region (all of them, or `$1`): the forecast inputs over the window of
/// `$2` microseconds. Remaining and period totals are the true ones (budget
/// slots counted in); the window's net spend is Σ spend − Σ refunds of its
/// ledger rows (holds and releases move no money out of the region). A
/// budget period that has ended but not yet been rolled over is read as the
/// roll-over will leave it: the next period, remaining = monthly − held,
/// nothing spent in it yet.
const INPUTS_SQL: &str = "
    SELECT s0.region_id, pg_catalog.now() AS now, r.created_at,
           CASE WHEN d.due THEN s.ai_budget_monthly - s.ai_budget_held ELSE s.ai_budget_remaining END AS remaining,
           CASE WHEN d.due THEN 0 ELSE s.period_spent - s.period_refunded END AS period_net,
           CASE WHEN d.due THEN (grse.period_bounds('month', r.timezone, pg_catalog.now())).ends_at
                ELSE s.month_ends_at END AS month_ends_at,
           COALESCE((SELECT sum(CASE t.transaction_type WHEN 'spend' THEN t.amount ELSE -t.amount END)
                       FROM grse.region_budget_transactions t
                      WHERE t.region_id = s0.region_id AND t.transaction_type IN ('spend', 'refund')
                        AND t.created_at > pg_catalog.now() - $2 * interval '1 microsecond'), 0)::bigint AS window_net
      FROM grse.region_scaling_state s0
      JOIN grse.regions r ON r.id = s0.region_id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     CROSS JOIN LATERAL (SELECT pg_catalog.now() >= s0.month_ends_at AS due) d
     WHERE $1::uuid IS NULL OR s0.region_id = $1
     ORDER BY s0.region_id";

/// The forecast of every region (or one), with its inputs.
pub fn forecasts(
    client: &SpiClient<'_>,
    region: Option<Uuid>,
    window_us: i64,
) -> GResult<Vec<(Uuid, ForecastInputs, Forecast)>> {
    let rows = client.select(INPUTS_SQL, None, &[region.into(), window_us.into()]).or_internal()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let time = |name: &str| -> GResult<i64> {
            row.get_by_name::<TimestampWithTimeZone, _>(name)
                .or_internal()?
                .map(pg_sys::TimestampTz::from)
                .ok_or_else(|| internal(format!("NULL {name}")))
        };
        let cents = |name: &str| -> GResult<i64> {
            row.get_by_name::<i64, _>(name).or_internal()?.ok_or_else(|| internal(format!("NULL {name}")))
        };
        let inputs = ForecastInputs {
            now_us: time("now")?,
            window_us,
            created_us: time("created_at")?,
            window_net_spend: cents("window_net")?,
            remaining: cents("remaining")?,
            period_net_spend: cents("period_net")?,
            period_ends_us: time("month_ends_at")?,
        };
        let id = row.get_by_name::<Uuid, _>("region_id").or_internal()?.ok_or_else(|| internal("NULL region_id"))?;
        out.push((id, inputs, forecast(&inputs)));
    }
    Ok(out)
}

/// A forecast window: positive, at most 366 days; in microseconds
/// (a month counts 30 days, as `extract(epoch ...)` counts it).
fn window_arg(window: Option<Interval>) -> GResult<i64> {
    let window = required(window, "window")?;
    let us = crate::statements::one::<i64>("SELECT (extract(epoch FROM $1) * 1000000)::bigint", &[window.into()])?
        .ok_or_else(|| internal("an interval without an epoch"))?;
    if us <= 0 {
        return Err(invalid(format!("window must be positive, got {}", interval_text(window)?)));
    }
    if us > MAX_WINDOW_US {
        return Err(invalid(format!("window must be at most 366 days, got {}", interval_text(window)?)));
    }
    Ok(us)
}

fn interval_text(i: Interval) -> GResult<String> {
    crate::statements::one::<String>("SELECT $1::pg_catalog.text", &[i.into()])?
        .ok_or_else(|| internal("NULL interval"))
}

/// Hundredths as a JSON number with two decimals (exact: serde_json keeps the digits).
pub fn number(c: grse_core::Centi) -> GResult<Value> {
    c.to_string().parse::<serde_json::Number>().map(Value::Number).map_err(internal)
}

/// Where a region's budget is heading at its net spend rate over `window`
/// (default 7 days): burn_rate_per_day (cents of spend − refunds per day),
/// projected_exhaustion_at (NULL: never at that rate), period_ends_at,
/// exhausts_before_period_end, projected_period_spend, days_left, and the
/// figures they come from. A read: it writes nothing (a period that is due
/// is forecast as stored until something rolls it over).
#[pg_extern(stable, parallel_safe)]
pub fn forecast_budget(region_id: Option<Uuid>, window: default!(Option<Interval>, "'7 days'")) -> GResult<JsonB> {
    let region_id = required(region_id, "region_id")?;
    let window_us = window_arg(window)?;
    // visible to the caller? (row-level security: a tenant sees only its regions)
    let known = crate::statements::one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM grse.region_scaling_state WHERE region_id = $1)",
        &[region_id.into()],
    )?;
    if known != Some(true) {
        return Err(not_found("region", region_id));
    }
    Spi::connect(|client| {
        let all = forecasts(client, Some(region_id), window_us)?;
        let (_, i, f) = all.first().copied().ok_or_else(|| not_found("region", region_id))?;
        Ok(JsonB(json!({
            "region_id": region_id.to_string(),
            "window_seconds": window_us / 1_000_000,
            "observed_seconds": f.span_us / 1_000_000,
            "window_net_spend": i.window_net_spend,
            "remaining": i.remaining,
            "period_net_spend": i.period_net_spend,
            "burn_rate_per_day": number(f.burn_rate_per_day)?,
            "days_left": f.days_left.map(number).transpose()?,
            "projected_exhaustion_at": f.projected_exhaustion_us.map(timestamp_text).transpose()?,
            "period_ends_at": timestamp_text(i.period_ends_us)?,
            "exhausts_before_period_end": f.exhausts_before_period_end,
            "projected_period_spend": f.projected_period_spend,
        })))
    })
}

/// The `forecast_days_left` of every region over the default window (None:
/// never exhausted at its rate).
pub fn days_left_by_region(client: &SpiClient<'_>) -> GResult<Vec<(Uuid, Option<grse_core::Centi>)>> {
    Ok(forecasts(client, None, DEFAULT_WINDOW_US)?.into_iter().map(|(id, _, f)| (id, f.days_left)).collect())
}
