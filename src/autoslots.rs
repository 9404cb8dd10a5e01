//! Automatic budget slots: a region whose pool spends wait for its state
//! row gets `policy.auto_budget_slots` slots by itself, for a while (the
//! rules and constants are `grse_core::slots::auto`). Each backend counts
//! what it sees; the region's `auto_slots_until` is what every backend
//! reads (`policy::budget_slots`). Filling the slots extends it
//! (`slots::fill`); when it has passed, the region spends from its pool
//! again. Operators who set `budget_slots` fix the number instead.

use crate::error::{GResult, SpiResultExt};
use grse_core::slots::auto::{contended, observe, Seen, HOLD_US};
use pgrx::spi::SpiClient;
use pgrx::Uuid;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

thread_local! {
    /// Contended pool spends this backend saw, per region.
    static SEEN: RefCell<HashMap<[u8; 16], Seen>> = RefCell::new(HashMap::new());
    static EPOCH: Instant = Instant::now();
}

/// The seconds automatic slots last (the SQL side of `HOLD_US`).
pub fn hold_seconds() -> f64 {
    HOLD_US as f64 / 1e6
}

/// After a pool spend charged (its transaction holds the state row) that
/// took `elapsed`: counts it if it waited (see `auto::contended`), and makes
/// the region hot when this backend has seen enough such spends (unless the
/// policy's `auto_budget_slots` is 1 or the region has its own `budget_slots`).
pub fn pool_spend_took(client: &mut SpiClient<'_>, region_id: Uuid, elapsed: Duration) -> GResult<()> {
    let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    if !contended(elapsed_us) {
        return Ok(());
    }
    let now_us = EPOCH.with(|e| u64::try_from(e.elapsed().as_micros()).unwrap_or(u64::MAX));
    let key = *region_id.as_bytes();
    let hot = SEEN.with(|s| {
        let mut s = s.borrow_mut();
        let (seen, hot) = observe(s.get(&key).copied(), now_us);
        match seen {
            Some(seen) => s.insert(key, seen),
            None => s.remove(&key),
        };
        hot
    });
    if !hot || crate::policy::current()?.auto_budget_slots <= 1 {
        return Ok(());
    }
    let t = client
        .update(
            "UPDATE grse.region_scaling_state
                SET auto_slots_until = pg_catalog.now() + pg_catalog.make_interval(secs => $2)
              WHERE region_id = $1 AND budget_slots IS NULL
             RETURNING region_id",
            None,
            &[region_id.into(), hold_seconds().into()],
        )
        .or_internal()?;
    if !t.is_empty() {
        crate::policy::invalidate_everywhere()?;
    }
    Ok(())
}
