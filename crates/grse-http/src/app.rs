//! The application: shared state and the router with its layers.

use crate::auth::Verifier;
use crate::config::Config;
use crate::db::Db;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::{api, error, log, metrics, pages};
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub struct App {
    pub db: Db,
    pub verifier: Verifier,
    pub live: Live,
    pub metrics: Metrics,
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
            metrics: Metrics::default(),
            shutdown,
        }))
    }
}

pub fn router(state: AppState, config: &Config) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .route("/metrics", get(metrics::handler))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.request_timeout))
        .layer(axum::middleware::map_response(error::retry_after_on_503))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(axum::middleware::from_fn(log::requests))
}
