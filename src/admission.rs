//! One-call admission: resolve the region, apply the mode rules, check the
//! budget for the estimated cost, compute priority and shard key, fall back
//! to the best other region when allowed, and count the job into the
//! region's queue — in one statement, under the admitted region's row lock.
//!
//! At most one region's row is locked: the one the read says will admit the
//! job, re-checked under the lock (with budget slots, plus the slot rows that
//! make up the budget it counts, taken without waiting). If that re-check
//! refuses (the region changed meanwhile), the admission ends there, without
//! a fallback, so it never holds one row while waiting for another and
//! cannot deadlock. The re-check reads the row again only if the version
//! locked is not the version read (its `xmin` differs, or bringing the row
//! up to date wrote it): an admission on a quiet region runs one read fewer.

use crate::budget::job_type_arg;
use crate::convert::nonnegative_cents;
use crate::error::{null_argument, required, GResult};
use crate::holds::HoldRequest;
use crate::jobs::NewJob;
use crate::region::with_writes;
use crate::router::{current_view, locked_view, plan, RegionView, Route};
use grse_core::routing::{JobType, Refusal};
use grse_core::Policy;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, Uuid};

/// Why a region did not take the job.
fn refusal_text(v_remaining: i64, cost: i64, r: Result<Route, Refusal>) -> Result<Route, String> {
    match r {
        Err(refusal) => Err(refusal.to_string()),
        Ok(route) => match crate::budget::shortfall(v_remaining, cost) {
            Some(why) => Err(why),
            None => Ok(route),
        },
    }
}

struct Ask<'a> {
    policy: &'a Policy,
    job: JobType,
    tenant: [u8; 16],
    tenant_id: Option<Uuid>,
    requested: Option<Uuid>,
    priority: Option<i32>,
    cost: i64,
    /// Reserve the estimated cost as a budget hold of the job.
    hold_budget: bool,
}

/// An admitted job: where it goes, its queue depth, its record and hold.
struct Admitted {
    route: Route,
    depth: i32,
    job_id: Uuid,
    hold_id: Option<Uuid>,
}

/// What one region said.
enum Outcome {
    Admitted(Admitted),
    /// Refused on a read, without taking a lock: another region may be tried.
    Refused(String),
    /// Refused under the row lock (it changed meanwhile, or a due period was
    /// rolled over first): the lock is held to the end of the transaction,
    /// so no other region is locked after it — that is what keeps admissions
    /// free of deadlocks.
    RefusedLocked(String),
}

/// Tries one region: roll a due period over, read, then lock and re-check,
/// then count the job in, record it and (if asked) hold its cost.
fn try_region(client: &mut SpiClient<'_>, ask: &Ask<'_>, id: Uuid) -> GResult<Outcome> {
    let (v, rolled) = current_view(client, id, ask.job)?;
    if let Err(why) =
        refusal_text(v.remaining, ask.cost, plan(ask.policy, &v, ask.job, &ask.tenant, ask.priority, ask.cost))
    {
        return Ok(if rolled { Outcome::RefusedLocked(why) } else { Outcome::Refused(why) });
    }
    // the read said yes: lock the row and decide again on what is now true
    let facts = crate::locking::lock_active_keeping_slots(client, id)?;
    // the row is this transaction's now: what the read saw, if the version it
    // read is the one locked (nothing wrote it meanwhile), else a plain read
    let mut v = if v.row_version.is_some() && v.row_version == facts.row_version {
        RegionView { period_due: false, ..v }
    } else {
        locked_view(client, &v, ask.job)?
    };
    // budget in slots counts only as far as this transaction holds it (a
    // spend in flight elsewhere may take the rest): the charge that follows
    // the admission then cannot be refused
    if let Some(available) = crate::slots::admissible(client, &facts, ask.cost)? {
        v.remaining = available;
    }
    let route =
        match refusal_text(v.remaining, ask.cost, plan(ask.policy, &v, ask.job, &ask.tenant, ask.priority, ask.cost)) {
            Ok(route) => route,
            Err(why) => return Ok(Outcome::RefusedLocked(why)),
        };
    let ttl_seconds = ask.policy.job_ttl_micros as f64 / 1_000_000.0;
    let hold_id = if ask.hold_budget && ask.cost > 0 {
        let req = HoldRequest { amount: ask.cost, agency_id: None, job_type: Some(ask.job), ttl_seconds, key: None };
        match crate::holds::hold(client, &facts, &req)? {
            Some(h) => Some(h.hold_id),
            None => {
                let why = crate::budget::shortfall(0, ask.cost).unwrap_or_default();
                return Ok(Outcome::RefusedLocked(why));
            }
        }
    } else {
        None
    };
    let (job_id, depth) = crate::jobs::record(
        client,
        &NewJob {
            region_id: id,
            requested_region_id: ask.requested,
            job: ask.job,
            tenant_id: ask.tenant_id,
            shard_key: route.shard_key.clone(),
            priority: route.priority,
            estimated_cost: ask.cost,
            hold_id,
            delay_seconds: route.delay_seconds,
            ttl_seconds,
        },
    )?;
    Ok(Outcome::Admitted(Admitted { route, depth, job_id, hold_id }))
}

/// admitted, region_id, requested_region_id, shard_key, priority,
/// estimated_wait, scaling_mode, queue_depth, fallback_used, reason,
/// delay_seconds, job_id, hold_id.
type Decision = (
    bool,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    bool,
    String,
    Option<i32>,
    Option<Uuid>,
    Option<Uuid>,
);

/// Admits a job end to end. The region is `region_id`, else the region of
/// `client_id`, else of `tenant_id` (an agency); with `allow_fallback`, a
/// refusal there tries the best other region for the job type (the nearest
/// to `near_latitude`/`near_longitude` when given). An admitted job gets a
/// record (`job_id`) and, with `hold_budget`, a hold of its estimated cost
/// (`hold_id`). Always returns one row: admitted or not, and why.
#[pg_extern(volatile, parallel_unsafe)]
#[allow(clippy::too_many_arguments)]
pub fn admit_job(
    job_type: Option<&str>,
    tenant_id: default!(Option<Uuid>, "NULL"),
    region_id: default!(Option<Uuid>, "NULL"),
    client_id: default!(Option<Uuid>, "NULL"),
    estimated_cost: default!(Option<AnyNumeric>, "0"),
    priority: default!(Option<i32>, "NULL"),
    allow_fallback: default!(Option<bool>, "true"),
    hold_budget: default!(Option<bool>, "false"),
    near_latitude: default!(Option<f64>, "NULL"),
    near_longitude: default!(Option<f64>, "NULL"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(admitted, bool),
            name!(region_id, Option<Uuid>),
            name!(requested_region_id, Option<Uuid>),
            name!(shard_key, Option<String>),
            name!(priority, Option<i32>),
            name!(estimated_wait, Option<i32>),
            name!(scaling_mode, Option<String>),
            name!(queue_depth, Option<i32>),
            name!(fallback_used, bool),
            name!(reason, String),
            name!(delay_seconds, Option<i32>),
            name!(job_id, Option<Uuid>),
            name!(hold_id, Option<Uuid>),
        ),
    >,
    ErrorReport,
> {
    let job = job_type_arg(job_type)?.ok_or_else(|| null_argument("job_type"))?;
    let cost = nonnegative_cents("estimated_cost", &required(estimated_cost, "estimated_cost")?)?;
    let allow_fallback = required(allow_fallback, "allow_fallback")?;
    let hold_budget = required(hold_budget, "hold_budget")?;
    let near = crate::router::location_arg(near_latitude, near_longitude)?;
    let priority = crate::error::priority_arg(priority)?;
    if region_id.is_none() && client_id.is_none() && tenant_id.is_none() {
        return Err(null_argument("one of region_id, client_id and tenant_id"));
    }
    let policy = crate::policy::current()?;
    let tenant = tenant_id.or(client_id).map(|t| *t.as_bytes()).unwrap_or_else(|| *uuid::Uuid::new_v4().as_bytes());
    let requested = match (region_id, client_id, tenant_id) {
        (Some(r), _, _) => Some(r),
        (None, Some(c), _) => {
            crate::resolver::require_client(c)?;
            crate::resolver::region_for_client(c)?
        }
        (None, None, Some(t)) => {
            crate::resolver::require_agency(t)?;
            crate::resolver::region_for_agency(t)?
        }
        (None, None, None) => None,
    };
    let ask = Ask {
        policy: &policy,
        job,
        tenant,
        tenant_id: tenant_id.or(client_id),
        requested,
        priority,
        cost,
        hold_budget,
    };
    let row = with_writes(|client| -> GResult<Decision> {
        let refused =
            |reason: String| (false, None, requested, None, None, None, None, None, false, reason, None, None, None);
        let mut reason = match requested {
            Some(id) => match try_region(client, &ask, id)? {
                Outcome::Admitted(a) => return Ok(admitted(requested, a, false)),
                Outcome::Refused(why) => why,
                Outcome::RefusedLocked(why) => return Ok(refused(why)),
            },
            None => "No region resolved for the job".to_string(),
        };
        if allow_fallback {
            match crate::router::best_near(client, &policy, job, None, requested, near)? {
                Some(other) => match try_region(client, &ask, other)? {
                    Outcome::Admitted(a) => return Ok(admitted(requested, a, true)),
                    Outcome::Refused(why) | Outcome::RefusedLocked(why) => {
                        reason = format!("{reason}; fallback region refused: {why}")
                    }
                },
                None => reason = format!("{reason}; no fallback region available"),
            }
        }
        Ok(refused(reason))
    })?;
    Ok(TableIterator::once(row))
}

fn admitted(requested: Option<Uuid>, a: Admitted, fallback: bool) -> Decision {
    let r = a.route;
    (
        true,
        Some(r.region_id),
        requested,
        Some(r.shard_key),
        Some(r.priority),
        Some(r.estimated_wait.min(i64::from(i32::MAX)) as i32),
        Some(r.mode.as_str().to_string()),
        Some(a.depth),
        fallback,
        if fallback { "Admitted by fallback region".to_string() } else { "Admitted".to_string() },
        Some(r.delay_seconds),
        Some(a.job_id),
        a.hold_id,
    )
}
