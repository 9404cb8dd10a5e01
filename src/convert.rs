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
