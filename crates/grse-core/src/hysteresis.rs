//! Which mode a region is in: the thresholds of [`crate::mode`], with
//! hysteresis (anti-flapping) and operator pins on top.
//!
//! * A pin in force decides the mode, whatever the metrics say.
//! * Otherwise a region moves to a worse mode (or stays) at once: the plain
//!   thresholds apply.
//! * It moves to a better mode only when its capacity and pressure clear
//!   that mode's thresholds by `mode_recovery_margin` points (capacity at
//!   least `margin` above the capacity threshold, pressure at least `margin`
//!   below the pressure threshold) and it has held its current mode for at
//!   least `mode_min_dwell`. With margin and dwell 0 (the defaults) this is
//!   exactly the plain rule.
//!
//! Times are microseconds on any common clock (the pgrx layer passes
//! PostgreSQL's `TimestampTz`).

use crate::fixed::Centi;
use crate::mode::{decide_mode, mode_with_reason, Mode};
use crate::policy::Policy;

/// An operator's pin: the mode, and when it ends (`None`: when unpinned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    pub mode: Mode,
    pub until_us: Option<i64>,
}

impl Pin {
    /// True while the pin holds at `now_us` (it ends at `until_us`).
    pub fn in_force(&self, now_us: i64) -> bool {
        self.until_us.is_none_or(|until| now_us < until)
    }
}

/// What a region's state says about its mode before a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeState {
    /// The mode it is in.
    pub mode: Mode,
    /// Since when (microseconds).
    pub since_us: i64,
    /// Its pin, if any (possibly past its end).
    pub pin: Option<Pin>,
}

/// Why a region is in the mode [`judge_mode`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The plain thresholds: the mode is the same as or worse than before.
    Thresholds,
    /// Moved to a better mode: its thresholds were cleared by the margin and
    /// the dwell had passed.
    Recovered,
    /// Stays: the thresholds alone would give `plain` (better), but not with
    /// the margin.
    HeldByMargin { plain: Mode },
    /// Stays: `target` (better) is due, but not before `until_us`, when the
    /// region has held its mode for the dwell.
    HeldByDwell { target: Mode, until_us: i64 },
    /// The operator's pin.
    Pinned,
}

/// The mode of a region, why, and whether its pin has just ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeDecision {
    pub mode: Mode,
    pub why: Why,
    /// The state carried a pin whose end has passed: it no longer applies
    /// (the pgrx layer clears it and records the expiry).
    pub pin_expired: bool,
}

impl ModeDecision {
    /// The instant until which a better mode waits for the dwell, if so.
    pub fn held_until(&self) -> Option<i64> {
        match self.why {
            Why::HeldByDwell { until_us, .. } => Some(until_us),
            _ => None,
        }
    }
}

/// The mode the thresholds give when capacity and pressure are each made
/// worse by the recovery margin: the best mode a region may recover to.
pub fn recovery_mode(policy: &Policy, capacity: Centi, pressure: Centi) -> Mode {
    let margin = policy.mode_recovery_margin.0.max(0);
    decide_mode(policy, Centi(capacity.0.saturating_sub(margin)), Centi(pressure.0.saturating_add(margin)))
}

/// The mode of a region with `capacity` and `pressure` at `now_us`, coming
/// from `state` (`None`: a new region, judged by the thresholds alone).
pub fn judge_mode(
    policy: &Policy,
    state: Option<&ModeState>,
    now_us: i64,
    capacity: Centi,
    pressure: Centi,
) -> ModeDecision {
    let plain = decide_mode(policy, capacity, pressure);
    let Some(state) = state else {
        return ModeDecision { mode: plain, why: Why::Thresholds, pin_expired: false };
    };
    let pin_expired = state.pin.is_some_and(|p| !p.in_force(now_us));
    if let Some(pin) = state.pin.filter(|p| p.in_force(now_us)) {
        return ModeDecision { mode: pin.mode, why: Why::Pinned, pin_expired };
    }
    let decided = |mode, why| ModeDecision { mode, why, pin_expired };
    if plain >= state.mode {
        return decided(plain, Why::Thresholds);
    }
    let target = recovery_mode(policy, capacity, pressure);
    if target >= state.mode {
        return decided(state.mode, Why::HeldByMargin { plain });
    }
    // (no dwell: never held, even when a transaction that started earlier
    // writes after the one that set mode_since)
    let dwell = policy.mode_min_dwell_micros.max(0);
    let until_us = state.since_us.saturating_add(dwell);
    if dwell > 0 && now_us < until_us {
        return decided(state.mode, Why::HeldByDwell { target, until_us });
    }
    decided(target, Why::Recovered)
}

/// The thresholds a region in a mode better than frozen stays clear of: the
/// capacity and pressure limits of the next worse mode.
fn limits_of(policy: &Policy, mode: Mode) -> Option<(Centi, Centi)> {
    match mode {
        Mode::Normal => Some((policy.cautious_capacity_below, policy.cautious_pressure_above)),
        Mode::Cautious => Some((policy.throttled_capacity_below, policy.throttled_pressure_above)),
        Mode::Throttled => Some((policy.frozen_capacity_below, policy.frozen_pressure_above)),
        Mode::Frozen => None,
    }
}

/// A short, human-readable reason for `decision` (a region with `capacity`
/// and `pressure`); the pgrx layer adds the times of dwell holds and pins.
/// With margin 0, a recovery gives the plain rule's reason.
pub fn reason(policy: &Policy, decision: &ModeDecision, capacity: Centi, pressure: Centi) -> String {
    let margin = policy.mode_recovery_margin;
    match decision.why {
        Why::Thresholds => mode_with_reason(policy, capacity, pressure).1,
        Why::Recovered if margin.0 == 0 => mode_with_reason(policy, capacity, pressure).1,
        Why::Recovered => match limits_of(policy, decision.mode) {
            Some((cap_below, pressure_above)) => format!(
                "recovered: capacity {capacity} >= {} and pressure {pressure} <= {} (recovery margin {margin})",
                Centi(cap_below.0 + margin.0),
                Centi(pressure_above.0 - margin.0)
            ),
            None => mode_with_reason(policy, capacity, pressure).1,
        },
        Why::HeldByMargin { plain } => format!(
            "held by margin: capacity {capacity} and pressure {pressure} do not clear the {plain} thresholds by the recovery margin {margin}"
        ),
        Why::HeldByDwell { target, .. } => format!("held by dwell: {target} is due once the dwell has passed"),
        Why::Pinned => format!("pinned to {}", decision.mode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn policy(margin: i64, dwell_us: i64) -> Policy {
        Policy { mode_recovery_margin: Centi(margin), mode_min_dwell_micros: dwell_us, ..Policy::default() }
    }

    fn state(mode: Mode, since_us: i64) -> ModeState {
        ModeState { mode, since_us, pin: None }
    }

    #[test]
    fn worse_at_once_even_inside_the_dwell() {
        let p = policy(500, 5 * MIN);
        let d = judge_mode(&p, Some(&state(Mode::Normal, 0)), 1, Centi(9000), Centi(6100));
        assert_eq!((d.mode, d.why), (Mode::Cautious, Why::Thresholds));
        let d = judge_mode(&p, Some(&state(Mode::Cautious, 0)), 1, Centi(9000), Centi(9500));
        assert_eq!(d.mode, Mode::Frozen);
    }

    #[test]
    fn better_only_past_the_margin() {
        let p = policy(500, 0);
        // pressure 58 is below 60 but not by 5 points: stays cautious
        let d = judge_mode(&p, Some(&state(Mode::Cautious, 0)), 10, Centi(9000), Centi(5800));
        assert_eq!((d.mode, d.why), (Mode::Cautious, Why::HeldByMargin { plain: Mode::Normal }));
        // exactly on the margin clears it
        let d = judge_mode(&p, Some(&state(Mode::Cautious, 0)), 10, Centi(9000), Centi(5500));
        assert_eq!((d.mode, d.why), (Mode::Normal, Why::Recovered));
        // capacity must clear 50 + 5 as well
        let d = judge_mode(&p, Some(&state(Mode::Cautious, 0)), 10, Centi(5499), Centi(0));
        assert_eq!(d.mode, Mode::Cautious);
    }

    #[test]
    fn partial_recovery_goes_as_far_as_the_margin_allows() {
        let p = policy(500, 0);
        // frozen; plain says normal (pressure 58), with the margin only cautious (58 + 5 > 60)
        let d = judge_mode(&p, Some(&state(Mode::Frozen, 0)), 10, Centi(9000), Centi(5800));
        assert_eq!((d.mode, d.why), (Mode::Cautious, Why::Recovered));
    }

    #[test]
    fn better_only_after_the_dwell() {
        let p = policy(0, 5 * MIN);
        let s = state(Mode::Throttled, 1_000);
        let d = judge_mode(&p, Some(&s), 1_000 + 5 * MIN - 1, Centi(9000), Centi(0));
        assert_eq!(d.mode, Mode::Throttled);
        assert_eq!(d.held_until(), Some(1_000 + 5 * MIN));
        let d = judge_mode(&p, Some(&s), 1_000 + 5 * MIN, Centi(9000), Centi(0));
        assert_eq!((d.mode, d.why), (Mode::Normal, Why::Recovered));
    }

    #[test]
    fn pins_win_until_they_end() {
        let p = Policy::default();
        let s =
            ModeState { mode: Mode::Normal, since_us: 0, pin: Some(Pin { mode: Mode::Frozen, until_us: Some(100) }) };
        let d = judge_mode(&p, Some(&s), 99, Centi(9000), Centi(0));
        assert_eq!((d.mode, d.why, d.pin_expired), (Mode::Frozen, Why::Pinned, false));
        let d = judge_mode(&p, Some(&s), 100, Centi(9000), Centi(0));
        assert_eq!((d.mode, d.why, d.pin_expired), (Mode::Normal, Why::Thresholds, true));
        let forever = ModeState { pin: Some(Pin { mode: Mode::Cautious, until_us: None }), ..s };
        assert_eq!(judge_mode(&p, Some(&forever), i64::MAX, Centi(0), Centi(10_000)).mode, Mode::Cautious);
    }

    #[test]
    fn defaults_are_the_plain_thresholds() {
        let p = Policy::default();
        for from in Mode::ALL {
            for (c, pr) in [(9000, 0), (4000, 0), (2000, 0), (500, 0), (9000, 8000), (6000, 6100)] {
                let d = judge_mode(&p, Some(&state(from, 0)), 0, Centi(c), Centi(pr));
                assert_eq!(d.mode, decide_mode(&p, Centi(c), Centi(pr)));
                assert_eq!(reason(&p, &d, Centi(c), Centi(pr)), mode_with_reason(&p, Centi(c), Centi(pr)).1);
            }
        }
    }

    #[test]
    fn reasons_say_why() {
        let p = policy(500, 5 * MIN);
        let d = judge_mode(&p, Some(&state(Mode::Cautious, 0)), MIN, Centi(9000), Centi(2000));
        assert_eq!(reason(&p, &d, Centi(9000), Centi(2000)), "held by dwell: normal is due once the dwell has passed");
        let d = judge_mode(&p, Some(&state(Mode::Cautious, 0)), 6 * MIN, Centi(9000), Centi(2000));
        assert_eq!(
            reason(&p, &d, Centi(9000), Centi(2000)),
            "recovered: capacity 90.00 >= 55.00 and pressure 20.00 <= 55.00 (recovery margin 5.00)"
        );
    }
}
