//! Budget forecasting: where a region's budget is heading at its recent net
//! spend rate.
//!
//! * `burn_rate_per_day` = net spend of the window (spend − refunds, cents) /
//!   the observed span in days, the span being the window, or the region's
//!   age when it is younger (a region created yesterday has one day of
//!   history, not seven). Two decimals, half away from zero.
//! * `projected_exhaustion_at` = now + remaining / rate (when the rate is
//!   positive; `None`, "never", otherwise). With nothing remaining and a
//!   positive rate it is now.
//! * `exhausts_before_period_end`: the projected exhaustion comes before the
//!   end of the current budget period.
//! * `projected_period_spend` = the period's net spend so far + the rate ×
//!   the time left in the period, but never more than what remains (a budget
//!   is never overspent).
//! * `days_left` = remaining / rate, in days (the `forecast_days_left` alert
//!   metric); `None` when the rate is not positive.
//!
//! Times are microseconds on one clock; money is cents. Exact integer
//! arithmetic throughout.

use crate::fixed::{div_round, Centi};

/// Microseconds per day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The longest span a rate is measured over (10000 days): keeps every
/// product below within `i128`.
const MAX_SPAN_US: i64 = 10_000 * MICROS_PER_DAY;

/// What the forecast is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForecastInputs {
    pub now_us: i64,
    /// Length of the window (positive).
    pub window_us: i64,
    /// When the region was created: the span is never longer than its age.
    pub created_us: i64,
    /// Σ spend − Σ refunds of the ledger rows in the window, cents.
    pub window_net_spend: i64,
    /// The region's remaining budget now (pool and slots), cents.
    pub remaining: i64,
    /// Net spend of the current budget period so far, cents.
    pub period_net_spend: i64,
    /// End of the current budget period.
    pub period_ends_us: i64,
}

/// The forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forecast {
    /// The span the rate was measured over (microseconds, at least 1).
    pub span_us: i64,
    /// Net spend per day, hundredths of a cent (`Centi(123456)` = 1234.56 cents/day).
    pub burn_rate_per_day: Centi,
    pub projected_exhaustion_us: Option<i64>,
    pub exhausts_before_period_end: bool,
    pub projected_period_spend: i64,
    /// remaining / rate in days, hundredths (`None`: never exhausted at this rate).
    pub days_left: Option<Centi>,
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The forecast of a region (see the module documentation for the method).
pub fn forecast(i: &ForecastInputs) -> Forecast {
    let age = i.now_us.saturating_sub(i.created_us);
    let span = i.window_us.min(age).clamp(1, MAX_SPAN_US);
    let (net, span128) = (i128::from(i.window_net_spend), i128::from(span));
    let day = i128::from(MICROS_PER_DAY);
    let rate = Centi(clamp_i64(div_round(net * day * 100, span128)));
    let remaining = i128::from(i.remaining.max(0));
    let positive = net > 0;
    // now + remaining / (net / span) = now + remaining · span / net
    let exhaustion = positive.then(|| clamp_i64(i128::from(i.now_us) + remaining * span128 / net));
    let left = i128::from(i.period_ends_us.saturating_sub(i.now_us).max(0));
    let more = if positive { (net * left / span128).min(remaining) } else { 0 };
    Forecast {
        span_us: span,
        burn_rate_per_day: rate,
        projected_exhaustion_us: exhaustion,
        exhausts_before_period_end: exhaustion.is_some_and(|t| t < i.period_ends_us),
        projected_period_spend: clamp_i64(i128::from(i.period_net_spend) + more.max(0)),
        days_left: positive.then(|| Centi(clamp_i64(div_round(remaining * span128 * 100, net * day)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = MICROS_PER_DAY;

    fn inputs() -> ForecastInputs {
        ForecastInputs {
            now_us: 100 * DAY,
            window_us: 7 * DAY,
            created_us: 0,
            window_net_spend: 7_000,
            remaining: 10_000,
            period_net_spend: 20_000,
            period_ends_us: 110 * DAY,
        }
    }

    #[test]
    fn a_steady_burn() {
        // 7000 cents in 7 days: 1000/day; 10000 left: 10 days, exactly at the period end (not before)
        let f = forecast(&inputs());
        assert_eq!(f.burn_rate_per_day, Centi(100_000));
        assert_eq!(f.projected_exhaustion_us, Some(110 * DAY));
        assert!(!f.exhausts_before_period_end);
        assert_eq!(f.projected_period_spend, 30_000);
        assert_eq!(f.days_left, Some(Centi(1000)));
        // a little faster: exhausted before the period ends, and the period spend is capped by what remains
        let f = forecast(&ForecastInputs { window_net_spend: 7_700, ..inputs() });
        assert_eq!(f.burn_rate_per_day, Centi(110_000));
        assert!(f.exhausts_before_period_end);
        assert_eq!(f.projected_period_spend, 30_000);
        assert_eq!(f.days_left, Some(Centi(909)));
    }

    #[test]
    fn a_young_region_is_measured_over_its_age() {
        let f = forecast(&ForecastInputs { created_us: 98 * DAY, window_net_spend: 3_000, ..inputs() });
        assert_eq!(f.span_us, 2 * DAY);
        assert_eq!(f.burn_rate_per_day, Centi(150_000));
    }

    #[test]
    fn no_net_spend_never_exhausts() {
        for net in [0, -500] {
            let f = forecast(&ForecastInputs { window_net_spend: net, ..inputs() });
            assert_eq!(f.projected_exhaustion_us, None);
            assert!(!f.exhausts_before_period_end);
            assert_eq!(f.projected_period_spend, 20_000);
            assert_eq!(f.days_left, None);
        }
    }

    #[test]
    fn nothing_left_is_exhausted_now() {
        let f = forecast(&ForecastInputs { remaining: 0, ..inputs() });
        assert_eq!(f.projected_exhaustion_us, Some(100 * DAY));
        assert!(f.exhausts_before_period_end);
        assert_eq!(f.days_left, Some(Centi(0)));
    }

    #[test]
    fn rates_round_half_away_from_zero() {
        // 1000 cents over 3 days = 333.333... -> 333.33; 2000 over 3 days = 666.67
        let f = forecast(&ForecastInputs { window_us: 3 * DAY, window_net_spend: 1_000, ..inputs() });
        assert_eq!(f.burn_rate_per_day, Centi(33_333));
        let f = forecast(&ForecastInputs { window_us: 3 * DAY, window_net_spend: 2_000, ..inputs() });
        assert_eq!(f.burn_rate_per_day, Centi(66_667));
        let f = forecast(&ForecastInputs { window_us: 3 * DAY, window_net_spend: -2_000, ..inputs() });
        assert_eq!(f.burn_rate_per_day, Centi(-66_667));
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let f = forecast(&ForecastInputs {
            now_us: i64::MAX,
            window_us: 1,
            created_us: i64::MIN,
            window_net_spend: i64::MAX,
            remaining: i64::MAX,
            period_net_spend: i64::MAX,
            period_ends_us: i64::MIN,
        });
        assert_eq!(f.span_us, 1);
        assert_eq!(f.burn_rate_per_day, Centi(i64::MAX));
        assert_eq!(f.projected_period_spend, i64::MAX);
    }
}
