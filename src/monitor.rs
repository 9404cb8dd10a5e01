//! The global region monitor: conflicts, global risk and alerts, computed by
//! the pure rules in `grse_core::risk` over every active region.

use crate::error::{internal, GResult, SpiResultExt};
use grse_core::conditions::Severity;
use grse_core::mode::Mode;
use grse_core::risk::{global_risk, Conflict, GlobalRisk, QuietBounds, RiskLevel, RiskRegion};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::{json, Value};

/// SQL: every active region as the risk rules see it (scores as integer
/// hundredths: no numeric text round trip per row; a region whose budget
/// slots hold budget: its true totals), in name order: with `$4` all of
/// them, else those that may lie outside the quiet bounds `$1`..`$3` (see
/// `QuietBounds`: capacity and pressure as numeric, budget percent in
/// hundredths).
///
/// What the bounds leave out is judged on the stored columns, per state row
/// before anything else is computed for it, so that the live scores (and
/// the region's name) are computed only for the rows kept. A row whose
/// stored columns are its live ones (`state::stored_is_live_sql`: no budget
/// in slots, a month that has not ended) is left out when they lie within the bounds; every other row
/// is kept, and `QuietBounds::holds` judges it on its live values. The
/// budget bound is tested without numeric arithmetic per row, in float8
/// against a bound one hundredth higher (a margin far above float8's
/// rounding at any bigint amount): a row it leaves out is within the exact
/// bound; one it keeps that rounds into the bounds is left out by `holds`.
/// The bounds come as numeric arguments, not as hundredths to divide, which
/// would be numeric arithmetic on every row. The name is looked up by the
/// primary key for the rows kept (a lateral subquery that the planner
/// cannot turn into a join), not hashed for every region: in the bench's
/// 10,000 regions the bounds keep about a tenth.
const REGIONS_SQL: &str = concat!(
    "SELECT r.id, r.name, ",
    crate::state::live_mode_sql!(),
    ", (",
    crate::state::live_capacity_sql!(),
    " * 100)::bigint, (s.overall_pressure * 100)::bigint, ",
    crate::state::true_remaining_sql!(),
    ", s.ai_budget_monthly
       FROM grse.region_scaling_state s
      CROSS JOIN LATERAL (SELECT g.id, g.name FROM grse.regions g
                           WHERE g.id = s.region_id AND g.active OFFSET 0) r
      WHERE $4 OR NOT COALESCE(",
    crate::state::stored_is_live_sql!(),
    "
                               AND s.scaling_mode <> 'frozen'
                               AND s.capacity_score >= $1 AND s.overall_pressure <= $2
                               AND s.ai_budget_monthly > 0
                               AND s.ai_budget_remaining::float8 * 10000 >= ($3 + 1)::float8 * s.ai_budget_monthly,
                               false)
      ORDER BY r.name, r.id"
);

/// Argument types of REGIONS_SQL.
const REGIONS_TYPES: [pgrx::PgOid; 4] = [
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::NUMERICOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::NUMERICOID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::INT8OID),
    pgrx::PgOid::BuiltIn(pgrx::PgBuiltInOids::BOOLOID),
];

/// The active regions, in name order, as the risk rules see them: all of
/// them, or (with `bounds`) those that can add to the global risk.
pub fn regions(bounds: Option<QuietBounds>) -> GResult<Vec<RiskRegion<Uuid>>> {
    let (b, all) = match bounds {
        Some(b) => (b, false),
        None => (QuietBounds::of(&grse_core::Policy::default()), true),
    };
    // (a budget bound above 100 % leaves no region quiet; the float8 test assumes one within)
    let all = all || b.budget_pct_at_least > grse_core::Centi(10_000);
    let args = [
        crate::convert::numeric(b.capacity_at_least)?.into(),
        crate::convert::numeric(b.pressure_at_most)?.into(),
        b.budget_pct_at_least.0.into(),
        all.into(),
    ];
    Spi::connect(|client| {
        let rows = crate::statements::select(client, REGIONS_SQL, &REGIONS_TYPES, &args)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let num = |i| -> GResult<grse_core::Centi> {
                Ok(grse_core::Centi(row.get::<i64>(i).or_internal()?.ok_or_else(|| internal("NULL score"))?))
            };
            let mode = row.get::<String>(3).or_internal()?.unwrap_or_default();
            let region = RiskRegion {
                id: row.get::<Uuid>(1).or_internal()?.ok_or_else(|| internal("NULL id"))?,
                name: row.get::<String>(2).or_internal()?.unwrap_or_default(),
                mode: Mode::parse(&mode).ok_or_else(|| internal(format!("unknown mode {mode}")))?,
                capacity: num(4)?,
                pressure: num(5)?,
                budget_remaining: row.get::<i64>(6).or_internal()?.unwrap_or(0),
                budget_monthly: row.get::<i64>(7).or_internal()?.unwrap_or(0),
            };
            if all || !b.holds(&region) {
                out.push(region);
            }
        }
        Ok(out)
    })
}

/// How many regions are active, and the time of the assessment (the
/// transaction's, as JSON prints it): one statement, kept.
fn active_regions_at() -> GResult<(usize, String)> {
    Spi::connect(|client| {
        let rows = crate::statements::select(
            client,
            "SELECT count(*) AS active, pg_catalog.to_json(pg_catalog.now()) #>> '{}' AS at
               FROM grse.regions WHERE active",
            &[],
            &[],
        )?;
        let row = rows.first();
        let n = row.get_by_name::<i64, _>("active").or_internal()?.unwrap_or(0);
        let at = row.get_by_name::<String, _>("at").or_internal()?.ok_or_else(|| internal("no time"))?;
        Ok((usize::try_from(n).unwrap_or(0), at))
    })
}

/// The global risk of the active regions.
fn assess() -> GResult<GlobalRisk<Uuid>> {
    let policy = crate::policy::current()?;
    // the regions within the quiet bounds add nothing (see `QuietBounds`): left out
    let regions = regions(Some(QuietBounds::of(&policy)))?;
    Ok(global_risk(&policy, &regions))
}

fn conflict_json(c: &Conflict<Uuid>, at: &str) -> Value {
    json!({
        "type": c.condition.kind.as_str(),
        "region_id": c.region_id.to_string(),
        "region_name": c.region_name,
        "severity": c.condition.severity.as_str(),
        "message": c.condition.message,
        "detected_at": at,
    })
}

/// Conflicts across regions: mode_frozen (critical); capacity_critical
/// (capacity < 20 critical, < 40 warning); budget_exceeded (budget percent
/// remaining < 10 critical, < 25 warning). Active regions, by name.
#[pg_extern(stable, parallel_safe)]
pub fn detect_cross_region_conflicts() -> Result<
    TableIterator<
        'static,
        (
            name!(type, String),
            name!(region_id, Uuid),
            name!(region_name, String),
            name!(severity, String),
            name!(message, String),
            name!(detected_at, TimestampWithTimeZone),
        ),
    >,
    ErrorReport,
> {
    let risk = assess()?;
    let at = pgrx::datetime::now();
    let rows: Vec<_> = risk
        .conflicts
        .into_iter()
        .map(|c| {
            (
                c.condition.kind.as_str().to_string(),
                c.region_id,
                c.region_name,
                c.condition.severity.as_str().to_string(),
                c.condition.message,
                at,
            )
        })
        .collect();
    Ok(TableIterator::new(rows))
}

/// The global risk as JSON: overall_risk (0-100), risk_level, conflicts,
/// recommendations, regions_assessed, assessed_at.
pub fn risk_json() -> GResult<Value> {
    let risk = assess()?;
    let (regions, at) = active_regions_at()?;
    Ok(json!({
        "overall_risk": risk.score,
        "risk_level": risk.level.as_str(),
        "conflicts": risk.conflicts.iter().map(|c| conflict_json(c, &at)).collect::<Vec<_>>(),
        "recommendations": risk.recommendations,
        "regions_assessed": regions,
        "assessed_at": at,
    }))
}

/// Global risk = min(100, 20·critical + 10·warning conflicts + Σ regions
/// (15 if capacity < 30, else 5 if < 50) + 25·frozen regions), with its level
/// (critical >= 70, high >= 50, medium >= 25, low) and recommendations.
#[pg_extern(stable, parallel_safe)]
pub fn compute_global_risk() -> GResult<crate::jsonb::Jsonb> {
    risk_json().map(crate::jsonb::Jsonb)
}

/// Writes an `alerts` row for every critical finding that has no open alert
/// yet (critical conflicts, the global risk when its level is critical, and
/// every enabled `alert_rules` rule that has held for its for_duration, as
/// alert_type = the rule's name), resolves open alerts whose finding has
/// cleared, and sends each new alert as `NOTIFY grse_alerts`. Returns the
/// number of new alerts.
#[pg_extern(volatile, parallel_unsafe)]
pub fn alert_critical_issues() -> GResult<i32> {
    let risk = assess()?;
    let mut findings: Vec<Value> = risk
        .conflicts
        .iter()
        .filter(|c| c.condition.severity == Severity::Critical)
        .map(|c| {
            json!({
                "region_id": c.region_id.to_string(),
                "alert_type": c.condition.kind.as_str(),
                "severity": "critical",
                "message": format!("{}: {}", c.region_name, c.condition.message),
                "details": {"region_name": c.region_name},
            })
        })
        .collect();
    if risk.level == RiskLevel::Critical {
        findings.push(json!({
            "region_id": null,
            "alert_type": "global_risk_critical",
            "severity": "critical",
            "message": format!("Global risk is critical ({} of 100)", risk.score),
            "details": {"overall_risk": risk.score, "recommendations": risk.recommendations},
        }));
    }
    findings.extend(Spi::connect_mut(|client| crate::alert_rules::findings(client, crate::clock::now_us()))?);
    let n = Spi::get_one_with_args::<i64>(
        "WITH f AS (
           SELECT * FROM pg_catalog.jsonb_to_recordset($1)
                    AS x(region_id uuid, alert_type text, severity text, message text, details jsonb)),
         resolved AS (
           UPDATE grse.alerts a SET resolved_at = GREATEST(pg_catalog.now(), a.created_at)
            WHERE a.resolved_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM f WHERE f.region_id IS NOT DISTINCT FROM a.region_id
                                               AND f.alert_type = a.alert_type)
           RETURNING a.id),
         ins AS (
           INSERT INTO grse.alerts (region_id, alert_type, severity, message, details)
           SELECT region_id, alert_type, severity, message, details FROM f
           ON CONFLICT (COALESCE(region_id, '00000000-0000-0000-0000-000000000000'::uuid), alert_type)
              WHERE resolved_at IS NULL DO NOTHING
           RETURNING id, region_id, alert_type, severity, message, created_at)
         SELECT count(*) FROM (
           SELECT pg_catalog.pg_notify('grse_alerts', pg_catalog.json_build_object(
                    'id', id, 'region_id', region_id, 'alert_type', alert_type, 'severity', severity,
                    'message', message, 'created_at', created_at)::text)
             FROM ins) n",
        &[JsonB(Value::Array(findings)).into()],
    )
    .or_internal()?;
    Ok(n.unwrap_or(0) as i32)
}

/// The 5-minute monitor: refreshes every active region's fatigue and mode
/// (so regions held by the mode dwell improve once it has passed, and pins
/// past their `until` end), then raises alerts. Returns what it did.
#[pg_extern(volatile, parallel_unsafe)]
pub fn run_monitor() -> GResult<JsonB> {
    let mut ids: Vec<Uuid> = regions(None)?.into_iter().map(|r| r.id).collect();
    ids.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let pins_expired = crate::statements::one::<i64>(
        "SELECT count(*) FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
          WHERE r.active AND s.pinned_until <= pg_catalog.now()",
        &[],
    )?
    .unwrap_or(0);
    crate::region::with_writes(|client| {
        // every region's state row first, never waiting long while holding some
        crate::locking::lock_every(client, &ids, crate::locking::Take::Row)?;
        for id in &ids {
            crate::scaling::refresh(client, *id)?;
        }
        Ok(())
    })?;
    let alerts = alert_critical_issues()?;
    let risk = assess()?;
    Ok(JsonB(json!({
        "regions_refreshed": ids.len(),
        "pins_expired": pins_expired,
        "alerts_raised": alerts,
        "overall_risk": risk.score,
        "risk_level": risk.level.as_str(),
    })))
}
