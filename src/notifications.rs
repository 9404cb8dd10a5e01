//! Whether mode changes are announced (`NOTIFY grse_mode_changed`).
//!
//! A transaction that sends a notification takes, at commit, a lock that
//! PostgreSQL holds for every notifying transaction of the cluster until its
//! commit is flushed (PostgreSQL 15: `PreCommit_Notify`, so that the queue
//! keeps commit order): notifying commits run one after another. Where nobody
//! listens and modes change often, the setting `grse.notify_mode_changes`
//! (superuser only; on by default) turns the announcements off; the
//! transitions are recorded in `region_mode_transitions` either way.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

static NOTIFY_MODE_CHANGES: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Registers `grse.notify_mode_changes` (called once per backend from `_PG_init`).
pub fn define_settings() {
    GucRegistry::define_bool_guc(
        c"grse.notify_mode_changes",
        c"Announce every mode change and pin event as NOTIFY grse_mode_changed.",
        c"Off: transitions are still recorded in grse.region_mode_transitions, but not announced; the commits of metric writes that change a mode then no longer wait for each other (PostgreSQL serializes the commits of notifying transactions).",
        &NOTIFY_MODE_CHANGES,
        GucContext::Suset,
        GucFlags::default(),
    );
}

/// True when mode changes are announced.
pub fn mode_changes_announced() -> bool {
    NOTIFY_MODE_CHANGES.get()
}
