//! Trigger functions. The CREATE TRIGGER statements are in `sql/triggers.sql`.
//!
//! Every trigger function's C entry point is declared with [`trigger_entry!`]:
//! called as a plain function (`SELECT grse.append_only_guard()`), it refuses
//! with SQLSTATE 39P01, as PostgreSQL's own trigger functions do, before
//! pgrx's wrapper would fail on the missing trigger data.

use pgrx::pg_sys;
use pgrx::PgLogLevel;

/// `trigger_entry!("name", name_wrapper, pg_finfo_name_wrapper => fired_wrapper)`:
/// the C function `name_wrapper` that `grse.name()` is bound to (`AS
/// 'MODULE_PATHNAME', 'name_wrapper'`, in the `#[pg_trigger(sql = ...)]`
/// of the Rust function), which checks that the trigger manager called it and
/// then runs `fired_wrapper`, the wrapper `#[pg_trigger]` generated.
macro_rules! trigger_entry {
    ($sql_name:literal, $entry:ident, $finfo:ident => $fired:ident) => {
        #[no_mangle]
        #[doc(hidden)]
        #[pgrx::pg_guard]
        pub unsafe extern "C-unwind" fn $entry(fcinfo: pgrx::pg_sys::FunctionCallInfo) -> pgrx::pg_sys::Datum {
            crate::triggers::require_trigger_manager(fcinfo, $sql_name);
            // SAFETY: PostgreSQL's trigger manager called us with this fcinfo.
            unsafe { $fired(fcinfo) }
        }

        #[no_mangle]
        #[doc(hidden)]
        pub extern "C" fn $finfo() -> &'static pgrx::pg_sys::Pg_finfo_record {
            const V1: pgrx::pg_sys::Pg_finfo_record = pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    };
}
pub(crate) use trigger_entry;

/// Raises 39P01 unless PostgreSQL's trigger manager made this call.
pub fn require_trigger_manager(fcinfo: pg_sys::FunctionCallInfo, name: &str) {
    // SAFETY: fcinfo is the call's own function call info.
    if !unsafe { pgrx::trigger_support::called_as_trigger(fcinfo) } {
        crate::error::report(crate::error::Error::TriggerProtocol(format!(
            "function grse.{name}() must be called as a trigger"
        )))
        .set_hint("It is fired by the triggers on grse's tables and cannot be called directly.")
        .report(PgLogLevel::ERROR);
    }
}

pub mod guards;
pub mod policy;
pub mod region;
mod row;
mod rules;
pub mod state;
pub mod touch;
