//! Lock waits cut short. A `FOR UPDATE SKIP LOCKED` (or `NOWAIT`) can still
//! wait in PostgreSQL's lock manager: when the row version it finds was
//! updated by a transaction that ends just as it looks, PostgreSQL locks the
//! newer versions of the row too (`heap_lock_updated_tuple`), and waits for
//! a transaction in flight that holds one of them, whatever the statement's
//! wait policy. A transaction that holds a region's rows must never wait
//! long enough for a cycle through such a wait to be reported as a deadlock
//! (40P01): every `SKIP LOCKED` statement grse runs while it may hold a
//! region's rows runs here, with lock waits ending within milliseconds, in
//! a subtransaction that is undone (releasing what it locked) when one is
//! cut short, and made again: a new statement takes a new snapshot (READ
//! COMMITTED), which sees the newer version and skips it.
//!
//! The lowest of grse's locking modules: `locking` (several regions at
//! once) and `slots` (a region's budget slots) build on it.

use crate::error::GResult;
use pgrx::prelude::*;

thread_local! {
    /// Set when an error unwound through [`ShortWaits`] while it cut lock waits short.
    static CUT_SHORT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Lock waits cut short while it is armed ([`ShortWaits::end_by`]):
/// `lock_timeout` lowered for this backend (the global PostgreSQL reads when
/// a wait begins), restored when it is dropped, also by an error. Such a
/// wait (see the module's comment), while the caller holds a region's rows,
/// must end before anyone's deadlock check could find a cycle through it.
pub(crate) struct ShortWaits {
    saved: std::ffi::c_int,
    armed: std::cell::Cell<bool>,
}

impl ShortWaits {
    fn begin() -> ShortWaits {
        // SAFETY: the backend's lock_timeout setting, an integer in milliseconds.
        ShortWaits { saved: unsafe { pg_sys::LockTimeout }, armed: std::cell::Cell::new(false) }
    }

    /// Every lock wait from now on ends by `deadline` (after at least a
    /// millisecond), or sooner if the session's own lock_timeout says so.
    pub(crate) fn end_by(&self, deadline: std::time::Instant) {
        let left = deadline.saturating_duration_since(std::time::Instant::now()).as_millis().max(1);
        let ms = std::ffi::c_int::try_from(left).unwrap_or(std::ffi::c_int::MAX);
        let ms = if self.saved > 0 { ms.min(self.saved) } else { ms };
        self.armed.set(true);
        // SAFETY: as in `begin`; restored on drop.
        unsafe { pg_sys::LockTimeout = ms };
    }

    /// Every lock wait from now on ends within [`skipping_ms`].
    pub(crate) fn end_soon(&self) {
        self.end_by(std::time::Instant::now() + std::time::Duration::from_millis(skipping_ms()));
    }
}

impl Drop for ShortWaits {
    fn drop(&mut self) {
        // SAFETY: as in `begin`.
        unsafe { pg_sys::LockTimeout = self.saved };
        if self.armed.get() && std::thread::panicking() {
            CUT_SHORT.with(|c| c.set(true));
        }
    }
}

/// Runs `body` in a subtransaction, with lock waits cut short where it arms
/// [`ShortWaits`]: `Some(Ok(v))` is kept (the subtransaction commits),
/// `Some(Err(b))` undone (it rolls back: every row it locked released), an
/// error undone and returned; a wait cut short (55P03 from the lowered
/// lock_timeout) undoes it and gives `None`. A 55P03 of the session's own
/// lock_timeout in an unarmed part stays an error.
pub(crate) fn with_short_waits<T, B>(
    body: impl FnOnce(&ShortWaits) -> GResult<Result<T, B>>,
) -> GResult<Option<Result<T, B>>> {
    CUT_SHORT.with(|c| c.set(false));
    PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
        let sub = crate::subxact::SubXact::begin();
        let waits = ShortWaits::begin();
        let out = body(&waits);
        drop(waits);
        match out {
            Ok(Ok(v)) => {
                sub.commit();
                Ok(Some(Ok(v)))
            }
            Ok(Err(b)) => {
                sub.rollback();
                Ok(Some(Err(b)))
            }
            Err(e) => {
                sub.rollback();
                Err(e)
            }
        }
    }))
    .catch_when(PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE, |e| {
        if CUT_SHORT.with(|c| c.get()) {
            Ok(None)
        } else {
            e.rethrow()
        }
    })
    .execute()
}

/// The server's `deadlock_timeout` in milliseconds (at least 1).
pub(crate) fn deadlock_ms() -> u64 {
    // SAFETY: reads the backend's own setting (an integer, in milliseconds).
    let ms = unsafe { pg_sys::DeadlockTimeout };
    ms.max(1) as u64
}

/// How long a wait of a [`skipping`] statement may last: an eighth of
/// `deadlock_timeout`, between 1 and 10 ms. The wait is rare (the race
/// described in the module's comment) and its retry skips the row, so it
/// can be short; the shorter it is, the less likely another transaction's
/// deadlock check runs while it lasts.
fn skipping_ms() -> u64 {
    (deadlock_ms() / 8).clamp(1, 10)
}

/// How many times [`skipping`] makes a statement whose waits were cut short.
const SKIPPING_ATTEMPTS: usize = 50;

/// Runs `statement` — one statement that locks rows `SKIP LOCKED`, and the
/// reading of its result into owned values — with lock waits cut short
/// ([`skipping_ms`]) in a subtransaction kept when it succeeds; a wait cut
/// short undoes it and makes it again, up to [`SKIPPING_ATTEMPTS`] times,
/// then 55P03. What grse runs such statements with wherever the transaction
/// may hold a row of the region (its state row, a slot) that another
/// transaction could be waiting for. An error of the statement is undone
/// and returned.
pub(crate) fn skipping<T>(what: &str, mut statement: impl FnMut() -> GResult<T>) -> GResult<T> {
    for _ in 0..SKIPPING_ATTEMPTS {
        let out = with_short_waits(|waits| {
            waits.end_soon();
            statement().map(Ok::<T, ()>)
        })?;
        if let Some(Ok(v)) = out {
            return Ok(v);
        }
    }
    Err(crate::error::lock_not_available(format!("{what}: rows kept changing under this call"))
        .set_detail(format!(
            "{SKIPPING_ATTEMPTS} attempts to take the free rows without waiting while holding the region's rows fell into a lock wait."
        ))
        .set_hint("Retry the call."))
}
