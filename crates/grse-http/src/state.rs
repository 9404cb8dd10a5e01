//! The state every handler shares: the database pool, the token verifier, the live fan-out, the
//! ledger counters of /metrics and the shutdown signal.

use crate::auth::Verifier;
use crate::config::Config;
use crate::db::Db;
use crate::ledger::LedgerCounters;
use crate::live::Live;
use std::sync::Arc;
use tokio::sync::watch;

pub struct App {
    pub db: Db,
    pub verifier: Verifier,
    pub live: Live,
    /// The spend and refund counters of /metrics, kept between scrapes.
    pub ledger_counters: LedgerCounters,
    /// Turns true when the server shuts down (ends the live streams).
    pub shutdown: watch::Receiver<bool>,
}

pub type AppState = Arc<App>;

impl App {
    pub fn new(config: &Config, shutdown: watch::Receiver<bool>) -> Result<AppState, String> {
        Ok(Arc::new(App {
            db: Db::new(config)?,
            verifier: Verifier::new(&config.jwt_secret),
            live: Live::new(),
            ledger_counters: LedgerCounters::default(),
            shutdown,
        }))
    }
}
