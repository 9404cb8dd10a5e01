//! One region's derived scores from its metrics: what the state trigger
//! writes on every metric write, and what the check functions recompute.

use crate::capacity::{budget_percent_remaining, capacity, CapacityInputs};
use crate::conditions::RegionFacts;
use crate::fixed::Centi;
use crate::hysteresis::{judge_mode, ModeDecision, ModeState};
use crate::mode::{decide_mode, mode_with_reason, Mode};
use crate::policy::Policy;
use crate::pressure::{overall_pressure, Pressures};
use crate::warning::warning_index;

/// The written facts of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RegionMetrics {
    pub pressures: Pressures,
    pub fatigue: Centi,
    pub budget_remaining: i64,
    pub budget_monthly: i64,
}

/// What the rules make of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub overall_pressure: Centi,
    pub capacity: Centi,
    pub mode: Mode,
    pub warning_index: Centi,
}

impl Evaluation {
    /// The rule that chose the mode, for the transition record (formatted
    /// only when asked: the state trigger evaluates on every write).
    pub fn reason(&self, policy: &Policy) -> String {
        mode_with_reason(policy, self.capacity, self.overall_pressure).1
    }
}

/// Overall pressure → capacity → mode → warning index.
pub fn evaluate(policy: &Policy, m: &RegionMetrics) -> Evaluation {
    let overall = overall_pressure(policy, &m.pressures);
    let capacity = capacity(
        policy,
        &CapacityInputs {
            budget_remaining: m.budget_remaining,
            budget_monthly: m.budget_monthly,
            pressure: overall,
            fatigue: m.fatigue,
        },
    );
    let mode = decide_mode(policy, capacity, overall);
    let facts = RegionFacts {
        mode,
        capacity,
        pressure: overall,
        budget_percent_remaining: budget_percent_remaining(m.budget_remaining, m.budget_monthly),
    };
    Evaluation { overall_pressure: overall, capacity, mode, warning_index: warning_index(policy, &facts) }
}

/// The evaluation of a region coming from `state` at `now_us` (`None`: a new
/// region): its mode by [`judge_mode`] (hysteresis and pins), its warning
/// index counting the mode it is in, and the decision behind the mode.
pub fn evaluate_from(
    policy: &Policy,
    m: &RegionMetrics,
    state: Option<&ModeState>,
    now_us: i64,
) -> (Evaluation, ModeDecision) {
    let mut e = evaluate(policy, m);
    let d = judge_mode(policy, state, now_us, e.capacity, e.overall_pressure);
    if d.mode != e.mode {
        e.mode = d.mode;
        let facts = RegionFacts {
            mode: d.mode,
            capacity: e.capacity,
            pressure: e.overall_pressure,
            budget_percent_remaining: budget_percent_remaining(m.budget_remaining, m.budget_monthly),
        };
        e.warning_index = warning_index(policy, &facts);
    }
    (e, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loaded_region() {
        let m = RegionMetrics {
            pressures: Pressures {
                posting: Centi(9500),
                orchestration: Centi(9000),
                creative: Centi(9000),
                intel: Centi(8000),
            },
            fatigue: Centi(0),
            budget_remaining: 100_000,
            budget_monthly: 100_000,
        };
        let e = evaluate(&Policy::default(), &m);
        assert_eq!(e.overall_pressure, Centi(8950));
        assert_eq!(e.capacity, Centi(6868)); // 40 + 0.35·10.5 + 25 = 68.675 -> 68.68
        assert_eq!(e.mode, Mode::Throttled);
        // throttled (warning 15) + pressure > 75 (critical 35)
        assert_eq!(e.warning_index, Centi(5000));
    }

    #[test]
    fn a_pinned_region_counts_the_pinned_mode() {
        use crate::hysteresis::{Pin, Why};
        let m = RegionMetrics { budget_remaining: 100_000, budget_monthly: 100_000, ..RegionMetrics::default() };
        let s = ModeState { mode: Mode::Normal, since_us: 0, pin: Some(Pin { mode: Mode::Frozen, until_us: None }) };
        let (e, d) = evaluate_from(&Policy::default(), &m, Some(&s), 1);
        assert_eq!((e.mode, d.why), (Mode::Frozen, Why::Pinned));
        // frozen counts as a critical condition (35 points)
        assert_eq!(e.warning_index, Centi(3500));
        assert_eq!(evaluate_from(&Policy::default(), &m, None, 1).0, evaluate(&Policy::default(), &m));
    }
}
