//! Property tests of grse-core's domain rules (the README's "Formulas" section).
//!
//! Every score stays in `[0, 100]`; overall pressure and capacity equal the
//! formulas computed here independently with exact i128 rationals and
//! round-half-up; modes and capacity are monotone; mode thresholds are exact
//! at `t` and `t ± 0.01` (default and random valid policies); policy
//! validation, decimal parsing, routing, shard keys and global risk keep
//! their documented rules. Nothing here calls the crate's own helpers
//! (`div_round`, `RiskLevel::of`, ...) to build an expected value.

use grse_core::capacity::{budget_percent_remaining, capacity, CapacityInputs};
use grse_core::conditions::RegionFacts;
use grse_core::conditions::{ConditionKind, Severity};
use grse_core::evaluate::RegionMetrics;
use grse_core::fatigue::{fatigue, FatigueInputs, Transition};
use grse_core::mode::decide_mode;
use grse_core::policy::{MAX_CAUTIOUS_DELAY_SECS, MAX_HOLD_TTL_MICROS, MAX_JOB_TTL_MICROS, MAX_MODE_MIN_DWELL_MICROS};
use grse_core::pressure::{ema_update, overall_pressure, Pressures};
use grse_core::risk::{global_risk, RiskLevel, RiskRegion};
use grse_core::routing::{admits, estimated_wait, priority, JobType, Refusal};
use grse_core::shard::shard_of;
use grse_core::slots::{distribute, floor, holds_steady, judgement, Judgement};
use grse_core::warning::warning_index;
use grse_core::{Centi, Mode, Policy, Weight};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Independent reference arithmetic: exact rationals over i128.
// ---------------------------------------------------------------------------

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// An exact rational `n / d` with `d > 0`, kept reduced.
#[derive(Clone, Copy, Debug)]
struct Q {
    n: i128,
    d: i128,
}

impl Q {
    fn new(n: i128, d: i128) -> Q {
        assert!(d != 0);
        let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
        let g = gcd(n, d);
        Q { n: n / g, d: d / g }
    }
    fn int(n: i128) -> Q {
        Q::new(n, 1)
    }
    fn add(self, o: Q) -> Q {
        let g = gcd(self.d, o.d);
        let l = self.d / g * o.d;
        Q::new(self.n * (l / self.d) + o.n * (l / o.d), l)
    }
    fn sub(self, o: Q) -> Q {
        self.add(Q::new(-o.n, o.d))
    }
    fn mul(self, o: Q) -> Q {
        // cross-reduce first to keep the products small
        let g1 = gcd(self.n, o.d);
        let g2 = gcd(o.n, self.d);
        Q::new((self.n / g1) * (o.n / g2), (self.d / g2) * (o.d / g1))
    }
    /// Round half up (toward +inf at .5): floor(x + 1/2) = floor((2n + d) / 2d).
    fn round_half_up(self) -> i128 {
        (2 * self.n + self.d).div_euclid(2 * self.d)
    }
}

/// A Centi or Weight as an exact rational of its real value.
fn centi_q(c: Centi) -> Q {
    Q::new(i128::from(c.0), 100)
}
fn weight_q(w: Weight) -> Q {
    Q::new(i128::from(w.0), 10_000)
}

/// Overall pressure (real value), README "Formulas": Σ weight·pressure, 2 decimals.
fn ref_overall_pressure(pol: &Policy, p: &Pressures) -> Centi {
    let v = weight_q(pol.pressure_weight_posting)
        .mul(centi_q(p.posting))
        .add(weight_q(pol.pressure_weight_orchestration).mul(centi_q(p.orchestration)))
        .add(weight_q(pol.pressure_weight_creative).mul(centi_q(p.creative)))
        .add(weight_q(pol.pressure_weight_intel).mul(centi_q(p.intel)));
    Centi(v.mul(Q::int(100)).round_half_up() as i64)
}

/// Capacity (real value), README "Formulas": 100·(wb·budgetFactor + wp·pressureFactor +
/// wf·fatigueFactor), clamped to [0, 100], 2 decimals.
fn ref_capacity(pol: &Policy, x: &CapacityInputs) -> Centi {
    let hundred = Q::int(100);
    let one = Q::int(1);
    let budget_factor = Q::new(i128::from(x.budget_remaining), i128::from(x.budget_monthly.max(1)));
    let pressure_factor = one.sub(centi_q(x.pressure).mul(Q::new(1, 100)));
    let fatigue_factor = one.sub(centi_q(x.fatigue).mul(Q::new(1, 100)));
    let v = hundred.mul(
        weight_q(pol.capacity_weight_budget)
            .mul(budget_factor)
            .add(weight_q(pol.capacity_weight_pressure).mul(pressure_factor))
            .add(weight_q(pol.capacity_weight_fatigue).mul(fatigue_factor)),
    );
    let clamped = if v.n < 0 {
        Q::int(0)
    } else if v.sub(hundred).n > 0 {
        hundred
    } else {
        v
    };
    Centi(clamped.mul(hundred).round_half_up() as i64)
}

/// The mode rule (README "Formulas"), written out for a policy's thresholds.
fn ref_mode(pol: &Policy, capacity: Centi, pressure: Centi) -> Mode {
    if capacity < pol.frozen_capacity_below || pressure > pol.frozen_pressure_above {
        Mode::Frozen
    } else if capacity < pol.throttled_capacity_below || pressure > pol.throttled_pressure_above {
        Mode::Throttled
    } else if capacity < pol.cautious_capacity_below || pressure > pol.cautious_pressure_above {
        Mode::Cautious
    } else {
        Mode::Normal
    }
}

// ---------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------

fn score() -> impl Strategy<Value = Centi> {
    prop_oneof![
        1 => prop::sample::select(vec![0i64, 1, 5000, 9999, 10_000]),
        6 => 0i64..=10_000,
    ]
    .prop_map(Centi)
}

fn any_centi() -> impl Strategy<Value = Centi> {
    prop_oneof![
        2 => 0i64..=10_000,
        1 => -1_000_000i64..=1_000_000,
        1 => any::<i64>(),
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 10_001, i64::MAX]),
    ]
    .prop_map(Centi)
}

fn mode() -> impl Strategy<Value = Mode> {
    prop::sample::select(Mode::ALL.to_vec())
}

fn job_type() -> impl Strategy<Value = JobType> {
    prop::sample::select(JobType::ALL.to_vec())
}

/// `k` non-negative parts summing to 10000 (weights that sum to 1).
fn weights_summing_to_one(k: usize) -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(0i64..=10_000, k - 1).prop_map(move |mut cuts| {
        cuts.push(0);
        cuts.push(10_000);
        cuts.sort_unstable();
        cuts.windows(2).map(|w| w[1] - w[0]).collect()
    })
}

/// `k` strictly increasing scores in 1..=9999 (so t ± 0.01 stays a score).
fn ordered(k: usize) -> impl Strategy<Value = Vec<i64>> {
    prop::collection::btree_set(1i64..=9999, k).prop_map(|s| s.into_iter().collect())
}

/// Random policies satisfying every rule of `Policy::validate`.
fn valid_policy() -> impl Strategy<Value = Policy> {
    let random = (
        weights_summing_to_one(4),
        weights_summing_to_one(3),
        ordered(3),
        ordered(3),
        ordered(2),
        ordered(2),
        (0i64..=1_000_000, 1i64..=10_000, 0i64..=10_000, 0i64..=10_000, 0i64..=10_000),
        (1i64..=10_000_000, 0i64..=10_000, 1i32..=65_536, 0i64..=10_000, 1i32..=64),
    )
        .prop_map(
            |(pw, cw, cap, pre, capw, bud, (small, alpha, points, wpts, cpts), (win, pref, shards, risk, slots))| {
                Policy {
                    pressure_weight_posting: Weight(pw[0]),
                    pressure_weight_orchestration: Weight(pw[1]),
                    pressure_weight_creative: Weight(pw[2]),
                    pressure_weight_intel: Weight(pw[3]),
                    capacity_weight_budget: Weight(cw[0]),
                    capacity_weight_pressure: Weight(cw[1]),
                    capacity_weight_fatigue: Weight(cw[2]),
                    frozen_capacity_below: Centi(cap[0]),
                    throttled_capacity_below: Centi(cap[1]),
                    cautious_capacity_below: Centi(cap[2]),
                    cautious_pressure_above: Centi(pre[0]),
                    throttled_pressure_above: Centi(pre[1]),
                    frozen_pressure_above: Centi(pre[2]),
                    small_job_max_cents: small,
                    pressure_ema_alpha: Weight(alpha),
                    pressure_points_per_job: Centi(points),
                    capacity_critical_below: Centi(capw[0]),
                    capacity_warning_below: Centi(capw[1]),
                    budget_critical_below_pct: Centi(bud[0]),
                    budget_warning_below_pct: Centi(bud[1]),
                    warning_points: Centi(wpts),
                    critical_points: Centi(cpts),
                    fatigue_window_secs: win,
                    preferred_region_min_capacity: Centi(pref),
                    default_shard_count: shards,
                    risk_pressure_above: Centi(risk),
                    default_budget_slots: slots,
                    ..Policy::default()
                }
            },
        );
    let modes_and_ttls = (
        0i32..=MAX_CAUTIOUS_DELAY_SECS,
        0i64..=10_000,
        0i64..=MAX_MODE_MIN_DWELL_MICROS,
        1i64..=MAX_HOLD_TTL_MICROS,
        1i64..=MAX_JOB_TTL_MICROS,
    );
    let random = (random, modes_and_ttls).prop_map(|(p, (delay, margin, dwell, hold_ttl, job_ttl))| Policy {
        cautious_delay_seconds: delay,
        mode_recovery_margin: Centi(margin),
        mode_min_dwell_micros: dwell,
        hold_ttl_micros: hold_ttl,
        job_ttl_micros: job_ttl,
        ..p
    });
    prop_oneof![1 => Just(Policy::default()), 9 => random]
}

fn pressures() -> impl Strategy<Value = Pressures> {
    (score(), score(), score(), score()).prop_map(|(posting, orchestration, creative, intel)| Pressures {
        posting,
        orchestration,
        creative,
        intel,
    })
}

/// (remaining, monthly) with 0 <= remaining <= monthly, monthly up to i64::MAX.
fn budget() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![
        2 => 0i64..=100_000,
        1 => 0i64..=i64::MAX,
        1 => prop::sample::select(vec![0i64, 1, 2, 3, i64::MAX - 1, i64::MAX]),
    ]
    .prop_flat_map(|monthly| {
        let remaining = prop_oneof![
            3 => 0i64..=monthly,
            1 => prop::sample::select(vec![0, monthly / 2, (monthly - 1).max(0), monthly]),
        ];
        (remaining, Just(monthly))
    })
}

fn capacity_inputs() -> impl Strategy<Value = CapacityInputs> {
    (budget(), score(), score()).prop_map(|((budget_remaining, budget_monthly), pressure, fatigue)| CapacityInputs {
        budget_remaining,
        budget_monthly,
        pressure,
        fatigue,
    })
}

fn region_facts() -> impl Strategy<Value = RegionFacts> {
    (mode(), any_centi(), any_centi(), any_centi()).prop_map(|(mode, capacity, pressure, budget_percent_remaining)| {
        RegionFacts { mode, capacity, pressure, budget_percent_remaining }
    })
}

fn wide_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => -1_000_000_000i64..=1_000_000_000,
        2 => any::<i64>(),
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX]),
    ]
}

/// `n` cases; no regression files are written into the source tree.
fn cases(n: u32) -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(n) }
}

// ---------------------------------------------------------------------------
// Scores stay in [0, 100].
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn overall_pressure_is_a_score(pol in valid_policy(), p in pressures()) {
        prop_assert!(overall_pressure(&pol, &p).is_score());
    }

    #[test]
    fn overall_pressure_is_a_score_even_for_out_of_range_inputs(
        pol in valid_policy(), a in any_centi(), b in any_centi(), c in any_centi(), d in any_centi()
    ) {
        let p = Pressures { posting: a, orchestration: b, creative: c, intel: d };
        prop_assert!(overall_pressure(&pol, &p).is_score());
    }

    #[test]
    fn ema_update_is_a_score_for_any_old_score_and_any_job_count(
        pol in valid_policy(),
        old in prop_oneof![3 => score(), 1 => any_centi()],
        jobs in prop_oneof![2 => 0u64..=1000, 1 => any::<u64>(), 1 => Just(u64::MAX)],
    ) {
        prop_assert!(ema_update(&pol, old, jobs).is_score());
    }

    #[test]
    fn capacity_is_a_score(pol in valid_policy(), x in capacity_inputs()) {
        prop_assert!(capacity(&pol, &x).is_score());
    }

    #[test]
    fn capacity_is_a_score_even_for_out_of_range_inputs(
        pol in valid_policy(), r in wide_i64(), m in wide_i64(), p in any_centi(), f in any_centi()
    ) {
        let x = CapacityInputs { budget_remaining: r, budget_monthly: m, pressure: p, fatigue: f };
        prop_assert!(capacity(&pol, &x).is_score());
    }

    #[test]
    fn budget_percent_remaining_is_a_score(r in wide_i64(), m in wide_i64()) {
        prop_assert!(budget_percent_remaining(r, m).is_score());
    }

    #[test]
    fn budget_percent_remaining_matches_exact_reference((r, m) in budget()) {
        let expected = if m == 0 {
            0
        } else {
            Q::new(i128::from(r) * 10_000, i128::from(m)).round_half_up() as i64
        };
        prop_assert_eq!(budget_percent_remaining(r, m), Centi(expected));
    }

    #[test]
    fn warning_index_is_a_score(pol in valid_policy(), f in region_facts()) {
        prop_assert!(warning_index(&pol, &f).is_score());
    }
}

fn transition() -> impl Strategy<Value = Transition> {
    (wide_i64(), mode()).prop_map(|(at_us, to)| Transition { at_us, to })
}

fn fatigue_inputs() -> impl Strategy<Value = FatigueInputs> {
    (wide_i64(), wide_i64(), wide_i64(), mode(), prop::collection::vec(transition(), 0..12)).prop_map(
        |(now_us, window_us, created_us, mode_at_start, transitions)| FatigueInputs {
            now_us,
            window_us,
            created_us,
            mode_at_start,
            transitions,
        },
    )
}

/// Realistic windows: times near `now`, transitions possibly unsorted and
/// partly outside the window.
fn fatigue_inputs_near_now() -> impl Strategy<Value = FatigueInputs> {
    const H: i64 = 3_600_000_000;
    (
        0i64..=1000 * H,
        1i64..=48 * H,
        -100 * H..=1100 * H,
        mode(),
        prop::collection::vec(((-100 * H..=1100 * H), mode()), 0..20),
    )
        .prop_map(|(now_us, window_us, created_us, mode_at_start, ts)| FatigueInputs {
            now_us,
            window_us,
            created_us,
            mode_at_start,
            transitions: ts.into_iter().map(|(at_us, to)| Transition { at_us, to }).collect(),
        })
}

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn fatigue_never_panics_and_is_a_score_for_arbitrary_transitions(x in fatigue_inputs()) {
        prop_assert!(fatigue(&x).is_score());
    }

    #[test]
    fn fatigue_is_a_score_for_unsorted_or_out_of_window_transitions(x in fatigue_inputs_near_now()) {
        prop_assert!(fatigue(&x).is_score());
    }

    #[test]
    fn fatigue_is_zero_when_never_outside_normal(mut x in fatigue_inputs_near_now()) {
        x.mode_at_start = Mode::Normal;
        for t in &mut x.transitions {
            t.to = Mode::Normal;
        }
        prop_assert_eq!(fatigue(&x), Centi(0));
    }
}

// ---------------------------------------------------------------------------
// Exactness against independent rational references.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(10_000))]

    #[test]
    fn overall_pressure_equals_exact_rational_formula(pol in valid_policy(), p in pressures()) {
        prop_assert_eq!(overall_pressure(&pol, &p), ref_overall_pressure(&pol, &p));
    }

    #[test]
    fn capacity_equals_exact_rational_formula(pol in valid_policy(), x in capacity_inputs()) {
        prop_assert_eq!(capacity(&pol, &x), ref_capacity(&pol, &x));
    }

    #[test]
    fn ema_update_equals_exact_rational_formula(
        pol in valid_policy(), old in score(), jobs in prop_oneof![3 => 0u64..=200, 1 => any::<u64>()]
    ) {
        // new = min(100, old·(1−α) + (jobs·points)·α), 2 decimals
        let alpha = weight_q(pol.pressure_ema_alpha);
        let activity = Q::int(i128::from(jobs)).mul(centi_q(pol.pressure_points_per_job));
        let v = centi_q(old).mul(Q::int(1).sub(alpha)).add(activity.mul(alpha));
        let expected = v.mul(Q::int(100)).round_half_up().min(10_000) as i64;
        prop_assert_eq!(ema_update(&pol, old, jobs), Centi(expected));
    }
}

// ---------------------------------------------------------------------------
// Monotonicity.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn decide_mode_never_improves_when_pressure_rises_or_capacity_falls(
        pol in valid_policy(), c1 in any_centi(), c2 in any_centi(), p1 in any_centi(), p2 in any_centi()
    ) {
        let (c_hi, c_lo) = (c1.max(c2), c1.min(c2));
        let (p_lo, p_hi) = (p1.min(p2), p1.max(p2));
        let better = decide_mode(&pol, c_hi, p_lo);
        prop_assert!(decide_mode(&pol, c_hi, p_hi) >= better);
        prop_assert!(decide_mode(&pol, c_lo, p_lo) >= better);
        prop_assert!(decide_mode(&pol, c_lo, p_hi) >= decide_mode(&pol, c_lo, p_lo));
        prop_assert!(decide_mode(&pol, c_lo, p_hi) >= decide_mode(&pol, c_hi, p_hi));
    }

    #[test]
    fn decide_mode_equals_the_threshold_rule(pol in valid_policy(), c in any_centi(), p in any_centi()) {
        prop_assert_eq!(decide_mode(&pol, c, p), ref_mode(&pol, c, p));
    }

    #[test]
    fn capacity_never_rises_when_pressure_or_fatigue_rises_or_remaining_falls(
        pol in valid_policy(), x in capacity_inputs(), p2 in score(), f2 in score(), r_frac in 0u32..=1000
    ) {
        let base = capacity(&pol, &x);
        let more_pressure = CapacityInputs { pressure: x.pressure.max(p2), ..x };
        let more_fatigue = CapacityInputs { fatigue: x.fatigue.max(f2), ..x };
        let less_remaining = CapacityInputs {
            budget_remaining: (i128::from(x.budget_remaining) * i128::from(r_frac) / 1000) as i64,
            ..x
        };
        prop_assert!(capacity(&pol, &more_pressure) <= base);
        prop_assert!(capacity(&pol, &more_fatigue) <= base);
        prop_assert!(capacity(&pol, &less_remaining) <= base);
    }
}

// ---------------------------------------------------------------------------
// Exact mode boundaries.
// ---------------------------------------------------------------------------

#[test]
fn default_policy_mode_boundaries_are_exact() {
    let pol = Policy::default();
    let benign_capacity = Centi(10_000);
    let benign_pressure = Centi(0);
    let by_pressure = [
        (6000, Mode::Normal),
        (6001, Mode::Cautious),
        (7500, Mode::Cautious),
        (7501, Mode::Throttled),
        (9000, Mode::Throttled),
        (9001, Mode::Frozen),
    ];
    for (p, want) in by_pressure {
        assert_eq!(decide_mode(&pol, benign_capacity, Centi(p)), want, "pressure {}", Centi(p));
    }
    let by_capacity = [
        (5000, Mode::Normal),
        (4999, Mode::Cautious),
        (3000, Mode::Cautious),
        (2999, Mode::Throttled),
        (1000, Mode::Throttled),
        (999, Mode::Frozen),
    ];
    for (c, want) in by_capacity {
        assert_eq!(decide_mode(&pol, Centi(c), benign_pressure), want, "capacity {}", Centi(c));
    }
}

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn random_valid_policies_validate_and_their_mode_thresholds_are_exact(pol in valid_policy()) {
        prop_assert_eq!(pol.validate(), Ok(()));
        let benign_capacity = Centi(10_000); // thresholds are <= 99.99
        let benign_pressure = Centi(0); // thresholds are >= 0.01
        prop_assert_eq!(decide_mode(&pol, benign_capacity, benign_pressure), Mode::Normal);
        let cap = [
            (Mode::Frozen, pol.frozen_capacity_below),
            (Mode::Throttled, pol.throttled_capacity_below),
            (Mode::Cautious, pol.cautious_capacity_below),
        ];
        for (m, t) in cap {
            // just below: that mode (or a worse one is impossible: lower thresholds are lower)
            prop_assert_eq!(decide_mode(&pol, Centi(t.0 - 1), benign_pressure), m);
            // at and just above: strictly better than that mode
            prop_assert!(decide_mode(&pol, t, benign_pressure) < m);
            prop_assert!(decide_mode(&pol, Centi(t.0 + 1), benign_pressure) < m);
            for c in [t.0 - 1, t.0, t.0 + 1] {
                prop_assert_eq!(decide_mode(&pol, Centi(c), benign_pressure), ref_mode(&pol, Centi(c), benign_pressure));
            }
        }
        let pre = [
            (Mode::Cautious, pol.cautious_pressure_above),
            (Mode::Throttled, pol.throttled_pressure_above),
            (Mode::Frozen, pol.frozen_pressure_above),
        ];
        for (m, t) in pre {
            prop_assert_eq!(decide_mode(&pol, benign_capacity, Centi(t.0 + 1)), m);
            prop_assert!(decide_mode(&pol, benign_capacity, t) < m);
            prop_assert!(decide_mode(&pol, benign_capacity, Centi(t.0 - 1)) < m);
            for p in [t.0 - 1, t.0, t.0 + 1] {
                prop_assert_eq!(decide_mode(&pol, benign_capacity, Centi(p)), ref_mode(&pol, benign_capacity, Centi(p)));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Policy validation rejects what makes no sense.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn validate_rejects_pressure_weights_not_summing_to_one(
        pol in valid_policy(),
        w in prop::collection::vec(0i64..=10_000, 4).prop_filter("sum != 1", |w| w.iter().sum::<i64>() != 10_000),
    ) {
        let p = Policy {
            pressure_weight_posting: Weight(w[0]),
            pressure_weight_orchestration: Weight(w[1]),
            pressure_weight_creative: Weight(w[2]),
            pressure_weight_intel: Weight(w[3]),
            ..pol
        };
        let err = p.validate().unwrap_err();
        prop_assert!(err.0.contains("pressure weights"), "{}", err);
    }

    #[test]
    fn validate_rejects_capacity_weights_not_summing_to_one(
        pol in valid_policy(),
        w in prop::collection::vec(0i64..=10_000, 3).prop_filter("sum != 1", |w| w.iter().sum::<i64>() != 10_000),
    ) {
        let p = Policy {
            capacity_weight_budget: Weight(w[0]),
            capacity_weight_pressure: Weight(w[1]),
            capacity_weight_fatigue: Weight(w[2]),
            ..pol
        };
        let err = p.validate().unwrap_err();
        prop_assert!(err.0.contains("capacity weights"), "{}", err);
    }

    #[test]
    fn validate_rejects_a_nudged_weight(pol in valid_policy(), which in 0usize..7, delta in prop_oneof![-10_000i64..=-1, 1i64..=10_000]) {
        let mut p = pol;
        let w = match which {
            0 => &mut p.pressure_weight_posting,
            1 => &mut p.pressure_weight_orchestration,
            2 => &mut p.pressure_weight_creative,
            3 => &mut p.pressure_weight_intel,
            4 => &mut p.capacity_weight_budget,
            5 => &mut p.capacity_weight_pressure,
            _ => &mut p.capacity_weight_fatigue,
        };
        w.0 += delta;
        prop_assert!(p.validate().is_err());
    }

    /// Breaks the order of one threshold triple/pair by swapping two of its
    /// members or making them equal.
    #[test]
    fn validate_rejects_thresholds_out_of_order(
        pol in valid_policy(), group in 0usize..4, i in 0usize..3, step in 0usize..2, equal in any::<bool>()
    ) {
        let mut p = pol;
        let mut fields: Vec<&mut Centi> = match group {
            0 => vec![&mut p.frozen_capacity_below, &mut p.throttled_capacity_below, &mut p.cautious_capacity_below],
            1 => vec![&mut p.cautious_pressure_above, &mut p.throttled_pressure_above, &mut p.frozen_pressure_above],
            2 => vec![&mut p.capacity_critical_below, &mut p.capacity_warning_below],
            _ => vec![&mut p.budget_critical_below_pct, &mut p.budget_warning_below_pct],
        };
        let n = fields.len();
        let (i, j) = (i % n, (i % n + 1 + step % (n - 1)) % n); // i != j
        let (vi, vj) = (fields[i].0, fields[j].0);
        fields[i].0 = vj;
        if !equal {
            fields[j].0 = vi;
        }
        prop_assert!(p.validate().is_err(), "{:?}", p);
    }
}

// ---------------------------------------------------------------------------
// Decimal text.
// ---------------------------------------------------------------------------

/// A plain decimal: optional sign, digits with at most one point and at
/// least one digit, surrounded by optional whitespace.
fn is_plain_decimal(s: &str) -> bool {
    let t = s.trim();
    let body = t.strip_prefix('-').or_else(|| t.strip_prefix('+')).unwrap_or(t);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac)
}

proptest! {
    #![proptest_config(cases(10_000))]

    #[test]
    fn centi_display_parse_round_trips_for_every_representable_value(
        v in prop_oneof![
            3 => -1_000_000i64..=1_000_000,
            3 => any::<i64>(),
            1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX]),
        ]
    ) {
        let text = Centi(v).to_string();
        prop_assert_eq!(Centi::parse(&text), Ok(Centi(v)), "text {}", text);
    }

    #[test]
    fn centi_parse_never_panics_on_arbitrary_text(s in ".*") {
        let r = Centi::parse(&s);
        if !is_plain_decimal(&s) {
            prop_assert!(r.is_err(), "{:?} parsed as {:?}", s, r);
        }
    }

    #[test]
    fn centi_parse_rejects_near_miss_decimals(
        s in "[ \\t]?[-+]{0,2}[0-9]{0,4}[.,eE]{0,2}[0-9]{0,4}[a-zA-Z%_ ]{0,2}[0-9]{0,2}"
    ) {
        let r = Centi::parse(&s);
        if is_plain_decimal(&s) {
            // a plain decimal only fails for too many (non-zero) fraction digits
            let frac = s.trim().split_once('.').map(|(_, f)| f).unwrap_or("");
            let too_precise = frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0');
            prop_assert_eq!(r.is_ok(), !too_precise, "{:?} -> {:?}", s, r);
        } else {
            prop_assert!(r.is_err(), "{:?} parsed as {:?}", s, r);
        }
    }

    #[test]
    fn centi_parse_reads_plain_decimals_exactly(
        neg in any::<bool>(), int in 0i64..=1_000_000_000_000, frac in 0i64..100, trailing_zeros in 0usize..4
    ) {
        let text = format!("{}{}.{:02}{}", if neg { "-" } else { "" }, int, frac, "0".repeat(trailing_zeros));
        let v = int * 100 + frac;
        prop_assert_eq!(Centi::parse(&text), Ok(Centi(if neg { -v } else { v })));
    }
}

/// Regression: `Centi(i64::MIN)` displays as "-92233720368547758.08" and must
/// read back (its magnitude is one more than `i64::MAX`).
#[test]
fn centi_min_value_round_trips() {
    let text = Centi(i64::MIN).to_string();
    assert_eq!(Centi::parse(&text), Ok(Centi(i64::MIN)), "text {text}");
}

// ---------------------------------------------------------------------------
// Routing.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn priority_is_at_least_one_and_never_rises_with_type_pressure(
        job in job_type(),
        base in prop_oneof![Just(None), any::<i32>().prop_map(Some), (-10i32..=20).prop_map(Some)],
        p1 in any_centi(), p2 in any_centi(),
    ) {
        let (lo, hi) = (p1.min(p2), p1.max(p2));
        let at_lo = priority(job, base, lo);
        let at_hi = priority(job, base, hi);
        prop_assert!(at_lo >= 1 && at_hi >= 1);
        prop_assert!(at_hi <= at_lo, "{:?} base {:?}: {} at {} but {} at {}", job, base, at_lo, lo, at_hi, hi);
    }

    #[test]
    fn estimated_wait_is_never_negative_and_grows_with_the_queue(
        job in job_type(), q1 in wide_i64(), q2 in wide_i64()
    ) {
        let (lo, hi) = (q1.min(q2), q1.max(q2));
        let (w_lo, w_hi) = (estimated_wait(job, lo), estimated_wait(job, hi));
        prop_assert!(w_lo >= 0 && w_hi >= 0);
        prop_assert!(w_lo <= w_hi);
        if (0..=1_000_000_000).contains(&lo) {
            let secs = match job {
                JobType::Posting => 2,
                JobType::Orchestration => 3,
                JobType::Creative => 5,
                JobType::Intel => 4,
            };
            prop_assert_eq!(w_lo, lo * secs);
        }
    }

    #[test]
    fn admits_by_mode(
        pol in valid_policy(),
        job in prop_oneof![Just(None), job_type().prop_map(Some)],
        cost in wide_i64(),
    ) {
        prop_assert_eq!(admits(&pol, Mode::Frozen, job, cost), Err(Refusal::Frozen));
        prop_assert_eq!(admits(&pol, Mode::Normal, job, cost), Ok(()));
        prop_assert_eq!(admits(&pol, Mode::Cautious, job, cost), Ok(()));
        // throttled: no creative jobs, and only small operations
        let throttled_ok = job != Some(JobType::Creative) && cost <= pol.small_job_max_cents;
        prop_assert_eq!(admits(&pol, Mode::Throttled, job, cost).is_ok(), throttled_ok);
    }
}

// ---------------------------------------------------------------------------
// Shard keys.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn shard_is_in_range_stable_and_moves_only_to_the_new_shard(
        tenant in any::<[u8; 16]>(),
        n in prop_oneof![1u32..=64, 1u32..=65_536, Just(65_536u32)],
    ) {
        let s = shard_of(&tenant, n);
        prop_assert!(s < n);
        prop_assert_eq!(shard_of(&tenant, n), s, "not stable");
        let grown = shard_of(&tenant, n + 1);
        prop_assert!(grown == s || grown == n, "n {} -> {}: shard {} -> {}", n, n + 1, s, grown);
    }
}

// ---------------------------------------------------------------------------
// Global risk.
// ---------------------------------------------------------------------------

fn risk_region() -> impl Strategy<Value = RiskRegion<u32>> {
    (any::<u32>(), mode(), score(), score(), budget()).prop_map(|(id, mode, capacity, pressure, (r, m))| RiskRegion {
        id,
        name: format!("r{id}"),
        mode,
        capacity,
        pressure,
        budget_remaining: r,
        budget_monthly: m,
    })
}

fn ref_level(score: i64) -> RiskLevel {
    if score >= 70 {
        RiskLevel::Critical
    } else if score >= 50 {
        RiskLevel::High
    } else if score >= 25 {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    }
}

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn global_risk_is_a_score_with_matching_level_and_some_recommendation(
        pol in valid_policy(), regions in prop::collection::vec(risk_region(), 0..8)
    ) {
        let r = global_risk(&pol, &regions);
        prop_assert!((0..=100).contains(&r.score), "score {}", r.score);
        prop_assert_eq!(r.level, ref_level(r.score));
        prop_assert!(!r.recommendations.is_empty());
    }

    /// With the default policy the score is the README's formula: min(100,
    /// 20·critical + 10·warning conflicts + Σ(15 if capacity < 30, else 5 if
    /// < 50) + 25·frozen), conflicts being mode_frozen (critical), capacity
    /// < 20 critical / < 40 warning, budget % < 10 critical / < 25 warning.
    #[test]
    fn global_risk_score_follows_the_spec_formula(regions in prop::collection::vec(risk_region(), 0..8)) {
        let mut score: i64 = 0;
        for g in &regions {
            let pct = if g.budget_monthly <= 0 {
                Q::int(0)
            } else {
                Q::new(i128::from(g.budget_remaining) * 100, i128::from(g.budget_monthly))
            };
            // percent rounded to 2 decimals, as stored
            let pct = Centi(pct.mul(Q::int(100)).round_half_up() as i64);
            if g.mode == Mode::Frozen {
                score += 20 + 25;
            }
            score += match g.capacity.0 {
                c if c < 2000 => 20,
                c if c < 4000 => 10,
                _ => 0,
            };
            score += match pct.0 {
                b if b < 1000 => 20,
                b if b < 2500 => 10,
                _ => 0,
            };
            score += match g.capacity.0 {
                c if c < 3000 => 15,
                c if c < 5000 => 5,
                _ => 0,
            };
        }
        let score = score.min(100);
        let r = global_risk(&Policy::default(), &regions);
        prop_assert_eq!(r.score, score);
        prop_assert_eq!(r.level, ref_level(score));
        prop_assert!(!r.recommendations.is_empty());
    }
}

// ---------------------------------------------------------------------------
// Budget slots: the judgement is monotone in the remaining budget, so slots
// holding budget above the floor can never make the stored mode wrong.
// ---------------------------------------------------------------------------

fn metrics() -> impl Strategy<Value = RegionMetrics> {
    (pressures(), score(), budget()).prop_map(|(pressures, fatigue, (budget_remaining, budget_monthly))| {
        RegionMetrics { pressures, fatigue, budget_remaining, budget_monthly }
    })
}

/// The parts of a judgement that move with the budget, as ranks (higher is
/// worse): the mode, and the grade of each budget-driven condition.
fn badness(j: &Judgement) -> [usize; 3] {
    let grade = |kind: ConditionKind| match j.conditions.iter().find(|(k, _)| *k == kind) {
        None => 0,
        Some((_, Severity::Warning)) => 1,
        Some((_, Severity::Critical)) => 2,
    };
    let rank = Mode::ALL.iter().position(|m| *m == j.mode).unwrap();
    [rank, grade(ConditionKind::CapacityCritical), grade(ConditionKind::BudgetExceeded)]
}

fn at(m: &RegionMetrics, remaining: i64) -> RegionMetrics {
    RegionMetrics { budget_remaining: remaining, ..*m }
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn judgement_never_improves_with_less_budget(p in valid_policy(), m in metrics(), cut in 0i64..=i64::MAX) {
        let (hi, lo) = (judgement(&p, &m), judgement(&p, &at(&m, m.budget_remaining - cut.min(m.budget_remaining))));
        let (bh, bl) = (badness(&hi), badness(&lo));
        let worse_or_same = bh.iter().zip(bl.iter()).all(|(h, l)| l >= h);
        prop_assert!(worse_or_same, "{:?} -> {:?}", hi, lo);
        prop_assert_eq!(hi.overall_pressure, lo.overall_pressure);
    }

    /// What slots rely on: a judgement shared by two budgets is shared by every budget between.
    #[test]
    fn equal_judgements_hold_between(p in valid_policy(), m in metrics(), a in 0.0f64..=1.0, b in 0.0f64..=1.0) {
        let top = m.budget_remaining;
        let (x, y) = ((top as f64 * a.min(b)) as i64, (top as f64 * a.max(b)) as i64);
        let lo = judgement(&p, &at(&m, x));
        if lo == judgement(&p, &m) {
            prop_assert_eq!(&judgement(&p, &at(&m, y)), &lo);
        }
    }

    #[test]
    fn floor_is_the_exact_edge(p in valid_policy(), m in metrics()) {
        let f = floor(&p, &m);
        prop_assert!((0..=m.budget_remaining.max(0)).contains(&f));
        let top = judgement(&p, &m);
        prop_assert_eq!(&judgement(&p, &RegionMetrics { budget_remaining: f, ..m }), &top);
        if f > 0 {
            prop_assert_ne!(&judgement(&p, &RegionMetrics { budget_remaining: f - 1, ..m }), &top);
        }
        let steady = holds_steady(&p, &RegionMetrics { budget_remaining: f, ..m }, m.budget_remaining - f);
        prop_assert!(steady, "not steady above the floor");
    }

    #[test]
    fn distribution_conserves_the_budget(p in valid_policy(), m in metrics(), held_pct in 0i64..=100,
                                         slots in 0usize..=64, min_share in 0i64..=1000) {
        // the pool is part of the remaining budget; busy slots may hold up to the rest
        let held = (m.budget_monthly - m.budget_remaining).max(0) / 100 * held_pct;
        match distribute(&p, &m, held, slots, min_share) {
            None => {
                let spare = m.budget_remaining - floor(&p, &RegionMetrics { budget_remaining: m.budget_remaining + held, ..m })
                    - min_share.max(1);
                prop_assert!(slots == 0 || m.budget_remaining == 0 || spare <= 0 || spare / (slots as i64) < min_share.max(1));
            }
            Some(d) => {
                prop_assert_eq!(d.shares.len(), slots);
                prop_assert_eq!(d.keep + d.handed_out(), m.budget_remaining);
                prop_assert!(d.shares.iter().all(|s| *s >= min_share.max(1)));
                let reserve = d.keep - floor(&p, &RegionMetrics { budget_remaining: m.budget_remaining + held, ..m });
                prop_assert_eq!(reserve, min_share.max(1));
                prop_assert!(d.shares.iter().max().unwrap() - d.shares.iter().min().unwrap() <= 1);
                let steady = holds_steady(&p, &RegionMetrics { budget_remaining: d.keep, ..m }, d.handed_out() + held);
                prop_assert!(steady, "slots could change the judgement");
            }
        }
    }
}
