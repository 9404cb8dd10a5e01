//! Where a region's pressure is heading: the least-squares line through its
//! recorded (time, pressure) snapshots, nothing else.
//!
//! For samples (tᵢ, pᵢ), i = 1..n, with at least two distinct times:
//!
//!   slope = (n·Σtᵢpᵢ − Σtᵢ·Σpᵢ) / (n·Σtᵢ² − (Σtᵢ)²)
//!   line(t) = p̄ + slope · (t − t̄)
//!
//! The slope is reported in pressure points per hour, the projection
//! `line(t)` clamped to the score range [0, 100]; both to two decimals, half
//! away from zero. The arithmetic is exact (integers; times in seconds
//! relative to the first sample).

use crate::fixed::{div_round, Centi};

/// One snapshot: when (seconds on any common clock) and the overall pressure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at_secs: i64,
    pub pressure: Centi,
}

/// The least-squares line through some samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// Times are measured from this one.
    origin: i64,
    n: i128,
    sum_t: i128,
    sum_p: i128,
    /// n·Σtp − Σt·Σp
    num: i128,
    /// n·Σt² − (Σt)², positive
    den: i128,
}

/// The longest span (about 1000 years of seconds) and the most samples the
/// fit handles: every sum below then stays far inside `i128`.
const MAX_SPAN_SECS: i64 = 1 << 35;
pub const MAX_SAMPLES: usize = 10_000;

/// Fits the line; `None` when there are fewer than two distinct times (or
/// the samples span more than about 1000 years, or are more than
/// [`MAX_SAMPLES`]).
pub fn fit(samples: &[Sample]) -> Option<Fit> {
    if samples.len() > MAX_SAMPLES {
        return None;
    }
    let origin = samples.iter().map(|s| s.at_secs).min()?;
    let (mut n, mut sum_t, mut sum_p, mut sum_tt, mut sum_tp) = (0i128, 0i128, 0i128, 0i128, 0i128);
    for s in samples {
        let t = s.at_secs.checked_sub(origin).filter(|t| *t <= MAX_SPAN_SECS)?;
        let (t, p) = (i128::from(t), i128::from(s.pressure.0));
        n += 1;
        sum_t += t;
        sum_p += p;
        sum_tt += t * t;
        sum_tp += t * p;
    }
    let den = n * sum_tt - sum_t * sum_t;
    if den <= 0 {
        return None;
    }
    Some(Fit { origin, n, sum_t, sum_p, num: n * sum_tp - sum_t * sum_p, den })
}

impl Fit {
    /// Pressure points per hour (hundredths).
    pub fn slope_per_hour(&self) -> Centi {
        Centi(div_round(self.num * 3600, self.den) as i64)
    }

    /// The line's value at `at_secs`, not clamped (hundredths).
    pub fn line_at(&self, at_secs: i64) -> Centi {
        // p̄ + slope·(t − t̄) = (Σp·den + num·(n·t − Σt)) / (n·den)
        let t = i128::from(at_secs.saturating_sub(self.origin).clamp(-MAX_SPAN_SECS, 2 * MAX_SPAN_SECS));
        let v = div_round(self.sum_p * self.den + self.num * (self.n * t - self.sum_t), self.n * self.den);
        Centi(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    /// The projected pressure at `at_secs`: the line, as a score in [0, 100].
    pub fn projected(&self, at_secs: i64) -> Centi {
        self.line_at(at_secs).clamp_score()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at_secs: i64, p: i64) -> Sample {
        Sample { at_secs, pressure: Centi(p) }
    }

    #[test]
    fn a_rising_region() {
        // 40, 42, 44, 46 at hourly snapshots: +2 points per hour; in one more hour 48
        let f = fit(&[s(0, 4000), s(3600, 4200), s(7200, 4400), s(10_800, 4600)]).unwrap();
        assert_eq!(f.slope_per_hour(), Centi(200));
        assert_eq!(f.projected(14_400), Centi(4800));
        assert_eq!(f.line_at(0), Centi(4000));
    }

    #[test]
    fn noisy_samples_give_the_least_squares_line() {
        // (0, 10), (1h, 30), (2h, 20): slope = (3·(0+108000+144000) − 10800·60)/(3·(0+12960000+51840000) − 10800²)
        //   = (756000 − 648000)/(194400000 − 116640000) points/s = 108000/77760000 → 5 points per hour
        let f = fit(&[s(0, 1000), s(3600, 3000), s(7200, 2000)]).unwrap();
        assert_eq!(f.slope_per_hour(), Centi(500));
        // mean (1h, 20): at 3h, 20 + 2·5 = 30
        assert_eq!(f.projected(10_800), Centi(3000));
    }

    #[test]
    fn too_few_distinct_times_give_no_trend() {
        assert!(fit(&[]).is_none());
        assert!(fit(&[s(5, 1000)]).is_none());
        assert!(fit(&[s(5, 1000), s(5, 9000)]).is_none());
    }

    #[test]
    fn projections_stay_scores() {
        let f = fit(&[s(0, 9000), s(3600, 9900)]).unwrap();
        assert_eq!(f.projected(36_000), Centi(10_000));
        let f = fit(&[s(0, 500), s(3600, 0)]).unwrap();
        assert_eq!(f.slope_per_hour(), Centi(-500));
        assert_eq!(f.projected(36_000), Centi(0));
    }
}
