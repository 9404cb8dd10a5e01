//! Instants as PostgreSQL's `TimestampTz` (microseconds since 2000-01-01),
//! the clock of every time rule of the core.

use crate::error::{internal, GResult};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::pg_sys;

/// The start of the current transaction (what `now()` says): every rule of a
/// transaction judges at the same instant.
pub fn now_us() -> i64 {
    pg_sys::TimestampTz::from(pgrx::datetime::now())
}

/// A timestamptz value from microseconds.
pub fn timestamptz(us: i64) -> GResult<TimestampWithTimeZone> {
    TimestampWithTimeZone::try_from(us).map_err(|e| internal(format!("timestamp {us}: {e:?}")))
}

/// An instant in ISO 8601, as JSON prints a timestamptz
/// (`2026-12-01T20:15:00.5+00:00`, in the session's time zone): the same
/// text whatever the session's DateStyle.
pub fn timestamp_text(us: i64) -> GResult<String> {
    crate::statements::one::<String>(
        "SELECT pg_catalog.to_json($1::pg_catalog.timestamptz) #>> '{}'",
        &[timestamptz(us)?.into()],
    )?
    .ok_or_else(|| internal("a timestamp printed as NULL"))
}
