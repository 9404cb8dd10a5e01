//! Property tests of the mode hysteresis and pins (`grse_core::hysteresis`).

use grse_core::hysteresis::{judge_mode, recovery_mode, ModeDecision, ModeState, Pin, Why};
use grse_core::mode::decide_mode;
use grse_core::policy::MAX_MODE_MIN_DWELL_MICROS;
use grse_core::{Centi, Mode, Policy};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 2000, ..ProptestConfig::default() }
}

fn any_mode() -> impl Strategy<Value = Mode> {
    prop::sample::select(Mode::ALL.to_vec())
}

/// The seed's thresholds with a random recovery margin (0 to 30 points) and dwell.
fn policy() -> impl Strategy<Value = Policy> {
    (0i64..=3000, prop_oneof![Just(0i64), 0i64..=MAX_MODE_MIN_DWELL_MICROS]).prop_map(|(margin, dwell)| Policy {
        mode_recovery_margin: Centi(margin),
        mode_min_dwell_micros: dwell,
        ..Policy::default()
    })
}

fn score() -> impl Strategy<Value = Centi> {
    (0i64..=10_000).prop_map(Centi)
}

/// One metric write: capacity, pressure and the microseconds since the previous one.
fn writes(len: usize) -> impl Strategy<Value = Vec<(Centi, Centi, i64)>> {
    prop::collection::vec((score(), score(), 0i64..=3_600_000_000), 1..len)
}

/// Replays writes from `start` the way the state trigger does: each write
/// judges from the mode the previous one left. Returns the decisions.
fn replay(policy: &Policy, start: ModeState, t0: i64, seq: &[(Centi, Centi, i64)]) -> Vec<ModeDecision> {
    let (mut state, mut now) = (start, t0);
    let mut out = Vec::with_capacity(seq.len());
    for &(capacity, pressure, step) in seq {
        now += step;
        let d = judge_mode(policy, Some(&state), now, capacity, pressure);
        if d.mode != state.mode {
            state.since_us = now;
        }
        state.mode = d.mode;
        if d.pin_expired {
            state.pin = None;
        }
        out.push(d);
    }
    out
}

proptest! {
    #![proptest_config(config())]

    /// No flapping: while capacity and pressure stay inside the band where the
    /// thresholds do not make the mode worse and the margin does not make it
    /// better, the mode never changes, however the values move and whatever
    /// the dwell.
    #[test]
    fn no_transition_inside_the_margin_band(pol in policy(), start in any_mode(), seq in writes(40)) {
        let band: Vec<_> = seq.into_iter()
            .filter(|&(c, p, _)| decide_mode(&pol, c, p) <= start && recovery_mode(&pol, c, p) >= start)
            .collect();
        prop_assume!(!band.is_empty());
        for d in replay(&pol, ModeState { mode: start, since_us: 0, pin: None }, 0, &band) {
            prop_assert_eq!(d.mode, start);
        }
    }

    /// A pressure hovering around the cautious threshold, within the margin
    /// below it, gives at most one transition (into cautious), where the
    /// plain thresholds would flip on every crossing.
    #[test]
    fn hovering_pressure_changes_mode_at_most_once(
        margin in 1i64..=1500,
        offsets in prop::collection::vec(-1499i64..=1500, 1..60),
    ) {
        let pol = Policy { mode_recovery_margin: Centi(margin), ..Policy::default() };
        let threshold = pol.cautious_pressure_above.0;
        let seq: Vec<_> = offsets.iter()
            .map(|o| (Centi(10_000), Centi(threshold + (*o).clamp(1 - margin, 1500)), 1_000_000))
            .collect();
        let modes: Vec<Mode> = replay(&pol, ModeState { mode: Mode::Normal, since_us: 0, pin: None }, 0, &seq)
            .into_iter().map(|d| d.mode).collect();
        let changes = std::iter::once(Mode::Normal).chain(modes.iter().copied())
            .collect::<Vec<_>>().windows(2).filter(|w| w[0] != w[1]).count();
        prop_assert!(changes <= 1, "{changes} transitions: {modes:?}");
    }

    /// Worse at once: a region never stays better than the thresholds say,
    /// and moves to a worse mode in the very write that calls for it.
    #[test]
    fn worse_at_once_and_never_better_than_the_thresholds(
        pol in policy(), from in any_mode(), since in 0i64..1_000_000, dt in 0i64..=MAX_MODE_MIN_DWELL_MICROS,
        c in score(), p in score(),
    ) {
        let plain = decide_mode(&pol, c, p);
        let d = judge_mode(&pol, Some(&ModeState { mode: from, since_us: since, pin: None }), since + dt, c, p);
        prop_assert!(d.mode >= plain);
        if plain >= from {
            prop_assert_eq!((d.mode, d.why), (plain, Why::Thresholds));
        }
    }

    /// Better only past the margin and after the dwell: every move to a
    /// better mode goes exactly to the mode the margin allows, and only once
    /// the region has held its mode for the dwell.
    #[test]
    fn better_only_past_the_margin_and_after_the_dwell(
        pol in policy(), from in any_mode(), since in 0i64..1_000_000, dt in 0i64..=2 * MAX_MODE_MIN_DWELL_MICROS,
        c in score(), p in score(),
    ) {
        let now = since + dt;
        let d = judge_mode(&pol, Some(&ModeState { mode: from, since_us: since, pin: None }), now, c, p);
        if d.mode < from {
            prop_assert_eq!(d.mode, recovery_mode(&pol, c, p));
            prop_assert!(dt >= pol.mode_min_dwell_micros);
            prop_assert_eq!(d.why, Why::Recovered);
        }
        if let Why::HeldByDwell { target, until_us } = d.why {
            prop_assert!(target < from && now < until_us && until_us == since + pol.mode_min_dwell_micros);
            // the same metrics once the dwell has passed: the region moves
            let later = judge_mode(&pol, Some(&ModeState { mode: from, since_us: since, pin: None }), until_us, c, p);
            prop_assert_eq!(later.mode, target);
        }
    }

    /// Judging again, at once, with the same metrics changes nothing (what
    /// `verify_invariants` relies on: the stored mode is a fixed point).
    #[test]
    fn a_judged_mode_is_a_fixed_point(pol in policy(), from in any_mode(), dt in 0i64..=MAX_MODE_MIN_DWELL_MICROS,
                                       c in score(), p in score()) {
        let now = 1_000_000 + dt;
        let d = judge_mode(&pol, Some(&ModeState { mode: from, since_us: 1_000_000, pin: None }), now, c, p);
        let since = if d.mode != from { now } else { 1_000_000 };
        let again = judge_mode(&pol, Some(&ModeState { mode: d.mode, since_us: since, pin: None }), now, c, p);
        prop_assert_eq!(again.mode, d.mode);
    }

    /// With margin and dwell 0 (the defaults) the mode is the plain rule's.
    #[test]
    fn defaults_keep_the_plain_thresholds(from in any_mode(), c in score(), p in score(), t in any::<i64>()) {
        let pol = Policy::default();
        let d = judge_mode(&pol, Some(&ModeState { mode: from, since_us: t / 2, pin: None }), t, c, p);
        prop_assert_eq!(d.mode, decide_mode(&pol, c, p));
    }

    /// A pin in force decides the mode; once past its end the region is
    /// judged as if it had never been pinned.
    #[test]
    fn pins_decide_until_they_end(pol in policy(), from in any_mode(), pinned in any_mode(),
                                  until in prop::option::of(0i64..1_000_000), now in 0i64..2_000_000,
                                  c in score(), p in score()) {
        let pin = Pin { mode: pinned, until_us: until };
        let with = judge_mode(&pol, Some(&ModeState { mode: from, since_us: 0, pin: Some(pin) }), now, c, p);
        let without = judge_mode(&pol, Some(&ModeState { mode: from, since_us: 0, pin: None }), now, c, p);
        if until.is_none_or(|u| now < u) {
            prop_assert_eq!((with.mode, with.why, with.pin_expired), (pinned, Why::Pinned, false));
        } else {
            prop_assert!(with.pin_expired);
            prop_assert_eq!((with.mode, with.why), (without.mode, without.why));
        }
    }
}
