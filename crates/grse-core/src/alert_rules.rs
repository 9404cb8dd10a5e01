//! Custom alert rules: a metric of a region compared with a threshold, that
//! must hold for a while before it alerts.
//!
//! A rule holds for a region when `value comparison threshold` is true. It
//! is *pending* from the first evaluation that finds it holding, and
//! *fires* (an open alert) at every evaluation that finds it still holding
//! at least `for_duration` after that; one evaluation finding it clear ends
//! both (the alert is resolved). A metric without a value
//! (`forecast_days_left` of a region that is never exhausted at its rate)
//! counts as +infinity.

use crate::fixed::Centi;
use std::fmt;

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Capacity,
    Pressure,
    BudgetPercent,
    Warning,
    Fatigue,
    Queue,
    ForecastDaysLeft,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Capacity,
        Metric::Pressure,
        Metric::BudgetPercent,
        Metric::Warning,
        Metric::Fatigue,
        Metric::Queue,
        Metric::ForecastDaysLeft,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Capacity => "capacity",
            Metric::Pressure => "pressure",
            Metric::BudgetPercent => "budget_percent",
            Metric::Warning => "warning",
            Metric::Fatigue => "fatigue",
            Metric::Queue => "queue",
            Metric::ForecastDaysLeft => "forecast_days_left",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// How a rule compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    pub const ALL: [Comparison; 4] = [Comparison::Lt, Comparison::Le, Comparison::Gt, Comparison::Ge];

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }

    pub fn parse(s: &str) -> Option<Comparison> {
        Comparison::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// `value self threshold`, a missing value being +infinity.
    pub fn holds(self, value: Option<Centi>, threshold: Centi) -> bool {
        match (self, value) {
            (Comparison::Lt | Comparison::Le, None) => false,
            (Comparison::Gt | Comparison::Ge, None) => true,
            (Comparison::Lt, Some(v)) => v < threshold,
            (Comparison::Le, Some(v)) => v <= threshold,
            (Comparison::Gt, Some(v)) => v > threshold,
            (Comparison::Ge, Some(v)) => v >= threshold,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A region's values of every metric (scores in hundredths; the queue as a
/// whole count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MetricValues {
    pub capacity: Centi,
    pub pressure: Centi,
    pub budget_percent: Centi,
    pub warning: Centi,
    pub fatigue: Centi,
    pub queue: i64,
    /// `None`: never exhausted at its rate.
    pub forecast_days_left: Option<Centi>,
}

impl MetricValues {
    /// The value of `metric` (`None`: +infinity).
    pub fn get(&self, metric: Metric) -> Option<Centi> {
        match metric {
            Metric::Capacity => Some(self.capacity),
            Metric::Pressure => Some(self.pressure),
            Metric::BudgetPercent => Some(self.budget_percent),
            Metric::Warning => Some(self.warning),
            Metric::Fatigue => Some(self.fatigue),
            Metric::Queue => Some(Centi(self.queue.saturating_mul(100))),
            Metric::ForecastDaysLeft => self.forecast_days_left,
        }
    }
}

/// What an evaluation makes of a (rule, region) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleState {
    /// The condition does not hold: nothing pending, no alert.
    Clear,
    /// It holds since `since_us`, not yet for the rule's duration.
    Pending { since_us: i64 },
    /// It has held since `since_us` for at least the rule's duration: alert.
    Firing { since_us: i64 },
}

/// The state of a pair whose condition holds (`holds`), that was pending
/// since `pending_since` (None: not pending), at `now_us`, for a rule with
/// duration `for_us`.
pub fn step(holds: bool, pending_since: Option<i64>, now_us: i64, for_us: i64) -> RuleState {
    if !holds {
        return RuleState::Clear;
    }
    let since_us = pending_since.unwrap_or(now_us);
    if now_us.saturating_sub(since_us) >= for_us.max(0) {
        RuleState::Firing { since_us }
    } else {
        RuleState::Pending { since_us }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()), Some(m));
        }
        for c in Comparison::ALL {
            assert_eq!(Comparison::parse(c.as_str()), Some(c));
        }
        assert_eq!(Metric::parse("Capacity"), None);
        assert_eq!(Comparison::parse("=="), None);
    }

    #[test]
    fn comparisons_are_exact_and_none_is_infinity() {
        let t = Centi(3000);
        assert!(Comparison::Lt.holds(Some(Centi(2999)), t));
        assert!(!Comparison::Lt.holds(Some(t), t));
        assert!(Comparison::Le.holds(Some(t), t));
        assert!(!Comparison::Gt.holds(Some(t), t));
        assert!(Comparison::Ge.holds(Some(t), t));
        assert!(!Comparison::Lt.holds(None, t) && !Comparison::Le.holds(None, t));
        assert!(Comparison::Gt.holds(None, t) && Comparison::Ge.holds(None, t));
    }

    #[test]
    fn queue_counts_whole_jobs() {
        let v = MetricValues { queue: 12, ..MetricValues::default() };
        assert_eq!(v.get(Metric::Queue), Some(Centi(1200)));
        assert_eq!(v.get(Metric::ForecastDaysLeft), None);
    }

    #[test]
    fn for_duration_gates_firing() {
        assert_eq!(step(false, Some(5), 100, 0), RuleState::Clear);
        assert_eq!(step(true, None, 100, 0), RuleState::Firing { since_us: 100 });
        assert_eq!(step(true, None, 100, 10), RuleState::Pending { since_us: 100 });
        assert_eq!(step(true, Some(100), 109, 10), RuleState::Pending { since_us: 100 });
        assert_eq!(step(true, Some(100), 110, 10), RuleState::Firing { since_us: 100 });
    }
}
