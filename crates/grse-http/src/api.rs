//! The seed's endpoints over the `api_*` functions, and /healthz.
//!
//! `GET /api/regions/health?sortBy&order&includeRisk` → `grse.api_regions_health`
//! `GET /api/regions/{id}/snapshot?includeHistory&periods` → `grse.api_get_region_snapshot`
//! `POST /api/regions/{id}/snapshot {"periodType"}` → `grse.api_save_region_snapshot`
//!
//! Only the arguments a request gives are passed (by name), so the functions' own defaults
//! apply; every value is bound as text and cast by the SQL, so a malformed one is answered with
//! the database's message. The functions' JSON is sent on as the database wrote it.

use crate::app::{App, AppState};
use crate::auth::{self, Caller};
use crate::db::Stmt;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/regions/health", get(regions_health))
        .route("/api/regions/{id}/snapshot", get(get_snapshot).post(save_snapshot))
        .route("/healthz", get(healthz))
}

/// A call of a grse JSON function with named arguments; an argument left out takes the
/// function's default.
#[derive(Debug, Clone)]
pub struct Call {
    function: &'static str,
    args: Vec<(&'static str, &'static str, Option<String>)>,
}

impl Call {
    pub fn new(function: &'static str) -> Call {
        Call { function, args: Vec::new() }
    }

    /// Adds `name => $n::pg_type` when `value` is given (`Some(None)` passes SQL NULL).
    pub fn arg(mut self, name: &'static str, pg_type: &'static str, value: Option<Option<String>>) -> Call {
        if let Some(v) = value {
            self.args.push((name, pg_type, v));
        }
        self
    }

    /// `SELECT r::text, r ->> 'status' FROM grse.f(a => $1::t, ...) AS r`: the answer and the
    /// status an `api_*` function puts into it (404 for an unknown region).
    pub fn stmt(&self) -> Stmt {
        let list: Vec<String> =
            self.args.iter().enumerate().map(|(i, (name, ty, _))| format!("{name} => ${}::{ty}", i + 1)).collect();
        Stmt::new(
            format!("SELECT r::text, r ->> 'status' FROM grse.{}({}) AS r", self.function, list.join(", ")),
            self.args.iter().map(|(_, _, v)| v.clone()).collect(),
        )
    }
}

/// The query parameters `known` maps (HTTP name → value); a parameter given twice is refused.
pub fn query_params(raw: Option<&str>, known: &[&'static str]) -> Result<HashMap<&'static str, String>, ApiError> {
    let mut found = HashMap::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if let Some(name) = known.iter().find(|k| **k == key) {
            if found.insert(*name, value.into_owned()).is_some() {
                return Err(ApiError::bad_request(format!("query parameter {name} is given more than once")));
            }
        }
    }
    Ok(found)
}

/// The caller of an API request: `Authorization: Bearer <JWT>` is required.
pub fn api_caller(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token =
        auth::bearer(headers).ok_or_else(|| ApiError::from(auth::AuthError("missing bearer token".into())))??;
    Ok(app.verifier.verify(token)?)
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

pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

async fn regions_health(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    async {
        let caller = api_caller(&app, &headers)?;
        let mut p = query_params(q.as_deref(), &["sortBy", "order", "includeRisk"])?;
        let call = Call::new("api_regions_health")
            .arg("sort_by", "text", p.remove("sortBy").map(Some))
            .arg("sort_order", "text", p.remove("order").map(Some))
            .arg("include_risk", "boolean", p.remove("includeRisk").map(Some));
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
        let call = Call::new("api_get_region_snapshot")
            .arg("region_id", "uuid", Some(Some(id)))
            .arg("include_history", "boolean", p.remove("includeHistory").map(Some))
            .arg("periods", "integer", p.remove("periods").map(Some));
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
            crate::log::warn(&format!("healthz: {e}"));
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
    fn call_with_only_the_given_arguments() {
        let s = Call::new("api_regions_health")
            .arg("sort_by", "text", Some(Some("capacity".into())))
            .arg("sort_order", "text", None)
            .arg("include_risk", "boolean", Some(None))
            .stmt();
        assert_eq!(
            s.sql,
            "SELECT r::text, r ->> 'status' FROM grse.api_regions_health(sort_by => $1::text, include_risk => $2::boolean) AS r"
        );
        assert_eq!(s.params, vec![Some("capacity".to_string()), None]);
        assert_eq!(Call::new("f").stmt().sql, "SELECT r::text, r ->> 'status' FROM grse.f() AS r");
    }

    #[test]
    fn query_parameters() {
        let p =
            query_params(Some("sortBy=capacity&order=asc&x=1&includeRisk=true"), &["sortBy", "order", "includeRisk"])
                .unwrap();
        assert_eq!(p["sortBy"], "capacity");
        assert_eq!(p["order"], "asc");
        assert_eq!(p["includeRisk"], "true");
        assert_eq!(p.len(), 3);
        let p = query_params(Some("sortBy=a%27%3B%20DROP%20TABLE%20x%3B--"), &["sortBy"]).unwrap();
        assert_eq!(p["sortBy"], "a'; DROP TABLE x;--");
        assert!(query_params(Some("sortBy=a&sortBy=b"), &["sortBy"]).is_err());
        assert!(query_params(None, &["sortBy"]).unwrap().is_empty());
    }

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
