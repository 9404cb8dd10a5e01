//! grse — Global Region Scaling Engine, a PostgreSQL extension.
//!
//! The domain rules live in the pure crate `grse-core`; this crate is the
//! thin PostgreSQL layer: it fetches rows, calls the core and writes results.
//! SQL objects are plain SQL files in `sql/`.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

mod admission;
mod alert_rules;
mod autoslots;
mod budget;
mod clock;
mod convert;
mod drain;
mod error;
mod expiry;
mod forecast;
mod guard;
mod held;
mod holds;
mod idempotency;
mod ids;
mod jobs;
mod jsonb;
mod ledger;
mod locking;
mod modes;
mod monitor;
mod notifications;
mod periods;
mod policy;
mod region;
mod resets;
mod resolver;
mod restore;
mod router;
mod scaling;
mod shortwaits;
mod slots;
mod state;
mod statements;
mod subxact;
mod trend;
mod triggers;

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!(
    "../sql/triggers.sql",
    name = "triggers",
    requires = [
        "schema",
        triggers::state::state_before_write_fired,
        triggers::region::region_after_insert_fired,
        triggers::region::region_after_update_fired,
        triggers::guards::append_only_guard_fired,
        triggers::guards::transition_guard_fired,
        triggers::guards::state_delete_guard_fired,
        triggers::guards::internal_write_guard_fired,
        triggers::policy::policy_guard_fired,
        triggers::policy::policy_after_update_fired,
        triggers::touch::touch_updated_at_fired,
    ]
);
extension_sql_file!(
    "../sql/holds_jobs.sql",
    name = "holds_jobs",
    requires = ["triggers", triggers::guards::job_guard_fired]
);
extension_sql_file!("../sql/reads.sql", name = "reads", requires = ["holds_jobs", resets::roll_over_budget_periods]);
extension_sql_file!("../sql/monitor.sql", name = "monitor", requires = ["reads"]);
extension_sql_file!("../sql/router.sql", name = "router", requires = ["reads", router::route_job]);
extension_sql_file!("../sql/snapshots.sql", name = "snapshots", requires = ["monitor"]);
extension_sql_file!("../sql/api.sql", name = "api", requires = ["snapshots", monitor::compute_global_risk]);
extension_sql_file!("../sql/verify.sql", name = "verify", requires = ["reads", scaling::evaluate_region]);
extension_sql_file!("../sql/schedule.sql", name = "schedule", requires = ["verify", "api", "router"]);
extension_sql_file!("../sql/restore.sql", name = "restore", requires = ["verify"]);
extension_sql_file!("../sql/privileges.sql", name = "privileges", finalize);

/// Called once when a backend loads the library.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // Errors must not depend on the server's environment: with RUST_BACKTRACE
    // set, the Rust backtraces pgrx captures would be added to error details.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    restore::define_settings();
    notifications::define_settings();
}

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries = 'pg_cron'", "cron.database_name = 'pgrx_tests'"]
    }
}
