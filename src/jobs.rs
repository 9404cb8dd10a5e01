//! Admitted jobs as records: queued → running → succeeded / failed, or
//! cancelled, or expired (policy `job_ttl`) by the sweeper, with the hold of
//! their estimated cost settled or released as they end; and the migration
//! of queued jobs between regions.
//!
//! A job's region's state row is locked before the job row (the order every
//! budget call keeps), so a job operation and a migration of the same job
//! serialize; a job that moved while its caller waited is followed to its new
//! region (the wait is undone in a subtransaction, releasing the old lock).

use crate::budget::debit_ready;
use crate::error::{invalid, not_found, required, GResult, SpiResultExt};
use crate::holds::{hold, resolve, HoldRequest};
use crate::locking::{lock_all, lock_current, Take};
use crate::region::{require_active, with_writes};
use crate::router::{candidates, plan, view};
use crate::state::Locked;
use grse_core::routing::ranked as ranked_regions;
use grse_core::routing::JobType;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, JsonB, PgBuiltInOids, PgOid, Uuid};
use std::collections::BTreeMap;

/// A new job record, counted in the admitted region's queue.
pub struct NewJob {
    pub region_id: Uuid,
    pub requested_region_id: Option<Uuid>,
    pub job: JobType,
    pub tenant_id: Option<Uuid>,
    pub shard_key: String,
    pub priority: i32,
    pub estimated_cost: i64,
    pub hold_id: Option<Uuid>,
    pub delay_seconds: i32,
    pub ttl_seconds: f64,
}

const RECORD_SQL: &str = "WITH j AS (
       INSERT INTO grse.jobs (id, region_id, requested_region_id, job_type, tenant_id, shard_key, priority,
                              estimated_cost, hold_id, run_after, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
               pg_catalog.now() + pg_catalog.make_interval(secs => $10),
               pg_catalog.now() + pg_catalog.make_interval(secs => $11))
       RETURNING region_id, expires_at)
     UPDATE grse.region_scaling_state s
        SET jobs_in_queue = s.jobs_in_queue + 1, next_expiry_at = LEAST(s.next_expiry_at, j.expires_at)
       FROM j WHERE s.region_id = j.region_id
     RETURNING s.jobs_in_queue";
const RECORD_TYPES: [PgOid; 11] = [
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::INT4OID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::FLOAT8OID),
    PgOid::BuiltIn(PgBuiltInOids::FLOAT8OID),
];

/// Writes the record of an admitted job and counts it into its region's
/// queue (the state row is locked by the caller), in one statement with a
/// kept plan; returns the job's id and the new queue depth.
pub fn record(client: &mut SpiClient<'_>, j: &NewJob) -> GResult<(Uuid, i32)> {
    let id = crate::ids::new_id();
    let args = [
        id.into(),
        j.region_id.into(),
        j.requested_region_id.into(),
        j.job.as_str().into(),
        j.tenant_id.into(),
        j.shard_key.as_str().into(),
        j.priority.into(),
        j.estimated_cost.into(),
        j.hold_id.into(),
        f64::from(j.delay_seconds).into(),
        j.ttl_seconds.into(),
    ];
    let depth = crate::statements::execute(client, RECORD_SQL, &RECORD_TYPES, &args)?
        .first()
        .get_one::<i32>()
        .or_internal()?
        .ok_or_else(|| crate::error::internal("the admitted job's region has no state row"))?;
    Ok((id, depth))
}

/// A job as its operations see it, locked.
struct LockedJob {
    facts: Locked,
    status: String,
    hold_id: Option<Uuid>,
}

/// 55000: the job is not in a state that allows the operation.
fn wrong_status(job_id: Uuid, status: &str, allowed: &str) -> ErrorReport {
    crate::error::wrong_state(format!("job {job_id} is {status}"))
        .set_detail(format!("Only a job that is {allowed} can be changed so."))
}

/// A region whose state row this transaction holds, read as it is now.
fn locked(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Locked> {
    crate::region::lock_row(client, region_id)?.ok_or_else(|| not_found("region", region_id))
}

fn region_of_job(client: &mut SpiClient<'_>, job_id: Uuid) -> GResult<Uuid> {
    crate::region::region_of(client, "SELECT region_id FROM grse.jobs WHERE id = $1", "job", job_id)
}

/// Locks the job's region (up to date, see `lock_current`) and then
/// the job, following it if a migration moved it meanwhile. Each try runs
/// in a subtransaction (`shortwaits::until_through`): undone, releasing
/// the region, when the job moved, and made again when a bounded wait for
/// the region's rows was cut short (see `region::lock_row`).
fn lock_job(client: &mut SpiClient<'_>, job_id: Uuid) -> GResult<LockedJob> {
    let started = std::time::Instant::now();
    loop {
        let region_id = region_of_job(client, job_id)?;
        let out = crate::shortwaits::until_through("locking the job's region", started, |_| {
            let facts = lock_current(client, region_id)?;
            let t = crate::statements::run(
                client,
                "SELECT region_id, status, hold_id FROM grse.jobs WHERE id = $1 FOR UPDATE",
                &[job_id.into()],
            )?;
            let r = t.first();
            if r.get_by_name::<Uuid, _>("region_id").or_internal()? != Some(region_id) {
                return Ok(Err(())); // moved while we waited: release that region and follow the job
            }
            Ok(Ok(LockedJob {
                facts,
                status: r.get_by_name::<String, _>("status").or_internal()?.unwrap_or_default(),
                hold_id: r.get_by_name::<Uuid, _>("hold_id").or_internal()?,
            }))
        })?;
        if let Ok(job) = out {
            return Ok(job);
        }
    }
}

fn job_json(client: &mut SpiClient<'_>, job_id: Uuid) -> GResult<JsonB> {
    crate::statements::run(client, "SELECT to_jsonb(j) FROM grse.jobs j WHERE j.id = $1", &[job_id.into()])?
        .first()
        .get_one::<JsonB>()
        .or_internal()?
        .ok_or_else(|| not_found("job", job_id))
}

/// Ends a queued or running job with `status`, resolving its hold (`settle`:
/// charge that much; None: release) and taking it out of the queue count.
fn end_job(
    client: &mut SpiClient<'_>,
    job_id: Uuid,
    status: &str,
    actual_cost: Option<i64>,
    settle: Option<i64>,
) -> GResult<JsonB> {
    let j = lock_job(client, job_id)?;
    if j.status != "queued" && j.status != "running" {
        return Err(wrong_status(job_id, &j.status, "queued or running"));
    }
    if let Some(h) = j.hold_id {
        let open =
            crate::statements::run(client, "SELECT status = 'held' FROM grse.budget_holds WHERE id = $1", &[h.into()])?
                .first()
                .get_one::<bool>()
                .or_internal()?
                .unwrap_or(false);
        if open {
            resolve(client, j.facts.clone(), h, settle.map(|a| (a, "actual_cost")))?;
        }
    }
    crate::statements::run(
        client,
        "WITH j AS (
               UPDATE grse.jobs SET status = $2, finished_at = pg_catalog.now(), actual_cost = $3 WHERE id = $1
               RETURNING region_id)
             UPDATE grse.region_scaling_state s SET jobs_in_queue = GREATEST(s.jobs_in_queue - 1, 0)
               FROM j WHERE s.region_id = j.region_id",
        &[job_id.into(), status.into(), actual_cost.into()],
    )?;
    job_json(client, job_id)
}

/// A worker takes a queued job: it becomes running. Returns the job record.
#[pg_extern(volatile, parallel_unsafe)]
pub fn start_job(job_id: Option<Uuid>) -> GResult<JsonB> {
    let job_id = required(job_id, "job_id")?;
    with_writes(|client| {
        let j = lock_job(client, job_id)?;
        if j.status != "queued" {
            return Err(wrong_status(job_id, &j.status, "queued"));
        }
        crate::statements::run(
            client,
            "UPDATE grse.jobs SET status = 'running', started_at = pg_catalog.now() WHERE id = $1",
            &[job_id.into()],
        )?;
        job_json(client, job_id)
    })
}

/// A job ends: succeeded (its hold settled with `actual_cost`, or released
/// when it has no cost) or failed (its hold released). Returns the record.
#[pg_extern(volatile, parallel_unsafe)]
pub fn finish_job(
    job_id: Option<Uuid>,
    actual_cost: default!(Option<AnyNumeric>, "NULL"),
    succeeded: default!(Option<bool>, "true"),
) -> GResult<JsonB> {
    let job_id = required(job_id, "job_id")?;
    let succeeded = required(succeeded, "succeeded")?;
    let actual = actual_cost.map(|c| crate::convert::nonnegative_cents("actual_cost", &c)).transpose()?;
    let (status, settle) = if succeeded { ("succeeded", actual) } else { ("failed", None) };
    with_writes(|client| end_job(client, job_id, status, actual, settle))
}

/// A queued or running job is cancelled; its hold is released. Returns the record.
#[pg_extern(volatile, parallel_unsafe)]
pub fn cancel_job(job_id: Option<Uuid>) -> GResult<JsonB> {
    let job_id = required(job_id, "job_id")?;
    with_writes(|client| end_job(client, job_id, "cancelled", None, None))
}

/// A queued job of the region being migrated.
struct Queued {
    id: Uuid,
    job: JobType,
    tenant: [u8; 16],
    priority: i32,
    cost: i64,
    hold: Option<(Uuid, i64, Option<Uuid>)>,
    ttl_seconds: f64,
}

fn queued_jobs(client: &mut SpiClient<'_>, from: Uuid, job: Option<JobType>, lock: bool) -> GResult<Vec<Queued>> {
    let q = format!(
        "SELECT j.id, j.job_type, COALESCE(j.tenant_id, j.id) AS tenant, j.priority, j.estimated_cost,
                h.id AS hold_id, h.amount AS hold_amount, h.agency_id AS hold_agency,
                GREATEST(extract(epoch FROM j.expires_at - pg_catalog.now()), 1)::float8 AS ttl
           FROM grse.jobs j LEFT JOIN grse.budget_holds h ON h.id = j.hold_id AND h.status = 'held'
          WHERE j.region_id = $1 AND j.status = 'queued' AND ($2::text IS NULL OR j.job_type = $2)
          ORDER BY j.priority DESC, j.created_at, j.id {}",
        if lock { "FOR UPDATE OF j" } else { "" }
    );
    let t = client.update(q.as_str(), None, &[from.into(), job.map(|j| j.as_str()).into()]).or_internal()?;
    let mut out = Vec::with_capacity(t.len());
    for r in t {
        let id = r.get_by_name::<Uuid, _>("id").or_internal()?.ok_or_else(|| not_found("job", "NULL"))?;
        let job = r.get_by_name::<String, _>("job_type").or_internal()?.and_then(|t| JobType::parse(&t));
        let hold = match r.get_by_name::<Uuid, _>("hold_id").or_internal()? {
            Some(h) => Some((
                h,
                r.get_by_name::<i64, _>("hold_amount").or_internal()?.unwrap_or(0),
                r.get_by_name::<Uuid, _>("hold_agency").or_internal()?,
            )),
            None => None,
        };
        out.push(Queued {
            id,
            job: job.unwrap_or(JobType::Posting),
            tenant: *r.get_by_name::<Uuid, _>("tenant").or_internal()?.unwrap_or(id).as_bytes(),
            priority: r.get_by_name::<i32, _>("priority").or_internal()?.unwrap_or(1),
            cost: r.get_by_name::<i64, _>("estimated_cost").or_internal()?.unwrap_or(0),
            hold,
            ttl_seconds: r.get_by_name::<f64, _>("ttl").or_internal()?.unwrap_or(1.0),
        });
    }
    Ok(out)
}

type Moved = (Uuid, Uuid, Uuid, String);

/// For each queued job of `from` (a read, nothing locked): `to`, or the
/// first region in best-region order for its type whose mode admits it and
/// whose budget can take its hold (what earlier jobs were given counted).
/// A job with no such region is left out: it stays.
fn choose_targets(
    client: &mut SpiClient<'_>,
    policy: &grse_core::Policy,
    from: Uuid,
    to: Option<Uuid>,
    job: Option<JobType>,
) -> GResult<BTreeMap<[u8; 16], Uuid>> {
    let mut targets = BTreeMap::new();
    let mut promised: BTreeMap<[u8; 16], i64> = BTreeMap::new();
    let mut ranked: BTreeMap<&'static str, Vec<Uuid>> = BTreeMap::new();
    for q in queued_jobs(client, from, job, false)? {
        let order = match to {
            Some(to) => vec![to],
            None => match ranked.get(q.job.as_str()) {
                Some(order) => order.clone(),
                None => {
                    let cands = candidates(client, q.job, Some(from))?;
                    let order: Vec<Uuid> = ranked_regions(&cands).into_iter().map(|c| Uuid::from_bytes(c.id)).collect();
                    ranked.insert(q.job.as_str(), order.clone());
                    order
                }
            },
        };
        let need = q.hold.map(|(_, amount, _)| amount).unwrap_or(0);
        for r in order {
            let Some(v) = view(client, r, q.job)? else { continue };
            let taken = promised.get(r.as_bytes()).copied().unwrap_or(0);
            if v.active
                && plan(policy, &v, q.job, &q.tenant, Some(q.priority), q.cost).is_ok()
                && v.remaining - taken >= need
            {
                *promised.entry(*r.as_bytes()).or_insert(0) += need;
                targets.insert(*q.id.as_bytes(), r);
                break;
            }
        }
    }
    Ok(targets)
}

/// Moves the queued jobs of `from_region` (of one type, or all) to
/// `to_region`, or each to the best region for its type: the job's region
/// and shard key change, its priority moves with it, its hold is released
/// in the old region and reserved in the new one. A job that fits nowhere
/// (the target's mode refuses it, or its budget cannot take the hold)
/// stays. One transaction; returns the jobs moved.
#[pg_extern(volatile, parallel_unsafe)]
pub fn migrate_jobs(
    from_region: Option<Uuid>,
    to_region: default!(Option<Uuid>, "NULL"),
    job_type: default!(Option<&str>, "NULL"),
) -> Result<
    TableIterator<
        'static,
        (name!(job_id, Uuid), name!(from_region, Uuid), name!(to_region, Uuid), name!(shard_key, String)),
    >,
    ErrorReport,
> {
    let from = required(from_region, "from_region")?;
    let job = crate::budget::job_type_arg(job_type)?;
    require_active(from)?;
    if let Some(to) = to_region {
        if to == from {
            return Err(invalid("to_region must differ from from_region"));
        }
        require_active(to)?;
    }
    let policy = crate::policy::current()?;
    let moved = with_writes(|client| -> GResult<Vec<Moved>> {
        // where each job would go (a read: the first region in best-region order that admits it
        // and can take its hold), then lock every region involved in id order and re-check
        let targets = choose_targets(client, &policy, from, to_region, job)?;
        let mut regions: Vec<Uuid> = targets.values().copied().collect();
        regions.push(from);
        regions.sort_by_key(|r| *r.as_bytes());
        regions.dedup();
        lock_all(client, &regions, Take::Current)?;
        let mut moved = Vec::new();
        for q in queued_jobs(client, from, job, true)? {
            let Some(to) = targets.get(q.id.as_bytes()).copied() else { continue };
            let Some(v) = view(client, to, q.job)? else { continue };
            if !v.active {
                continue;
            }
            let Ok(route) = plan(&policy, &v, q.job, &q.tenant, Some(q.priority), q.cost) else { continue };
            let mut new_hold = None;
            if let Some((old, amount, agency)) = q.hold {
                // both regions are this call's (locked above): their rows read as they are now;
                // the target's pool made able to pay first (its free slots emptied), or the job stays
                let target = locked(client, to)?;
                let Some(target) = debit_ready(client, target, amount, false)? else { continue };
                let source = locked(client, from)?;
                resolve(client, source, old, None)?;
                let req = HoldRequest {
                    amount,
                    agency_id: agency,
                    job_type: Some(q.job),
                    ttl_seconds: q.ttl_seconds,
                    key: None,
                };
                let h = hold(client, &target, &req)?
                    .ok_or_else(|| crate::error::internal("a checked hold was refused during migration"))?;
                new_hold = Some(h.hold_id);
            }
            crate::statements::run(
                client,
                "WITH j AS (
                       UPDATE grse.jobs SET region_id = $2, shard_key = $3, hold_id = COALESCE($4, hold_id)
                        WHERE id = $1 RETURNING expires_at),
                     f AS (
                       UPDATE grse.region_scaling_state SET jobs_in_queue = GREATEST(jobs_in_queue - 1, 0)
                        WHERE region_id = $5)
                     UPDATE grse.region_scaling_state s
                        SET jobs_in_queue = s.jobs_in_queue + 1, next_expiry_at = LEAST(s.next_expiry_at, j.expires_at)
                       FROM j WHERE s.region_id = $2",
                &[q.id.into(), to.into(), route.shard_key.as_str().into(), new_hold.into(), from.into()],
            )?;
            moved.push((q.id, from, to, route.shard_key));
        }
        Ok(moved)
    })?;
    Ok(TableIterator::new(moved))
}
