//! Expiry of budget holds and job records: the sweep that keeps holds from
//! leaking and queue counts from drifting.
//!
//! A hold past its `expires_at`, and a queued or running job past its own
//! (its hold with it), is expired by the first of: the scheduled sweeper
//! (`expire_budget_holds()`, every minute), or any budget call that locks the
//! region once the state's `next_expiry_at` has passed. Either way it runs
//! under the region's state row lock, so a hold resolves exactly once.

use crate::error::{GResult, SpiResultExt};
use crate::ledger::{self, Entry, Kind, Move};
use crate::state::Locked;
use pgrx::spi::SpiClient;
use pgrx::Uuid;

/// Expires what is due in a region whose state row this transaction holds
/// locked (its free slots emptied; slots other transactions hold are
/// counted as this snapshot shows them, an upper bound of what they keep).
/// Returns the facts afterwards and how many holds expired.
pub fn sweep(client: &mut SpiClient<'_>, mut facts: Locked) -> GResult<(Locked, i32)> {
    let region_id = facts.region_id;
    let jobs = crate::statements::run(
        client,
        "UPDATE grse.jobs SET status = 'expired', finished_at = pg_catalog.now()
              WHERE region_id = $1 AND status IN ('queued', 'running') AND expires_at <= pg_catalog.now()
             RETURNING hold_id",
        &[region_id.into()],
    )?;
    let mut job_holds: Vec<Uuid> = Vec::new();
    let expired_jobs = jobs.len() as i32;
    for row in jobs {
        job_holds.extend(row.get::<Uuid>(1).or_internal()?);
    }
    let holds = crate::statements::run(
        client,
        "UPDATE grse.budget_holds SET status = 'expired', resolved_at = pg_catalog.now()
              WHERE region_id = $1 AND status = 'held' AND (expires_at <= pg_catalog.now() OR id = ANY($2))
             RETURNING id, amount, agency_id, job_type",
        &[region_id.into(), job_holds.into()],
    )?;
    let mut m = Move::default();
    for row in holds {
        let id = row.get::<Uuid>(1).or_internal()?;
        let amount = row.get::<i64>(2).or_internal()?.unwrap_or(0);
        m.held -= amount;
        m.entries.push(Entry {
            agency_id: row.get::<Uuid>(3).or_internal()?,
            job_type: row.get::<String>(4).or_internal()?.and_then(|t| job_type_static(&t)),
            description: Some("budget hold expired".into()),
            hold_id: id,
            ..Entry::new(Kind::Release, amount)
        });
    }
    let expired_holds = m.entries.len() as i32;
    let credit: i64 = m.entries.iter().map(|e| e.delta).sum();
    let in_slots = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
    if let Some(cap) = ledger::cap_credit(facts.remaining + in_slots, facts.monthly, facts.held + m.held, credit) {
        m.entries.push(cap);
    }
    if !m.entries.is_empty() {
        facts.held += m.held;
        facts.remaining = ledger::apply(client, region_id, m)?;
    }
    crate::statements::run(
        client,
        "UPDATE grse.region_scaling_state
                SET jobs_in_queue = GREATEST(jobs_in_queue - $2, 0), next_expiry_at = LEAST(
                      (SELECT min(h.expires_at) FROM grse.budget_holds h WHERE h.region_id = $1 AND h.status = 'held'),
                      (SELECT min(j.expires_at) FROM grse.jobs j
                        WHERE j.region_id = $1 AND j.status IN ('queued', 'running')))
              WHERE region_id = $1",
        &[region_id.into(), expired_jobs.into()],
    )?;
    facts.expiry_due = false;
    facts.row_version = None;
    Ok((facts, expired_holds))
}

/// A stored job type as the `'static` name the ledger entries carry.
pub fn job_type_static(t: &str) -> Option<&'static str> {
    grse_core::routing::JobType::parse(t).map(|j| j.as_str())
}
