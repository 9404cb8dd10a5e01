//! Capacity: how much a region can still take, from budget, pressure and fatigue.

use crate::fixed::{div_round, Centi};
use crate::policy::Policy;

/// The facts capacity is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityInputs {
    /// Budget still available this period, cents (>= 0).
    pub budget_remaining: i64,
    /// Monthly budget, cents (>= 0).
    pub budget_monthly: i64,
    /// Overall pressure, `[0, 100]`.
    pub pressure: Centi,
    /// Fatigue score, `[0, 100]`.
    pub fatigue: Centi,
}

/// Capacity = 100·(0.40·budgetFactor + 0.35·pressureFactor + 0.25·fatigueFactor),
/// clamped to `[0, 100]` and rounded to 2 decimals, where
/// budgetFactor = remaining / max(monthly, 1), pressureFactor = 1 − pressure/100,
/// fatigueFactor = 1 − fatigue/100. Computed exactly (no floats).
pub fn capacity(policy: &Policy, x: &CapacityInputs) -> Centi {
    let m = i128::from(x.budget_monthly.max(1));
    let r = i128::from(x.budget_remaining.clamp(0, x.budget_monthly.max(1)));
    let p = i128::from(x.pressure.clamp_score().0);
    let f = i128::from(x.fatigue.clamp_score().0);
    let wb = policy.capacity_weight_budget.unit();
    let wp = policy.capacity_weight_pressure.unit();
    let wf = policy.capacity_weight_fatigue.unit();
    // capacity in hundredths = wb·r/m + wp·(10000−p)/10000 + wf·(10000−f)/10000,
    // put over the common denominator 10000·m.
    let num = 10_000 * wb * r + wp * (10_000 - p) * m + wf * (10_000 - f) * m;
    let den = 10_000 * m;
    Centi(div_round(num, den).clamp(0, 10_000) as i64)
}

/// Percent of the monthly budget still remaining, 2 decimals, in `[0, 100]`;
/// a region with no monthly budget has 0 percent remaining.
pub fn budget_percent_remaining(remaining: i64, monthly: i64) -> Centi {
    if monthly <= 0 {
        return Centi::ZERO;
    }
    let v = div_round(i128::from(remaining.max(0)) * 10_000, i128::from(monthly));
    Centi(v.clamp(0, 10_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(remaining: i64, monthly: i64, pressure: i64, fatigue: i64) -> Centi {
        capacity(
            &Policy::default(),
            &CapacityInputs {
                budget_remaining: remaining,
                budget_monthly: monthly,
                pressure: Centi(pressure),
                fatigue: Centi(fatigue),
            },
        )
    }

    #[test]
    fn seed_formula() {
        assert_eq!(cap(100_000, 100_000, 0, 0), Centi(10_000));
        assert_eq!(cap(0, 100_000, 10_000, 10_000), Centi(0));
        // 100·(0.4·0.5 + 0.35·0.6 + 0.25·0.9) = 20 + 21 + 22.5 = 63.5
        assert_eq!(cap(50_000, 100_000, 4000, 1000), Centi(6350));
        // monthly 0: budget factor = 0 / max(0,1) = 0 -> 35 + 25 = 60
        assert_eq!(cap(0, 0, 0, 0), Centi(6000));
        // 1/3 of the budget: 40/3 = 13.333.. + 60 = 73.33
        assert_eq!(cap(1, 3, 0, 0), Centi(7333));
        // 2/3: 26.666.. + 60 = 86.67 (rounds up)
        assert_eq!(cap(2, 3, 0, 0), Centi(8667));
    }

    #[test]
    fn percent_remaining() {
        assert_eq!(budget_percent_remaining(25_000, 100_000), Centi(2500));
        assert_eq!(budget_percent_remaining(1, 3), Centi(3333));
        assert_eq!(budget_percent_remaining(0, 0), Centi(0));
    }
}
