//! The policy: every threshold, weight and limit the rules use, in one
//! validated value. The database keeps it in the single-row table
//! `grse.policy`; its CHECK constraints and [`Policy::validate`] state the
//! same rules.

use crate::fixed::{Centi, Weight};

/// The most budget slots a region may have.
pub const MAX_SLOTS: i32 = 64;

/// Microseconds per second (intervals of the policy are kept in microseconds,
/// PostgreSQL's own resolution).
pub const MICROS_PER_SEC: i64 = 1_000_000;

/// The longest `cautious_delay_seconds` and `mode_min_dwell` (one day).
pub const MAX_CAUTIOUS_DELAY_SECS: i32 = 86_400;
pub const MAX_MODE_MIN_DWELL_MICROS: i64 = 86_400 * MICROS_PER_SEC;
/// The longest `hold_ttl` (7 days) and `job_ttl` (30 days).
pub const MAX_HOLD_TTL_MICROS: i64 = 7 * 86_400 * MICROS_PER_SEC;
pub const MAX_JOB_TTL_MICROS: i64 = 30 * 86_400 * MICROS_PER_SEC;

/// Thresholds, weights and limits. Field names are the column names of
/// `grse.policy`; interval columns carry their unit in the name here
/// (`fatigue_window_secs`, `mode_min_dwell_micros`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Overall pressure weights per job type; they sum to 1.
    pub pressure_weight_posting: Weight,
    pub pressure_weight_orchestration: Weight,
    pub pressure_weight_creative: Weight,
    pub pressure_weight_intel: Weight,
    /// Capacity weights of the budget, pressure and fatigue factors; they sum to 1.
    pub capacity_weight_budget: Weight,
    pub capacity_weight_pressure: Weight,
    pub capacity_weight_fatigue: Weight,
    /// Mode thresholds: a capacity strictly below, or a pressure strictly
    /// above, puts the region in that mode (the worst one wins).
    pub frozen_capacity_below: Centi,
    pub throttled_capacity_below: Centi,
    pub cautious_capacity_below: Centi,
    pub frozen_pressure_above: Centi,
    pub throttled_pressure_above: Centi,
    pub cautious_pressure_above: Centi,
    /// Largest cost estimate (cents) a throttled region still admits.
    pub small_job_max_cents: i64,
    /// Moving-average factor of `update_pressure_scores`.
    pub pressure_ema_alpha: Weight,
    /// Pressure points one job of activity stands for.
    pub pressure_points_per_job: Centi,
    /// Conflict and warning thresholds.
    pub capacity_critical_below: Centi,
    pub capacity_warning_below: Centi,
    pub budget_critical_below_pct: Centi,
    pub budget_warning_below_pct: Centi,
    /// Warning index points per warning / critical condition.
    pub warning_points: Centi,
    pub critical_points: Centi,
    /// Trailing window of the fatigue score, in seconds.
    pub fatigue_window_secs: i64,
    /// A preferred region is kept for a job when its capacity is above this.
    pub preferred_region_min_capacity: Centi,
    /// Shards per region unless the region sets its own count.
    pub default_shard_count: i32,
    /// Global risk recommends action for a region whose pressure is above this.
    pub risk_pressure_above: Centi,
    /// Budget slots per region unless the region sets its own count (1 = no slots).
    pub default_budget_slots: i32,
    /// Delay (seconds) a cautious region puts before each job it admits.
    pub cautious_delay_seconds: i32,
    /// Hysteresis: points by which capacity and pressure must clear a better
    /// mode's thresholds before a region moves to it.
    pub mode_recovery_margin: Centi,
    /// Hysteresis: how long (microseconds) a region holds a mode before it may
    /// move to a better one.
    pub mode_min_dwell_micros: i64,
    /// Lifetime (microseconds) of a budget hold reserved without a ttl.
    pub hold_ttl_micros: i64,
    /// Lifetime (microseconds) of an admitted job record.
    pub job_ttl_micros: i64,
    /// Budget slots a region takes by itself while its spends contend for its
    /// state row and it has no `budget_slots` of its own (1 = never).
    pub auto_budget_slots: i32,
}

impl Default for Policy {
    /// The seed's values.
    fn default() -> Self {
        Policy {
            pressure_weight_posting: Weight(3000),
            pressure_weight_orchestration: Weight(2500),
            pressure_weight_creative: Weight(2500),
            pressure_weight_intel: Weight(2000),
            capacity_weight_budget: Weight(4000),
            capacity_weight_pressure: Weight(3500),
            capacity_weight_fatigue: Weight(2500),
            frozen_capacity_below: Centi(1000),
            throttled_capacity_below: Centi(3000),
            cautious_capacity_below: Centi(5000),
            frozen_pressure_above: Centi(9000),
            throttled_pressure_above: Centi(7500),
            cautious_pressure_above: Centi(6000),
            small_job_max_cents: 100,
            pressure_ema_alpha: Weight(3000),
            pressure_points_per_job: Centi(1000),
            capacity_critical_below: Centi(2000),
            capacity_warning_below: Centi(4000),
            budget_critical_below_pct: Centi(1000),
            budget_warning_below_pct: Centi(2500),
            warning_points: Centi(1500),
            critical_points: Centi(3500),
            fatigue_window_secs: 24 * 3600,
            preferred_region_min_capacity: Centi(3000),
            default_shard_count: 16,
            risk_pressure_above: Centi(7000),
            default_budget_slots: 1,
            cautious_delay_seconds: 30,
            mode_recovery_margin: Centi(0),
            mode_min_dwell_micros: 0,
            hold_ttl_micros: 15 * 60 * MICROS_PER_SEC,
            job_ttl_micros: 3600 * MICROS_PER_SEC,
            auto_budget_slots: 32,
        }
    }
}

/// What is wrong with a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

fn check(ok: bool, msg: &str) -> Result<(), PolicyError> {
    if ok {
        Ok(())
    } else {
        Err(PolicyError(msg.to_string()))
    }
}

impl Policy {
    /// Checks that the policy makes sense; the same rules are CHECK
    /// constraints on `grse.policy`.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let weights = [
            self.pressure_weight_posting,
            self.pressure_weight_orchestration,
            self.pressure_weight_creative,
            self.pressure_weight_intel,
            self.capacity_weight_budget,
            self.capacity_weight_pressure,
            self.capacity_weight_fatigue,
        ];
        check(weights.iter().all(|w| (0..=10_000).contains(&w.0)), "weights must lie in [0, 1]")?;
        check(weights[..4].iter().map(|w| w.0).sum::<i64>() == 10_000, "pressure weights must sum to 1")?;
        check(weights[4..].iter().map(|w| w.0).sum::<i64>() == 10_000, "capacity weights must sum to 1")?;
        let scores = [
            self.frozen_capacity_below,
            self.throttled_capacity_below,
            self.cautious_capacity_below,
            self.frozen_pressure_above,
            self.throttled_pressure_above,
            self.cautious_pressure_above,
            self.capacity_critical_below,
            self.capacity_warning_below,
            self.budget_critical_below_pct,
            self.budget_warning_below_pct,
            self.preferred_region_min_capacity,
            self.pressure_points_per_job,
            self.warning_points,
            self.critical_points,
            self.risk_pressure_above,
        ];
        check(scores.iter().all(|s| s.is_score()), "thresholds and points must lie in [0, 100]")?;
        check(
            self.frozen_capacity_below < self.throttled_capacity_below
                && self.throttled_capacity_below < self.cautious_capacity_below,
            "capacity thresholds must be ordered frozen < throttled < cautious",
        )?;
        check(
            self.cautious_pressure_above < self.throttled_pressure_above
                && self.throttled_pressure_above < self.frozen_pressure_above,
            "pressure thresholds must be ordered cautious < throttled < frozen",
        )?;
        check(
            self.capacity_critical_below < self.capacity_warning_below,
            "capacity_critical_below must be below capacity_warning_below",
        )?;
        check(
            self.budget_critical_below_pct < self.budget_warning_below_pct,
            "budget_critical_below_pct must be below budget_warning_below_pct",
        )?;
        check(self.small_job_max_cents >= 0, "small_job_max_cents must be >= 0")?;
        check(
            self.pressure_ema_alpha.0 > 0 && self.pressure_ema_alpha.0 <= 10_000,
            "pressure_ema_alpha must lie in (0, 1]",
        )?;
        check(self.fatigue_window_secs > 0, "fatigue_window must be positive")?;
        check((1..=65_536).contains(&self.default_shard_count), "default_shard_count must lie in [1, 65536]")?;
        check((1..=MAX_SLOTS).contains(&self.default_budget_slots), "default_budget_slots must lie in [1, 64]")?;
        check((1..=MAX_SLOTS).contains(&self.auto_budget_slots), "auto_budget_slots must lie in [1, 64]")?;
        check(
            (0..=MAX_CAUTIOUS_DELAY_SECS).contains(&self.cautious_delay_seconds),
            "cautious_delay_seconds must lie in [0, 86400]",
        )?;
        check(self.mode_recovery_margin.is_score(), "mode_recovery_margin must lie in [0, 100]")?;
        check(
            (0..=MAX_MODE_MIN_DWELL_MICROS).contains(&self.mode_min_dwell_micros),
            "mode_min_dwell must lie in [0, 1 day]",
        )?;
        check(
            self.hold_ttl_micros > 0 && self.hold_ttl_micros <= MAX_HOLD_TTL_MICROS,
            "hold_ttl must lie in (0, 7 days]",
        )?;
        check(
            self.job_ttl_micros > 0 && self.job_ttl_micros <= MAX_JOB_TTL_MICROS,
            "job_ttl must lie in (0, 30 days]",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        assert_eq!(Policy::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_weights_not_summing_to_one() {
        let p = Policy { pressure_weight_intel: Weight(2100), ..Policy::default() };
        assert!(p.validate().unwrap_err().0.contains("pressure weights"));
        let p = Policy { capacity_weight_fatigue: Weight(2000), ..Policy::default() };
        assert!(p.validate().unwrap_err().0.contains("capacity weights"));
    }

    #[test]
    fn rejects_thresholds_out_of_order() {
        let p = Policy { throttled_capacity_below: Centi(900), ..Policy::default() };
        assert!(p.validate().is_err());
        let p = Policy { cautious_pressure_above: Centi(8000), ..Policy::default() };
        assert!(p.validate().is_err());
        let p = Policy { default_shard_count: 0, ..Policy::default() };
        assert!(p.validate().is_err());
    }

    #[test]
    fn rejects_mode_and_ttl_values_out_of_range() {
        let bad = [
            Policy { cautious_delay_seconds: -1, ..Policy::default() },
            Policy { cautious_delay_seconds: MAX_CAUTIOUS_DELAY_SECS + 1, ..Policy::default() },
            Policy { mode_recovery_margin: Centi(-1), ..Policy::default() },
            Policy { mode_recovery_margin: Centi(10_001), ..Policy::default() },
            Policy { mode_min_dwell_micros: -1, ..Policy::default() },
            Policy { mode_min_dwell_micros: MAX_MODE_MIN_DWELL_MICROS + 1, ..Policy::default() },
            Policy { hold_ttl_micros: 0, ..Policy::default() },
            Policy { hold_ttl_micros: MAX_HOLD_TTL_MICROS + 1, ..Policy::default() },
            Policy { job_ttl_micros: 0, ..Policy::default() },
            Policy { job_ttl_micros: MAX_JOB_TTL_MICROS + 1, ..Policy::default() },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?}");
        }
        let edges = [
            Policy { cautious_delay_seconds: 0, ..Policy::default() },
            Policy { cautious_delay_seconds: MAX_CAUTIOUS_DELAY_SECS, ..Policy::default() },
            Policy { mode_recovery_margin: Centi(10_000), ..Policy::default() },
            Policy { mode_min_dwell_micros: MAX_MODE_MIN_DWELL_MICROS, ..Policy::default() },
            Policy { hold_ttl_micros: MAX_HOLD_TTL_MICROS, job_ttl_micros: MAX_JOB_TTL_MICROS, ..Policy::default() },
        ];
        for p in edges {
            assert_eq!(p.validate(), Ok(()), "{p:?}");
        }
    }
}
