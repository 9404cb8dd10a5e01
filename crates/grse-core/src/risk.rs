//! Global risk: one score for all regions, with a level and recommendations.

use crate::capacity::budget_percent_remaining;
use crate::conditions::{conditions, Condition, RegionFacts, Severity};
use crate::fixed::Centi;
use crate::mode::Mode;
use crate::policy::Policy;

/// One region as seen by the risk assessment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskRegion<Id> {
    pub id: Id,
    pub name: String,
    pub mode: Mode,
    pub capacity: Centi,
    pub pressure: Centi,
    pub budget_remaining: i64,
    pub budget_monthly: i64,
}

impl<Id> RiskRegion<Id> {
    pub fn facts(&self) -> RegionFacts {
        RegionFacts {
            mode: self.mode,
            capacity: self.capacity,
            pressure: self.pressure,
            budget_percent_remaining: budget_percent_remaining(self.budget_remaining, self.budget_monthly),
        }
    }
}

/// A conflict found in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict<Id> {
    pub region_id: Id,
    pub region_name: String,
    pub condition: Condition,
}

/// Risk level of a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    /// critical >= 70, high >= 50, medium >= 25, else low.
    pub fn of(score: i64) -> RiskLevel {
        match score {
            s if s >= 70 => RiskLevel::Critical,
            s if s >= 50 => RiskLevel::High,
            s if s >= 25 => RiskLevel::Medium,
            _ => RiskLevel::Low,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

/// The assessment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalRisk<Id> {
    pub score: i64,
    pub level: RiskLevel,
    pub conflicts: Vec<Conflict<Id>>,
    pub recommendations: Vec<String>,
}

/// Conflicts of every region: mode_frozen, capacity_critical and
/// budget_exceeded conditions, in region order.
pub fn detect_conflicts<Id: Clone>(policy: &Policy, regions: &[RiskRegion<Id>]) -> Vec<Conflict<Id>> {
    regions
        .iter()
        .flat_map(|r| {
            conditions(policy, &r.facts()).into_iter().filter(|c| c.kind.is_conflict()).map(move |condition| Conflict {
                region_id: r.id.clone(),
                region_name: r.name.clone(),
                condition,
            })
        })
        .collect()
}

/// Global risk = min(100, 20·critical conflicts + 10·warning conflicts
/// + Σ over regions (15 if capacity < 30, else 5 if < 50) + 25·frozen regions).
pub fn global_risk<Id: Clone>(policy: &Policy, regions: &[RiskRegion<Id>]) -> GlobalRisk<Id> {
    let conflicts = detect_conflicts(policy, regions);
    let mut score: i64 = conflicts
        .iter()
        .map(|c| match c.condition.severity {
            Severity::Critical => 20,
            Severity::Warning => 10,
        })
        .sum();
    for r in regions {
        if r.capacity < policy.throttled_capacity_below {
            score += 15;
        } else if r.capacity < policy.cautious_capacity_below {
            score += 5;
        }
        if r.mode == Mode::Frozen {
            score += 25;
        }
    }
    let score = score.min(100);
    GlobalRisk { score, level: RiskLevel::of(score), conflicts, recommendations: recommendations(policy, regions) }
}

/// Where a region adds nothing to the global risk: not frozen, capacity at
/// least `capacity_at_least`, pressure at most `pressure_at_most`, budget
/// percent remaining at least `budget_pct_at_least`. Such a region brings no
/// conflict, no recommendation and no score, so an assessment may leave it
/// out (a reader can filter on these bounds before fetching the regions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietBounds {
    pub capacity_at_least: Centi,
    pub pressure_at_most: Centi,
    pub budget_pct_at_least: Centi,
}

impl QuietBounds {
    /// The bounds of every rule of `global_risk` under `policy`.
    pub fn of(policy: &Policy) -> QuietBounds {
        let capacity = [
            policy.capacity_critical_below,
            policy.capacity_warning_below,
            policy.throttled_capacity_below,
            policy.cautious_capacity_below,
        ];
        QuietBounds {
            capacity_at_least: capacity.into_iter().max().unwrap_or(Centi::ZERO),
            pressure_at_most: policy.risk_pressure_above,
            budget_pct_at_least: policy.budget_critical_below_pct.max(policy.budget_warning_below_pct),
        }
    }

    /// True when `r` lies within the bounds.
    pub fn holds<Id>(&self, r: &RiskRegion<Id>) -> bool {
        r.mode != Mode::Frozen
            && r.capacity >= self.capacity_at_least
            && r.pressure <= self.pressure_at_most
            && budget_percent_remaining(r.budget_remaining, r.budget_monthly) >= self.budget_pct_at_least
    }
}

/// Actionable recommendations, each tied to a region and a finding.
pub fn recommendations<Id>(policy: &Policy, regions: &[RiskRegion<Id>]) -> Vec<String> {
    let mut out = Vec::new();
    for r in regions.iter().filter(|r| r.mode == Mode::Frozen) {
        out.push(format!(
            "Region {} is frozen: move new jobs to another region and restore its budget or reduce its load",
            r.name
        ));
    }
    for r in regions {
        let pct = budget_percent_remaining(r.budget_remaining, r.budget_monthly);
        if pct < policy.budget_warning_below_pct {
            out.push(format!(
                "Region {} has {pct}% of its budget remaining: raise its monthly budget or slow AI spend",
                r.name
            ));
        }
    }
    for r in regions.iter().filter(|r| r.pressure > policy.risk_pressure_above) {
        out.push(format!("Region {} pressure is {}: route new jobs to less loaded regions", r.name, r.pressure));
    }
    for r in regions.iter().filter(|r| r.capacity < policy.capacity_warning_below) {
        out.push(format!("Region {} capacity is {}: reduce its load or add budget", r.name, r.capacity));
    }
    if out.is_empty() {
        out.push("All regions operating normally".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn region(id: u32, mode: Mode, capacity: i64, pressure: i64, remaining: i64) -> RiskRegion<u32> {
        RiskRegion {
            id,
            name: format!("r{id}"),
            mode,
            capacity: Centi(capacity),
            pressure: Centi(pressure),
            budget_remaining: remaining,
            budget_monthly: 1000,
        }
    }

    #[test]
    fn healthy_world_is_low_risk() {
        let r = global_risk(&Policy::default(), &[region(1, Mode::Normal, 9000, 1000, 1000)]);
        assert_eq!((r.score, r.level), (0, RiskLevel::Low));
        assert_eq!(r.recommendations, vec!["All regions operating normally".to_string()]);
    }

    #[test]
    fn score_follows_the_formula() {
        // region 1: capacity 35 (warning conflict 10, +5), budget 20% (warning 10) -> 25
        // region 2: frozen (critical 20, +25), capacity 5 (critical 20, +15) -> 80
        let regions = [region(1, Mode::Cautious, 3500, 1000, 200), region(2, Mode::Frozen, 500, 9500, 1000)];
        let r = global_risk(&Policy::default(), &regions);
        assert_eq!(r.conflicts.len(), 4);
        assert_eq!(r.score, 100);
        assert_eq!(r.level, RiskLevel::Critical);
        let one = global_risk(&Policy::default(), &regions[..1]);
        assert_eq!(one.score, 25);
        assert_eq!(one.level, RiskLevel::Medium);
        assert_eq!(one.recommendations.len(), 2);
    }

    fn arb_region() -> impl Strategy<Value = RiskRegion<u32>> {
        let mode = prop_oneof![Just(Mode::Normal), Just(Mode::Cautious), Just(Mode::Throttled), Just(Mode::Frozen)];
        (0u32..1000, mode, 0i64..=10_000, 0i64..=10_000, -50i64..2_000, 0i64..2_000).prop_map(
            |(id, mode, capacity, pressure, budget_remaining, budget_monthly)| RiskRegion {
                id,
                name: format!("r{id}"),
                mode,
                capacity: Centi(capacity),
                pressure: Centi(pressure),
                budget_remaining,
                budget_monthly,
            },
        )
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        let c = || (0i64..=10_000).prop_map(Centi);
        (c(), c(), c(), c(), c(), c(), c()).prop_map(|(a, b, t, u, bc, bw, p)| Policy {
            capacity_critical_below: a,
            capacity_warning_below: b,
            throttled_capacity_below: t,
            cautious_capacity_below: u,
            budget_critical_below_pct: bc,
            budget_warning_below_pct: bw,
            risk_pressure_above: p,
            ..Policy::default()
        })
    }

    proptest! {
        // a region within the quiet bounds changes nothing of the assessment:
        // leaving the quiet ones out gives the same global risk
        #[test]
        fn quiet_regions_add_nothing(policy in arb_policy(), regions in proptest::collection::vec(arb_region(), 0..12)) {
            let bounds = QuietBounds::of(&policy);
            let loud: Vec<_> = regions.iter().filter(|r| !bounds.holds(r)).cloned().collect();
            prop_assert_eq!(global_risk(&policy, &regions), global_risk(&policy, &loud));
        }

        // and the bounds are tight: a region just outside one of them counts
        #[test]
        fn every_bound_matters(policy in arb_policy()) {
            let b = QuietBounds::of(&policy);
            let quiet = RiskRegion {
                id: 1u32,
                name: "q".to_string(),
                mode: Mode::Normal,
                capacity: b.capacity_at_least,
                pressure: b.pressure_at_most,
                budget_remaining: b.budget_pct_at_least.0,
                budget_monthly: 10_000,
            };
            prop_assert!(b.holds(&quiet));
            let empty = global_risk(&policy, &[]);
            prop_assert_eq!(global_risk(&policy, std::slice::from_ref(&quiet)), empty.clone());
            let frozen = RiskRegion { mode: Mode::Frozen, ..quiet.clone() };
            prop_assert_ne!(global_risk(&policy, &[frozen]), empty.clone());
            if b.capacity_at_least > Centi::ZERO {
                let low = RiskRegion { capacity: Centi(b.capacity_at_least.0 - 1), ..quiet.clone() };
                prop_assert_ne!(global_risk(&policy, &[low]), empty.clone());
            }
            if b.pressure_at_most < Centi(10_000) {
                let high = RiskRegion { pressure: Centi(b.pressure_at_most.0 + 1), ..quiet.clone() };
                prop_assert_ne!(global_risk(&policy, &[high]), empty.clone());
            }
            if b.budget_pct_at_least > Centi::ZERO {
                let short = RiskRegion { budget_remaining: b.budget_pct_at_least.0 - 1, ..quiet };
                prop_assert_ne!(global_risk(&policy, &[short]), empty);
            }
        }
    }

    #[test]
    fn levels() {
        assert_eq!(RiskLevel::of(70), RiskLevel::Critical);
        assert_eq!(RiskLevel::of(69), RiskLevel::High);
        assert_eq!(RiskLevel::of(50), RiskLevel::High);
        assert_eq!(RiskLevel::of(25), RiskLevel::Medium);
        assert_eq!(RiskLevel::of(24), RiskLevel::Low);
    }
}
