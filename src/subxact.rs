//! Internal subtransactions, as PL/pgSQL's exception blocks use them: work
//! that may be undone without aborting the caller's transaction. Rolling one
//! back also releases the row locks taken inside it — which is why grse uses
//! one: a slot spend that finds no slot to charge may still have locked a
//! slot row (`FOR UPDATE SKIP LOCKED` keeps the lock on a row whose recheck
//! failed), and must not hold it while it waits for the region's state row;
//! a job operation that followed a migrated job releases the region it
//! locked first.
//!
//! A rollback wakes the transactions waiting for a row only if the row was
//! locked in the subtransaction being rolled back itself, not in a child of
//! it that had already committed into it: PostgreSQL makes a transaction
//! that begins to wait for a row locked by a committed subtransaction wait
//! for the top-level transaction instead (`XactLockTableWait`). So code that
//! may roll back to release what it locked takes those locks directly in
//! the subtransaction it rolls back (see `locking::lock_all`).

use pgrx::pg_sys;

/// An open subtransaction. End it with [`SubXact::commit`] or
/// [`SubXact::rollback`]. If an ERROR (or a panic) unwinds past it, its drop
/// rolls it back first, as PL/pgSQL's exception handling does, so the error
/// reaches PostgreSQL with the caller's own (sub)transaction current.
pub struct SubXact {
    context: pg_sys::MemoryContext,
    owner: pg_sys::ResourceOwner,
    open: bool,
}

impl SubXact {
    pub fn begin() -> SubXact {
        // SAFETY: called inside a transaction, from a function call.
        unsafe {
            let context = pg_sys::CurrentMemoryContext;
            let owner = pg_sys::CurrentResourceOwner;
            pg_sys::BeginInternalSubTransaction(std::ptr::null());
            pg_sys::MemoryContextSwitchTo(context);
            SubXact { context, owner, open: true }
        }
    }

    /// Keeps what was done inside (it becomes part of the caller's transaction).
    pub fn commit(mut self) {
        self.open = false;
        // SAFETY: this subtransaction is the current one.
        unsafe {
            pg_sys::ReleaseCurrentSubTransaction();
            self.restore();
        }
    }

    /// Undoes what was done inside and releases its locks.
    pub fn rollback(mut self) {
        self.open = false;
        // SAFETY: this subtransaction is the current one.
        unsafe {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            self.restore();
        }
    }

    unsafe fn restore(&self) {
        pg_sys::MemoryContextSwitchTo(self.context);
        pg_sys::CurrentResourceOwner = self.owner;
    }
}

impl Drop for SubXact {
    fn drop(&mut self) {
        if self.open {
            // Unwinding from an ERROR raised inside (pgrx has copied and flushed
            // the error state): roll this subtransaction back, as a PG_CATCH does.
            // SAFETY: nothing inside opened another subtransaction that is still open.
            unsafe {
                pg_sys::RollbackAndReleaseCurrentSubTransaction();
                self.restore();
            }
        }
    }
}
