//! `GET /metrics` in the Prometheus text format, behind the same bearer token as the API (so a
//! tenant's scrape covers its own regions). Metric names start with `grse_`; per-region series
//! carry `region` = the region's slug.
//!
//! Gauges come from `grse.api_regions_health()` (one pass over the regions) plus the open holds
//! and open alerts; the spend and refund counters come from the ledger (see `ledger`).

use crate::db::{DbError, Stmt};
use crate::error::ApiError;
use crate::ledger::Totals;
use crate::log;
use crate::request::{api_caller, HOLDS_SQL};
use crate::state::AppState;
use crate::views::{num, PRESSURE_TYPES};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

const REGIONS_SQL: &str = "SELECT r::text FROM grse.api_regions_health() AS r";

const ALERTS_SQL: &str = "SELECT COALESCE(pg_catalog.jsonb_object_agg(x.severity, x.n), '{}')::text
      FROM (SELECT a.severity, count(*) AS n FROM grse.alerts a WHERE a.resolved_at IS NULL GROUP BY a.severity) x";

/// Picks one value out of a region's health JSON.
type Pick<'a> = &'a dyn Fn(&Value) -> Option<f64>;

/// Appends one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// A label value escaped for the text format.
pub fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    format!("{{{}}}", inner.join(","))
}

/// The exposition: `health` is `api_regions_health()`'s answer, `holds` region id → held cents,
/// `alerts` severity → open alerts, `totals` the ledger counters (None when unavailable).
pub fn render(health: &Value, holds: &Value, alerts: &Value, totals: Option<&Totals>) -> String {
    let regions: Vec<&Value> = health["regions"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let slug_of: HashMap<&str, &str> =
        regions.iter().filter_map(|r| Some((r["regionId"].as_str()?, r["regionSlug"].as_str()?))).collect();
    let mut out = String::new();
    let per_region = |pick: Pick| -> Vec<(String, f64)> {
        regions.iter().filter_map(|r| Some((labels(&[("region", r["regionSlug"].as_str()?)]), pick(r)?))).collect()
    };
    family(
        &mut out,
        "grse_regions",
        "gauge",
        "Active regions visible to the caller.",
        &[(String::new(), regions.len() as f64)],
    );
    let gauges: [(&str, &str, Pick); 8] = [
        ("grse_region_capacity_score", "Capacity score (0-100).", &|r| num(&r["capacityScore"])),
        ("grse_region_warning_index", "Warning index (0-100).", &|r| num(&r["warningIndex"])),
        ("grse_region_fatigue_score", "Fatigue score (0-100).", &|r| num(&r["fatigueScore"])),
        ("grse_region_budget_monthly_cents", "Monthly AI budget, cents.", &|r| num(&r["budget"]["monthly"])),
        ("grse_region_budget_remaining_cents", "AI budget remaining, cents.", &|r| num(&r["budget"]["remaining"])),
        ("grse_region_budget_remaining_percent", "AI budget remaining, percent of the monthly budget.", &|r| {
            num(&r["budgetPercentRemaining"])
        }),
        ("grse_region_spent_today_cents", "Gross AI spend of the region's current day, cents.", &|r| {
            num(&r["budget"]["spentToday"])
        }),
        ("grse_region_jobs_in_queue", "Jobs in the region's queue.", &|r| num(&r["jobsInQueue"])),
    ];
    for (name, help, pick) in gauges {
        family(&mut out, name, "gauge", help, &per_region(pick));
    }
    let mut pressures = Vec::new();
    for r in &regions {
        let Some(slug) = r["regionSlug"].as_str() else { continue };
        for (key, _) in PRESSURE_TYPES {
            if let Some(v) = num(&r["pressures"][key]) {
                pressures.push((labels(&[("region", slug), ("type", key)]), v));
            }
        }
        if let Some(v) = num(&r["overallPressure"]) {
            pressures.push((labels(&[("region", slug), ("type", "overall")]), v));
        }
    }
    family(
        &mut out,
        "grse_region_pressure",
        "gauge",
        "Load pressure (0-100) by job type, and the weighted overall.",
        &pressures,
    );
    let mut modes = Vec::new();
    for r in &regions {
        let (Some(slug), Some(mode)) = (r["regionSlug"].as_str(), r["scalingMode"].as_str()) else { continue };
        for m in ["normal", "cautious", "throttled", "frozen"] {
            modes.push((labels(&[("region", slug), ("mode", m)]), f64::from(u8::from(m == mode))));
        }
    }
    family(&mut out, "grse_region_mode", "gauge", "1 for the region's current scaling mode, 0 for the others.", &modes);
    if let Some(map) = holds.as_object().filter(|m| !m.is_empty()) {
        let held: Vec<(String, f64)> = map
            .iter()
            .filter_map(|(id, v)| Some((labels(&[("region", slug_of.get(id.as_str())?)]), num(v)?)))
            .collect();
        family(&mut out, "grse_region_budget_held_cents", "gauge", "AI budget reserved by open holds, cents.", &held);
    }
    if let Some(totals) = totals {
        for (i, (name, help)) in [
            ("grse_budget_spent_cents_total", "AI spend charged, cents, from the ledger."),
            ("grse_budget_refunded_cents_total", "AI spend refunded, cents, from the ledger."),
        ]
        .into_iter()
        .enumerate()
        {
            let samples: Vec<(String, f64)> = totals
                .iter()
                .filter_map(|((region, job), v)| {
                    Some((labels(&[("region", slug_of.get(region.as_str())?), ("job_type", job)]), v[i] as f64))
                })
                .collect();
            family(&mut out, name, "counter", help, &samples);
        }
    }
    let open: Vec<(String, f64)> =
        ["warning", "critical"].iter().map(|s| (labels(&[("severity", s)]), num(&alerts[*s]).unwrap_or(0.0))).collect();
    family(&mut out, "grse_alerts_open", "gauge", "Open (unresolved) alerts by severity.", &open);
    family(
        &mut out,
        "grse_ledger_counters_up",
        "gauge",
        "1 when the ledger counters could be read.",
        &[(String::new(), f64::from(u8::from(totals.is_some())))],
    );
    out
}

pub async fn handler(State(app): State<AppState>, headers: HeaderMap) -> Response {
    async {
        let caller = api_caller(&app, &headers)?;
        let [health, holds, alerts] = app
            .db
            .json(
                &caller,
                [Stmt::new(REGIONS_SQL, vec![]), Stmt::new(HOLDS_SQL, vec![]), Stmt::new(ALERTS_SQL, vec![])],
            )
            .await?;
        let totals = {
            let app = app.clone();
            tokio::spawn(async move { app.ledger_counters.totals(&app.db).await })
                .await
                .unwrap_or_else(|e| Err(DbError::Internal(e.to_string())))
        };
        let totals = match totals {
            Ok(t) => Some(t),
            Err(e) => {
                log::warn(&format!("metrics: ledger counters unavailable: {e}"));
                None
            }
        };
        let body = render(&health, &holds, &alerts, totals.as_ref());
        Ok::<_, ApiError>(
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
                .into_response(),
        )
    }
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exposition() {
        let health = json!({"regions": [
            {"regionId": "r1", "regionSlug": "eu-frankfurt", "scalingMode": "cautious", "capacityScore": 45.5,
             "overallPressure": 61, "warningIndex": 15, "fatigueScore": 2, "budgetPercentRemaining": 40,
             "jobsInQueue": 3, "pressures": {"posting": 70, "orchestration": 60, "creative": 55, "intel": 58},
             "budget": {"monthly": 100000, "remaining": 40000, "spentToday": 1200}}]});
        let mut totals = Totals::new();
        totals.insert(("r1".into(), "posting".into()), [1200, 200]);
        totals.insert(("r-hidden".into(), "posting".into()), [5, 0]);
        let text = render(&health, &json!({"r1": 300}), &json!({"critical": 2}), Some(&totals));
        for line in [
            "grse_regions 1",
            "grse_region_capacity_score{region=\"eu-frankfurt\"} 45.5",
            "grse_region_pressure{region=\"eu-frankfurt\",type=\"posting\"} 70",
            "grse_region_pressure{region=\"eu-frankfurt\",type=\"overall\"} 61",
            "grse_region_mode{region=\"eu-frankfurt\",mode=\"cautious\"} 1",
            "grse_region_mode{region=\"eu-frankfurt\",mode=\"normal\"} 0",
            "grse_region_budget_remaining_cents{region=\"eu-frankfurt\"} 40000",
            "grse_region_budget_held_cents{region=\"eu-frankfurt\"} 300",
            "grse_budget_spent_cents_total{region=\"eu-frankfurt\",job_type=\"posting\"} 1200",
            "grse_budget_refunded_cents_total{region=\"eu-frankfurt\",job_type=\"posting\"} 200",
            "grse_alerts_open{severity=\"critical\"} 2",
            "grse_alerts_open{severity=\"warning\"} 0",
            "# TYPE grse_budget_spent_cents_total counter",
            "grse_ledger_counters_up 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        // a region the caller cannot see is not shown
        assert!(!text.contains("r-hidden"));
        // every sample line is `name{labels} value` with a grse_ name
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(l.starts_with("grse_"), "{l}");
            assert!(l.rsplit(' ').next().unwrap().parse::<f64>().is_ok(), "{l}");
        }
        let text = render(&health, &json!({}), &json!({}), None);
        assert!(!text.contains("grse_region_budget_held_cents") && !text.contains("grse_budget_spent_cents_total"));
        assert!(text.contains("grse_ledger_counters_up 0"));
    }

    #[test]
    fn label_escaping() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
