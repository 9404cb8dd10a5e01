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
//! Such a wait, short as it is, can close a cycle of waits for a moment
//! (the row it waits for may belong to a transaction that waits for the
//! state row this one holds), and a deadlock check that another backend
//! runs in that moment reports it. So the waits grse makes while it holds a
//! row of the region it waits for are bounded as well ([`bounded`], half of
//! `deadlock_timeout`): those backends never reach their deadlock check.
//!
//! The lowest of grse's locking modules: `region` (the state row), `locking`
//! (several regions at once) and `slots` (a region's budget slots) build on
//! it.

use crate::error::GResult;
use pgrx::prelude::*;

thread_local! {
    /// Set when an error unwound through [`ShortWaits`] while it cut lock waits short.
    static CUT_SHORT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// How many [`with_short_waits`] bodies are running (nested): where a
    /// [`bounded`] wait cut short is undone and made again by the caller.
    static SCOPES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// How many [`ShortWaits`] exist, and the session's own lock_timeout
    /// (as the first of them found it).
    static GUARDS: std::cell::Cell<(u32, std::ffi::c_int)> = const { std::cell::Cell::new((0, 0)) };
}

/// The session's own lock_timeout (milliseconds; 0: none), also while
/// [`ShortWaits`] lowers it.
pub(crate) fn session_lock_timeout() -> std::ffi::c_int {
    match GUARDS.with(|g| g.get()) {
        (0, _) => {
            // SAFETY: the backend's lock_timeout setting, an integer in milliseconds.
            unsafe { pg_sys::LockTimeout }
        }
        (_, session) => session,
    }
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
        let session = session_lock_timeout();
        GUARDS.with(|g| g.set((g.get().0 + 1, session)));
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
        GUARDS.with(|g| {
            let (n, session) = g.get();
            g.set((n.saturating_sub(1), session));
        });
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
        let scope = Scope::enter();
        let out = body(&waits);
        drop(scope);
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
        if CUT_SHORT.with(|c| c.replace(false)) {
            Ok(None)
        } else {
            e.rethrow()
        }
    })
    .execute()
}

/// A [`with_short_waits`] body running (see [`SCOPES`]); left also when an
/// error unwinds through it.
struct Scope;

impl Scope {
    fn enter() -> Scope {
        SCOPES.with(|s| s.set(s.get() + 1));
        Scope
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        SCOPES.with(|s| s.set(s.get().saturating_sub(1)));
    }
}

/// How long one wait may last while the transaction holds a row of the
/// region it waits for (or takes a region's slot rows one after the other,
/// holding the ones taken): half of `deadlock_timeout` (at least 1 ms), so
/// that it ends before this backend's deadlock check could run.
pub(crate) fn holding_ms() -> u64 {
    (deadlock_ms() / 2).max(1)
}

/// Runs `wait` — one statement that may wait in the lock manager for a row
/// of a region while this transaction holds rows of it (see `locking`) —
/// with every lock wait ending within [`holding_ms`], so that this backend
/// never runs a deadlock check while it holds such rows: a cycle of waits
/// through it (one that another transaction's wait cut short closes for a
/// moment, see the module's comment) is never reported by it as a deadlock.
/// Inside a [`with_short_waits`] body the wait is bounded in place and a
/// wait cut short undoes the whole body, which its caller makes again (the
/// rows it locked were locked in that subtransaction itself, so its
/// rollback wakes whoever began to wait for them); elsewhere `wait` runs in
/// a subtransaction of its own, made again until it gets through, or, if the
/// session sets a lock_timeout, until that much time has passed (55P03).
pub(crate) fn bounded<T>(what: &str, mut wait: impl FnMut() -> GResult<T>) -> GResult<T> {
    let limit = || std::time::Instant::now() + std::time::Duration::from_millis(holding_ms());
    if SCOPES.with(|s| s.get()) > 0 {
        let waits = ShortWaits::begin();
        waits.end_by(limit());
        return wait();
    }
    let Ok(v) = until_through(what, std::time::Instant::now(), |waits| {
        waits.end_by(limit());
        wait().map(Ok::<T, std::convert::Infallible>)
    })?;
    Ok(v)
}

/// Runs `attempt` in [`with_short_waits`] until it gets through without a
/// wait cut short, and returns what it gave (`Ok(v)` kept, `Err(b)` undone);
/// 55P03 once the attempts since `started` have lasted the session's
/// lock_timeout ([`past_lock_timeout`]). The loop of the calls that wait in
/// bounded turns and make an attempt again when one is cut short.
pub(crate) fn until_through<T, B>(
    what: &str,
    started: std::time::Instant,
    mut attempt: impl FnMut(&ShortWaits) -> GResult<Result<T, B>>,
) -> GResult<Result<T, B>> {
    loop {
        if let Some(out) = with_short_waits(&mut attempt)? {
            return Ok(out);
        }
        past_lock_timeout(started, what)?;
    }
}

/// 55P03 once the waits of one call that began at `started` have lasted the
/// session's lock_timeout, if it sets one: what a single wait would have
/// done, for calls that wait in bounded turns and make them again.
pub(crate) fn past_lock_timeout(started: std::time::Instant, what: &str) -> GResult<()> {
    let session = session_lock_timeout();
    if session > 0 && started.elapsed() >= std::time::Duration::from_millis(session as u64) {
        return Err(crate::error::lock_not_available(format!("{what}: lock_timeout passed while waiting"))
            .set_detail(format!("The rows this call needs stayed locked by other transactions for {session} ms."))
            .set_hint("Retry the call, or raise lock_timeout."));
    }
    Ok(())
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
