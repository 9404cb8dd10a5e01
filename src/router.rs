//! The shard router: where a job goes, with what priority and shard key, and
//! the one-call admission that also checks the budget and bumps the queue.

use crate::budget::job_type_arg;
use crate::convert::nonnegative_cents;
use crate::error::{inactive_region, internal, invalid, not_found, null_argument, required, GResult, SpiResultExt};
use grse_core::geo::{nearest, Point};
use grse_core::mode::Mode;
use grse_core::routing::{admits, best_region, delay_seconds, estimated_wait, priority, Candidate, JobType, Refusal};
use grse_core::shard::{shard_key, shard_of};
use grse_core::{Centi, Policy};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, PgBuiltInOids, PgOid, Uuid};

/// What routing needs to know about one region.
pub struct RegionView {
    pub id: Uuid,
    pub slug: String,
    pub active: bool,
    pub mode: Mode,
    pub type_pressure: Centi,
    pub jobs_in_queue: i64,
    pub shards: u32,
    pub remaining: i64,
    /// A budget day or month has ended and is not rolled over yet.
    pub period_due: bool,
    /// The creator (`xmin`, as text) of the state row version read (see
    /// `state::Locked::row_version`).
    pub row_version: Option<String>,
}

/// SQL: the pressure of the state row `s` for the job type `$2`, as integer
/// hundredths.
macro_rules! type_pressure_sql {
    () => {
        "(CASE $2 WHEN 'posting' THEN s.posting_pressure WHEN 'orchestration' THEN s.orchestration_pressure
                  WHEN 'creative' THEN s.creative_pressure ELSE s.intel_pressure END * 100)::bigint"
    };
}

/// The routing read of one region (`$1`), the pressure of the job type `$2`
/// as integer hundredths. It is driven by the state row's key, takes the
/// active flag from the state row's copy (`region_active`) and only the slug
/// from `grse.regions`, as a subquery: cheaper per call than a join (no
/// nested loop to start up for every admission).
const VIEW_SQL: &str = concat!(
    "SELECT (SELECT r.slug FROM grse.regions r WHERE r.id = s.region_id) AS slug, s.region_active AS active,
            s.scaling_mode, ",
    type_pressure_sql!(),
    " AS type_pressure, s.jobs_in_queue, s.shard_count, ",
    crate::state::true_remaining_sql!(),
    " AS remaining,
                    pg_catalog.now() >= s.day_ends_at OR pg_catalog.now() >= s.month_ends_at AS due,
                    s.xmin::text AS row_version
               FROM grse.region_scaling_state s
              WHERE s.region_id = $1"
);

/// The read of a region whose state row this transaction has just locked and
/// brought up to date (no period due): what a write since the routing read
/// may have changed.
const LOCKED_VIEW_SQL: &str = concat!(
    "SELECT s.scaling_mode, ",
    type_pressure_sql!(),
    " AS type_pressure, s.jobs_in_queue, s.shard_count, ",
    crate::state::true_remaining_sql!(),
    " AS remaining, s.xmin::text AS row_version
       FROM grse.region_scaling_state s
      WHERE s.region_id = $1"
);
const VIEW_TYPES: [PgOid; 2] = [PgOid::BuiltIn(PgBuiltInOids::UUIDOID), PgOid::BuiltIn(PgBuiltInOids::TEXTOID)];

/// Reads a region for routing (a kept plan: an admission reads its region
/// twice, before and after taking its row lock).
pub fn view(client: &mut SpiClient<'_>, id: Uuid, job: JobType) -> GResult<Option<RegionView>> {
    let t = crate::statements::execute(client, VIEW_SQL, &VIEW_TYPES, &[id.into(), job.as_str().into()])?;
    if t.is_empty() {
        return Ok(None);
    }
    let t = t.first();
    let slug = t.get_by_name::<String, _>("slug").or_internal()?.ok_or_else(|| internal("slug is NULL"))?;
    let active = t.get_by_name::<bool, _>("active").or_internal()?.unwrap_or(false);
    let period_due = t.get_by_name::<bool, _>("due").or_internal()?.unwrap_or(false);
    with_state(&t, id, slug, active, period_due).map(Some)
}

/// Reads again, under the row lock, what a write may have changed since the
/// routing read `v` of the same region (see [`LOCKED_VIEW_SQL`]).
pub fn locked_view(client: &mut SpiClient<'_>, v: &RegionView, job: JobType) -> GResult<RegionView> {
    let t = crate::statements::execute(client, LOCKED_VIEW_SQL, &VIEW_TYPES, &[v.id.into(), job.as_str().into()])?;
    if t.is_empty() {
        return Err(not_found("region", v.id));
    }
    with_state(&t.first(), v.id, v.slug.clone(), v.active, false)
}

/// A region's routing view from the state columns of a routing read (mode,
/// the job type's pressure, queue, shards — the policy's default where the
/// region has none — and true remaining) and what is known of it besides.
fn with_state(
    t: &pgrx::spi::SpiTupleTable<'_>,
    id: Uuid,
    slug: String,
    active: bool,
    period_due: bool,
) -> GResult<RegionView> {
    let mode_text =
        t.get_by_name::<String, _>("scaling_mode").or_internal()?.ok_or_else(|| internal("scaling_mode is NULL"))?;
    let shards = match t.get_by_name::<i32, _>("shard_count").or_internal()? {
        Some(n) => n,
        None => crate::policy::current()?.default_shard_count,
    };
    Ok(RegionView {
        id,
        slug,
        active,
        mode: Mode::parse(&mode_text).ok_or_else(|| internal(format!("unknown mode {mode_text}")))?,
        type_pressure: Centi(
            t.get_by_name::<i64, _>("type_pressure").or_internal()?.ok_or_else(|| internal("NULL score"))?,
        ),
        jobs_in_queue: i64::from(t.get_by_name::<i32, _>("jobs_in_queue").or_internal()?.unwrap_or(0)),
        shards: shards.max(1) as u32,
        remaining: t.get_by_name::<i64, _>("remaining").or_internal()?.unwrap_or(0),
        period_due,
        row_version: t.get_by_name::<String, _>("row_version").or_internal()?,
    })
}

/// Reads an existing, active region for routing (P0002 / 55000 otherwise).
pub fn active_view(client: &mut SpiClient<'_>, id: Uuid, job: JobType) -> GResult<RegionView> {
    let v = view(client, id, job)?.ok_or_else(|| not_found("region", id))?;
    if !v.active {
        return Err(inactive_region(id));
    }
    Ok(v)
}

/// A routing decision for one region.
#[derive(Clone, Debug)]
pub struct Route {
    pub region_id: Uuid,
    pub shard_key: String,
    pub priority: i32,
    /// Includes `delay_seconds`.
    pub estimated_wait: i64,
    pub mode: Mode,
    /// Seconds before the job may run (cautious regions).
    pub delay_seconds: i32,
}

/// Applies the mode rules and computes priority, wait and shard key.
pub fn plan(
    policy: &Policy,
    v: &RegionView,
    job: JobType,
    tenant: &[u8; 16],
    requested_priority: Option<i32>,
    cost: i64,
) -> Result<Route, Refusal> {
    admits(policy, v.mode, Some(job), cost)?;
    let shard = shard_of(tenant, v.shards);
    Ok(Route {
        region_id: v.id,
        shard_key: shard_key(&v.slug, job.as_str(), shard, v.shards),
        priority: priority(job, requested_priority, v.type_pressure),
        estimated_wait: estimated_wait(job, v.jobs_in_queue).saturating_add(i64::from(delay_seconds(policy, v.mode))),
        mode: v.mode,
        delay_seconds: delay_seconds(policy, v.mode),
    })
}

/// Active normal/cautious regions other than `exclude`, for the best-region
/// choice, with their coordinates where they have them.
pub fn candidates_at(
    client: &SpiClient<'_>,
    job: JobType,
    exclude: Option<Uuid>,
) -> GResult<Vec<(Candidate<[u8; 16]>, Option<Point>)>> {
    const SQL: &str = concat!(
        "SELECT s.region_id, s.scaling_mode, (",
        crate::state::live_capacity_sql!(),
        " * 100)::bigint AS capacity, ",
        type_pressure_sql!(),
        " AS type_pressure, r.latitude, r.longitude
           FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
          WHERE r.active AND s.scaling_mode IN ('normal', 'cautious')
            AND s.region_id IS DISTINCT FROM $1"
    );
    let rows = client.select(SQL, None, &[exclude.into(), job.as_str().into()]).or_internal()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let score = |c: &str| -> GResult<Centi> {
            Ok(Centi(row.get_by_name::<i64, _>(c).or_internal()?.ok_or_else(|| internal(format!("{c} is NULL")))?))
        };
        let id = row.get_by_name::<Uuid, _>("region_id").or_internal()?.ok_or_else(|| internal("NULL region id"))?;
        let mode = row
            .get_by_name::<String, _>("scaling_mode")
            .or_internal()?
            .and_then(|m| Mode::parse(&m))
            .unwrap_or(Mode::Frozen);
        let at = match (
            row.get_by_name::<f64, _>("latitude").or_internal()?,
            row.get_by_name::<f64, _>("longitude").or_internal()?,
        ) {
            (Some(latitude), Some(longitude)) => Some(Point { latitude, longitude }),
            _ => None,
        };
        out.push((
            Candidate {
                id: *id.as_bytes(),
                mode,
                capacity: score("capacity")?,
                type_pressure: score("type_pressure")?,
            },
            at,
        ));
    }
    Ok(out)
}

/// Active normal/cautious regions other than `exclude`, for the best-region choice.
pub fn candidates(client: &SpiClient<'_>, job: JobType, exclude: Option<Uuid>) -> GResult<Vec<Candidate<[u8; 16]>>> {
    Ok(candidates_at(client, job, exclude)?.into_iter().map(|(c, _)| c).collect())
}

/// The best region for a job type (see `grse_core::routing::best_region`).
pub fn best(
    client: &SpiClient<'_>,
    policy: &Policy,
    job: JobType,
    preferred: Option<Uuid>,
    exclude: Option<Uuid>,
) -> GResult<Option<Uuid>> {
    let cands = candidates(client, job, exclude)?;
    let pref = preferred.map(|p| *p.as_bytes());
    Ok(best_region(policy, &cands, pref.as_ref()).map(|c| Uuid::from_bytes(c.id)))
}

/// The best region for a job type near a location (see `grse_core::geo`):
/// without a location, [`best`]; with one, the nearest eligible region
/// (regions without coordinates last; pressure, capacity, id break ties),
/// unless the preferred region qualifies (as in [`best`]).
pub fn best_near(
    client: &SpiClient<'_>,
    policy: &Policy,
    job: JobType,
    preferred: Option<Uuid>,
    exclude: Option<Uuid>,
    near: Option<(f64, f64)>,
) -> GResult<Option<Uuid>> {
    let Some((latitude, longitude)) = near else {
        return best(client, policy, job, preferred, exclude);
    };
    let located = candidates_at(client, job, exclude)?;
    if let Some(p) = preferred.map(|p| *p.as_bytes()) {
        let cands: Vec<_> = located.iter().map(|(c, _)| c.clone()).collect();
        if let Some(c) = best_region(policy, &cands, Some(&p)).filter(|c| c.id == p) {
            return Ok(Some(Uuid::from_bytes(c.id)));
        }
    }
    Ok(nearest(&located, Point { latitude, longitude }).map(|c| Uuid::from_bytes(c.id)))
}

/// A double precision value as PostgreSQL prints it (NaN, Infinity, -Infinity).
fn sql_float(x: f64) -> String {
    match x {
        x if x.is_nan() => "NaN".into(),
        f64::INFINITY => "Infinity".into(),
        f64::NEG_INFINITY => "-Infinity".into(),
        x => x.to_string(),
    }
}

/// A location argument pair: both or neither, finite and in range (22023).
pub fn location_arg(latitude: Option<f64>, longitude: Option<f64>) -> GResult<Option<(f64, f64)>> {
    match (latitude, longitude) {
        (None, None) => Ok(None),
        (Some(lat), Some(lon)) => {
            if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
                return Err(invalid(format!("near_latitude must lie in [-90, 90], got {}", sql_float(lat))));
            }
            if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
                return Err(invalid(format!("near_longitude must lie in [-180, 180], got {}", sql_float(lon))));
            }
            Ok(Some((lat, lon)))
        }
        _ => Err(invalid("near_latitude and near_longitude must be given together")),
    }
}

fn job_type_required(job_type: Option<&str>) -> GResult<JobType> {
    job_type_arg(job_type)?.ok_or_else(|| null_argument("job_type"))
}

/// The tenant whose hash picks the shard; without one, a fresh random id
/// spreads jobs over the region's shards.
fn shard_tenant(tenant: Option<Uuid>) -> [u8; 16] {
    match tenant {
        Some(t) => *t.as_bytes(),
        None => *uuid::Uuid::new_v4().as_bytes(),
    }
}

/// Best region for a job type: among normal and cautious regions, the
/// preferred one if its capacity is above 30, else (with a location) the
/// nearest one by great-circle distance, regions without coordinates last,
/// else the lowest pressure of that type (ties: lower pressure, higher
/// capacity, then smaller id). NULL if none.
#[pg_extern(stable, parallel_safe)]
pub fn get_best_region_for_job(
    job_type: Option<&str>,
    preferred_region: default!(Option<Uuid>, "NULL"),
    near_latitude: default!(Option<f64>, "NULL"),
    near_longitude: default!(Option<f64>, "NULL"),
) -> GResult<Option<Uuid>> {
    let job = job_type_required(job_type)?;
    let near = location_arg(near_latitude, near_longitude)?;
    if let Some(p) = preferred_region {
        crate::region::require_active(p)?;
    }
    let policy = crate::policy::current()?;
    Spi::connect(|client| best_near(client, &policy, job, preferred_region, None, near))
}

type RouteRow = (Uuid, String, i32, i32, String, i32);

fn route_row(r: &Route) -> RouteRow {
    (
        r.region_id,
        r.shard_key.clone(),
        r.priority,
        r.estimated_wait.min(i64::from(i32::MAX)) as i32,
        r.mode.as_str().to_string(),
        r.delay_seconds,
    )
}

/// Reads an existing, active region for routing (see [`active_view`]) with
/// a budget period that has ended rolled over first, as the budget
/// functions do (that locks its state row to the end of the transaction):
/// the view, and whether it rolled a period over. Nothing is locked when
/// nothing is due.
pub fn current_view(client: &mut SpiClient<'_>, id: Uuid, job: JobType) -> GResult<(RegionView, bool)> {
    let v = active_view(client, id, job)?;
    if !v.period_due {
        return Ok((v, false));
    }
    crate::locking::lock_active_keeping_slots(client, id)?;
    Ok((active_view(client, id, job)?, true))
}

/// Routes one job: the given region if its mode admits the job, else (with
/// `allow_fallback`) the best other region; no row when nowhere admits it.
/// Without a region: the tenant's licensed region, else the best region.
/// The four `route_*_job` SQL functions are thin wrappers of this one.
#[pg_extern(volatile, parallel_unsafe)]
pub fn route_job(
    job_type: Option<&str>,
    region_id: default!(Option<Uuid>, "NULL"),
    tenant_id: default!(Option<Uuid>, "NULL"),
    priority: default!(Option<i32>, "NULL"),
    estimated_cost: default!(Option<AnyNumeric>, "0"),
    allow_fallback: default!(Option<bool>, "false"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(region_id, Uuid),
            name!(shard_key, String),
            name!(priority, i32),
            name!(estimated_wait, i32),
            name!(scaling_mode, String),
            name!(delay_seconds, i32),
        ),
    >,
    ErrorReport,
> {
    let job = job_type_required(job_type)?;
    let requested_priority = crate::error::priority_arg(priority)?;
    let cost = nonnegative_cents("estimated_cost", &required(estimated_cost, "estimated_cost")?)?;
    let allow_fallback = required(allow_fallback, "allow_fallback")?;
    let policy = crate::policy::current()?;
    let tenant_bytes = shard_tenant(tenant_id);
    let row = Spi::connect_mut(|client| -> GResult<Option<RouteRow>> {
        let first = match region_id {
            Some(id) => Some(id),
            None => match tenant_id.map(crate::resolver::region_for_agency).transpose()?.flatten() {
                Some(id) => Some(id),
                None => best(client, &policy, job, None, None)?,
            },
        };
        let Some(first) = first else { return Ok(None) };
        // at most one region is locked for a roll-over, so two routings cannot deadlock
        let (v, rolled) = crate::guard::internally(|| current_view(client, first, job))?;
        match plan(&policy, &v, job, &tenant_bytes, requested_priority, cost) {
            Ok(r) => Ok(Some(route_row(&r))),
            Err(_) if allow_fallback => match best(client, &policy, job, None, Some(first))? {
                Some(other) => {
                    let v = if rolled {
                        active_view(client, other, job)?
                    } else {
                        crate::guard::internally(|| current_view(client, other, job))?.0
                    };
                    Ok(plan(&policy, &v, job, &tenant_bytes, requested_priority, cost).ok().map(|r| route_row(&r)))
                }
                None => Ok(None),
            },
            Err(_) => Ok(None),
        }
    })?;
    Ok(TableIterator::new(row))
}

/// Moves a region's queue count by `delta` (never below zero); returns the new count.
#[pg_extern(volatile, parallel_unsafe)]
pub fn update_job_queue(region_id: Option<Uuid>, delta: Option<i32>) -> GResult<i32> {
    let region_id = required(region_id, "region_id")?;
    let delta = required(delta, "delta")?;
    let n = Spi::get_one_with_args::<i32>(
        "WITH u AS (
           UPDATE grse.region_scaling_state
              SET jobs_in_queue = GREATEST(0, jobs_in_queue::bigint + $2)::integer
            WHERE region_id = $1 RETURNING jobs_in_queue)
         SELECT (SELECT jobs_in_queue FROM u)",
        &[region_id.into(), delta.into()],
    )
    .or_internal()?;
    n.ok_or_else(|| not_found("region", region_id))
}
