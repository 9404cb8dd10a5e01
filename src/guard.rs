//! Guard for data that only grse itself may write: the budget columns of the
//! state, state rows themselves, and ledger rows.
//!
//! The flag lives in this backend's memory, not in a GUC, so SQL cannot set
//! it: the only way to change a budget is through a grse budget function,
//! which raises the flag for the duration of its own statements.

use std::cell::Cell;

thread_local! {
    static INTERNAL_WRITE: Cell<u32> = const { Cell::new(0) };
}

/// While alive, grse's own writes are let through the guards. Dropped on
/// every exit path, including a PostgreSQL ERROR (pgrx unwinds Rust frames).
pub struct InternalWrite(());

impl InternalWrite {
    pub fn begin() -> InternalWrite {
        INTERNAL_WRITE.with(|c| c.set(c.get() + 1));
        InternalWrite(())
    }
}

impl Drop for InternalWrite {
    fn drop(&mut self) {
        INTERNAL_WRITE.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Runs `f` with grse's internal writes allowed. While the database is in
/// restore mode, only the sessions that load rows (a superuser's restore, a
/// replication apply worker) may: everyone else is refused (55000).
pub fn internally<T>(f: impl FnOnce() -> T) -> T {
    if crate::restore::restore_mode() && !crate::restore::loading() {
        use pgrx::pg_sys::panic::ErrorReportable;
        Err::<(), _>(crate::restore::refusal()).unwrap_or_report();
    }
    let _guard = InternalWrite::begin();
    f()
}

/// True while a grse function is writing.
pub fn is_internal() -> bool {
    INTERNAL_WRITE.with(|c| c.get() > 0)
}
