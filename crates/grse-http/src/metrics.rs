//! `GET /metrics` in the Prometheus text format, behind the same bearer token as the API (so a
//! tenant's scrape covers its own regions). Metric names start with `grse_`; per-region series
//! carry `region` = the region's slug.
//!
//! Gauges come from `grse.api_regions_health()` (one pass over the regions) plus the open holds
//! and open alerts. The spend and refund counters come from the ledger, which is append-only, so
//! they are kept incrementally: each scrape reads only the ledger rows above a settled mark.
//! A row id at or below the mark can no longer appear: the mark is the highest id a former
//! scrape saw once every transaction that was running or had an id at that scrape has ended
//! (ledger rows take their id after their transaction has an xid, as grse writes the state row
//! first), so the counters are exact and never go down.

use crate::api::api_caller;
use crate::app::{App, AppState};
use crate::auth::Caller;
use crate::db::{DbError, Stmt};
use crate::error::ApiError;
use crate::log;
use crate::views::{num, PRESSURE_TYPES};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write;
use tokio::sync::Mutex;

const REGIONS_SQL: &str = "SELECT r::text FROM grse.api_regions_health() AS r";

/// Open holds per region, where the installed grse keeps them (`ai_budget_held`).
pub const HOLDS_SQL: &str =
    "SELECT COALESCE(pg_catalog.jsonb_object_agg(s.region_id, pg_catalog.to_jsonb(s) -> 'ai_budget_held')
             FILTER (WHERE pg_catalog.to_jsonb(s) ? 'ai_budget_held'), '{}')::text
      FROM grse.region_scaling_state s";

const ALERTS_SQL: &str = "SELECT COALESCE(pg_catalog.jsonb_object_agg(x.severity, x.n), '{}')::text
      FROM (SELECT a.severity, count(*) AS n FROM grse.alerts a WHERE a.resolved_at IS NULL GROUP BY a.severity) x";

const SNAPSHOT_SQL: &str = "SELECT pg_catalog.pg_snapshot_xmin(s)::text, pg_catalog.pg_snapshot_xmax(s)::text,
           (SELECT COALESCE(max(l.id), 0) FROM grse.region_budget_transactions l)::text
      FROM pg_catalog.pg_current_snapshot() AS s";

const LEDGER_SQL: &str = "SELECT l.region_id::text, COALESCE(l.job_type, 'unknown'), l.transaction_type,
           (l.id <= $2::bigint)::text, sum(l.amount)::text
      FROM grse.region_budget_transactions l
     WHERE l.id > $1::bigint AND l.transaction_type IN ('spend', 'refund')
     GROUP BY 1, 2, 3, 4";

/// The role the ledger counters are read as (every region); each scrape then shows only the
/// regions its own caller can see.
pub const LEDGER_ROLE: &str = "grse_reader";

/// Spent and refunded cents per (region id, job type).
pub type Totals = BTreeMap<(String, String), [i64; 2]>;

#[derive(Default)]
struct Ledger {
    mark: i64,
    settled: Totals,
    /// (highest id seen, xmax of that scrape's snapshot), oldest first.
    pending: VecDeque<(i64, u64)>,
}

/// The highest id that is settled once the oldest running transaction is `xmin`; the pending
/// scrapes it settles are removed.
fn settle(pending: &mut VecDeque<(i64, u64)>, mark: i64, xmin: u64) -> i64 {
    let mut new_mark = mark;
    while let Some(&(id, xmax)) = pending.front() {
        if xmax > xmin {
            break;
        }
        new_mark = new_mark.max(id);
        pending.pop_front();
    }
    new_mark
}

#[derive(Default)]
pub struct Metrics {
    ledger: Mutex<Ledger>,
}

impl Metrics {
    /// The ledger totals now: settled totals plus the rows above the mark.
    async fn ledger_totals(&self, app: &App) -> Result<Totals, DbError> {
        let mut guard = self.ledger.lock().await;
        let ledger = &mut *guard;
        let reader = Caller { role: LEDGER_ROLE.into(), claims: "{}".into(), expires_at: None };
        let mut session = app.db.session(&reader).await?;
        let result = async {
            let rows = session.query(SNAPSHOT_SQL, &[]).await?;
            let row = rows.first().ok_or_else(|| DbError::Internal("no snapshot row".into()))?;
            let field = |i: usize| -> Result<String, DbError> {
                row.try_get::<_, String>(i).map_err(|e| DbError::Internal(e.to_string()))
            };
            let parse = |t: String| t.parse::<u64>().map_err(|e| DbError::Internal(format!("{t}: {e}")));
            let xmin = parse(field(0)?)?;
            let xmax = parse(field(1)?)?;
            let max_id = parse(field(2)?)? as i64;
            let new_mark = settle(&mut ledger.pending, ledger.mark, xmin);
            let rows = session.query(LEDGER_SQL, &[Some(ledger.mark.to_string()), Some(new_mark.to_string())]).await?;
            let mut open = Totals::new();
            for r in rows {
                let get = |i: usize| r.try_get::<_, String>(i).map_err(|e| DbError::Internal(e.to_string()));
                let (region, job, kind, settled, sum) = (get(0)?, get(1)?, get(2)?, get(3)?, get(4)?);
                let cents: i64 = sum.parse().map_err(|e| DbError::Internal(format!("{sum}: {e}")))?;
                let target = if settled == "true" { &mut ledger.settled } else { &mut open };
                let entry = target.entry((region, job)).or_insert([0, 0]);
                entry[usize::from(kind == "refund")] += cents;
            }
            ledger.mark = new_mark;
            if max_id > new_mark {
                ledger.pending.push_back((max_id, xmax));
            }
            let mut totals = ledger.settled.clone();
            for (key, [spent, refunded]) in open {
                let e = totals.entry(key).or_insert([0, 0]);
                e[0] += spent;
                e[1] += refunded;
            }
            Ok(totals)
        }
        .await;
        session.end(result.is_ok()).await;
        result
    }
}

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
        let texts = app
            .db
            .texts(
                &caller,
                vec![Stmt::new(REGIONS_SQL, vec![]), Stmt::new(HOLDS_SQL, vec![]), Stmt::new(ALERTS_SQL, vec![])],
            )
            .await?;
        let parse = |t: &Option<String>| t.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
        let totals = {
            let app = app.clone();
            tokio::spawn(async move { app.metrics.ledger_totals(&app).await })
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
        let body = render(&parse(&texts[0]), &parse(&texts[1]), &parse(&texts[2]), totals.as_ref());
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
    fn settling() {
        let mut p = VecDeque::from([(10, 100), (20, 105), (30, 110)]);
        assert_eq!(settle(&mut p, 5, 99), 5); // a transaction older than the first scrape still runs
        assert_eq!(p.len(), 3);
        assert_eq!(settle(&mut p, 5, 105), 20);
        assert_eq!(p, VecDeque::from([(30, 110)]));
        assert_eq!(settle(&mut p, 20, 500), 30);
        assert!(p.is_empty());
    }

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
