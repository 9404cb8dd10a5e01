//! Conversions between SQL values and the core's exact types.

use crate::error::{internal, invalid, out_of_range, GResult};
use grse_core::fixed::{parse_scaled, Centi, DecimalError};
use pgrx::{pg_sys, varlena, AnyNumeric, Numeric};
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

// The header bits of a `numeric` value (PostgreSQL's numeric.c).
const NUMERIC_SIGN_MASK: u16 = 0xC000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_SHORT: u16 = 0x8000;
const NUMERIC_SHORT_SIGN_MASK: u16 = 0x2000;
const NUMERIC_SHORT_DSCALE_SHIFT: u16 = 7;
const NUMERIC_SHORT_WEIGHT_SIGN_MASK: u16 = 0x0040;
const NUMERIC_SHORT_WEIGHT_MASK: u16 = 0x003F;
/// The most digits [`centi_of_datum`] reads in place (a score has at most 2).
const READ_DIGITS: usize = 8;

/// A `numeric` datum as hundredths, read from its digits in place (a score
/// column is read on every write of a state row: printing and parsing it as
/// text cost more than the rest of the trigger's reading). `None` when the
/// value needs the general path: stored compressed or out of line, NaN or an
/// infinity, more than two decimal places, beyond `i64`, or more digits than
/// a score has.
///
/// # Safety
/// `d` is a `numeric` datum (a varlena pointer), not NULL.
pub unsafe fn centi_of_datum(d: pg_sys::Datum) -> Option<Centi> {
    let ptr = d.cast_mut_ptr::<pg_sys::varlena>();
    // SAFETY: `ptr` is a varlena (the caller's promise); the header tells its form
    unsafe {
        if varlena::varatt_is_1b_e(ptr) || varlena::varatt_is_4b_c(ptr) {
            return None;
        }
        let data = varlena::vardata_any(ptr).cast::<u8>();
        let len = varlena::varsize_any_exhdr(ptr);
        let word = |at: usize| (at + 2 <= len).then(|| data.add(at).cast::<u16>().read_unaligned());
        let header = word(0)?;
        let (negative, weight, start) = match header & NUMERIC_SIGN_MASK {
            NUMERIC_SHORT => {
                let low = i32::from(header & NUMERIC_SHORT_WEIGHT_MASK);
                let weight = if header & NUMERIC_SHORT_WEIGHT_SIGN_MASK != 0 {
                    !i32::from(NUMERIC_SHORT_WEIGHT_MASK) | low
                } else {
                    low
                };
                (header & NUMERIC_SHORT_SIGN_MASK != 0, weight, 2)
            }
            sign @ (0 | NUMERIC_NEG) => (sign == NUMERIC_NEG, i32::from(word(2)? as i16), 4),
            _ => return None,
        };
        let n = len.checked_sub(start)? / 2;
        if n > READ_DIGITS {
            return None;
        }
        let mut digits = [0u16; READ_DIGITS];
        for (i, digit) in digits.iter_mut().enumerate().take(n) {
            *digit = word(start + 2 * i)?;
        }
        grse_core::numeric_digits::centi_of_digits(negative, weight, &digits[..n])
    }
}

/// Hundredths as a `numeric` datum with two decimal places, byte for byte
/// what `numeric_in` makes of the value's text for a `numeric(p,2)` column,
/// allocated in the current memory context.
pub fn centi_datum(c: Centi) -> pg_sys::Datum {
    let d = grse_core::numeric_digits::centi_digits(c);
    let digits = d.digits();
    // a 4-byte varlena header, the short numeric header, the digits
    let size = 4 + 2 + 2 * digits.len();
    let header = NUMERIC_SHORT
        | if d.negative { NUMERIC_SHORT_SIGN_MASK } else { 0 }
        | (2 << NUMERIC_SHORT_DSCALE_SHIFT)
        | if d.weight < 0 { NUMERIC_SHORT_WEIGHT_SIGN_MASK } else { 0 }
        | (d.weight as u16 & NUMERIC_SHORT_WEIGHT_MASK);
    // SAFETY: a fresh palloc'd block of `size` bytes (MAXALIGNed), filled in
    // full: the varlena length, then the header and digits as int16 words.
    unsafe {
        let ptr = pg_sys::palloc(size).cast::<u8>();
        varlena::set_varsize_4b(ptr.cast(), size as i32);
        let words = ptr.add(4).cast::<u16>();
        words.write(header);
        for (i, digit) in digits.iter().enumerate() {
            words.add(1 + i).write(*digit);
        }
        pg_sys::Datum::from(ptr)
    }
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

/// How deeply a JSON argument may nest (headers and activity counts are flat
/// objects; the bound keeps deep documents away from the recursive parser).
pub const MAX_JSON_DEPTH: usize = 32;

/// A `jsonb` argument, as its text: the function parses it with
/// [`JsonText::parse`], which bounds the nesting depth first and names the
/// argument in its errors (pgrx's `JsonB` parses before the function runs and
/// fails with an internal error beyond serde_json's recursion limit).
pub struct JsonText(String);

impl JsonText {
    /// The document; 54001 if it nests deeper than [`MAX_JSON_DEPTH`].
    pub fn parse(&self, name: &str) -> GResult<serde_json::Value> {
        if let Err(depth) = grse_core::json::depth_within(&self.0, MAX_JSON_DEPTH) {
            return Err(crate::error::report(crate::error::Error::TooComplex(format!("{name} is nested too deeply")))
                .set_detail(format!("It nests at least {depth} levels deep; grse reads at most {MAX_JSON_DEPTH}.")));
        }
        serde_json::from_str(&self.0).map_err(|e| invalid(format!("{name} is not valid JSON: {e}")))
    }
}

impl pgrx::FromDatum for JsonText {
    unsafe fn from_polymorphic_datum(datum: pgrx::pg_sys::Datum, is_null: bool, _: pgrx::pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: a jsonb datum; jsonb_out prints it (a palloc'd C string).
        unsafe {
            let text = pgrx::direct_function_call::<&core::ffi::CStr>(pgrx::pg_sys::jsonb_out, &[Some(datum)])?;
            Some(JsonText(text.to_string_lossy().into_owned()))
        }
    }
}

// SAFETY: unboxed exactly as pgrx unboxes its own `FromDatum` types.
unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for JsonText {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe { arg.unbox_arg_using_from_datum().unwrap_or_else(|| panic!("argument {index} must not be null")) }
    }

    unsafe fn unbox_nullable_arg(arg: pgrx::callconv::Arg<'_, 'fcx>) -> pgrx::nullable::Nullable<Self> {
        unsafe { arg.unbox_arg_using_from_datum().into() }
    }
}

// the SQL type is jsonb, whose datums from_polymorphic_datum reads (an argument type only)
pgrx::impl_sql_translatable!(JsonText, arg_only = "jsonb");
