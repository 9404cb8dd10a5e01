//! Conversions between SQL values and the core's exact types.

use crate::error::{internal, invalid, out_of_range, GResult};
use grse_core::fixed::{parse_scaled, Centi, DecimalError};
use pgrx::{AnyNumeric, Numeric};
use std::str::FromStr;

/// A numeric column value (scale <= 2) as hundredths.
pub fn centi(n: &AnyNumeric) -> GResult<Centi> {
    Centi::parse(&n.to_string()).map_err(|e| internal(format!("unexpected stored score: {e}")))
}

/// A score as `numeric(5,2)`.
pub type Score = Numeric<5, 2>;

/// Hundredths as a `numeric(5,2)` value (scores are in [0, 100]).
pub fn numeric(c: Centi) -> GResult<Score> {
    Score::from_str(&c.to_string()).map_err(internal)
}

/// A money argument: a whole, finite, positive number of cents within bigint.
pub fn amount_cents(name: &str, n: &AnyNumeric) -> GResult<i64> {
    let cents = whole_cents(name, n)?;
    if cents <= 0 {
        return Err(invalid(format!("{name} must be positive, got {cents}")));
    }
    Ok(cents)
}

/// A money argument that may be zero (a budget, a cost estimate).
pub fn nonnegative_cents(name: &str, n: &AnyNumeric) -> GResult<i64> {
    let cents = whole_cents(name, n)?;
    if cents < 0 {
        return Err(invalid(format!("{name} must not be negative, got {cents}")));
    }
    Ok(cents)
}

fn whole_cents(name: &str, n: &AnyNumeric) -> GResult<i64> {
    let text = n.to_string();
    parse_scaled(&text, 0).map_err(|e| match e {
        DecimalError::NotANumber(_) => invalid(format!("{name} must be a finite number, got {text}")),
        DecimalError::TooPrecise(_) => invalid(format!("{name} must be a whole number of cents, got {text}")),
        DecimalError::OutOfRange(_) => out_of_range(format!("{name} {text} is out of range for bigint cents")),
    })
}
