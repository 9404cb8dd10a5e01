//! Predictive scaling, kept honest: a region's pressure trend is the
//! least-squares line through its recorded hourly snapshots
//! (`grse_core::trend`); nothing is projected that was not recorded.

use crate::convert::{numeric, Score};
use crate::error::{internal, invalid, not_found, required, GResult, SpiResultExt};
use grse_core::trend::{fit, Sample};
use grse_core::Centi;
use pgrx::prelude::*;
use pgrx::{AnyNumeric, Uuid};
use std::str::FromStr;

/// How far ahead `projected_pressure` looks: one hour (the snapshot interval).
pub const HORIZON_SECS: i64 = 3600;

/// The last `$2` hourly snapshots' pressures (seconds since the epoch,
/// hundredths), and now.
const SAMPLES_SQL: &str = "
    SELECT (extract(epoch FROM h.created_at))::bigint AS at_secs, (h.peak_pressure * 100)::bigint AS pressure,
           (extract(epoch FROM pg_catalog.now()))::bigint AS now_secs
      FROM grse.region_scaling_history h
     WHERE h.region_id = $1 AND h.period_type = 'hourly' AND h.peak_pressure IS NOT NULL
     ORDER BY h.created_at DESC, h.id DESC
     LIMIT $2";

/// Points per hour as `numeric` (any sign; a score type cannot hold it).
fn per_hour(c: Centi) -> GResult<AnyNumeric> {
    AnyNumeric::from_str(&c.to_string()).map_err(internal)
}

/// A region's pressure trend over its last `periods` hourly snapshots
/// (default 24): `slope_per_hour` (pressure points per hour of the
/// least-squares line), `projected_pressure` (that line one hour from now,
/// clamped to [0, 100]) and `snapshots` (how many it is fitted to). The
/// first two are NULL with fewer than two snapshots.
#[pg_extern(stable, parallel_safe)]
pub fn pressure_trend(
    region_id: Option<Uuid>,
    periods: default!(Option<i32>, "24"),
) -> Result<
    TableIterator<
        'static,
        (name!(slope_per_hour, Option<AnyNumeric>), name!(projected_pressure, Option<Score>), name!(snapshots, i32)),
    >,
    pgrx::pg_sys::panic::ErrorReport,
> {
    let region_id = required(region_id, "region_id")?;
    let periods = required(periods, "periods")?;
    if !(1..=1000).contains(&periods) {
        return Err(invalid(format!("periods must lie in [1, 1000], got {periods}")));
    }
    let known = crate::statements::one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM grse.regions WHERE id = $1)",
        &[region_id.into()],
    )?;
    if known != Some(true) {
        return Err(not_found("region", region_id));
    }
    let (samples, now_secs) = Spi::connect(|client| -> GResult<(Vec<Sample>, Option<i64>)> {
        let rows = client.select(SAMPLES_SQL, None, &[region_id.into(), i64::from(periods).into()]).or_internal()?;
        let mut out = Vec::with_capacity(rows.len());
        let mut now = None;
        for row in rows {
            let int = |name: &str| -> GResult<i64> {
                row.get_by_name::<i64, _>(name).or_internal()?.ok_or_else(|| internal(format!("NULL {name}")))
            };
            now = Some(int("now_secs")?);
            out.push(Sample { at_secs: int("at_secs")?, pressure: Centi(int("pressure")?) });
        }
        Ok((out, now))
    })?;
    let n = samples.len() as i32;
    let row = match (fit(&samples), now_secs) {
        (Some(f), Some(now)) => {
            (Some(per_hour(f.slope_per_hour())?), Some(numeric(f.projected(now.saturating_add(HORIZON_SECS)))?), n)
        }
        _ => (None, None, n),
    };
    Ok(TableIterator::once(row))
}
