//! Loading rows that grse did not compute itself: a restore from a dump
//! (`grse.pre_restore()` ... `grse.post_restore()`, sql/restore.sql) and the
//! apply workers of logical replication. While rows are loaded, the guards
//! let them in exactly as they come (the ledger, the state rows, the budget
//! slots, the policy row) and the triggers that would compute or create rows
//! (a new region's state row and opening allocation, the derived scores) stay
//! out of the way: the rows were computed where they were written.
//!
//! Restore mode is the setting `grse.restoring` (superuser only; set for the
//! database by `grse.pre_restore()`). It lets rows in only for a session whose
//! session user is a superuser: a tenant, an operator or a SECURITY DEFINER
//! function called by one cannot use it to write the ledger.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;

/// Added to the hint of every refusal a restore without restore mode runs into.
pub const RESTORE_HINT: &str = "To restore a dump of a grse database, run SELECT grse.pre_restore() in the new database before pg_restore and SELECT grse.post_restore() after it.";

static RESTORING: GucSetting<bool> = GucSetting::<bool>::new(false);

/// Registers `grse.restoring` (called once per backend from `_PG_init`).
pub fn define_settings() {
    GucRegistry::define_bool_guc(
        c"grse.restoring",
        c"grse restore mode: rows restored from a dump are taken as they are.",
        c"Set for the database by grse.pre_restore() and cleared by grse.post_restore(); effective only in sessions of a superuser.",
        &RESTORING,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// True while grse is in restore mode (whoever the session belongs to):
/// grse's own writing functions refuse to run then.
pub fn restore_mode() -> bool {
    RESTORING.get()
}

/// True in a restore-mode session of a superuser: rows from the dump are
/// written as they are.
pub fn restoring() -> bool {
    // SAFETY: plain catalog lookups of the session's own user.
    RESTORING.get() && unsafe { pg_sys::superuser_arg(pg_sys::GetSessionUserId()) }
}

/// True in a logical replication apply (or table synchronization) worker:
/// the rows come from a publisher where grse wrote them.
pub fn replicating() -> bool {
    // SAFETY: MyBgworkerEntry is NULL in regular backends and points to the
    // worker's registration in background workers; SessionReplicationRole is
    // a plain global.
    unsafe {
        if pg_sys::SessionReplicationRole != pg_sys::SESSION_REPLICATION_ROLE_REPLICA as i32
            || pg_sys::MyBgworkerEntry.is_null()
        {
            return false;
        }
        let bgw_type = std::ffi::CStr::from_ptr((*pg_sys::MyBgworkerEntry).bgw_type.as_ptr());
        bgw_type.to_bytes().starts_with(b"logical replication")
            && !bgw_type.to_bytes().starts_with(b"logical replication launcher")
    }
}

/// True while rows computed elsewhere are being loaded (a restore or a
/// logical replication apply).
pub fn loading() -> bool {
    restoring() || replicating()
}

/// 55000: grse's writing functions do not run while a dump is being restored.
pub fn refusal() -> pgrx::pg_sys::panic::ErrorReport {
    crate::error::wrong_state("grse is in restore mode")
        .set_hint("Finish the restore with SELECT grse.post_restore(), then reconnect.")
}
