//! The drain mark of a region's budget slots: while a call that needs every
//! slot of a region polls for them (`locking::lock_all`: the manual resets,
//! a job migration rolling a period over), spends keep off the region's
//! slots, so that a slot its holder gives up stays free for the call
//! instead of going to the next spender (which would keep the call polling
//! as long as the region is busy), and they do not queue for the region's
//! state row either (which the call takes only when it is free): a spend
//! waits for the mark to go (`wait_undrained`), which it does as soon as the
//! call has the region's rows or gives way.
//!
//! The mark is a transaction-level advisory lock (int8 form: the key is the
//! region id's first eight bytes XOR its last eight, as a big-endian
//! number, in this database), held exclusively by the
//! caller that drains, only while it polls (a lock wait it falls into then
//! is cut short within its attempt) and given back once it has the region or
//! gives way; spends take it in share mode and give it back at once. So a
//! spend waiting for it waits at most one attempt of that call (half of
//! `deadlock_timeout`), and before its own deadlock check could run the mark
//! is gone: no cycle of lock waits through the mark is ever reported. Only a hint: a spend that
//! misses the mark is as correct as one that sees it (the caller still
//! takes every slot row itself), and an application's advisory lock with
//! the same key only holds up spends of the region while it is held.

use pgrx::{pg_sys, Uuid};

/// The advisory lock tag of a region's drain mark.
fn tag(region_id: Uuid) -> pg_sys::LOCKTAG {
    let b = region_id.as_bytes();
    let half =
        |i: usize| u64::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]]);
    let key = half(0) ^ half(8);
    pg_sys::LOCKTAG {
        // SAFETY: MyDatabaseId is set once the backend has connected.
        locktag_field1: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field2: (key >> 32) as u32,
        locktag_field3: key as u32,
        // the int8 form of pg_advisory_lock
        locktag_field4: 1,
        locktag_type: pg_sys::LockTagType::LOCKTAG_ADVISORY as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

/// Marks the region's slots as drained until [`unmark`] or the end of the
/// (sub)transaction, if no spend holds the mark in share mode right now;
/// whether it is marked. Never waits.
pub fn mark(region_id: Uuid) -> bool {
    let tag = tag(region_id);
    // SAFETY: a conditional acquisition (dontWait) of a transaction-level lock, owned by the
    // current resource owner: released when the (sub)transaction ends, or by `unmark`.
    let got = unsafe { pg_sys::LockAcquire(&tag, pg_sys::ExclusiveLock as i32, false, true) };
    got != pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL
}

/// Takes back a mark [`mark`] made (in this subtransaction).
pub fn unmark(region_id: Uuid) {
    let tag = tag(region_id);
    // SAFETY: releases the lock `mark` acquired under the same resource owner.
    unsafe { pg_sys::LockRelease(&tag, pg_sys::ExclusiveLock as i32, false) };
}

/// Whether another transaction drains the region's slots (holds the mark).
/// Never waits, and holds nothing afterwards.
pub fn drained(region_id: Uuid) -> bool {
    let tag = tag(region_id);
    // SAFETY: as in `mark`, in share mode; a lock acquired here is given back at once.
    unsafe {
        match pg_sys::LockAcquire(&tag, pg_sys::ShareLock as i32, false, true) {
            pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL => true,
            _ => {
                pg_sys::LockRelease(&tag, pg_sys::ShareLock as i32, false);
                false
            }
        }
    }
}

/// Waits while another transaction drains the region's slots (see the
/// module's comment: never longer than one attempt of that call), holding
/// nothing afterwards. Not when this transaction holds a row of the region
/// already (`held`): the drainer may be polling for that row.
pub fn wait_undrained(region_id: Uuid) {
    if crate::held::holds(region_id) {
        return;
    }
    let tag = tag(region_id);
    // SAFETY: as in `drained`, waiting in the lock manager (interrupts are served there).
    unsafe {
        pg_sys::LockAcquire(&tag, pg_sys::ShareLock as i32, false, false);
        pg_sys::LockRelease(&tag, pg_sys::ShareLock as i32, false);
    }
}
