//! The warning and critical conditions of one region, read from its current
//! facts. Conflict detection reports three of them; the warning index
//! counts all of them.

use crate::fixed::Centi;
use crate::mode::Mode;
use crate::policy::Policy;

/// How bad a condition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What a condition is about. The first three are the conflict types of
/// `detect_cross_region_conflicts()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionKind {
    /// The region is frozen (critical).
    ModeFrozen,
    /// Capacity below the critical / warning threshold.
    CapacityCritical,
    /// Budget percent remaining below the critical / warning threshold.
    BudgetExceeded,
    /// The region is throttled (warning); counted by the warning index only.
    ModeThrottled,
    /// Overall pressure above the throttled (critical) / cautious (warning)
    /// threshold; counted by the warning index only.
    PressureHigh,
}

impl ConditionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionKind::ModeFrozen => "mode_frozen",
            ConditionKind::CapacityCritical => "capacity_critical",
            ConditionKind::BudgetExceeded => "budget_exceeded",
            ConditionKind::ModeThrottled => "mode_throttled",
            ConditionKind::PressureHigh => "pressure_high",
        }
    }

    /// True for the kinds reported as cross-region conflicts.
    pub fn is_conflict(self) -> bool {
        matches!(self, ConditionKind::ModeFrozen | ConditionKind::CapacityCritical | ConditionKind::BudgetExceeded)
    }
}

/// The facts of one region that conditions are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionFacts {
    pub mode: Mode,
    pub capacity: Centi,
    pub pressure: Centi,
    pub budget_percent_remaining: Centi,
}

/// One finding about a region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: ConditionKind,
    pub severity: Severity,
    pub message: String,
}

fn graded(value: Centi, critical_below: Centi, warning_below: Centi) -> Option<Severity> {
    if value < critical_below {
        Some(Severity::Critical)
    } else if value < warning_below {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// Every condition that holds for the region, conflicts first, in a fixed order.
pub fn conditions(policy: &Policy, f: &RegionFacts) -> Vec<Condition> {
    let mut out = Vec::new();
    if f.mode == Mode::Frozen {
        out.push(Condition {
            kind: ConditionKind::ModeFrozen,
            severity: Severity::Critical,
            message: "Region is frozen: no new jobs are admitted".to_string(),
        });
    }
    if let Some(severity) = graded(f.capacity, policy.capacity_critical_below, policy.capacity_warning_below) {
        let limit = match severity {
            Severity::Critical => policy.capacity_critical_below,
            Severity::Warning => policy.capacity_warning_below,
        };
        out.push(Condition {
            kind: ConditionKind::CapacityCritical,
            severity,
            message: format!("Capacity {} is below {}", f.capacity, limit),
        });
    }
    if let Some(severity) =
        graded(f.budget_percent_remaining, policy.budget_critical_below_pct, policy.budget_warning_below_pct)
    {
        let limit = match severity {
            Severity::Critical => policy.budget_critical_below_pct,
            Severity::Warning => policy.budget_warning_below_pct,
        };
        out.push(Condition {
            kind: ConditionKind::BudgetExceeded,
            severity,
            message: format!("Budget {}% remaining is below {}%", f.budget_percent_remaining, limit),
        });
    }
    if f.mode == Mode::Throttled {
        out.push(Condition {
            kind: ConditionKind::ModeThrottled,
            severity: Severity::Warning,
            message: "Region is throttled: only small jobs are admitted".to_string(),
        });
    }
    let pressure_severity = if f.pressure > policy.throttled_pressure_above {
        Some(Severity::Critical)
    } else if f.pressure > policy.cautious_pressure_above {
        Some(Severity::Warning)
    } else {
        None
    };
    if let Some(severity) = pressure_severity {
        out.push(Condition {
            kind: ConditionKind::PressureHigh,
            severity,
            message: format!("Pressure {} is high", f.pressure),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(mode: Mode, capacity: i64, pressure: i64, budget: i64) -> RegionFacts {
        RegionFacts {
            mode,
            capacity: Centi(capacity),
            pressure: Centi(pressure),
            budget_percent_remaining: Centi(budget),
        }
    }

    #[test]
    fn healthy_region_has_none() {
        assert!(conditions(&Policy::default(), &facts(Mode::Normal, 9000, 1000, 9000)).is_empty());
    }

    #[test]
    fn graded_thresholds() {
        let pol = Policy::default();
        let c = conditions(&pol, &facts(Mode::Cautious, 3999, 0, 2499));
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].kind, c[0].severity), (ConditionKind::CapacityCritical, Severity::Warning));
        assert_eq!((c[1].kind, c[1].severity), (ConditionKind::BudgetExceeded, Severity::Warning));
        let c = conditions(&pol, &facts(Mode::Frozen, 1999, 9500, 999));
        let kinds: Vec<_> = c.iter().map(|c| (c.kind, c.severity)).collect();
        assert_eq!(
            kinds,
            vec![
                (ConditionKind::ModeFrozen, Severity::Critical),
                (ConditionKind::CapacityCritical, Severity::Critical),
                (ConditionKind::BudgetExceeded, Severity::Critical),
                (ConditionKind::PressureHigh, Severity::Critical),
            ]
        );
        // exactly at a threshold is not below it
        assert!(conditions(&pol, &facts(Mode::Normal, 4000, 6000, 2500)).is_empty());
    }
}
