//! Budget slots (escrow) for hot regions.
//!
//! A region's remaining budget is the pool (the state row) plus what its
//! slots hold. Budget is handed to the slots only in the amount that cannot
//! change what the state row says about the region: its overall pressure,
//! mode, warning index and set of conditions (its *judgement*). Spending a
//! slot down to zero therefore never changes the judgement, so slot spends
//! need not touch the state row, and the stored mode stays exact.
//!
//! Everything here rests on one property, checked by the property tests:
//! with the other metrics fixed, the judgement is monotone in the remaining
//! budget (less budget never means a milder mode or fewer conditions), so if
//! it is the same at two budgets it is the same at every budget between.

use crate::capacity::budget_percent_remaining;
use crate::conditions::{conditions, ConditionKind, RegionFacts, Severity};
use crate::evaluate::{evaluate, RegionMetrics};
use crate::fixed::Centi;
use crate::mode::Mode;
use crate::policy::{Policy, MAX_SLOTS};

/// What the stored state says about a region, capacity aside (capacity moves
/// with every cent; reads compute it from the true total).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub overall_pressure: Centi,
    pub mode: Mode,
    pub warning_index: Centi,
    pub conditions: Vec<(ConditionKind, Severity)>,
}

/// The judgement of a region with the given metrics.
pub fn judgement(policy: &Policy, m: &RegionMetrics) -> Judgement {
    let e = evaluate(policy, m);
    let facts = RegionFacts {
        mode: e.mode,
        capacity: e.capacity,
        pressure: e.overall_pressure,
        budget_percent_remaining: budget_percent_remaining(m.budget_remaining, m.budget_monthly),
    };
    Judgement {
        overall_pressure: e.overall_pressure,
        mode: e.mode,
        warning_index: e.warning_index,
        conditions: conditions(policy, &facts).into_iter().map(|c| (c.kind, c.severity)).collect(),
    }
}

fn with_remaining(m: &RegionMetrics, remaining: i64) -> RegionMetrics {
    RegionMetrics { budget_remaining: remaining, ..*m }
}

/// True when the judgement is the same with `m.budget_remaining` as with
/// `m.budget_remaining + held` (and so at every budget between): slots
/// holding at most `held` cannot make the stored state wrong.
pub fn holds_steady(policy: &Policy, m: &RegionMetrics, held: i64) -> bool {
    held <= 0 || judgement(policy, m) == judgement(policy, &with_remaining(m, m.budget_remaining.saturating_add(held)))
}

/// The budget a region whose pool is `m.budget_remaining` and whose slots
/// may hold up to `allotment` is judged at: pool and slots when spending the
/// slots cannot change the judgement (the usual case: slots are filled only
/// above the floor), else the pool alone. The latter happens only while
/// slots another transaction holds could hide a change (grse never waits
/// for them): the region is judged on the cautious side until they are back.
pub fn judged_budget(policy: &Policy, m: &RegionMetrics, allotment: i64) -> i64 {
    if holds_steady(policy, m, allotment) {
        m.budget_remaining.saturating_add(allotment.max(0))
    } else {
        m.budget_remaining
    }
}

/// The least budget `f <= m.budget_remaining` with the same judgement as
/// `m.budget_remaining` (binary search; the judgement is monotone).
pub fn floor(policy: &Policy, m: &RegionMetrics) -> i64 {
    let top = judgement(policy, m);
    let (mut lo, mut hi) = (0i64, m.budget_remaining.max(0));
    if judgement(policy, &with_remaining(m, lo)) == top {
        return 0;
    }
    // invariant: judgement(lo) != top, judgement(hi) == top
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if judgement(policy, &with_remaining(m, mid)) == top {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// How to hand out a region's pool: the pool keeps `keep`, slot `i + 1`
/// gets `shares[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    pub keep: i64,
    pub shares: Vec<i64>,
}

impl Distribution {
    pub fn handed_out(&self) -> i64 {
        self.shares.iter().sum()
    }
}

/// Splits the pool of a region over `slots` empty slots. `m.budget_remaining`
/// is the pool; the region's other slots may still hold up to `held`. The
/// pool keeps the judgement's floor of the whole (pool + `held`), so the
/// judgement stays the same however the slots are spent, plus a reserve of
/// `min_share` cents, so that spends charged to the pool while other slots
/// are busy do not reach the floor at once; the rest goes to the slots in
/// equal shares (the first slots take the remainder cent). `None` when there
/// is no slot to fill, or a share would be below `min_share` cents (too
/// little to be worth it: spends then go to the pool, one row as without slots).
pub fn distribute(policy: &Policy, m: &RegionMetrics, held: i64, slots: usize, min_share: i64) -> Option<Distribution> {
    if slots == 0 || m.budget_remaining <= 0 || held < 0 {
        return None;
    }
    let n = slots.min(MAX_SLOTS as usize) as i64;
    let min_share = min_share.max(1);
    let keep = floor(policy, &with_remaining(m, m.budget_remaining.saturating_add(held))).saturating_add(min_share);
    let spare = m.budget_remaining - keep;
    if spare <= 0 || spare / n < min_share {
        return None;
    }
    let shares = (0..n).map(|i| spare / n + i64::from(i < spare % n)).collect();
    Some(Distribution { keep, shares })
}

/// The slot a backend spends from: its process id spread over the slots
/// (1-based), so concurrent sessions mostly use different rows.
pub fn slot_for(pid: i32, slots: i32) -> i32 {
    (pid.rem_euclid(slots.clamp(1, MAX_SLOTS))) + 1
}

/// Budget slots a region takes by itself: a backend that sees its pool
/// spends on a region wait for the state row ([`auto::CONTENDED_US`] or
/// more, asleep; [`auto::AFTER`] times within [`auto::WINDOW_US`], and at
/// least [`auto::WAITED_PERCENT`] % of its pool spends there) gives the region
/// `policy.auto_budget_slots` slots for [`auto::HOLD_US`]; every filling of
/// its slots (they are being spent) extends that, and when it ends the
/// region spends from its pool again (its slots are emptied as spends come).
/// A call that empties every slot of the region ends them at once, and the
/// region takes none by itself for [`auto::REST_US`] after that.
pub mod auto {
    /// A pool spend that took this long and slept (see [`Spend::waited`])
    /// waited for another transaction's lock on the state row: an
    /// uncontended one takes a small fraction of it (about 0.3 ms on a debug
    /// build, less on a release one), a wait lasts until the holder commits.
    pub const CONTENDED_US: u64 = 2_000;
    /// Contended spends of one backend that make a region hot (enough that
    /// a run of chance collisions among clients spending on many regions
    /// at random does not reach it: with 4, spends of 32 clients over 100
    /// regions gave a fifth to three quarters of the regions slots)...
    pub const AFTER: u32 = 16;
    /// ... within this window...
    pub const WINDOW_US: u64 = 10_000_000;
    /// ... if at least this share (in percent) of its pool spends on the
    /// region since the first of them waited: regions that many clients
    /// spend from at random collide now and then (32 clients on 100 regions:
    /// at most about one spend in four), a hot region's spends nearly all wait.
    pub const WAITED_PERCENT: u32 = 75;
    /// How long a hot region keeps its automatic slots after it became hot
    /// or its slots were last filled.
    pub const HOLD_US: i64 = 60_000_000;
    /// How long a region's automatic slots stay off after a call that
    /// needed every one of them back in the pool (a reset, a period start,
    /// an allocation the pool could not take, a keyed call) ended them: a
    /// region whose whole budget is reset or reallocated that often would
    /// only fill its slots for the next such call to empty them again, each
    /// filling and emptying a ledger row per slot, and the call waiting for
    /// every slot's spend in flight.
    pub const REST_US: i64 = 60_000_000;

    /// One pool spend as the backend saw it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Spend {
        /// Wall-clock time the statement took.
        pub elapsed_us: u64,
        /// Whether the backend slept during it (a voluntary context switch:
        /// a lock wait sleeps; being preempted on a busy machine does not;
        /// [`Spend::timed`] leaves it false for a spend too short to count).
        pub slept: bool,
    }

    impl Spend {
        /// A spend that took `elapsed_us`; `slept` (whether the backend
        /// slept during it) is asked only when the answer can matter: a
        /// spend shorter than [`CONTENDED_US`] never counts as waited.
        pub fn timed(elapsed_us: u64, slept: impl FnOnce() -> bool) -> Spend {
            Spend { elapsed_us, slept: elapsed_us >= CONTENDED_US && slept() }
        }

        /// Whether the spend waited for a lock: long, and not merely
        /// because the machine had no CPU for it.
        pub fn waited(self) -> bool {
            self.slept && self.elapsed_us >= CONTENDED_US
        }
    }

    /// What one backend has seen of a region's contention since its first
    /// contended pool spend there.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Seen {
        /// Contended pool spends.
        pub count: u32,
        /// Pool spends, contended or not.
        pub spends: u32,
        pub since_us: u64,
    }

    /// Counts a pool spend at `now_us` (a monotonic clock of the backend):
    /// the new record (none is kept for a region until a spend there
    /// waited), and whether the region is hot now (the record starts again
    /// then).
    pub fn observe(seen: Option<Seen>, spend: Spend, now_us: u64) -> (Option<Seen>, bool) {
        let waited = u32::from(spend.waited());
        let seen = match seen {
            Some(s) if now_us.saturating_sub(s.since_us) <= WINDOW_US => {
                Seen { count: s.count + waited, spends: s.spends.saturating_add(1), ..s }
            }
            _ if waited == 1 => Seen { count: 1, spends: 1, since_us: now_us },
            _ => return (None, false),
        };
        if seen.count >= AFTER && u64::from(seen.count) * 100 >= u64::from(seen.spends) * u64::from(WAITED_PERCENT) {
            (None, true)
        } else {
            (Some(seen), false)
        }
    }

    /// The slots a region spends from: its own `budget_slots` if set; else
    /// the larger of the policy's default and, while its automatic slots
    /// last (`auto_until_us` after `now_us`), `auto_budget_slots`.
    pub fn effective(fixed: Option<i32>, default: i32, auto: i32, auto_until_us: Option<i64>, now_us: i64) -> i32 {
        match (fixed, auto_until_us) {
            (Some(n), _) => n,
            (None, Some(until)) if until > now_us => default.max(auto),
            _ => default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pressure::Pressures;

    fn m(remaining: i64, pressure: i64) -> RegionMetrics {
        let p = Centi(pressure);
        RegionMetrics {
            pressures: Pressures { posting: p, orchestration: p, creative: p, intel: p },
            fatigue: Centi(0),
            budget_remaining: remaining,
            budget_monthly: 100_000,
        }
    }

    const WAIT: auto::Spend = auto::Spend { elapsed_us: auto::CONTENDED_US, slept: true };
    const QUICK: auto::Spend = auto::Spend { elapsed_us: 100, slept: false };

    #[test]
    fn contention_makes_a_region_hot_within_the_window() {
        use auto::*;
        let (mut seen, mut hot) = (None, false);
        for i in 0..AFTER {
            assert!(!hot);
            (seen, hot) = observe(seen, WAIT, 1_000 + u64::from(i));
        }
        assert!(hot);
        assert_eq!(seen, None);
        // contended spends too far apart start again
        let (s, _) = observe(None, WAIT, 0);
        let (s, _) = observe(s, WAIT, 1);
        let (s, hot) = observe(s, WAIT, WINDOW_US + 10);
        assert!(!hot);
        assert_eq!(s, Some(Seen { count: 1, spends: 1, since_us: WINDOW_US + 10 }));
        // an expired record and a quick spend: nothing kept
        assert_eq!(observe(s, QUICK, 3 * WINDOW_US), (None, false));
    }

    #[test]
    fn occasional_collisions_do_not_make_a_region_hot() {
        use auto::*;
        // no record for a region whose spends do not wait
        assert_eq!(observe(None, QUICK, 5), (None, false));
        // one wait in three spends, for a long time: never hot
        let mut seen = None;
        for i in 0..300u64 {
            let spend = if i % 3 == 0 { WAIT } else { QUICK };
            let (s, hot) = observe(seen, spend, 1_000 + i);
            assert!(!hot, "hot after {i} spends");
            seen = s;
        }
        assert_eq!(seen.map(|s| (s.count, s.spends)), Some((100, 300)));
        // one in two, for a long time: never hot either
        let mut seen = None;
        for i in 0..300u64 {
            let (s, hot) = observe(seen, if i % 2 == 0 { WAIT } else { QUICK }, 1_000 + i);
            assert!(!hot, "hot after {i} spends");
            seen = s;
        }
        // three in four: hot at the 16th wait (16 of 21 spends, above 75 %)
        let mut seen = None;
        let mut hot_at = None;
        for i in 0..40u64 {
            let (s, hot) = observe(seen, if i % 4 == 3 { QUICK } else { WAIT }, 1_000 + i);
            seen = s;
            if hot {
                hot_at = Some(i);
                break;
            }
        }
        assert_eq!(hot_at, Some(20));
    }

    #[test]
    fn chance_collisions_of_many_regions_do_not_make_one_hot() {
        use auto::*;
        // One backend's pool spends on one region of many, a quarter of them waiting at
        // random (more than 32 clients over 100 regions wait), three spends a second
        // (100,000 spends: nine hours): never hot. With 4 waits at half the spends it was
        // hot after 79 spends.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut seen = None;
        for i in 0..100_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let spend = if x.is_multiple_of(4) { WAIT } else { QUICK };
            let (s, hot) = observe(seen, spend, i * 333_333);
            assert!(!hot, "hot after {i} spends");
            seen = s;
        }
    }

    #[test]
    fn a_contended_spend_is_one_that_waited() {
        use auto::*;
        assert!(!Spend { elapsed_us: CONTENDED_US - 1, slept: true }.waited());
        assert!(Spend { elapsed_us: CONTENDED_US, slept: true }.waited());
        // long only because the machine was busy (preempted, never slept)
        assert!(!Spend { elapsed_us: 100 * CONTENDED_US, slept: false }.waited());
    }

    #[test]
    fn a_timed_spend_asks_whether_it_slept_only_when_long_enough() {
        use auto::*;
        let short = Spend::timed(CONTENDED_US - 1, || panic!("asked for a short spend"));
        assert!(!short.waited());
        assert!(Spend::timed(CONTENDED_US, || true).waited());
        assert!(!Spend::timed(CONTENDED_US, || false).waited());
    }

    #[test]
    fn effective_slots() {
        use auto::effective;
        assert_eq!(effective(Some(4), 1, 16, Some(100), 50), 4);
        assert_eq!(effective(Some(1), 1, 16, Some(100), 50), 1);
        assert_eq!(effective(None, 1, 16, Some(100), 50), 16);
        assert_eq!(effective(None, 32, 16, Some(100), 50), 32);
        assert_eq!(effective(None, 2, 16, Some(100), 100), 2);
        assert_eq!(effective(None, 1, 16, None, 0), 1);
    }

    #[test]
    fn judged_at_pool_and_slots_only_when_they_cannot_change_the_judgement() {
        let p = Policy::default();
        // above the 25 % warning either way: pool and slots
        assert_eq!(judged_budget(&p, &m(30_000, 0), 50_000), 80_000);
        assert_eq!(judged_budget(&p, &m(30_000, 0), 0), 30_000);
        // the pool alone is below the warning, with the slots above it: the pool alone
        assert_eq!(judged_budget(&p, &m(20_000, 0), 50_000), 20_000);
        assert!(!holds_steady(&p, &m(20_000, 0), 50_000));
        // never better than with the whole budget, never worse than the pool alone
        for (pool, slots) in [(0, 10), (24_000, 2_000), (99_000, 1_000), (50_000, 50_000)] {
            let j = judged_budget(&p, &m(pool, 0), slots);
            assert!(j == pool || j == pool + slots);
            assert_eq!(judgement(&p, &m(j, 0)), judgement(&p, &m(pool, 0)));
        }
    }

    #[test]
    fn idle_region_hands_out_down_to_the_budget_warning() {
        // no pressure: only the budget conditions (25 % warning, 10 % critical)
        // change the judgement, so the pool keeps 25 % of the monthly budget
        // (and a reserve of one share)
        let p = Policy::default();
        assert_eq!(floor(&p, &m(100_000, 0)), 24_995); // 24.995 % rounds to 25.00 %
        let d = distribute(&p, &m(100_000, 0), 0, 4, 1).unwrap();
        assert_eq!(d.keep, 24_996);
        assert_eq!(d.shares, vec![18_751; 4]);
        let d = distribute(&p, &m(100_000, 0), 0, 4, 1_000).unwrap();
        assert_eq!(d.keep, 25_995);
        assert_eq!(d.shares, vec![18_502, 18_501, 18_501, 18_501]);
        assert_eq!(d.keep + d.handed_out(), 100_000);
    }

    #[test]
    fn the_floor_is_the_edge_of_the_judgement() {
        let p = Policy::default();
        for (remaining, pressure) in [(100_000, 0), (80_000, 5000), (60_000, 7000), (30_000, 2000), (5, 0)] {
            let x = m(remaining, pressure);
            let f = floor(&p, &x);
            assert!(f <= remaining);
            assert_eq!(judgement(&p, &m(f, pressure)), judgement(&p, &x));
            if f > 0 {
                assert_ne!(judgement(&p, &m(f - 1, pressure)), judgement(&p, &x));
            }
            assert!(holds_steady(&p, &m(f, pressure), remaining - f));
        }
    }

    #[test]
    fn crossing_an_edge_is_not_steady() {
        let p = Policy::default();
        // 30 % remaining is no condition; 20 % is a budget warning
        assert!(!holds_steady(&p, &m(20_000, 0), 10_000));
        assert!(holds_steady(&p, &m(30_000, 0), 70_000));
        assert!(holds_steady(&p, &m(20_000, 0), 0));
    }

    #[test]
    fn no_distribution_without_slots_or_for_crumbs() {
        let p = Policy::default();
        assert_eq!(distribute(&p, &m(100_000, 0), 0, 0, 1), None);
        assert_eq!(distribute(&p, &m(25_400, 0), 0, 4, 100), None); // 305 spare over 4 slots after the reserve
        assert_eq!(distribute(&p, &m(0, 0), 0, 4, 1), None);
    }

    #[test]
    fn busy_slots_count_towards_the_floor() {
        // 60 000 in the pool, up to 40 000 still in busy slots: the floor of the
        // whole 100 000 is 24 995, so the pool keeps 24 996 and hands out 35 004
        let p = Policy::default();
        let d = distribute(&p, &m(60_000, 0), 40_000, 2, 1).unwrap();
        assert_eq!(d.keep, 24_996);
        assert_eq!(d.shares, vec![17_502, 17_502]);
        assert!(holds_steady(&p, &m(d.keep, 0), d.handed_out() + 40_000));
        // busy slots holding everything above the floor: nothing to hand out
        assert_eq!(distribute(&p, &m(24_995, 0), 75_005, 2, 1), None);
    }

    #[test]
    fn slots_by_pid() {
        assert_eq!(slot_for(7, 4), 4);
        assert_eq!(slot_for(8, 4), 1);
        assert_eq!(slot_for(-1, 4), 4);
        assert_eq!(slot_for(5, 1), 1);
        assert_eq!(slot_for(5, 0), 1);
    }
}
