//! Budget holds: reserve → settle / release / expire.
//!
//! The seed's flow is "check the budget, run the AI call, charge it"; the
//! AI call runs outside the database transaction, so a hold reserves the
//! money first. A reserved amount leaves `ai_budget_remaining` at once (a
//! `hold` ledger row) and counts in `ai_budget_held`; the hold then resolves
//! exactly once, under the region's state row lock: settled (a `release` of
//! the held amount and a `spend` of what was used), released, or expired
//! (a `release`, by the sweeper or lazily by any budget call that locks the
//! region). Hold operations work on the whole budget in the pool: the
//! region's budget slots are emptied first.

use crate::budget::{agency_arg, debit_ready, job_type_arg, refusal};
use crate::convert::{amount_cents, nonnegative_cents};
use crate::error::{invalid, not_found, required, GResult, SpiResultExt};
use crate::idempotency::{key_arg, recorded, reused, Recorded};
use crate::ledger::{self, cap_credit, Entry, Kind, Move};
use crate::locking::{empty_slots, lock_current};
use crate::region::with_writes;
use crate::slots::Emptying;
use crate::state::Locked;
use grse_core::mode::Mode;
use grse_core::routing::JobType;
use pgrx::datum::{Interval, TimestampWithTimeZone};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, Uuid};

/// What a new hold is for.
pub struct HoldRequest<'a> {
    pub amount: i64,
    pub agency_id: Option<Uuid>,
    pub job_type: Option<JobType>,
    /// Seconds until it expires.
    pub ttl_seconds: f64,
    pub key: Option<&'a str>,
}

/// A hold just made.
pub struct Held {
    pub hold_id: Uuid,
    pub expires_at: TimestampWithTimeZone,
    /// The remaining budget afterwards (pool and slots).
    pub remaining: i64,
}

/// Reserves `r.amount` in a region whose state row this transaction holds
/// locked, if its budget has it (every slot is emptied into the pool first).
/// None (nothing written) when it does not.
pub fn hold(client: &mut SpiClient<'_>, facts: &Locked, r: &HoldRequest<'_>) -> GResult<Option<Held>> {
    // keyed: the whole budget in the pool, so the hold row's balance_after is the answer a retry gets
    let Some(facts) = debit_ready(client, facts.clone(), r.amount, r.key.is_some())? else {
        return Ok(None);
    };
    let hold_id = crate::ids::new_id();
    let t = crate::statements::run(
        client,
        "INSERT INTO grse.budget_holds (id, region_id, agency_id, job_type, amount, idempotency_key, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, pg_catalog.now() + pg_catalog.make_interval(secs => $7))
             RETURNING expires_at",
        &[
            hold_id.into(),
            facts.region_id.into(),
            r.agency_id.into(),
            r.job_type.map(|t| t.as_str()).into(),
            r.amount.into(),
            r.key.into(),
            r.ttl_seconds.into(),
        ],
    )?;
    let expires_at = t
        .first()
        .get_one::<TimestampWithTimeZone>()
        .or_internal()?
        .ok_or_else(|| crate::error::internal("a new hold has no expiry"))?;
    let entry = Entry {
        agency_id: r.agency_id,
        job_type: r.job_type.map(|t| t.as_str()),
        description: Some("budget reserved".into()),
        idempotency_key: r.key.map(str::to_string),
        hold_id: Some(hold_id),
        ..Entry::new(Kind::Hold, -r.amount)
    };
    let pool = ledger::apply(
        client,
        facts.region_id,
        Move { held: r.amount, expires_at: Some(expires_at), entries: vec![entry], ..Move::default() },
    )?;
    let remaining = pool + crate::slots::holdings(client, facts.region_id, facts.allotment)?.balance;
    Ok(Some(Held { hold_id, expires_at, remaining }))
}

/// An open hold, read and locked under its region's state row lock.
struct OpenHold {
    amount: i64,
    agency_id: Option<Uuid>,
    job_type: Option<String>,
}

/// The region of a hold; P0002 if there is no such hold.
pub fn region_of_hold(client: &mut SpiClient<'_>, hold_id: Uuid) -> GResult<Uuid> {
    crate::region::region_of(client, "SELECT region_id FROM grse.budget_holds WHERE id = $1", "budget hold", hold_id)
}

/// 55000: a hold that has resolved already.
fn resolved_already(hold_id: Uuid, status: &str) -> ErrorReport {
    crate::error::wrong_state(format!("budget hold {hold_id} is {status}"))
        .set_detail("A hold resolves once: settled, released or expired.")
}

fn lock_open(client: &mut SpiClient<'_>, hold_id: Uuid) -> GResult<OpenHold> {
    let t = crate::statements::run(
        client,
        "SELECT status, amount, agency_id, job_type FROM grse.budget_holds WHERE id = $1 FOR UPDATE",
        &[hold_id.into()],
    )?;
    if t.is_empty() {
        return Err(not_found("budget hold", hold_id));
    }
    let r = t.first();
    let status = r.get_by_name::<String, _>("status").or_internal()?.unwrap_or_default();
    if status != "held" {
        return Err(resolved_already(hold_id, &status));
    }
    Ok(OpenHold {
        amount: r.get_by_name::<i64, _>("amount").or_internal()?.unwrap_or(0),
        agency_id: r.get_by_name::<Uuid, _>("agency_id").or_internal()?,
        job_type: r.get_by_name::<String, _>("job_type").or_internal()?,
    })
}

/// Resolves an open hold of a region whose state row this transaction
/// holds locked with every slot emptied: `Some((a, name))` settles it
/// charging `a` (22023 above the held amount, naming the argument `name`),
/// `None` releases it. Returns the pool (the
/// whole remaining budget) afterwards.
pub fn resolve(client: &mut SpiClient<'_>, facts: Locked, hold_id: Uuid, settle: Option<(i64, &str)>) -> GResult<i64> {
    let h = lock_open(client, hold_id)?;
    if let Some((a, name)) = settle.filter(|(a, _)| *a > h.amount) {
        return Err(invalid(format!("{name} {a} exceeds the held amount of {} cents", h.amount))
            .set_detail("A hold settles at most the amount it reserved; charge more with decrement_budget."));
    }
    let actual = settle.map(|(a, _)| a);
    let used = actual.unwrap_or(0);
    let job_type = h.job_type.as_deref().and_then(crate::expiry::job_type_static);
    let base = Entry { agency_id: h.agency_id, job_type, hold_id: Some(hold_id), ..Entry::new(Kind::Release, 0) };
    let mut entries = vec![Entry {
        delta: h.amount,
        description: Some(if actual.is_some() { "budget hold settled" } else { "budget hold released" }.into()),
        ..base.clone()
    }];
    if used > 0 {
        entries.push(Entry {
            kind: Kind::Spend,
            delta: -used,
            description: Some("budget hold settled".into()),
            ..base
        });
    }
    // the free slots back in the pool (slots other transactions hold stay theirs)
    let facts = empty_slots(client, facts, Emptying::Free)?;
    let in_slots = crate::slots::holdings(client, facts.region_id, facts.allotment)?.balance;
    entries.extend(cap_credit(facts.remaining + in_slots, facts.monthly, facts.held - h.amount, h.amount - used));
    crate::statements::run(
        client,
        "UPDATE grse.budget_holds SET status = $2, settled_amount = $3, resolved_at = pg_catalog.now()
              WHERE id = $1",
        &[hold_id.into(), if actual.is_some() { "settled" } else { "released" }.into(), actual.into()],
    )?;
    let pool =
        ledger::apply(client, facts.region_id, Move { held: -h.amount, spent: used, entries, ..Move::default() })?;
    Ok(pool + in_slots)
}

/// Seconds of a hold's time to live: the argument, else policy `hold_ttl`.
/// Must lie in (0, 7 days] (22023).
fn ttl_seconds(ttl: Option<Interval>, policy: &grse_core::Policy) -> GResult<f64> {
    let micros = match ttl {
        None => policy.hold_ttl_micros,
        Some(i) => {
            let micros = i128::from(i.months()) * 30 * 86_400_000_000
                + i128::from(i.days()) * 86_400_000_000
                + i128::from(i.micros());
            i64::try_from(micros).unwrap_or(i64::MAX)
        }
    };
    if micros <= 0 || micros > grse_core::policy::MAX_HOLD_TTL_MICROS {
        return Err(invalid("ttl must be positive and at most 7 days"));
    }
    Ok(micros as f64 / 1_000_000.0)
}

type ReserveRow = (bool, Option<Uuid>, i64, i64, Option<TimestampWithTimeZone>, String);

/// Reserves `amount` cents of a region's budget for an operation that runs
/// outside the transaction. Refuses exactly as check_budget does (allowed
/// false, no hold, the reason; nothing written). With an idempotency key, a
/// retry returns the first call's hold.
#[pg_extern(volatile, parallel_unsafe)]
pub fn reserve_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    agency_id: default!(Option<Uuid>, "NULL"),
    job_type: default!(Option<&str>, "NULL"),
    ttl: default!(Option<Interval>, "NULL"),
    idempotency_key: default!(Option<&str>, "NULL"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(allowed, bool),
            name!(hold_id, Option<Uuid>),
            name!(remaining, i64),
            name!(requested, i64),
            name!(expires_at, Option<TimestampWithTimeZone>),
            name!(message, String),
        ),
    >,
    ErrorReport,
> {
    let region_id = required(region_id, "region_id")?;
    let amount = amount_cents("amount", &required(amount, "amount")?)?;
    let job_type = job_type_arg(job_type)?;
    let key = key_arg(idempotency_key)?;
    let agency_id = agency_arg(agency_id)?;
    let policy = crate::policy::current()?;
    let ttl_seconds = ttl_seconds(ttl, &policy)?;
    let body = |client: &mut SpiClient<'_>| -> GResult<ReserveRow> {
        // the slots are emptied only to reserve (by `hold`): a refusal or a retry writes nothing;
        // keyed, every slot is: take them before the state row
        if key.is_some() {
            crate::locking::prelock_slots(client, region_id, crate::locking::Prelock::Always)?;
        }
        let facts = crate::locking::lock_active_keeping_slots(client, region_id)?;
        if let Some(key) = key {
            match recorded(client, region_id, key)? {
                None => {}
                Some(Recorded::Hold(h)) => {
                    let ttl = ttl.is_some().then_some(ttl_seconds);
                    return replay(client, h, amount, agency_id, job_type, ttl, key);
                }
                Some(_) => return Err(reused(key)),
            }
        }
        let remaining = facts.remaining + crate::slots::holdings(client, region_id, facts.allotment)?.balance;
        let mode = Mode::parse(&facts.scaling_mode).unwrap_or(Mode::Frozen);
        if let Some(why) = refusal(&policy, mode, None, remaining, amount) {
            return Ok((false, None, remaining, amount, None, why));
        }
        let req = HoldRequest { amount, agency_id, job_type, ttl_seconds, key };
        Ok(match hold(client, &facts, &req)? {
            Some(h) => (true, Some(h.hold_id), h.remaining, amount, Some(h.expires_at), "Budget reserved".into()),
            None => {
                (false, None, remaining, amount, None, crate::budget::shortfall(remaining, amount).unwrap_or_default())
            }
        })
    };
    // keyed: again if a slot row appeared after the prelock (see `locking::with_all_slots`)
    let row =
        with_writes(|client| if key.is_some() { crate::locking::with_all_slots(client, body) } else { body(client) })?;
    Ok(TableIterator::once(row))
}

/// The first answer of a reserve_budget call with this key, if the
/// arguments are the same (22023 otherwise). A ttl is compared only when the
/// retry gives one: without one, the first call's policy ttl stands.
fn replay(
    client: &mut SpiClient<'_>,
    hold_id: Uuid,
    amount: i64,
    agency_id: Option<Uuid>,
    job_type: Option<JobType>,
    ttl_seconds: Option<f64>,
    key: &str,
) -> GResult<ReserveRow> {
    let t = crate::statements::run(
        client,
        "SELECT h.amount, h.agency_id, h.job_type, h.expires_at,
                    extract(epoch FROM h.expires_at - h.created_at)::float8 AS ttl,
                    (SELECT l.balance_after FROM grse.region_budget_transactions l
                      WHERE l.hold_id = h.id AND l.transaction_type = 'hold') AS remaining
               FROM grse.budget_holds h WHERE h.id = $1",
        &[hold_id.into()],
    )?;
    let r = t.first();
    let same = r.get_by_name::<i64, _>("amount").or_internal()? == Some(amount)
        && r.get_by_name::<Uuid, _>("agency_id").or_internal()? == agency_id
        && r.get_by_name::<String, _>("job_type").or_internal()?.as_deref() == job_type.map(|t| t.as_str())
        && match ttl_seconds {
            None => true,
            Some(want) => r.get_by_name::<f64, _>("ttl").or_internal()?.is_some_and(|t| (t - want).abs() < 1e-6),
        };
    if !same {
        return Err(reused(key));
    }
    Ok((
        true,
        Some(hold_id),
        r.get_by_name::<i64, _>("remaining").or_internal()?.unwrap_or(0),
        amount,
        r.get_by_name::<TimestampWithTimeZone, _>("expires_at").or_internal()?,
        "Budget reserved".into(),
    ))
}

/// Settles a hold: charges `actual_amount` (0 to the held amount) as spend
/// and gives the rest back. Returns the region's remaining budget afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn settle_budget_hold(hold_id: Option<Uuid>, actual_amount: Option<AnyNumeric>) -> GResult<i64> {
    let hold_id = required(hold_id, "hold_id")?;
    let actual = nonnegative_cents("actual_amount", &required(actual_amount, "actual_amount")?)?;
    on_hold(hold_id, |client, facts| resolve(client, facts, hold_id, Some((actual, "actual_amount"))))
}

/// Releases a hold: the whole held amount goes back to remaining. Returns
/// the region's remaining budget afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn release_budget_hold(hold_id: Option<Uuid>) -> GResult<i64> {
    let hold_id = required(hold_id, "hold_id")?;
    on_hold(hold_id, |client, facts| resolve(client, facts, hold_id, None))
}

/// Runs `f` with the state row of the hold's region locked (expired holds
/// swept first: an expired hold then raises 55000).
fn on_hold(hold_id: Uuid, f: impl FnOnce(&mut SpiClient<'_>, Locked) -> GResult<i64>) -> GResult<i64> {
    with_writes(|client| {
        let region_id = region_of_hold(client, hold_id)?;
        let facts = lock_current(client, region_id)?;
        f(client, facts)
    })
}

/// Expires every hold (and job) past its expiry: of one region, or of all
/// (passing over a region another transaction is busy with: its next
/// budget call sweeps it). Returns how many holds expired. What the
/// scheduled sweeper runs.
#[pg_extern(volatile, parallel_unsafe)]
pub fn expire_budget_holds(region_id: default!(Option<Uuid>, "NULL")) -> GResult<i32> {
    with_writes(|client| {
        let ids = match region_id {
            Some(id) => vec![id],
            None => {
                let t = crate::statements::run(
                    client,
                    "SELECT region_id FROM grse.region_scaling_state
                          WHERE next_expiry_at <= pg_catalog.now() ORDER BY region_id",
                    &[],
                )?;
                let mut ids = Vec::with_capacity(t.len());
                for row in t {
                    ids.extend(row.get::<Uuid>(1).or_internal()?);
                }
                ids
            }
        };
        let mut expired = 0;
        for id in ids {
            // the sweep over all regions passes over a region a transaction is busy with (holding
            // the regions it swept, it must not wait): its next budget call sweeps it lazily
            if region_id.is_none() && !crate::locking::take_if_free(client, id)? {
                continue;
            }
            // lock_row, not lock_current: the sweep here is counted
            let facts = crate::region::lock_row(client, id)?.ok_or_else(|| not_found("region", id))?;
            if facts.expiry_due {
                let facts = crate::locking::empty_slots(client, facts, crate::slots::Emptying::Free)?;
                expired += crate::expiry::sweep(client, facts)?.1;
            }
        }
        Ok(expired)
    })
}
