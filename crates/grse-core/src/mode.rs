//! Scaling modes and the rule that picks one.

use crate::fixed::Centi;
use crate::policy::Policy;
use std::fmt;

/// Scaling mode of a region, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Normal,
    Cautious,
    Throttled,
    Frozen,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Normal, Mode::Cautious, Mode::Throttled, Mode::Frozen];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Cautious => "cautious",
            Mode::Throttled => "throttled",
            Mode::Frozen => "frozen",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The mode for a capacity and an overall pressure: frozen if capacity < 10
/// or pressure > 90; else throttled if capacity < 30 or pressure > 75; else
/// cautious if capacity < 50 or pressure > 60; else normal (policy values).
pub fn decide_mode(policy: &Policy, capacity: Centi, pressure: Centi) -> Mode {
    rule(policy, capacity, pressure).0
}

/// The mode, the thresholds of the rule that chose it (capacity below,
/// pressure above; the cautious ones for normal) and which of them held.
fn rule(policy: &Policy, capacity: Centi, pressure: Centi) -> (Mode, Centi, Centi, bool, bool) {
    let rules = [
        (Mode::Frozen, policy.frozen_capacity_below, policy.frozen_pressure_above),
        (Mode::Throttled, policy.throttled_capacity_below, policy.throttled_pressure_above),
        (Mode::Cautious, policy.cautious_capacity_below, policy.cautious_pressure_above),
    ];
    for (mode, cap_below, pressure_above) in rules {
        let low = capacity < cap_below;
        let high = pressure > pressure_above;
        if low || high {
            return (mode, cap_below, pressure_above, low, high);
        }
    }
    (Mode::Normal, policy.cautious_capacity_below, policy.cautious_pressure_above, false, false)
}

/// The mode and a short, human-readable reason naming the rule that chose it.
pub fn mode_with_reason(policy: &Policy, capacity: Centi, pressure: Centi) -> (Mode, String) {
    let (mode, cap_below, pressure_above, low, high) = rule(policy, capacity, pressure);
    if mode == Mode::Normal {
        return (mode, format!("capacity {capacity} >= {cap_below} and pressure {pressure} <= {pressure_above}"));
    }
    let mut why = Vec::new();
    if low {
        why.push(format!("capacity {capacity} < {cap_below}"));
    }
    if high {
        why.push(format!("pressure {pressure} > {pressure_above}"));
    }
    (mode, why.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(capacity: i64, pressure: i64) -> Mode {
        decide_mode(&Policy::default(), Centi(capacity), Centi(pressure))
    }

    #[test]
    fn thresholds_are_exact_at_their_boundaries() {
        assert_eq!(m(10_000, 6000), Mode::Normal);
        assert_eq!(m(10_000, 6001), Mode::Cautious);
        assert_eq!(m(10_000, 7500), Mode::Cautious);
        assert_eq!(m(10_000, 7501), Mode::Throttled);
        assert_eq!(m(10_000, 9000), Mode::Throttled);
        assert_eq!(m(10_000, 9001), Mode::Frozen);
        assert_eq!(m(5000, 0), Mode::Normal);
        assert_eq!(m(4999, 0), Mode::Cautious);
        assert_eq!(m(3000, 0), Mode::Cautious);
        assert_eq!(m(2999, 0), Mode::Throttled);
        assert_eq!(m(1000, 0), Mode::Throttled);
        assert_eq!(m(999, 0), Mode::Frozen);
    }

    #[test]
    fn reasons_name_the_rule() {
        let (mode, why) = mode_with_reason(&Policy::default(), Centi(2500), Centi(8000));
        assert_eq!(mode, Mode::Throttled);
        assert_eq!(why, "capacity 25.00 < 30.00 and pressure 80.00 > 75.00");
        let (mode, why) = mode_with_reason(&Policy::default(), Centi(9000), Centi(1000));
        assert_eq!(mode, Mode::Normal);
        assert!(why.starts_with("capacity 90.00 >= 50.00"));
    }

    #[test]
    fn parse_round_trips() {
        for mode in Mode::ALL {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(Mode::parse("Frozen"), None);
    }
}
