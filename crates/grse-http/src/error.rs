//! Errors as HTTP answers: `{success: false, error, code?, detail?, hint?}` with a fitting status.

use crate::auth::AuthError;
use crate::db::{DbError, PgError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Seconds a client is asked to wait when the database is unreachable.
pub const RETRY_AFTER_SECS: u32 = 2;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// SQLSTATE, when the database raised the error.
    pub code: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), code: None, detail: None, hint: None }
    }

    /// The database's error as it reported it (message, SQLSTATE, detail, hint).
    fn from_pg(status: StatusCode, pg: PgError) -> ApiError {
        ApiError { status, message: pg.message, code: Some(pg.code), detail: pg.detail, hint: pg.hint }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn body(&self) -> Value {
        let mut body = json!({ "success": false, "error": self.message });
        for (key, value) in [("code", &self.code), ("detail", &self.detail), ("hint", &self.hint)] {
            if let Some(v) = value {
                body[key] = Value::from(v.as_str());
            }
        }
        body
    }

    /// The headers every answer with this status carries (WWW-Authenticate, Retry-After).
    pub fn decorate(status: StatusCode, response: &mut Response) {
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
    }
}

/// Every 503 asks the client to come back (also the timeout layer's, which has no body of its own).
pub async fn retry_after_on_503(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE && !response.headers().contains_key(header::RETRY_AFTER) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, axum::Json(self.body())).into_response();
        ApiError::decorate(status, &mut response);
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, e.0)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Unavailable(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
            DbError::RoleRefused(pg) => ApiError::from_pg(StatusCode::FORBIDDEN, pg),
            DbError::Failed(pg) => match status_for_sqlstate(&pg.code) {
                // never pass an unexpected error's text on: it is logged instead
                StatusCode::INTERNAL_SERVER_ERROR => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
                status => ApiError::from_pg(status, pg),
            },
            DbError::Internal(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        }
    }
}

/// The HTTP status of a database error raised by a grse function.
pub fn status_for_sqlstate(code: &str) -> StatusCode {
    match code {
        "42501" => StatusCode::FORBIDDEN,                     // insufficient_privilege
        "P0002" | "02000" => StatusCode::NOT_FOUND,           // no_data_found
        "55000" | "55P03" => StatusCode::CONFLICT,            // object not in prerequisite state, lock not available
        "40001" | "40P01" => StatusCode::SERVICE_UNAVAILABLE, // serialization failure, deadlock: retry
        "57014" => StatusCode::SERVICE_UNAVAILABLE,           // statement timeout
        c if c.starts_with("22") || c.starts_with("23") => StatusCode::BAD_REQUEST, // data exception, constraint
        c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P") => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(code: &str) -> PgError {
        PgError { code: code.into(), message: format!("m {code}"), detail: Some("d".into()), hint: None }
    }

    #[test]
    fn statuses() {
        for (code, status) in [
            ("42501", 403),
            ("P0002", 404),
            ("22023", 400),
            ("22P02", 400),
            ("22004", 400),
            ("23514", 400),
            ("55000", 409),
            ("40P01", 503),
            ("57P01", 503),
            ("08006", 503),
            ("XX000", 500),
            ("42883", 500),
        ] {
            assert_eq!(status_for_sqlstate(code).as_u16(), status, "{code}");
        }
    }

    #[test]
    fn bodies() {
        let e = ApiError::from(DbError::Failed(pg("22023")));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.body(), json!({"success": false, "error": "m 22023", "code": "22023", "detail": "d"}));
        // an unexpected error's message is not shown
        let e = ApiError::from(DbError::Failed(pg("XX000")));
        assert_eq!(e.body(), json!({"success": false, "error": "internal error"}));
        let e = ApiError::from(DbError::RoleRefused(pg("42501")));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let e = ApiError::from(DbError::Unavailable("refused".into()));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        let r = e.into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::from(AuthError("x".into())).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
