//! Custom alert rules (`grse.alert_rules`), evaluated by
//! `alert_critical_issues()`: the rules are `grse_core::alert_rules`; this
//! module reads the rules and the regions' metrics, keeps each (rule,
//! region) pair's pending time in `grse.alert_rule_pending`, and returns the
//! findings of the rules that fire.

use crate::error::{internal, GResult, SpiResultExt};
use crate::forecast::number;
use grse_core::alert_rules::{step, Comparison, Metric, MetricValues, RuleState};
use grse_core::capacity::budget_percent_remaining;
use grse_core::Centi;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{JsonB, Uuid};
use serde_json::{json, Value};

/// An enabled rule.
struct Rule {
    id: i64,
    name: String,
    metric: Metric,
    comparison: Comparison,
    threshold: Centi,
    severity: String,
    region_id: Option<Uuid>,
    for_us: i64,
}

/// An active region and its metric values.
struct Region {
    id: Uuid,
    name: String,
    values: MetricValues,
}

const RULES_SQL: &str = "SELECT id, name, metric, comparison, (threshold * 100)::bigint AS threshold, severity,
        region_id, (extract(epoch FROM for_duration) * 1000000)::bigint AS for_us
   FROM grse.alert_rules WHERE enabled ORDER BY id";

fn rules(client: &SpiClient<'_>) -> GResult<Vec<Rule>> {
    let mut out = Vec::new();
    for row in client.select(RULES_SQL, None, &[]).or_internal()? {
        let text = |name: &str| -> GResult<String> {
            row.get_by_name::<String, _>(name).or_internal()?.ok_or_else(|| internal(format!("NULL rule {name}")))
        };
        let int = |name: &str| -> GResult<i64> {
            row.get_by_name::<i64, _>(name).or_internal()?.ok_or_else(|| internal(format!("NULL rule {name}")))
        };
        let metric = text("metric")?;
        let comparison = text("comparison")?;
        out.push(Rule {
            id: int("id")?,
            name: text("name")?,
            metric: Metric::parse(&metric).ok_or_else(|| internal(format!("unknown rule metric {metric}")))?,
            comparison: Comparison::parse(&comparison)
                .ok_or_else(|| internal(format!("unknown rule comparison {comparison}")))?,
            threshold: Centi(int("threshold")?),
            severity: text("severity")?,
            region_id: row.get_by_name::<Uuid, _>("region_id").or_internal()?,
            for_us: int("for_us")?,
        });
    }
    Ok(out)
}

/// Every active region's metric values (true totals when budget slots hold budget).
const REGIONS_SQL: &str = concat!(
    "SELECT r.id, r.name, (",
    crate::state::live_capacity_sql!(),
    " * 100)::bigint AS capacity, (s.overall_pressure * 100)::bigint AS pressure, ",
    crate::state::true_remaining_sql!(),
    " AS remaining, s.ai_budget_monthly AS monthly, (s.warning_index * 100)::bigint AS warning,
      (s.fatigue_score * 100)::bigint AS fatigue, s.jobs_in_queue::bigint AS queue
       FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
      WHERE r.active ORDER BY r.id"
);

fn regions(client: &SpiClient<'_>, with_forecast: bool) -> GResult<Vec<Region>> {
    let days_left = if with_forecast { crate::forecast::days_left_by_region(client)? } else { Vec::new() };
    let mut out = Vec::new();
    for row in client.select(REGIONS_SQL, None, &[]).or_internal()? {
        let int = |name: &str| -> GResult<i64> {
            row.get_by_name::<i64, _>(name).or_internal()?.ok_or_else(|| internal(format!("NULL region {name}")))
        };
        let id = row.get_by_name::<Uuid, _>("id").or_internal()?.ok_or_else(|| internal("NULL region id"))?;
        out.push(Region {
            id,
            name: row.get_by_name::<String, _>("name").or_internal()?.unwrap_or_default(),
            values: MetricValues {
                capacity: Centi(int("capacity")?),
                pressure: Centi(int("pressure")?),
                budget_percent: budget_percent_remaining(int("remaining")?, int("monthly")?),
                warning: Centi(int("warning")?),
                fatigue: Centi(int("fatigue")?),
                queue: int("queue")?,
                forecast_days_left: days_left.iter().find(|(r, _)| *r == id).and_then(|(_, d)| *d),
            },
        });
    }
    Ok(out)
}

/// Keeps `grse.alert_rule_pending` to the pairs that hold now (new ones
/// since now, the others as they were) and returns each holding pair's
/// pending time (microseconds).
const PENDING_SQL: &str = "
    WITH h AS (SELECT * FROM pg_catalog.jsonb_to_recordset($1) AS x(rule_id bigint, region_id uuid)),
    gone AS (DELETE FROM grse.alert_rule_pending p
              WHERE NOT EXISTS (SELECT 1 FROM h WHERE h.rule_id = p.rule_id AND h.region_id = p.region_id)),
    ins AS (INSERT INTO grse.alert_rule_pending (rule_id, region_id, since)
            SELECT h.rule_id, h.region_id, pg_catalog.now() FROM h
            ON CONFLICT (rule_id, region_id) DO NOTHING
            RETURNING rule_id, region_id, since)
    SELECT h.rule_id, h.region_id, COALESCE(p.since, ins.since, pg_catalog.now()) AS since
      FROM h
      LEFT JOIN grse.alert_rule_pending p ON p.rule_id = h.rule_id AND p.region_id = h.region_id
      LEFT JOIN ins ON ins.rule_id = h.rule_id AND ins.region_id = h.region_id";

fn value_text(metric: Metric, v: Option<Centi>) -> String {
    match (metric, v) {
        (_, None) => "never".to_string(),
        (Metric::Queue, Some(c)) => (c.0 / 100).to_string(),
        (_, Some(c)) => c.to_string(),
    }
}

/// A metric value as JSON: a whole number for the queue, two decimals
/// otherwise, null for "never" (+infinity).
fn metric_json(metric: Metric, v: Option<Centi>) -> GResult<Value> {
    match (metric, v) {
        (_, None) => Ok(Value::Null),
        (Metric::Queue, Some(c)) if c.0 % 100 == 0 => Ok(json!(c.0 / 100)),
        (_, Some(c)) => number(c),
    }
}

fn threshold_text(metric: Metric, t: Centi) -> String {
    if matches!(metric, Metric::Queue) && t.0 % 100 == 0 {
        (t.0 / 100).to_string()
    } else {
        t.to_string()
    }
}

/// Evaluates every enabled rule over every active region it covers, at
/// `now_us`; returns the findings (as `alert_critical_issues` writes them)
/// of the pairs that fire.
pub fn findings(client: &mut SpiClient<'_>, now_us: i64) -> GResult<Vec<Value>> {
    let rules = rules(client)?;
    let regions = if rules.is_empty() {
        Vec::new()
    } else {
        regions(client, rules.iter().any(|r| r.metric == Metric::ForecastDaysLeft))?
    };
    let mut holding: Vec<(&Rule, &Region, Option<Centi>)> = Vec::new();
    for rule in &rules {
        for region in regions.iter().filter(|r| rule.region_id.is_none_or(|id| id == r.id)) {
            let v = region.values.get(rule.metric);
            if rule.comparison.holds(v, rule.threshold) {
                holding.push((rule, region, v));
            }
        }
    }
    let pairs: Vec<Value> = holding
        .iter()
        .map(|(rule, region, _)| json!({"rule_id": rule.id, "region_id": region.id.to_string()}))
        .collect();
    let mut since = std::collections::HashMap::new();
    for row in crate::statements::run(client, PENDING_SQL, &[JsonB(Value::Array(pairs)).into()])? {
        let rule_id = row.get_by_name::<i64, _>("rule_id").or_internal()?.ok_or_else(|| internal("NULL rule_id"))?;
        let region = row.get_by_name::<Uuid, _>("region_id").or_internal()?.ok_or_else(|| internal("NULL region"))?;
        let at = row
            .get_by_name::<TimestampWithTimeZone, _>("since")
            .or_internal()?
            .ok_or_else(|| internal("NULL since"))?;
        since.insert((rule_id, *region.as_bytes()), pg_sys::TimestampTz::from(at));
    }
    let mut out = Vec::new();
    for (rule, region, v) in holding {
        let pending = since.get(&(rule.id, *region.id.as_bytes())).copied();
        if let RuleState::Firing { since_us } = step(true, pending, now_us, rule.for_us) {
            let (value, threshold) = (value_text(rule.metric, v), threshold_text(rule.metric, rule.threshold));
            out.push(json!({
                "region_id": region.id.to_string(),
                "alert_type": rule.name,
                "severity": rule.severity,
                "message": format!("{}: {} {value} {} {threshold} (rule {})",
                                   region.name, rule.metric.as_str(), rule.comparison, rule.name),
                "details": {
                    "region_name": region.name, "rule_id": rule.id, "metric": rule.metric.as_str(),
                    "comparison": rule.comparison.as_str(), "threshold": metric_json(rule.metric, Some(rule.threshold))?,
                    "value": metric_json(rule.metric, v)?,
                    "for_seconds": rule.for_us / 1_000_000,
                    "holding_since": crate::clock::timestamp_text(since_us)?,
                },
            }));
        }
    }
    Ok(out)
}
