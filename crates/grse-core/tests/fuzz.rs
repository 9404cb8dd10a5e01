//! Robustness: the rules that read untrusted input (request headers, JSON
//! number text, decimal text, policy values, metric values) never panic —
//! a panic in the backend would surface as an internal error (XX000) instead
//! of a clear SQLSTATE. Many cases, arbitrary and adversarial inputs.

use grse_core::evaluate::{evaluate, RegionMetrics};
use grse_core::fixed::{parse_integer_text, parse_scaled, Centi, Weight};
use grse_core::headers::{parse_uuid, region_hint};
use grse_core::pressure::Pressures;
use grse_core::risk::{global_risk, RiskRegion};
use grse_core::routing::{best_region, Candidate};
use grse_core::{Mode, Policy};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() }
}

/// Text that looks almost like numbers and uuids, plus anything at all.
fn nearly_text() -> impl Strategy<Value = String> {
    prop_oneof!["[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{0,8})?", "[0-9a-fA-F{}-]{0,40}", ".{0,64}",]
}

fn any_centi() -> impl Strategy<Value = Centi> {
    any::<i64>().prop_map(Centi)
}

fn any_weight() -> impl Strategy<Value = Weight> {
    any::<i64>().prop_map(Weight)
}

prop_compose! {
    /// A policy with arbitrary, possibly nonsensical values (as a broken row could hold).
    fn any_policy()(w in prop::array::uniform7(any_weight()), t in prop::array::uniform16(any_centi()),
                    small in any::<i64>(), window in any::<i64>(), shards in any::<i32>()) -> Policy {
        Policy {
            pressure_weight_posting: w[0], pressure_weight_orchestration: w[1],
            pressure_weight_creative: w[2], pressure_weight_intel: w[3],
            capacity_weight_budget: w[4], capacity_weight_pressure: w[5], capacity_weight_fatigue: w[6],
            frozen_capacity_below: t[0], throttled_capacity_below: t[1], cautious_capacity_below: t[2],
            frozen_pressure_above: t[3], throttled_pressure_above: t[4], cautious_pressure_above: t[5],
            small_job_max_cents: small, pressure_ema_alpha: w[0], pressure_points_per_job: t[6],
            capacity_critical_below: t[7], capacity_warning_below: t[8],
            budget_critical_below_pct: t[9], budget_warning_below_pct: t[10],
            warning_points: t[11], critical_points: t[12], fatigue_window_secs: window,
            preferred_region_min_capacity: t[13], default_shard_count: shards, risk_pressure_above: t[14],
            default_budget_slots: shards, cautious_delay_seconds: shards, mode_recovery_margin: t[15],
            mode_min_dwell_micros: window, hold_ttl_micros: small, job_ttl_micros: window, auto_budget_slots: shards,
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn header_parsing_never_panics(pairs in prop::collection::vec((nearly_text(), prop::option::of(nearly_text())), 0..6),
                                   names in prop::collection::vec(prop_oneof![Just("x-region-id"), Just("X-Agency-Id"), Just("x-REGION-id")], 0..3),
                                   value in nearly_text()) {
        let mut all: Vec<(String, Option<String>)> = pairs;
        for n in names {
            all.push((n.to_string(), Some(value.clone())));
        }
        let _ = region_hint(all.iter().map(|(k, v)| (k.as_str(), v.as_deref())));
        let _ = parse_uuid(&value);
    }

    #[test]
    fn number_text_parsing_never_panics(text in nearly_text(), scale in 0u32..6) {
        let _ = parse_integer_text(&text);
        let _ = parse_scaled(&text, scale);
        let _ = Centi::parse(&text);
        let _ = Weight::parse(&text);
    }

    #[test]
    fn validation_and_evaluation_never_panic(policy in any_policy(), p in prop::array::uniform5(any_centi()),
                                             remaining in any::<i64>(), monthly in any::<i64>()) {
        let _ = policy.validate();
        let m = RegionMetrics {
            pressures: Pressures { posting: p[0], orchestration: p[1], creative: p[2], intel: p[3] },
            fatigue: p[4],
            budget_remaining: remaining,
            budget_monthly: monthly,
        };
        let e = evaluate(&policy, &m);
        // whatever the inputs, the stored scores stay storable
        prop_assert!(e.overall_pressure.is_score() && e.capacity.is_score() && e.warning_index.is_score());
    }

    #[test]
    fn risk_and_best_region_never_panic(policy in any_policy(),
                                        regions in prop::collection::vec((0u8..4, any_centi(), any_centi(), any::<i64>(), any::<i64>()), 0..12)) {
        let modes = [Mode::Normal, Mode::Cautious, Mode::Throttled, Mode::Frozen];
        let rs: Vec<RiskRegion<usize>> = regions.iter().enumerate().map(|(i, (m, c, p, r, mo))| RiskRegion {
            id: i, name: format!("r{i}"), mode: modes[*m as usize], capacity: *c, pressure: *p,
            budget_remaining: *r, budget_monthly: *mo,
        }).collect();
        let risk = global_risk(&policy, &rs);
        prop_assert!((0..=100).contains(&risk.score));
        let cands: Vec<Candidate<usize>> = rs.iter().map(|r| Candidate { id: r.id, mode: r.mode, capacity: r.capacity, type_pressure: r.pressure }).collect();
        let _ = best_region(&policy, &cands, Some(&0));
    }
}
