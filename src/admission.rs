//! One-call admission: resolve the region, apply the mode rules, check the
//! budget for the estimated cost, compute priority and shard key, fall back
//! to the best other region when allowed, and count the job into the
//! region's queue — in one statement, under the admitted region's row lock.
//!
//! At most one region's row is locked: the one the read says will admit the
//! job, re-checked under the lock (with budget slots, plus the slot rows that
//! make up the budget it counts, taken without waiting). If that re-check refuses (the region
//! changed meanwhile), the admission ends there, without a fallback, so it
//! never holds one row while waiting for another and cannot deadlock.

use crate::budget::job_type_arg;
use crate::convert::nonnegative_cents;
use crate::error::{invalid, null_argument, required, GResult, SpiResultExt};
use crate::router::{active_view, best, plan, view, Route};
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
        Ok(_) if v_remaining < cost => Err(format!("Insufficient budget: {v_remaining} remaining, {cost} requested")),
        Ok(route) => Ok(route),
    }
}

struct Ask<'a> {
    policy: &'a Policy,
    job: JobType,
    tenant: [u8; 16],
    priority: Option<i32>,
    cost: i64,
}

/// What one region said.
enum Outcome {
    Admitted(Route, i32),
    /// Refused on a read, without taking a lock: another region may be tried.
    Refused(String),
    /// Refused on the re-check under the row lock (it changed meanwhile):
    /// the lock is held to the end of the transaction, so no other region is
    /// locked after it — that is what keeps admissions free of deadlocks.
    RefusedLocked(String),
}

/// Tries one region: read, then lock and re-check, then count the job in.
fn try_region(client: &mut SpiClient<'_>, ask: &Ask<'_>, id: Uuid) -> GResult<Outcome> {
    let v = active_view(client, id, ask.job, false)?;
    if let Err(why) =
        refusal_text(v.remaining, ask.cost, plan(ask.policy, &v, ask.job, &ask.tenant, ask.priority, ask.cost))
    {
        return Ok(Outcome::Refused(why));
    }
    // the read said yes: lock the row and decide again on what is now true
    let mut v = view(client, id, ask.job, true)?.ok_or_else(|| crate::error::not_found("region", id))?;
    // budget in slots counts only as far as this transaction holds it (a
    // spend in flight elsewhere may take the rest): the charge that follows
    // the admission then cannot be refused
    if let Some(available) = crate::slots::admissible(client, id, ask.cost)? {
        v.remaining = available;
    }
    let route =
        match refusal_text(v.remaining, ask.cost, plan(ask.policy, &v, ask.job, &ask.tenant, ask.priority, ask.cost)) {
            Ok(route) => route,
            Err(why) => return Ok(Outcome::RefusedLocked(why)),
        };
    let depth = client
        .update(
            "UPDATE grse.region_scaling_state SET jobs_in_queue = jobs_in_queue + 1
              WHERE region_id = $1 RETURNING jobs_in_queue",
            None,
            &[id.into()],
        )
        .or_internal()?
        .first()
        .get_one::<i32>()
        .or_internal()?
        .unwrap_or(0);
    Ok(Outcome::Admitted(route, depth))
}

/// admitted, region_id, requested_region_id, shard_key, priority,
/// estimated_wait, scaling_mode, queue_depth, fallback_used, reason.
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
);

/// Admits a job end to end. The region is `region_id`, else the region of
/// `client_id`, else of `tenant_id` (an agency); with `allow_fallback`, a
/// refusal there tries the best other region for the job type. Always
/// returns one row: admitted or not, and why.
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
        ),
    >,
    ErrorReport,
> {
    let job = job_type_arg(job_type)?.ok_or_else(|| null_argument("job_type"))?;
    let cost = nonnegative_cents("estimated_cost", &required(estimated_cost, "estimated_cost")?)?;
    let allow_fallback = required(allow_fallback, "allow_fallback")?;
    if let Some(p) = priority.filter(|p| !(1..=1000).contains(p)) {
        return Err(invalid(format!("priority must lie in [1, 1000], got {p}")));
    }
    if region_id.is_none() && client_id.is_none() && tenant_id.is_none() {
        return Err(null_argument("one of region_id, client_id and tenant_id"));
    }
    let policy = crate::policy::current()?;
    let tenant = tenant_id.or(client_id).map(|t| *t.as_bytes()).unwrap_or_else(|| *uuid::Uuid::new_v4().as_bytes());
    let ask = Ask { policy: &policy, job, tenant, priority, cost };
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
    let row = Spi::connect_mut(|client| -> GResult<Decision> {
        let refused = |reason: String| (false, None, requested, None, None, None, None, None, false, reason);
        let mut reason = match requested {
            Some(id) => match try_region(client, &ask, id)? {
                Outcome::Admitted(route, depth) => return Ok(admitted(requested, route, depth, false)),
                Outcome::Refused(why) => why,
                Outcome::RefusedLocked(why) => return Ok(refused(why)),
            },
            None => "No region resolved for the job".to_string(),
        };
        if allow_fallback {
            match best(client, &policy, job, None, requested)? {
                Some(other) => match try_region(client, &ask, other)? {
                    Outcome::Admitted(route, depth) => return Ok(admitted(requested, route, depth, true)),
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

fn admitted(requested: Option<Uuid>, r: Route, depth: i32, fallback: bool) -> Decision {
    (
        true,
        Some(r.region_id),
        requested,
        Some(r.shard_key),
        Some(r.priority),
        Some(r.estimated_wait.min(i64::from(i32::MAX)) as i32),
        Some(r.mode.as_str().to_string()),
        Some(depth),
        fallback,
        if fallback { "Admitted by fallback region".to_string() } else { "Admitted".to_string() },
    )
}
