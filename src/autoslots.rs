//! Automatic budget slots: a region whose pool spends wait for its state
//! row gets `policy.auto_budget_slots` slots by itself, for a while (the
//! rules and constants are `grse_core::slots::auto`). Each backend counts
//! what it sees; the region's `auto_slots_until` is what every backend
//! reads (`policy::budget_slots`). Filling the slots extends it
//! (`slots::fill`); when it has passed, the region spends from its pool
//! again. A call that empties every slot of the region (a reset, a period
//! start, an allocation its pool could not take, a keyed call) ends them at
//! once and sets `auto_slots_off_until`: until then the region takes none
//! (`slots::empty_into_state`). Operators who set `budget_slots` fix the
//! number instead.

use crate::error::{GResult, SpiResultExt};
use grse_core::slots::auto::{observe, Seen, Spend, HOLD_US, REST_US, WINDOW_US};
use pgrx::spi::SpiClient;
use pgrx::Uuid;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

thread_local! {
    /// Contended pool spends this backend saw, per region.
    static SEEN: RefCell<HashMap<[u8; 16], Seen>> = RefCell::new(HashMap::new());
    static EPOCH: Instant = Instant::now();
}

/// Regions one backend follows before it forgets those whose window ended.
const MAX_FOLLOWED: usize = 1024;

/// The seconds automatic slots last (the SQL side of `HOLD_US`).
pub fn hold_seconds() -> f64 {
    HOLD_US as f64 / 1e6
}

/// The seconds automatic slots stay off once a call that needed every slot
/// ended them (the SQL side of `REST_US`).
pub fn rest_seconds() -> f64 {
    REST_US as f64 / 1e6
}

/// The backend's voluntary context switches so far: a lock wait sleeps
/// (one more), a backend preempted on a busy machine does not.
fn sleeps() -> i64 {
    // SAFETY: getrusage only writes the zeroed plain-data struct it is given.
    let (rc, u) = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_SELF, &mut u), u)
    };
    if rc == 0 {
        u.ru_nvcsw
    } else {
        0
    }
}

/// A pool spend under way: when it started and how often the backend had slept.
#[derive(Clone, Copy, Debug)]
pub struct Timer {
    started: Instant,
    sleeps: i64,
}

impl Timer {
    pub fn start() -> Self {
        Timer { started: Instant::now(), sleeps: sleeps() }
    }

    /// The spend as timed. The sleep count (a system call) is read again
    /// only for a spend long enough to count as waited (`Spend::timed`).
    fn spend(self) -> Spend {
        let elapsed_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Spend::timed(elapsed_us, || sleeps() > self.sleeps)
    }
}

/// After a pool spend charged (its transaction holds the state row), timed
/// by `timer`: counts it (see `auto::observe`: only regions where a spend
/// waited are followed), and makes the region hot when this backend has
/// seen enough waits, and a large enough share of its spends wait (unless
/// the policy's `auto_budget_slots` is 1, the region has its own
/// `budget_slots`, or its automatic slots rest: `auto_slots_off_until`).
pub fn pool_spend_took(client: &mut SpiClient<'_>, region_id: Uuid, timer: Timer) -> GResult<()> {
    let spend = timer.spend();
    let key = *region_id.as_bytes();
    if !spend.waited() && SEEN.with(|s| s.borrow().is_empty()) {
        return Ok(());
    }
    // a region with its own slot count, or whose automatic slots rest: nothing to count
    if !crate::policy::auto_slots_may_start(region_id)? {
        return Ok(());
    }
    let now_us = EPOCH.with(|e| u64::try_from(e.elapsed().as_micros()).unwrap_or(u64::MAX));
    let hot = SEEN.with(|s| {
        let mut s = s.borrow_mut();
        let (seen, hot) = observe(s.get(&key).copied(), spend, now_us);
        match seen {
            Some(seen) => {
                if s.len() >= MAX_FOLLOWED && !s.contains_key(&key) {
                    s.retain(|_, v| now_us.saturating_sub(v.since_us) <= WINDOW_US);
                }
                s.insert(key, seen)
            }
            None => s.remove(&key),
        };
        hot
    });
    if !hot || crate::policy::current()?.auto_budget_slots <= 1 {
        return Ok(());
    }
    // the state row is this transaction's (the spend charged it); `o` reads it as it was
    let t = crate::statements::run(
        client,
        "UPDATE grse.region_scaling_state s
                SET auto_slots_until = pg_catalog.now() + pg_catalog.make_interval(secs => $2)
               FROM (SELECT auto_slots_until FROM grse.region_scaling_state WHERE region_id = $1) o
              WHERE s.region_id = $1 AND s.budget_slots IS NULL
                AND (s.auto_slots_off_until IS NULL OR s.auto_slots_off_until <= pg_catalog.now())
             RETURNING o.auto_slots_until IS NULL OR o.auto_slots_until <= pg_catalog.now() AS newly_hot",
        &[region_id.into(), hold_seconds().into()],
    )?;
    // Only a region that was not hot yet needs every backend to read its slot count
    // again (an invalidation of the policy, which also makes every kept plan that reads
    // the policy be planned again); one whose slots only last longer now is read again
    // by each backend when it sees them end (policy::budget_slots).
    if !t.is_empty() && t.first().get_one::<bool>().or_internal()?.unwrap_or(true) {
        crate::policy::invalidate_everywhere()?;
    }
    Ok(())
}
