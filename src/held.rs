//! Which regions this transaction holds rows of (its state row, a budget
//! slot), as grse took them: what decides whether a budget call may still
//! wait for a region's rows (`locking::prelock_slots`, `drain`), and whether
//! its wait for the state row is bounded (`region::lock_row`). A
//! transaction that holds a row of a region must not wait for another of
//! its rows: the other row's holder may be waiting for the one it holds.
//!
//! Each region is noted with the subtransaction that took the row. A
//! subtransaction that rolls back releases the row locks taken in it, and
//! its notes go with it; one that commits hands its notes to its parent
//! (PostgreSQL's own subtransaction events, followed by a callback this
//! module registers once per backend). So after `ROLLBACK TO SAVEPOINT` a
//! region whose rows were taken only after the savepoint counts as not
//! held, and a row locked before it still counts, however the row's
//! versions were changed and undone since (the row's `xmin` and `xmax` alone
//! cannot always tell: a lock kept across an undone update leaves a
//! MultiXact in `xmax`).

use pgrx::{pg_guard, pg_sys, Uuid};
use std::cell::{Cell, RefCell};

/// The regions held, each with the subtransaction that took it, for one
/// transaction (by its local id).
struct Held {
    lxid: u32,
    rows: Vec<(Uuid, pg_sys::SubTransactionId)>,
}

thread_local! {
    static HELD: RefCell<Held> = const { RefCell::new(Held { lxid: 0, rows: Vec::new() }) };
    /// Whether [`on_subxact`] is registered in this backend.
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

/// This backend's local transaction id.
fn lxid() -> u32 {
    // SAFETY: MyProc is set for every backend that runs SQL; lxid is its own.
    unsafe { (*pg_sys::MyProc).lxid }
}

/// Notes that this transaction holds a row of the region now (its state row
/// or a slot), taken in the current subtransaction.
pub fn note(region_id: Uuid) {
    if !WATCHING.with(|w| w.replace(true)) {
        // SAFETY: registers a plain function for the life of the backend, once.
        unsafe { pg_sys::RegisterSubXactCallback(Some(on_subxact), std::ptr::null_mut()) };
    }
    let x = lxid();
    // SAFETY: reads the current subtransaction's id (inside a transaction).
    let sub = unsafe { pg_sys::GetCurrentSubTransactionId() };
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if h.lxid != x {
            h.lxid = x;
            h.rows.clear();
        }
        if !h.rows.iter().any(|(r, s)| *r == region_id && *s == sub) {
            h.rows.push((region_id, sub));
        }
    });
}

/// Whether this transaction holds a row of the region that grse took
/// ([`note`]) and that no rollback to a savepoint has released since.
pub fn holds(region_id: Uuid) -> bool {
    let x = lxid();
    HELD.with(|h| {
        let h = h.borrow();
        h.lxid == x && h.rows.iter().any(|(r, _)| *r == region_id)
    })
}

/// PostgreSQL's subtransaction events: an aborted subtransaction's notes
/// go (its locks are released), a committed one's pass to its parent.
#[pg_guard]
unsafe extern "C-unwind" fn on_subxact(
    event: pg_sys::SubXactEvent::Type,
    my_subid: pg_sys::SubTransactionId,
    parent_subid: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    let x = lxid();
    HELD.with(|h| {
        let Ok(mut h) = h.try_borrow_mut() else { return };
        if h.lxid != x {
            return;
        }
        match event {
            pg_sys::SubXactEvent::SUBXACT_EVENT_ABORT_SUB => h.rows.retain(|(_, s)| *s != my_subid),
            pg_sys::SubXactEvent::SUBXACT_EVENT_COMMIT_SUB => {
                for (_, s) in h.rows.iter_mut().filter(|(_, s)| *s == my_subid) {
                    *s = parent_subid;
                }
            }
            _ => {}
        }
    });
}
