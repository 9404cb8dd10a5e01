//! Hundredths in the digit layout of PostgreSQL's `numeric`: a sign, a
//! weight and base-10000 digits, the first digit weighing `10000^weight`.
//! The extension reads and writes its score columns (`numeric(5,2)`) in this
//! layout directly, instead of printing and parsing each value as text; the
//! varlena header around the digits is the extension's business.

use crate::fixed::Centi;

/// Base-10000 digits of a `numeric`.
const NBASE: i128 = 10_000;

/// The most digits [`centi_digits`] writes: an `i64` of hundredths has up
/// to 17 integer decimal digits (5 base-10000 digits) and 2 fractional ones
/// (1 digit).
pub const MAX_CENTI_DIGITS: usize = 6;

/// The digits of a hundredths value as `numeric` stores it after rounding
/// to two decimal places: leading and trailing zero digits dropped, zero
/// with no digits, weight 0 and a positive sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CentiDigits {
    pub negative: bool,
    pub weight: i16,
    digits: [u16; MAX_CENTI_DIGITS],
    len: usize,
}

impl CentiDigits {
    pub fn digits(&self) -> &[u16] {
        &self.digits[..self.len]
    }
}

/// The value of `numeric` digits in hundredths; `None` when it is not a
/// whole number of hundredths or does not fit an `i64` (the caller then
/// takes its slower, fully general path). A digit above 9999 is `None`
/// too: PostgreSQL never stores one.
pub fn centi_of_digits(negative: bool, weight: i32, digits: &[u16]) -> Option<Centi> {
    let mut value: i128 = 0;
    for (i, &d) in digits.iter().enumerate() {
        if i128::from(d) >= NBASE {
            return None;
        }
        // this digit weighs 10000^w; in hundredths, d * 10^(4w + 2)
        let w = weight.checked_sub(i32::try_from(i).ok()?)?;
        let add = match w {
            w if w >= 0 => {
                // 10^(4w+2) beyond i64 range with a non-zero digit is out of range
                if w > 4 {
                    if d == 0 {
                        continue;
                    }
                    return None;
                }
                i128::from(d) * NBASE.pow(w as u32) * 100
            }
            -1 if d % 100 == 0 => i128::from(d / 100),
            _ if d == 0 => 0,
            _ => return None,
        };
        value = value.checked_add(add)?;
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).ok().map(Centi)
}

/// The digits `numeric` stores for `c` at two decimal places.
pub fn centi_digits(c: Centi) -> CentiDigits {
    let negative = c.0 < 0;
    let magnitude = c.0.unsigned_abs();
    let (mut int, frac) = (magnitude / 100, (magnitude % 100) as u16);
    // integer digits, least significant first, then the fractional digit
    let mut groups = [0u16; MAX_CENTI_DIGITS];
    let mut n = 0;
    while int > 0 {
        groups[n] = (int % 10_000) as u16;
        int /= 10_000;
        n += 1;
    }
    let int_digits = n;
    let mut digits = [0u16; MAX_CENTI_DIGITS];
    for i in 0..int_digits {
        digits[i] = groups[int_digits - 1 - i];
    }
    digits[int_digits] = frac * 100;
    let mut len = int_digits + 1;
    let mut weight = int_digits as i16 - 1;
    // leading zeros (a value below 1: no integer digit, weight -1 already)
    let mut start = 0;
    while start < len && digits[start] == 0 {
        start += 1;
        weight -= 1;
    }
    while len > start && digits[len - 1] == 0 {
        len -= 1;
    }
    if start == len {
        return CentiDigits { negative: false, weight: 0, digits: [0; MAX_CENTI_DIGITS], len: 0 };
    }
    let mut out = [0u16; MAX_CENTI_DIGITS];
    out[..len - start].copy_from_slice(&digits[start..len]);
    CentiDigits { negative, weight, digits: out, len: len - start }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_layouts() {
        let d = centi_digits(Centi(1234));
        assert_eq!((d.negative, d.weight, d.digits()), (false, 0, &[12, 3400][..]));
        let d = centi_digits(Centi(5000));
        assert_eq!((d.weight, d.digits()), (0, &[50][..]));
        let d = centi_digits(Centi(50));
        assert_eq!((d.weight, d.digits()), (-1, &[5000][..]));
        let d = centi_digits(Centi(0));
        assert_eq!((d.negative, d.weight, d.digits()), (false, 0, &[][..]));
        let d = centi_digits(Centi(-100_000));
        assert_eq!((d.negative, d.weight, d.digits()), (true, 0, &[1000][..]));
        let d = centi_digits(Centi(1_000_000));
        assert_eq!((d.weight, d.digits()), (1, &[1][..]));
        let d = centi_digits(Centi(i64::MIN));
        assert_eq!(d.digits().len(), 6);
    }

    #[test]
    fn reads_what_is_not_canonical() {
        // leading and trailing zero digits, a weight far below the digits
        assert_eq!(centi_of_digits(false, 1, &[0, 12, 3400, 0]), Some(Centi(1234)));
        assert_eq!(centi_of_digits(false, -1, &[5000]), Some(Centi(50)));
        assert_eq!(centi_of_digits(true, 0, &[7]), Some(Centi(-700)));
        assert_eq!(centi_of_digits(false, 0, &[]), Some(Centi(0)));
        assert_eq!(centi_of_digits(false, -3, &[0, 0]), Some(Centi(0)));
    }

    #[test]
    fn refuses_what_hundredths_cannot_hold() {
        // 0.001, 12.345, 0.0001
        assert_eq!(centi_of_digits(false, -1, &[10]), None);
        assert_eq!(centi_of_digits(false, 0, &[12, 3450]), None);
        assert_eq!(centi_of_digits(false, -2, &[1]), None);
        // 10^20 and beyond i64
        assert_eq!(centi_of_digits(false, 5, &[1]), None);
        assert_eq!(centi_of_digits(false, 4, &[9999]), None);
        assert_eq!(centi_of_digits(false, 0, &[10_000]), None);
    }

    #[test]
    fn every_score_round_trips() {
        for v in -100_000..=100_000 {
            let d = centi_digits(Centi(v));
            assert_eq!(centi_of_digits(d.negative, i32::from(d.weight), d.digits()), Some(Centi(v)), "{v}");
        }
    }

    /// The text a digit layout stands for, the reference reading.
    fn text_of(negative: bool, weight: i32, digits: &[u16]) -> String {
        let mut int = String::new();
        let mut frac = String::new();
        for w in (weight.min(0)..=weight.max(0)).rev() {
            let i = weight - w;
            let d = usize::try_from(i).ok().and_then(|i| digits.get(i)).copied().unwrap_or(0);
            if w >= 0 {
                int.push_str(&format!("{d:04}"));
            }
        }
        for (i, d) in digits.iter().enumerate() {
            let w = weight - i as i32;
            if w < 0 {
                while frac.len() < (-(w + 1) * 4) as usize {
                    frac.push('0');
                }
                frac.push_str(&format!("{d:04}"));
            }
        }
        let int = if int.is_empty() { "0".to_string() } else { int };
        format!("{}{int}.{frac}0", if negative { "-" } else { "" })
    }

    proptest! {
        #[test]
        fn round_trips(v in any::<i64>()) {
            let d = centi_digits(Centi(v));
            prop_assert_eq!(centi_of_digits(d.negative, i32::from(d.weight), d.digits()), Some(Centi(v)));
            // canonical: no leading or trailing zero digit
            prop_assert!(d.digits().first().is_none_or(|x| *x != 0));
            prop_assert!(d.digits().last().is_none_or(|x| *x != 0));
        }

        #[test]
        fn reads_as_the_text_does(
            negative in any::<bool>(),
            weight in -4i32..6,
            digits in proptest::collection::vec(prop_oneof![0u16..10_000, Just(0u16), (0u16..100).prop_map(|d| d * 100)], 0..5),
        ) {
            let text = text_of(negative, weight, &digits);
            let expected = Centi::parse(&text).ok();
            prop_assert_eq!(centi_of_digits(negative, weight, &digits), expected, "{}", text);
        }
    }
}
