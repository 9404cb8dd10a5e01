//! Fatigue: the share of a trailing window a region spent outside `normal`,
//! read from its recorded mode transitions.

use crate::fixed::{div_round, Centi};
use crate::mode::Mode;

/// A recorded change of mode, at a time in microseconds since any epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at_us: i64,
    pub to: Mode,
}

/// The facts fatigue is computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FatigueInputs {
    /// Now, in microseconds.
    pub now_us: i64,
    /// Window length, in microseconds (> 0).
    pub window_us: i64,
    /// When the region was created: time before it counts as `normal`.
    pub created_us: i64,
    /// The mode in force at the start of the window (or at creation, if later).
    pub mode_at_start: Mode,
    /// Transitions inside the window, in time order.
    pub transitions: Vec<Transition>,
}

/// fatigue = 100 · (time spent outside `normal` in the trailing window) / window,
/// rounded to 2 decimals. Cautious, throttled and frozen all count as outside.
pub fn fatigue(x: &FatigueInputs) -> Centi {
    if x.window_us <= 0 {
        return Centi::ZERO;
    }
    let window_start = x.now_us.saturating_sub(x.window_us);
    let mut cursor = window_start.max(x.created_us).min(x.now_us);
    let mut mode = x.mode_at_start;
    let mut outside: i128 = 0;
    for t in &x.transitions {
        let at = t.at_us.clamp(cursor, x.now_us);
        if mode != Mode::Normal {
            outside += i128::from(at - cursor);
        }
        cursor = at;
        mode = t.to;
    }
    if mode != Mode::Normal {
        outside += i128::from(x.now_us - cursor);
    }
    Centi(div_round(outside * 10_000, i128::from(x.window_us)).clamp(0, 10_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    fn inputs(mode_at_start: Mode, transitions: Vec<(i64, Mode)>) -> FatigueInputs {
        FatigueInputs {
            now_us: 100 * H,
            window_us: 24 * H,
            created_us: 0,
            mode_at_start,
            transitions: transitions.into_iter().map(|(h, to)| Transition { at_us: h * H, to }).collect(),
        }
    }

    #[test]
    fn all_normal_is_zero_and_all_outside_is_hundred() {
        assert_eq!(fatigue(&inputs(Mode::Normal, vec![])), Centi(0));
        assert_eq!(fatigue(&inputs(Mode::Throttled, vec![])), Centi(10_000));
    }

    #[test]
    fn share_of_window() {
        // window is hours 76..100; cautious from 88 to 94 = 6h of 24 = 25%
        let x = inputs(Mode::Normal, vec![(88, Mode::Cautious), (94, Mode::Normal)]);
        assert_eq!(fatigue(&x), Centi(2500));
        // frozen at start until 82, then normal: 6h = 25%
        let x = inputs(Mode::Frozen, vec![(82, Mode::Normal)]);
        assert_eq!(fatigue(&x), Centi(2500));
    }

    #[test]
    fn time_before_creation_counts_as_normal() {
        let mut x = inputs(Mode::Cautious, vec![]);
        x.created_us = 94 * H; // 6 hours of the 24-hour window
        assert_eq!(fatigue(&x), Centi(2500));
    }
}
