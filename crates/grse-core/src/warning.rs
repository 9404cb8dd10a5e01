//! The warning index: how many warning and critical conditions a region has.

use crate::conditions::{conditions, RegionFacts, Severity};
use crate::fixed::Centi;
use crate::policy::Policy;

/// warning_index = min(100, warning_points·#warnings + critical_points·#criticals)
/// over the conditions of [`crate::conditions::conditions`] (defaults: 15 per
/// warning, 35 per critical).
pub fn warning_index(policy: &Policy, facts: &RegionFacts) -> Centi {
    let total: i64 = conditions(policy, facts)
        .iter()
        .map(|c| match c.severity {
            Severity::Warning => policy.warning_points.clamp_score().0,
            Severity::Critical => policy.critical_points.clamp_score().0,
        })
        .sum();
    Centi(total.min(10_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mode::Mode;

    #[test]
    fn counts_conditions() {
        let pol = Policy::default();
        let f = |mode, capacity, pressure, budget| RegionFacts {
            mode,
            capacity: Centi(capacity),
            pressure: Centi(pressure),
            budget_percent_remaining: Centi(budget),
        };
        assert_eq!(warning_index(&pol, &f(Mode::Normal, 9000, 0, 10_000)), Centi(0));
        // capacity warning + budget warning = 30
        assert_eq!(warning_index(&pol, &f(Mode::Cautious, 3500, 0, 2000)), Centi(3000));
        // throttled (warning) + pressure > 75 (critical) = 50
        assert_eq!(warning_index(&pol, &f(Mode::Throttled, 6000, 8000, 9000)), Centi(5000));
        // four criticals = 140, capped at 100
        assert_eq!(warning_index(&pol, &f(Mode::Frozen, 500, 9500, 500)), Centi(10_000));
    }
}
