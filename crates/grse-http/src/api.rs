//! The seed's endpoints over the `api_*` functions, and /healthz.
//!
//! `GET /api/regions/health?sortBy&order&includeRisk` → `grse.api_regions_health`
//! `GET /api/regions/{id}/snapshot?includeHistory&periods` → `grse.api_get_region_snapshot`
//! `POST /api/regions/{id}/snapshot {"periodType"}` → `grse.api_save_region_snapshot`
//!
//! Only the arguments a request gives are passed (by name), so the functions' own defaults
//! apply; every value is bound as text and cast by the SQL, so a malformed one is answered with
//! the database's message. The functions' JSON is sent on as the database wrote it.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::log;
use crate::request::{api_caller, query_params, Call};
use crate::state::{App, AppState};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/regions/health", get(regions_health))
        .route("/api/regions/{id}/snapshot", get(get_snapshot).post(save_snapshot))
        .route("/healthz", get(healthz))
}

/// Runs one `api_*` call as the caller and answers with its JSON (404 when it says so).
async fn answer(app: &App, caller: &Caller, call: Call) -> Result<Response, ApiError> {
    let rows = app.db.run(caller, vec![call.stmt()]).await?;
    let row = rows
        .first()
        .and_then(|r| r.first())
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?;
    let body: Option<String> = row.get(0);
    let status: Option<String> = row.get(1);
    let status = match status.as_deref() {
        Some("404") => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    Ok(json_response(status, body.unwrap_or_else(|| "null".into())))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

async fn regions_health(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    async {
        let caller = api_caller(&app, &headers)?;
        let mut p = query_params(q.as_deref(), &["sortBy", "order", "includeRisk"])?;
        let call = Call::regions_health(p.remove("sortBy"), p.remove("order"), p.remove("includeRisk"));
        answer(&app, &caller, call).await
    }
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

async fn get_snapshot(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    async {
        let caller = api_caller(&app, &headers)?;
        let mut p = query_params(q.as_deref(), &["includeHistory", "periods"])?;
        let call = Call::region_snapshot(id, p.remove("includeHistory"), p.remove("periods"));
        answer(&app, &caller, call).await
    }
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

/// `periodType` of a POST body: absent (or an empty body) leaves the default, null passes NULL.
pub fn period_type(body: &[u8]) -> Result<Option<Option<String>>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request("request body must be a JSON object like {\"periodType\": \"hourly\"}"));
    };
    match map.get("periodType") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(ApiError::bad_request("periodType must be a string: hourly, daily or weekly")),
    }
}

async fn save_snapshot(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    async {
        let caller = api_caller(&app, &headers)?;
        let call = Call::new("api_save_region_snapshot").arg("region_id", "uuid", Some(Some(id))).arg(
            "period_type",
            "text",
            period_type(&body)?,
        );
        answer(&app, &caller, call).await
    }
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

/// Liveness and database reachability (no token needed, no data shown).
async fn healthz(State(app): State<AppState>) -> Response {
    match app.db.ping().await {
        Ok(()) => json_response(StatusCode::OK, r#"{"status":"ok","database":"ok"}"#.into()),
        Err(e) => {
            log::warn(&format!("healthz: {e}"));
            let mut r = json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"unavailable","database":"unreachable"}"#.into(),
            );
            ApiError::decorate(StatusCode::SERVICE_UNAVAILABLE, &mut r);
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_bodies() {
        assert_eq!(period_type(b"").unwrap(), None);
        assert_eq!(period_type(b"  \n").unwrap(), None);
        assert_eq!(period_type(b"{}").unwrap(), None);
        assert_eq!(period_type(br#"{"periodType":"daily"}"#).unwrap(), Some(Some("daily".into())));
        assert_eq!(period_type(br#"{"periodType":null}"#).unwrap(), Some(None));
        assert!(period_type(br#"{"periodType":5}"#).is_err());
        assert!(period_type(b"[1]").is_err());
        assert!(period_type(b"{nope").unwrap_err().message.starts_with("request body is not valid JSON"));
    }
}
