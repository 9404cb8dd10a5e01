//! Idempotency keys of budget calls: a retry with the key of an earlier call
//! of the same region returns that call's answer and writes nothing.
//!
//! A key is kept with what its call produced: the ledger row of a spend or a
//! refund (`region_budget_transactions.idempotency_key`), or the hold of a
//! reservation (`budget_holds.idempotency_key`); unique indexes make it unique
//! per region. Keyed calls decide under the region's state row lock, so of two
//! concurrent first calls with one key exactly one writes; the other, once the
//! lock is its own, finds the key and answers as a retry.

use crate::error::{invalid, GResult, SpiResultExt};
use pgrx::spi::SpiClient;
use pgrx::Uuid;

/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 200;

/// Checks an optional key argument: 1 to 200 characters (22001 if longer, 22023 if empty).
pub fn key_arg(key: Option<&str>) -> GResult<Option<&str>> {
    match key {
        Some("") => Err(invalid("idempotency_key must not be empty")),
        Some(k) if k.chars().count() > MAX_KEY_CHARS => {
            Err(crate::error::too_long(format!("idempotency_key is longer than {MAX_KEY_CHARS} characters")))
        }
        other => Ok(other),
    }
}

/// What an earlier call with the key recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A ledger row: its kind, amount, agency, job type, description and balance after.
    Ledger {
        kind: String,
        amount: i64,
        agency_id: Option<Uuid>,
        job_type: Option<String>,
        description: Option<String>,
        balance_after: i64,
    },
    /// A budget hold.
    Hold(Uuid),
}

/// The earlier call of `region_id` with `key`, if any. Read with a fresh
/// snapshot under the state row lock.
pub fn recorded(client: &mut SpiClient<'_>, region_id: Uuid, key: &str) -> GResult<Option<Recorded>> {
    let t = crate::statements::run(
        client,
        "SELECT transaction_type, amount, agency_id, job_type, description, balance_after, hold_id
               FROM grse.region_budget_transactions WHERE region_id = $1 AND idempotency_key = $2",
        &[region_id.into(), key.into()],
    )?;
    if !t.is_empty() {
        let r = t.first();
        // a reservation's key is on its hold and on the hold's ledger row
        if let Some(hold_id) = r.get::<Uuid>(7).or_internal()? {
            return Ok(Some(Recorded::Hold(hold_id)));
        }
        return Ok(Some(Recorded::Ledger {
            kind: r.get::<String>(1).or_internal()?.unwrap_or_default(),
            amount: r.get::<i64>(2).or_internal()?.unwrap_or(0),
            agency_id: r.get::<Uuid>(3).or_internal()?,
            job_type: r.get::<String>(4).or_internal()?,
            description: r.get::<String>(5).or_internal()?,
            balance_after: r.get::<i64>(6).or_internal()?.unwrap_or(0),
        }));
    }
    let h = crate::statements::run(
        client,
        "SELECT id FROM grse.budget_holds WHERE region_id = $1 AND idempotency_key = $2",
        &[region_id.into(), key.into()],
    )?;
    if h.is_empty() {
        return Ok(None);
    }
    Ok(h.first().get_one::<Uuid>().or_internal()?.map(Recorded::Hold))
}

/// 22023: the key was used by a call with other arguments.
pub fn reused(key: &str) -> pgrx::pg_sys::panic::ErrorReport {
    invalid(format!("idempotency key \"{key}\" was already used with other arguments"))
        .set_detail("A retry must repeat the first call's function and arguments exactly.")
        .set_hint("Use a new key for a new operation.")
}
