//! What the handlers share to serve a request: the caller of an API request, the query
//! parameters, calls of grse's JSON functions, and statements more than one handler sends.

use crate::auth::{self, Caller};
use crate::db::Stmt;
use crate::error::ApiError;
use crate::state::App;
use axum::http::HeaderMap;
use std::collections::HashMap;

/// Open holds per region, where the installed grse keeps them (`ai_budget_held`).
pub const HOLDS_SQL: &str =
    "SELECT COALESCE(pg_catalog.jsonb_object_agg(s.region_id, pg_catalog.to_jsonb(s) -> 'ai_budget_held')
             FILTER (WHERE pg_catalog.to_jsonb(s) ? 'ai_budget_held'), '{}')::text
      FROM grse.region_scaling_state s";

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

    /// `grse.api_regions_health` with the arguments that are given.
    pub fn regions_health(sort_by: Option<String>, sort_order: Option<String>, include_risk: Option<String>) -> Call {
        Call::new("api_regions_health")
            .arg("sort_by", "text", sort_by.map(Some))
            .arg("sort_order", "text", sort_order.map(Some))
            .arg("include_risk", "boolean", include_risk.map(Some))
    }

    /// `grse.api_get_region_snapshot` of one region with the arguments that are given.
    pub fn region_snapshot(region_id: String, include_history: Option<String>, periods: Option<String>) -> Call {
        Call::new("api_get_region_snapshot")
            .arg("region_id", "uuid", Some(Some(region_id)))
            .arg("include_history", "boolean", include_history.map(Some))
            .arg("periods", "integer", periods.map(Some))
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
    fn calls_of_the_api_functions() {
        let s = Call::regions_health(None, Some("asc".into()), Some("true".into())).stmt();
        assert_eq!(
            s.sql,
            "SELECT r::text, r ->> 'status' FROM grse.api_regions_health(sort_order => $1::text, include_risk => $2::boolean) AS r"
        );
        assert_eq!(s.params, vec![Some("asc".to_string()), Some("true".to_string())]);
        let s = Call::region_snapshot("r-1".into(), None, Some("12".into())).stmt();
        assert_eq!(
            s.sql,
            "SELECT r::text, r ->> 'status' FROM grse.api_get_region_snapshot(region_id => $1::uuid, periods => $2::integer) AS r"
        );
        assert_eq!(s.params, vec![Some("r-1".to_string()), Some("12".to_string())]);
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
}
