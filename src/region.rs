//! A region's state row at the lowest level: lock it and read its facts,
//! check that a region exists, run grse's own writes. Nothing of the budget
//! machinery is imported here (see `locking` for the locks that bring a
//! region up to date).

use crate::error::{inactive_region, internal, not_found, GResult, SpiResultExt};
use crate::guard;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{PgBuiltInOids, PgOid, Uuid};

pub use crate::state::Locked;

const LOCK_SQL: &str = "SELECT s.region_active AS active, s.ai_budget_monthly, s.ai_budget_remaining, s.period_spent,
        s.period_refunded, s.scaling_mode, pg_catalog.now() >= s.day_ends_at AS day_due,
        pg_catalog.now() >= s.month_ends_at AS month_due, s.slot_allotment, s.ai_budget_held,
        COALESCE(pg_catalog.now() >= s.next_expiry_at, false) AS expiry_due, s.xmin::text AS row_version
   FROM grse.region_scaling_state s
  WHERE s.region_id = $1
  FOR UPDATE OF s";

fn col<T: FromDatum + IntoDatum>(row: &pgrx::spi::SpiTupleTable<'_>, name: &str) -> GResult<T> {
    row.get_by_name::<T, _>(name).or_internal()?.ok_or_else(|| internal(format!("{name} is NULL in region state")))
}

/// Locks the region's state row and reads its facts, slots left as they are
/// (a kept plan: every budget call takes its region this way). While this
/// transaction holds a row of the region already (a slot: `held`), the wait
/// for the state row is bounded (`shortwaits::bounded`): the state row's
/// holder never waits for that slot, but may fall for a moment into a wait
/// PostgreSQL makes of a `SKIP LOCKED` (see `shortwaits`), and this backend's
/// deadlock check must not run while it lasts.
pub fn lock_row(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Option<Locked>> {
    // a call collecting the region's rows goes first (see `drain`)
    crate::drain::wait_undrained(region_id);
    let facts = if crate::held::holds(region_id) {
        crate::shortwaits::bounded("locking the region's state row", || read_locked(client, region_id))?
    } else {
        read_locked(client, region_id)?
    };
    if facts.is_some() {
        crate::held::note(region_id);
        // A policy change that committed while this transaction waited for the row
        // (its AFTER trigger locks every state row, so none can commit from now on)
        // must be the one this caller and the state trigger judge by: take it in now.
        // SAFETY: processes pending shared invalidation messages, as any lock acquisition may.
        unsafe { pg_sys::AcceptInvalidationMessages() };
    }
    Ok(facts)
}

/// The locking read of [`lock_row`], its row read into owned facts.
fn read_locked(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<Option<Locked>> {
    let t =
        crate::statements::execute(client, LOCK_SQL, &[PgOid::BuiltIn(PgBuiltInOids::UUIDOID)], &[region_id.into()])?;
    if t.is_empty() {
        return Ok(None);
    }
    let t = t.first();
    Ok(Some(Locked {
        region_id,
        active: col(&t, "active")?,
        monthly: col(&t, "ai_budget_monthly")?,
        remaining: col(&t, "ai_budget_remaining")?,
        period_spent: col(&t, "period_spent")?,
        period_refunded: col(&t, "period_refunded")?,
        scaling_mode: col(&t, "scaling_mode")?,
        day_due: col(&t, "day_due")?,
        month_due: col(&t, "month_due")?,
        allotment: col(&t, "slot_allotment")?,
        held: col(&t, "ai_budget_held")?,
        expiry_due: col(&t, "expiry_due")?,
        row_version: Some(col(&t, "row_version")?),
    }))
}

/// Raises P0002 unless the region exists, and 55000 if it is inactive.
pub fn require_active(region_id: Uuid) -> GResult<()> {
    let active =
        crate::statements::one::<bool>("SELECT (SELECT active FROM grse.regions WHERE id = $1)", &[region_id.into()])?;
    match active {
        None => Err(not_found("region", region_id)),
        Some(false) => Err(inactive_region(region_id)),
        Some(true) => Ok(()),
    }
}

/// Runs `f` inside one SPI connection with grse's internal writes allowed.
/// Refused (55000) while the database is being restored.
pub fn with_writes<T>(f: impl FnOnce(&mut SpiClient<'_>) -> GResult<T>) -> GResult<T> {
    if crate::restore::restore_mode() {
        return Err(crate::restore::refusal());
    }
    guard::internally(|| Spi::connect_mut(f))
}

/// The region of a record (`sql` selects its region_id by its id `$1`);
/// P0002 naming `what` if there is no such record.
pub fn region_of(client: &mut SpiClient<'_>, sql: &str, what: &str, id: Uuid) -> GResult<Uuid> {
    let t = client.update(sql, Some(1), &[id.into()]).or_internal()?;
    if t.is_empty() {
        return Err(not_found(what, id));
    }
    t.first().get_one::<Uuid>().or_internal()?.ok_or_else(|| not_found(what, id))
}

/// Every region's id in id order (the order grse's calls on several regions
/// take them in, see `locking::lock_all`); with `only_due`, those whose day
/// or month has ended.
pub fn all_ids(client: &mut SpiClient<'_>, only_due: bool) -> GResult<Vec<Uuid>> {
    let q = if only_due {
        "SELECT region_id FROM grse.region_scaling_state
          WHERE pg_catalog.now() >= day_ends_at OR pg_catalog.now() >= month_ends_at ORDER BY region_id"
    } else {
        "SELECT region_id FROM grse.region_scaling_state ORDER BY region_id"
    };
    let t = crate::statements::run(client, q, &[])?;
    let mut ids = Vec::with_capacity(t.len());
    for row in t {
        ids.extend(row.get_by_name::<Uuid, _>("region_id").or_internal()?);
    }
    Ok(ids)
}
