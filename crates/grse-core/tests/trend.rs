//! Property tests of the pressure trend (`grse_core::trend`): the least-squares
//! line through recorded snapshots.

use grse_core::trend::{fit, Sample};
use grse_core::Centi;
use proptest::prelude::*;

fn samples() -> impl Strategy<Value = Vec<Sample>> {
    prop::collection::vec((0i64..=1_000_000, 0i64..=10_000), 0..40)
        .prop_map(|v| v.into_iter().map(|(at_secs, p)| Sample { at_secs, pressure: Centi(p) }).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Hourly snapshots exactly on a line of a whole number of hundredths per
    /// hour give that slope, and the line itself.
    #[test]
    fn samples_on_a_line_give_its_slope(start in 0i64..=5000, per_hour in -100i64..=100, n in 2usize..30, t0 in 0i64..1_000_000) {
        let pts: Vec<Sample> = (0..n as i64).map(|i| Sample { at_secs: t0 + 3600 * i, pressure: Centi(start + per_hour * i) }).collect();
        let f = fit(&pts).unwrap();
        prop_assert_eq!(f.slope_per_hour(), Centi(per_hour));
        for (i, p) in pts.iter().enumerate() {
            prop_assert_eq!(f.line_at(t0 + 3600 * i as i64), p.pressure);
        }
    }

    /// The slope does not depend on the order of the samples, on when the
    /// clock starts, or on a pressure offset; a projection is a score.
    #[test]
    fn the_slope_is_invariant(pts in samples(), shift in -1_000_000i64..=1_000_000, offset in -5000i64..=5000, at in 0i64..=2_000_000) {
        let Some(f) = fit(&pts) else {
            // no trend only without two distinct times
            prop_assert!(pts.iter().all(|s| s.at_secs == pts[0].at_secs));
            return Ok(());
        };
        let mut reversed = pts.clone();
        reversed.reverse();
        prop_assert_eq!(fit(&reversed).unwrap().slope_per_hour(), f.slope_per_hour());
        let moved: Vec<Sample> = pts.iter().map(|s| Sample { at_secs: s.at_secs + shift, ..*s }).collect();
        prop_assert_eq!(fit(&moved).unwrap().slope_per_hour(), f.slope_per_hour());
        let lifted: Vec<Sample> = pts.iter().map(|s| Sample { pressure: Centi(s.pressure.0 + offset), ..*s }).collect();
        prop_assert_eq!(fit(&lifted).unwrap().slope_per_hour(), f.slope_per_hour());
        prop_assert!(f.projected(at).is_score());
    }

    /// Arbitrary samples never panic.
    #[test]
    fn never_panics(raw in prop::collection::vec((any::<i64>(), any::<i64>()), 0..20), at in any::<i64>()) {
        let pts: Vec<Sample> = raw.into_iter().map(|(t, p)| Sample { at_secs: t, pressure: Centi(p % 1_000_000) }).collect();
        if let Some(f) = fit(&pts) {
            let _ = (f.slope_per_hour(), f.line_at(at), f.projected(at));
        }
    }
}
