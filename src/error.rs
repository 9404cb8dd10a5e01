//! Errors raised to SQL callers: every one carries a fitting SQLSTATE.
//!
//! Messages follow PostgreSQL's style guide (lower case, no trailing period);
//! details and hints are full sentences.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::PgSqlErrorCode;

/// Result of a grse operation; the error is raised as a PostgreSQL ERROR.
pub type GResult<T> = Result<T, ErrorReport>;

/// Every kind of error grse raises, each with its one SQLSTATE. The
/// constructors below build them; [`From<Error> for ErrorReport`] is the one
/// place that maps a kind to its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// 22004: a required argument was NULL.
    NullArgument(String),
    /// 22023: an argument has a value that makes no sense.
    Invalid(String),
    /// 22003: a number outside what the argument can hold.
    OutOfRange(String),
    /// 22001: a text longer than grse keeps.
    TooLong(String),
    /// 22P02: text that does not read as the value it stands for.
    BadText(String),
    /// P0002: an id that names nothing.
    NotFound(String),
    /// 55000: the object exists but is not in a state that allows the operation.
    WrongState(String),
    /// 55P03: a row the call needs is held by another transaction, and waiting for it could deadlock.
    LockNotAvailable(String),
    /// 54001: input nested deeper than grse reads.
    TooComplex(String),
    /// 42501: a direct write to data grse maintains itself.
    MaintainedByGrse(String),
    /// 23502: NULL in a column that must hold a value.
    NotNull(String),
    /// 23514: a value outside a column's rule.
    Check(String),
    /// 39P01: a trigger function called as a plain function.
    TriggerProtocol(String),
    /// XX000: a broken internal assumption (a bug, never bad input).
    Internal(String),
}

impl From<Error> for ErrorReport {
    fn from(e: Error) -> ErrorReport {
        let (code, message) = match e {
            Error::NullArgument(m) => (PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, m),
            Error::Invalid(m) => (PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, m),
            Error::OutOfRange(m) => (PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, m),
            Error::TooLong(m) => (PgSqlErrorCode::ERRCODE_STRING_DATA_RIGHT_TRUNCATION, m),
            Error::BadText(m) => (PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION, m),
            Error::NotFound(m) => (PgSqlErrorCode::ERRCODE_NO_DATA_FOUND, m),
            Error::WrongState(m) => (PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, m),
            Error::LockNotAvailable(m) => (PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE, m),
            Error::TooComplex(m) => (PgSqlErrorCode::ERRCODE_STATEMENT_TOO_COMPLEX, m),
            Error::MaintainedByGrse(m) => (PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE, m),
            Error::NotNull(m) => (PgSqlErrorCode::ERRCODE_NOT_NULL_VIOLATION, m),
            Error::Check(m) => (PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, m),
            Error::TriggerProtocol(m) => (PgSqlErrorCode::ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, m),
            Error::Internal(m) => (PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("grse internal error: {m}")),
        };
        ErrorReport::new(code, message, "grse")
    }
}

/// An error as the report PostgreSQL raises (add a detail or hint to it).
pub fn report(e: Error) -> ErrorReport {
    e.into()
}

/// 22004: a required argument was NULL.
pub fn null_argument(name: &str) -> ErrorReport {
    report(Error::NullArgument(format!("{name} must not be NULL")))
}

/// 22023: an argument has a value that makes no sense.
pub fn invalid(message: impl Into<String>) -> ErrorReport {
    report(Error::Invalid(message.into()))
}

/// 22003: a number outside what the argument can hold.
pub fn out_of_range(message: impl Into<String>) -> ErrorReport {
    report(Error::OutOfRange(message.into()))
}

/// P0002: an id that names nothing.
pub fn not_found(what: &str, id: impl std::fmt::Display) -> ErrorReport {
    report(Error::NotFound(format!("{what} {id} not found")))
}

/// 55000: the object exists but is not in a state that allows the operation.
pub fn inactive_region(id: impl std::fmt::Display) -> ErrorReport {
    report(Error::WrongState(format!("region {id} is inactive")))
        .set_hint("Set grse.regions.active to true to use the region again.")
}

/// 55000: an object (a hold, a job) is not in a state that allows the operation.
pub fn wrong_state(message: impl Into<String>) -> ErrorReport {
    report(Error::WrongState(message.into()))
}

/// 55P03: a row the call needs is held by another transaction (see `locking`).
pub fn lock_not_available(message: impl Into<String>) -> ErrorReport {
    report(Error::LockNotAvailable(message.into()))
}

/// 22001: a text argument longer than grse keeps.
pub fn too_long(message: impl Into<String>) -> ErrorReport {
    report(Error::TooLong(message.into()))
}

/// 22023: a job type grse does not know (`context`: where it was found, e.g. " in activity").
pub fn unknown_job_type(t: &str, context: &str) -> ErrorReport {
    invalid(format!(
        "unknown job type \"{t}\"{context}: expected posting, orchestration, creative, intel or performance"
    ))
}

/// 22023: the priority argument of routing and admission, if given, lies in [1, 1000].
pub fn priority_arg(priority: Option<i32>) -> GResult<Option<i32>> {
    match priority {
        Some(p) if !(1..=1000).contains(&p) => Err(invalid(format!("priority must lie in [1, 1000], got {p}"))),
        other => Ok(other),
    }
}

/// 42501-like refusal of a direct write to data grse maintains itself.
pub fn maintained_by_grse(message: impl Into<String>, hint: &str) -> ErrorReport {
    report(Error::MaintainedByGrse(message.into())).set_hint(hint.to_string())
}

/// XX000: a broken internal assumption (a bug, never bad input).
pub fn internal(message: impl std::fmt::Display) -> ErrorReport {
    report(Error::Internal(message.to_string()))
}

/// Unwraps a required argument.
pub fn required<T>(value: Option<T>, name: &str) -> GResult<T> {
    value.ok_or_else(|| null_argument(name))
}

/// Raises an error of a trigger function at once. pgrx reports an error
/// *returned* by a trigger as "Trigger function panic" with SQLSTATE XX000,
/// so triggers raise theirs themselves, keeping the SQLSTATE.
pub fn raised<T>(result: GResult<T>) -> GResult<T> {
    use pgrx::pg_sys::panic::ErrorReportable;
    Ok(result.unwrap_or_report())
}

/// SPI failures that are not PostgreSQL errors (those propagate by
/// themselves) are broken assumptions about our own queries.
pub trait SpiResultExt<T> {
    fn or_internal(self) -> GResult<T>;
}

impl<T> SpiResultExt<T> for Result<T, pgrx::spi::Error> {
    fn or_internal(self) -> GResult<T> {
        self.map_err(internal)
    }
}

impl<T> SpiResultExt<T> for Result<T, pgrx::datum::TryFromDatumError> {
    fn or_internal(self) -> GResult<T> {
        self.map_err(internal)
    }
}
