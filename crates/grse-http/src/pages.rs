//! The dashboard pages: /regions, /regions/{id}, their live event stream, sign-in and sign-out.
//! A page takes the token from the bearer header or the HttpOnly cookie `grse_token`; without a
//! valid one it shows the sign-in form and no data.

use crate::auth::{self, Caller, COOKIE};
use crate::db::Stmt;
use crate::error::ApiError;
use crate::live;
use crate::request::{query_params, Call, HOLDS_SQL};
use crate::state::{App, AppState};
use crate::views::{self, Policy, RegionExtras, Sort};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/regions") }))
        .route("/signin", get(signin_form).post(signin))
        .route("/signout", post(signout))
        .route("/regions", get(regions))
        .route("/regions/events", get(events))
        .route("/regions/{id}", get(region))
}

const POLICY_SQL: &str = "SELECT pg_catalog.to_jsonb(p)::text FROM grse.policy p";

const TRANSITIONS_SQL: &str = "SELECT COALESCE(pg_catalog.jsonb_agg(t ORDER BY t.id DESC), '[]')::text
      FROM (SELECT m.id, m.from_mode, m.to_mode, m.capacity, m.pressure, m.reason, m.created_at
              FROM grse.region_mode_transitions m
             WHERE m.region_id = $1::uuid ORDER BY m.id DESC LIMIT 10) t";

const ALERTS_SQL: &str = "SELECT COALESCE(pg_catalog.jsonb_agg(t ORDER BY t.id DESC), '[]')::text
      FROM (SELECT a.id, a.alert_type, a.severity, a.message, a.created_at, a.resolved_at
              FROM grse.alerts a
             WHERE a.region_id = $1::uuid ORDER BY a.id DESC LIMIT 10) t";

fn html(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, Html(markup.into_string())).into_response();
    ApiError::decorate(status, &mut r);
    r
}

fn cookie_header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("grse_token=; Path=/; Max-Age=0"))
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("grse_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The sign-in page with a message, answered 401 (and the cookie cleared when it was bad).
fn signin_required(message: Option<&str>, clear: bool) -> Response {
    let mut r = html(StatusCode::UNAUTHORIZED, views::signin(message));
    if clear {
        r.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    }
    r
}

/// Why a page shows the sign-in form instead: the message, and whether to clear the cookie.
struct SignIn(Option<String>, bool);

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        signin_required(self.0.as_deref(), self.1)
    }
}

/// The caller of a page: the bearer header, else the cookie.
fn page_caller(app: &App, headers: &HeaderMap) -> Result<Caller, SignIn> {
    if let Some(bearer) = auth::bearer(headers) {
        let token = bearer.map_err(|e| SignIn(Some(e.0), false))?;
        return app.verifier.verify(token).map_err(|e| SignIn(Some(e.0), false));
    }
    match auth::cookie_token(headers) {
        None => Err(SignIn(None, false)),
        Some(token) => {
            app.verifier.verify(token).map_err(|e| SignIn(Some(format!("Please sign in again: {}.", e.0)), true))
        }
    }
}

/// A failed data request as a page with the status the API would answer.
fn error_response(e: ApiError) -> Response {
    if e.status == StatusCode::UNAUTHORIZED {
        return signin_required(Some(&e.message), false);
    }
    let message = match e.status {
        StatusCode::FORBIDDEN => format!("Your role may not see this: {}", e.message),
        StatusCode::SERVICE_UNAVAILABLE => "The database is unavailable; try again in a moment.".to_string(),
        _ => e.message.clone(),
    };
    html(e.status, views::error_page(e.status.as_u16(), &message))
}

/// Puts the open holds (region id → cents, where the installed grse keeps `ai_budget_held`) into
/// a budget object that does not report them itself.
fn merge_held(budget: &mut Value, holds: &Value, region_id: &str) {
    if let (Some(b), Some(held)) = (budget.as_object_mut(), holds.get(region_id).filter(|v| v.is_number())) {
        b.entry("held").or_insert_with(|| held.clone());
    }
}

async fn signin_form() -> Response {
    html(StatusCode::OK, views::signin(None))
}

/// Checks the pasted token (signature, expiry, and that its role can be taken), then keeps it
/// in the HttpOnly cookie for as long as it is valid.
async fn signin(State(app): State<AppState>, body: Bytes) -> Response {
    let token = form_urlencoded::parse(&body).find(|(k, _)| k == "token").map(|(_, v)| v.trim().to_string());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return signin_required(Some("Paste a token to sign in."), false);
    };
    let caller = match app.verifier.verify(&token) {
        Ok(c) => c,
        Err(e) => return signin_required(Some(&format!("That token cannot be used: {}.", e.0)), false),
    };
    if let Err(e) = app.db.run(&caller, vec![]).await {
        let e = ApiError::from(e);
        if e.status == StatusCode::FORBIDDEN {
            return signin_required(Some(&format!("That token cannot be used: {}.", e.message)), false);
        }
        return error_response(e);
    }
    let max_age = caller.expires_at.map(|exp| format!("; Max-Age={}", exp.saturating_sub(auth::now_secs())));
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}", max_age.unwrap_or_default());
    let mut r = Redirect::to("/regions").into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie_header(&cookie));
    r
}

async fn signout() -> Response {
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    r
}

/// RegionHealthPanel: every region the caller may see, sortable as the API.
async fn regions(State(app): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let caller = match page_caller(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    async {
        let mut p = query_params(q.as_deref(), &["sortBy", "order"])?;
        let sort = Sort { by: p.remove("sortBy"), order: p.remove("order") };
        let call = Call::regions_health(sort.by.clone(), sort.order.clone(), Some("true".into()));
        let stmts = [call.stmt(), Stmt::new(POLICY_SQL, vec![]), Stmt::new(HOLDS_SQL, vec![])];
        let [mut health, policy, holds] = app.db.json(&caller, stmts).await?;
        let policy = Policy::from_json(&policy);
        for r in health["regions"].as_array_mut().into_iter().flatten() {
            let id = r["regionId"].as_str().unwrap_or_default().to_string();
            merge_held(&mut r["budget"], &holds, &id);
        }
        Ok::<_, ApiError>(html(StatusCode::OK, views::regions_page(&health, &policy, &sort)))
    }
    .await
    .unwrap_or_else(error_response)
}

/// RegionPressureChart and the rest of one region.
async fn region(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let caller = match page_caller(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    async {
        let mut p = query_params(q.as_deref(), &["periods"])?;
        let call = Call::region_snapshot(id.clone(), Some("true".into()), p.remove("periods"));
        let [mut answer, policy, transitions, alerts, holds] = app
            .db
            .json(
                &caller,
                [
                    call.stmt(),
                    Stmt::new(POLICY_SQL, vec![]),
                    Stmt::new(TRANSITIONS_SQL, vec![Some(id.clone())]),
                    Stmt::new(ALERTS_SQL, vec![Some(id.clone())]),
                    Stmt::new(HOLDS_SQL, vec![]),
                ],
            )
            .await?;
        if answer["success"] != Value::Bool(true) {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "region not found"));
        }
        let policy = Policy::from_json(&policy);
        merge_held(&mut answer["summary"]["budget"], &holds, &id);
        let extras = RegionExtras { transitions: &transitions, alerts: &alerts };
        Ok(html(StatusCode::OK, views::region_page(&answer, &policy, extras)))
    }
    .await
    .unwrap_or_else(error_response)
}

/// Server-sent events for the pages (mode changes and alerts the caller may see).
async fn events(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match page_caller(&app, &headers) {
        Ok(caller) => live::stream(app.db.clone(), app.live.subscribe(), app.shutdown.clone(), caller).into_response(),
        Err(_) => ApiError::from(auth::AuthError("sign in to receive live updates".into())).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn held_is_merged_only_where_missing() {
        let holds = json!({"r1": 400, "r2": null});
        let mut budget = json!({"monthly": 1000});
        merge_held(&mut budget, &holds, "r1");
        assert_eq!(budget["held"], 400);
        let mut own = json!({"held": 7});
        merge_held(&mut own, &holds, "r1");
        assert_eq!(own["held"], 7, "a budget that reports its holds keeps its own figure");
        let mut none = json!({});
        merge_held(&mut none, &holds, "r2");
        merge_held(&mut none, &holds, "r3");
        assert!(none.get("held").is_none());
    }
}
