//! Fixed-point numbers: exact decimal arithmetic without floats.

use std::fmt;

/// A decimal with two fractional digits, stored as hundredths
/// (`Centi(1234)` is `12.34`). Scores live in `[0, 100]`, i.e. `0..=10_000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Centi(pub i64);

/// A weight or ratio with four fractional digits, stored as ten-thousandths
/// (`Weight(3000)` is `0.3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Weight(pub i64);

/// Why a decimal text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a finite decimal number (empty, letters, NaN, Infinity, ...).
    NotANumber(String),
    /// More fractional digits than the type keeps (non-zero beyond them).
    TooPrecise(String),
    /// Outside the range the type can hold.
    OutOfRange(String),
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::NotANumber(s) => write!(f, "\"{s}\" is not a finite decimal number"),
            DecimalError::TooPrecise(s) => write!(f, "\"{s}\" has more decimal places than allowed"),
            DecimalError::OutOfRange(s) => write!(f, "\"{s}\" is out of range"),
        }
    }
}

impl std::error::Error for DecimalError {}

/// Integer division of a non-negative or negative numerator by a positive
/// denominator, rounding half away from zero (PostgreSQL `round()`).
pub fn div_round(num: i128, den: i128) -> i128 {
    assert!(den > 0, "div_round needs a positive denominator");
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// Parses a plain decimal text (`-12.3`, `7`, `0.0500`) into an integer
/// count of `10^-scale` units. Trailing fractional zeros beyond `scale`
/// are accepted; other digits beyond it are an error.
pub fn parse_scaled(text: &str, scale: u32) -> Result<i64, DecimalError> {
    let s = text.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err(DecimalError::NotANumber(text.to_string()));
    }
    let scale = scale as usize;
    let (kept, dropped) = frac_part.split_at(frac_part.len().min(scale));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(DecimalError::TooPrecise(text.to_string()));
    }
    // the magnitude of i64::MIN is one more than i64::MAX
    let limit = i128::from(i64::MAX) + i128::from(neg);
    let mut value: i128 = 0;
    for b in int_part.bytes().chain(kept.bytes()) {
        value = value * 10 + i128::from(b - b'0');
        if value > limit {
            return Err(DecimalError::OutOfRange(text.to_string()));
        }
    }
    for _ in kept.len()..scale {
        value *= 10;
        if value > limit {
            return Err(DecimalError::OutOfRange(text.to_string()));
        }
    }
    let value = if neg { -value } else { value };
    Ok(value as i64)
}

/// Reads an integer written in any JSON number notation (`3`, `3.0`, `3e2`,
/// `-1.50E+1`), exactly: no floating point, so `3.0000000000000001` is not
/// whole (`TooPrecise`) and `1e400` is `OutOfRange` (beyond i64).
pub fn parse_integer_text(text: &str) -> Result<i64, DecimalError> {
    let err_nan = || DecimalError::NotANumber(text.to_string());
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err(err_nan());
    }
    let exp: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (eneg, edigits) = match e.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, e.strip_prefix('+').unwrap_or(e)),
            };
            if edigits.is_empty() || !digits_ok(edigits) {
                return Err(err_nan());
            }
            // beyond any sensible exponent: saturate (the digits decide the outcome)
            let v = edigits.trim_start_matches('0');
            let v: i64 = if v.len() > 6 { 1_000_000 } else { v.parse().unwrap_or(0) };
            if eneg {
                -v
            } else {
                v
            }
        }
    };
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    // value = digits · 10^(exp − len(frac_part))
    let shift = exp - frac_part.len() as i64;
    let (kept, dropped) = if shift >= 0 {
        (digits, "")
    } else {
        let cut = (-shift).min(digits.len() as i64) as usize;
        if (-shift) as usize > digits.len() {
            // all digits are fractional and at least one is non-zero
            return Err(DecimalError::TooPrecise(text.to_string()));
        }
        digits.split_at(digits.len() - cut)
    };
    if dropped.bytes().any(|b| b != b'0') {
        return Err(DecimalError::TooPrecise(text.to_string()));
    }
    let zeros = shift.max(0);
    if kept.len() as i64 + zeros > 19 {
        return Err(DecimalError::OutOfRange(text.to_string()));
    }
    let mut value: i128 = kept.parse::<i128>().unwrap_or(0);
    for _ in 0..zeros {
        value *= 10;
    }
    let value = if neg { -value } else { value };
    i64::try_from(value).map_err(|_| DecimalError::OutOfRange(text.to_string()))
}

fn format_scaled(value: i64, scale: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let unit = 10_i64.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let unit = unit as u64;
    write!(f, "{sign}{}.{:0width$}", abs / unit, abs % unit, width = scale as usize)
}

impl Centi {
    pub const ZERO: Centi = Centi(0);
    pub const HUNDRED: Centi = Centi(10_000);

    /// Reads a decimal text with at most two fractional digits.
    pub fn parse(text: &str) -> Result<Centi, DecimalError> {
        parse_scaled(text, 2).map(Centi)
    }

    /// Clamps into the score range `[0, 100]`.
    pub fn clamp_score(self) -> Centi {
        Centi(self.0.clamp(0, 10_000))
    }

    /// True when the value is a valid score in `[0, 100]`.
    pub fn is_score(self) -> bool {
        (0..=10_000).contains(&self.0)
    }

    /// Value as f64, for display or JSON only (never for decisions).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Centi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_scaled(self.0, 2, f)
    }
}

impl Weight {
    pub const ONE: Weight = Weight(10_000);

    /// Clamped into `[0, 1]`: the arithmetic never sees a weight outside it,
    /// whatever a (validated) policy holds.
    pub fn unit(self) -> i128 {
        i128::from(self.0.clamp(0, 10_000))
    }

    /// Reads a decimal text with at most four fractional digits.
    pub fn parse(text: &str) -> Result<Weight, DecimalError> {
        parse_scaled(text, 4).map(Weight)
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_scaled(self.0, 4, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_round_trip() {
        assert_eq!(Centi::parse("12.34"), Ok(Centi(1234)));
        assert_eq!(Centi::parse("7"), Ok(Centi(700)));
        assert_eq!(Centi::parse("0.5"), Ok(Centi(50)));
        assert_eq!(Centi::parse("-1.25"), Ok(Centi(-125)));
        assert_eq!(Centi::parse("60.0100"), Ok(Centi(6001)));
        assert_eq!(Centi(6001).to_string(), "60.01");
        assert_eq!(Centi(-5).to_string(), "-0.05");
        assert_eq!(Weight::parse("0.3"), Ok(Weight(3000)));
        assert_eq!(Weight(2500).to_string(), "0.2500");
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        for bad in ["", ".", "NaN", "Infinity", "1e5", "1.2.3", "--1", "12a"] {
            assert!(matches!(Centi::parse(bad), Err(DecimalError::NotANumber(_))), "{bad}");
        }
        assert!(matches!(Centi::parse("1.234"), Err(DecimalError::TooPrecise(_))));
        assert!(matches!(Centi::parse("99999999999999999999"), Err(DecimalError::OutOfRange(_))));
    }

    #[test]
    fn integers_in_any_json_notation() {
        assert_eq!(parse_integer_text("3"), Ok(3));
        assert_eq!(parse_integer_text("3.0"), Ok(3));
        assert_eq!(parse_integer_text("3e2"), Ok(300));
        assert_eq!(parse_integer_text("-1.50E+1"), Ok(-15));
        assert_eq!(parse_integer_text("0e999999999"), Ok(0));
        assert_eq!(parse_integer_text("9223372036854775807.0"), Ok(i64::MAX));
        assert_eq!(parse_integer_text("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_integer_text("1500e-2"), Ok(15));
        assert!(matches!(parse_integer_text("3.0000000000000001"), Err(DecimalError::TooPrecise(_))));
        assert!(matches!(parse_integer_text("1e-400"), Err(DecimalError::TooPrecise(_))));
        assert!(matches!(parse_integer_text("1.5"), Err(DecimalError::TooPrecise(_))));
        assert!(matches!(parse_integer_text("1e400"), Err(DecimalError::OutOfRange(_))));
        assert!(matches!(parse_integer_text("9223372036854775808"), Err(DecimalError::OutOfRange(_))));
        assert!(matches!(parse_integer_text("1e"), Err(DecimalError::NotANumber(_))));
        assert!(matches!(parse_integer_text("abc"), Err(DecimalError::NotANumber(_))));
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(14, 10), 1);
    }
}
