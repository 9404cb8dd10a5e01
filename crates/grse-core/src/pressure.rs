//! Load pressure: the weighted overall pressure and the moving-average
//! update from activity counts.

use crate::fixed::{div_round, Centi};
use crate::policy::Policy;

/// The four per-job-type pressures of a region, each a score in `[0, 100]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pressures {
    pub posting: Centi,
    pub orchestration: Centi,
    pub creative: Centi,
    pub intel: Centi,
}

/// Overall pressure = Σ weight·pressure (seed: 0.30·posting + 0.25·orchestration
/// + 0.25·creative + 0.20·intel), rounded to 2 decimals.
pub fn overall_pressure(policy: &Policy, p: &Pressures) -> Centi {
    let sum: i128 = [
        (policy.pressure_weight_posting, p.posting),
        (policy.pressure_weight_orchestration, p.orchestration),
        (policy.pressure_weight_creative, p.creative),
        (policy.pressure_weight_intel, p.intel),
    ]
    .iter()
    .map(|(w, s)| w.unit() * i128::from(s.clamp_score().0))
    .sum();
    Centi(div_round(sum, 10_000) as i64).clamp_score()
}

/// Counts above this are treated as this many jobs; the result is capped at
/// 100 long before, so nothing is lost and nothing overflows.
const MAX_JOBS: u64 = 1_000_000_000;

/// One moving-average step: `min(100, old·(1−α) + (jobs·points)·α)`, with the
/// seed's α = 0.3 and 10 points per job by default, rounded to 2 decimals.
pub fn ema_update(policy: &Policy, old: Centi, jobs: u64) -> Centi {
    let alpha = policy.pressure_ema_alpha.unit();
    let jobs = i128::from(jobs.min(MAX_JOBS));
    let activity = jobs * i128::from(policy.pressure_points_per_job.clamp_score().0);
    let mixed = i128::from(old.clamp_score().0) * (10_000 - alpha) + activity * alpha;
    Centi(div_round(mixed, 10_000).min(10_000) as i64).clamp_score()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(posting: i64, orchestration: i64, creative: i64, intel: i64) -> Pressures {
        Pressures {
            posting: Centi(posting),
            orchestration: Centi(orchestration),
            creative: Centi(creative),
            intel: Centi(intel),
        }
    }

    #[test]
    fn seed_weights() {
        let pol = Policy::default();
        // 0.30·80 + 0.25·60 + 0.25·40 + 0.20·20 = 24 + 15 + 10 + 4 = 53
        assert_eq!(overall_pressure(&pol, &p(8000, 6000, 4000, 2000)), Centi(5300));
        assert_eq!(overall_pressure(&pol, &p(10_000, 10_000, 10_000, 10_000)), Centi(10_000));
        assert_eq!(overall_pressure(&pol, &p(0, 0, 0, 0)), Centi(0));
        // 0.30·33.33 = 9.999 -> 10.00 (half away from zero at the third digit)
        assert_eq!(overall_pressure(&pol, &p(3333, 0, 0, 0)), Centi(1000));
        // 0.25·0.01 = 0.0025 -> 0.00
        assert_eq!(overall_pressure(&pol, &p(0, 1, 0, 0)), Centi(0));
        // 0.25·0.02 = 0.005 -> 0.01
        assert_eq!(overall_pressure(&pol, &p(0, 2, 0, 0)), Centi(1));
    }

    #[test]
    fn ema_matches_seed_formula() {
        let pol = Policy::default();
        // 50·0.7 + (3·10)·0.3 = 35 + 9 = 44
        assert_eq!(ema_update(&pol, Centi(5000), 3), Centi(4400));
        // capped at 100
        assert_eq!(ema_update(&pol, Centi(9000), 100), Centi(10_000));
        assert_eq!(ema_update(&pol, Centi(9000), u64::MAX), Centi(10_000));
        // no activity decays
        assert_eq!(ema_update(&pol, Centi(1000), 0), Centi(700));
    }
}
