//! The pages, as compile-time templates (maud escapes every value): the seed's regions
//! dashboard (RegionHealthPanel) and region detail page (RegionPressureChart), the sign-in form
//! and error pages. Pure functions of the JSON the grse functions return.

use crate::charts::{self, bar, number, TrendPoint};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value;

/// Thresholds and weights of `grse.policy` the pages colour and label by.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// posting, orchestration, creative, intel
    pub weights: [f64; 4],
    /// capacity below which a region is frozen, throttled, cautious
    pub capacity_below: [f64; 3],
    /// pressure above which a region is frozen, throttled, cautious
    pub pressure_above: [f64; 3],
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            weights: [0.30, 0.25, 0.25, 0.20],
            capacity_below: [10.0, 30.0, 50.0],
            pressure_above: [90.0, 75.0, 60.0],
        }
    }
}

pub const PRESSURE_TYPES: [(&str, &str); 4] =
    [("posting", "Posting"), ("orchestration", "Orchestration"), ("creative", "Creative"), ("intel", "Intel")];

const MODES: [&str; 3] = ["frozen", "throttled", "cautious"];

impl Policy {
    /// From the policy row as JSON (`to_jsonb(grse.policy)`); missing columns keep the defaults.
    pub fn from_json(row: &Value) -> Policy {
        let d = Policy::default();
        let get = |key: &str, default: f64| num(&row[key]).unwrap_or(default);
        Policy {
            weights: [
                get("pressure_weight_posting", d.weights[0]),
                get("pressure_weight_orchestration", d.weights[1]),
                get("pressure_weight_creative", d.weights[2]),
                get("pressure_weight_intel", d.weights[3]),
            ],
            capacity_below: [
                get("frozen_capacity_below", d.capacity_below[0]),
                get("throttled_capacity_below", d.capacity_below[1]),
                get("cautious_capacity_below", d.capacity_below[2]),
            ],
            pressure_above: [
                get("frozen_pressure_above", d.pressure_above[0]),
                get("throttled_pressure_above", d.pressure_above[1]),
                get("cautious_pressure_above", d.pressure_above[2]),
            ],
        }
    }

    /// The mode band a capacity alone would put a region in (its colour).
    pub fn capacity_band(&self, capacity: f64) -> &'static str {
        MODES.iter().zip(self.capacity_below).find(|(_, t)| capacity < *t).map(|(m, _)| *m).unwrap_or("normal")
    }

    /// The mode band a pressure alone would put a region in (its colour).
    pub fn pressure_band(&self, pressure: f64) -> &'static str {
        MODES.iter().zip(self.pressure_above).find(|(_, t)| pressure > *t).map(|(m, _)| *m).unwrap_or("normal")
    }
}

/// A JSON number (or numeric string) as f64.
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Cents as money: 123456 → "1,234.56".
pub fn money(cents: &Value) -> String {
    let Some(c) = num(cents) else { return "–".into() };
    let c = c.round() as i64;
    let (sign, c) = if c < 0 { ("-", -c) } else { ("", c) };
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", c % 100)
}

/// A timestamp as `YYYY-MM-DD HH:MM` (UTC as the database wrote it).
pub fn when(v: &Value) -> String {
    let t = text(v);
    if t.len() >= 16 {
        t[..16].replace('T', " ")
    } else {
        t.to_string()
    }
}

fn score(v: &Value) -> String {
    num(v).map(number).unwrap_or_else(|| "–".into())
}

const STYLE: &str = r#"
:root { --normal:#2e9d5b; --cautious:#d9a400; --throttled:#e06c1a; --frozen:#c62828; --ink:#1c2330; --muted:#667085; --line:#e4e7ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f6f8; }
header.top { display: flex; align-items: center; gap: 1rem; padding: .7rem 1.5rem; background: #1c2330; color: #fff; }
header.top a { color: #fff; text-decoration: none; font-weight: 600; }
header.top .spacer { flex: 1; }
header.top button { background: none; border: 1px solid #667085; color: #fff; border-radius: 4px; padding: .2rem .7rem; cursor: pointer; }
main { max-width: 1200px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
section > h2 { margin-bottom: .8rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1rem; margin-bottom: 1rem; }
.card { display: block; background: #fff; border: 1px solid var(--line); border-left: 5px solid var(--normal); border-radius: 8px; padding: .9rem 1rem; color: inherit; text-decoration: none; }
.card:hover { box-shadow: 0 2px 8px rgba(0,0,0,.08); }
.card.mode-cautious { border-left-color: var(--cautious); } .card.mode-throttled { border-left-color: var(--throttled); } .card.mode-frozen { border-left-color: var(--frozen); }
.card-head { display: flex; justify-content: space-between; align-items: baseline; gap: .5rem; }
.slug { color: var(--muted); font-size: .85rem; margin-bottom: .6rem; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 600; color: #fff; background: var(--normal); }
.badge.mode-cautious, .badge.cautious { background: var(--cautious); } .badge.mode-throttled, .badge.throttled { background: var(--throttled); } .badge.mode-frozen, .badge.frozen, .badge.critical { background: var(--frozen); }
.badge.warning { background: var(--cautious); } .badge.low { background: var(--normal); } .badge.medium { background: var(--cautious); } .badge.high { background: var(--throttled); }
.metric { margin: .35rem 0; }
.metric .label { display: flex; justify-content: space-between; font-size: .85rem; color: var(--muted); }
.metric .label b { color: var(--ink); }
svg.bar { display: block; width: 100%; height: 10px; border-radius: 3px; }
svg.bar .track { fill: #edf0f3; }
svg.bar .fill.normal { fill: var(--normal); } svg.bar .fill.cautious { fill: var(--cautious); } svg.bar .fill.throttled { fill: var(--throttled); } svg.bar .fill.frozen { fill: var(--frozen); }
.facts { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin-top: .6rem; font-size: .85rem; color: var(--muted); }
.facts b { color: var(--ink); }
.sort { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin-bottom: 1rem; font-size: .9rem; }
.sort a { padding: .15rem .6rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--ink); text-decoration: none; }
.sort a.on { background: #1c2330; color: #fff; border-color: #1c2330; }
.risk { display: flex; gap: 1rem; align-items: flex-start; }
.risk ul { margin: .2rem 0 0; padding-left: 1.2rem; }
.live { font-size: .8rem; padding: .1rem .5rem; border-radius: 999px; background: #667085; }
.live.on { background: var(--normal); }
#events { font-size: .85rem; color: var(--muted); margin: 0; padding-left: 1.2rem; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.when { white-space: nowrap; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.pressure-row { display: grid; grid-template-columns: 11rem 1fr 3.5rem; gap: .8rem; align-items: center; margin: .5rem 0; }
.pressure-row .weight { color: var(--muted); font-size: .8rem; }
.pressure-row .value { text-align: right; font-variant-numeric: tabular-nums; }
svg.trend { width: 100%; height: auto; max-height: 300px; }
svg.trend .grid { stroke: #edf0f3; } svg.trend .axis { fill: var(--muted); font-size: 9px; }
svg.trend .series { fill: none; stroke-width: 2; } svg.trend .series.capacity { stroke: #2563eb; } svg.trend .series.pressure { stroke: var(--throttled); }
svg.trend .dot.capacity { fill: #2563eb; } svg.trend .dot.pressure { fill: var(--throttled); }
.legend { font-size: .85rem; color: var(--muted); } .legend .c { color: #2563eb; } .legend .p { color: var(--throttled); }
.empty { color: var(--muted); }
form.signin { display: grid; gap: .7rem; max-width: 40rem; }
form.signin textarea { width: 100%; min-height: 7rem; font: 13px monospace; padding: .5rem; }
form.signin button { justify-self: start; padding: .4rem 1.2rem; }
.error { color: var(--frozen); font-weight: 600; }
"#;

/// The live-update script: listens on /regions/events and, when something this page shows may
/// have changed, fetches the page again and swaps its `#live-content` in place (no reload).
const SCRIPT: &str = r#"
(function () {
  var content = document.getElementById('live-content');
  var badge = document.getElementById('live');
  var list = document.getElementById('events');
  var only = content.getAttribute('data-region-id');
  var busy = false, again = false, refreshed = 0;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('live-content');
        if (fresh) { content.innerHTML = fresh.innerHTML; refreshed += 1; content.setAttribute('data-refreshed', String(refreshed)); }
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  function note(text) {
    if (!list) { return; }
    var li = document.createElement('li');
    li.textContent = new Date().toLocaleTimeString() + ' ' + text;
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 8) { list.removeChild(list.lastChild); }
  }
  function nameOf(id) {
    var el = document.querySelector('[data-region-id="' + id + '"] [data-field="name"]');
    return el ? el.textContent : id;
  }
  var source = new EventSource('/regions/events');
  source.addEventListener('hello', function () { badge.textContent = 'live'; badge.className = 'live on'; });
  source.addEventListener('mode', function (e) {
    var d = JSON.parse(e.data);
    if (only && d.region_id !== only) { return; }
    note('mode: ' + nameOf(d.region_id) + ' ' + d.from + ' \u2192 ' + d.to);
    refresh();
  });
  source.addEventListener('alert', function (e) {
    var d = JSON.parse(e.data);
    if (only && d.region_id !== only) { return; }
    note(d.severity + ' alert: ' + d.message);
    refresh();
  });
  source.addEventListener('resync', refresh);
  source.addEventListener('expired', function () { source.close(); window.location.reload(); });
  source.onerror = function () { badge.textContent = 'reconnecting'; badge.className = 'live'; };
})();
"#;

/// The frame of every page.
pub fn page(title: &str, signed_in: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · grse" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header class="top" {
                    a href="/regions" { "grse" }
                    a href="/regions" { "Regions" }
                    span class="spacer" {}
                    @if signed_in {
                        span id="live" class="live" { "connecting" }
                        form method="post" action="/signout" { button type="submit" { "Sign out" } }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The sign-in form (the token goes into the HttpOnly cookie `grse_token`).
pub fn signin(message: Option<&str>) -> Markup {
    page(
        "Sign in",
        false,
        html! {
            h1 { "Sign in" }
            section {
                @if let Some(m) = message { p class="error" role="alert" { (m) } }
                form class="signin" method="post" action="/signin" {
                    label for="token" { "Paste your access token (a JWT; " code { "make dashboard" } " prints one):" }
                    textarea id="token" name="token" required autocomplete="off" spellcheck="false" {}
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub fn error_page(status: u16, message: &str) -> Markup {
    page(
        "Error",
        true,
        html! {
            h1 { "Error " (status) }
            section { p class="error" role="alert" { (message) } p { a href="/regions" { "Back to all regions" } } }
        },
    )
}

/// The sort of the dashboard, as the API takes it (`sortBy`, `order`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sort {
    pub by: Option<String>,
    pub order: Option<String>,
}

impl Sort {
    fn href(by: &str, order: &str) -> String {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("sortBy", by)
            .append_pair("order", order)
            .finish();
        format!("/regions?{q}")
    }
}

/// The /regions page: global risk, sort links, the region grid, the live event list.
pub fn regions_page(health: &Value, policy: &Policy, sort: &Sort) -> Markup {
    let by = sort.by.as_deref().unwrap_or("warning");
    let order = sort.order.as_deref().unwrap_or("desc");
    let keys = [
        ("warning", "Warning index"),
        ("capacity", "Capacity"),
        ("pressure", "Pressure"),
        ("budget", "Budget"),
        ("name", "Name"),
    ];
    page(
        "Regions",
        true,
        html! {
            h1 { "Regions" }
            nav class="sort" aria-label="sort" {
                "Sort by"
                @for (key, label) in keys {
                    a class=[(key == by).then_some("on")] href=(Sort::href(key, order)) data-sort=(key) { (label) }
                }
                "·"
                a class=[(order == "desc").then_some("on")] href=(Sort::href(by, "desc")) { "descending" }
                a class=[(order == "asc").then_some("on")] href=(Sort::href(by, "asc")) { "ascending" }
            }
            div id="live-content" {
                (risk_panel(&health["globalRisk"]))
                (grid(health, policy))
            }
            (live_events())
        },
    )
}

/// The list of live events and the script that fills it and refreshes the page.
fn live_events() -> Markup {
    html! {
        section { h2 { "Live events" } ol id="events" {} }
        script { (PreEscaped(SCRIPT)) }
    }
}

/// One 0–100 score with its label and bar, coloured by `band`.
fn metric(key: &str, label: &str, value: f64, band: &str) -> Markup {
    html! {
        div class="metric" data-metric=(key) {
            div class="label" { span { (label) } b { (number(value)) } }
            (bar(value, band, key))
        }
    }
}

fn risk_panel(risk: &Value) -> Markup {
    if risk.is_null() {
        return html! {};
    }
    let level = text(&risk["riskLevel"]);
    html! {
        section class="risk" data-risk-level=(level) {
            div {
                h2 { "Global risk" }
                p { span class={ "badge " (level) } { (level) } " " (score(&risk["overallRisk"])) " / 100" }
            }
            div {
                strong { "Recommendations" }
                ul { @for r in risk["recommendations"].as_array().into_iter().flatten() { li { (text(r)) } } }
            }
            @if let Some(conflicts) = risk["conflicts"].as_array().filter(|c| !c.is_empty()) {
                div {
                    strong { "Conflicts" }
                    ul { @for c in conflicts { li { span class={ "badge " (text(&c["severity"])) } { (text(&c["severity"])) } " " strong { (text(&c["regionName"])) } ": " (text(&c["message"])) } } }
                }
            }
        }
    }
}

/// RegionHealthPanel: one card per region, linking to its page.
pub fn grid(health: &Value, policy: &Policy) -> Markup {
    let regions = health["regions"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    html! {
        @if regions.is_empty() {
            section { p class="empty" { "No regions to show." } }
        }
        div class="grid" id="region-grid" data-count=(regions.len()) {
            @for r in regions {
                (card(r, policy))
            }
        }
    }
}

fn card(r: &Value, policy: &Policy) -> Markup {
    let id = text(&r["regionId"]);
    let mode = text(&r["scalingMode"]);
    let capacity = num(&r["capacityScore"]).unwrap_or(0.0);
    let pressure = num(&r["overallPressure"]).unwrap_or(0.0);
    let held = &r["budget"]["held"];
    html! {
        a class={ "card mode-" (mode) } href={ "/regions/" (id) } data-region-id=(id) data-slug=(text(&r["regionSlug"])) data-mode=(mode) {
            div class="card-head" {
                h2 data-field="name" { (text(&r["regionName"])) }
                span class={ "badge mode-" (mode) } data-field="mode" { (mode) }
            }
            div class="slug" { (text(&r["regionSlug"])) }
            (metric("capacity", "Capacity", capacity, policy.capacity_band(capacity)))
            (metric("pressure", "Pressure", pressure, policy.pressure_band(pressure)))
            div class="facts" {
                span data-field="budget" { "Budget " b { (score(&r["budgetPercentRemaining"])) "%" } " left" }
                span data-field="warning" { "Warning " b { (score(&r["warningIndex"])) } }
                span data-field="queue" { "Queue " b { (score(&r["jobsInQueue"])) } }
                @if !held.is_null() { span data-field="held" { "Held " b { (money(held)) } } }
            }
        }
    }
}

/// Recent mode transitions and alerts of a region (arrays of table rows as JSON).
pub struct RegionExtras<'a> {
    pub transitions: &'a Value,
    pub alerts: &'a Value,
}

/// The /regions/{id} page: RegionPressureChart (the four pressures with their weights), the
/// summary, the budget (with holds where the database reports them), the trend, transitions
/// and alerts.
pub fn region_page(answer: &Value, policy: &Policy, extras: RegionExtras<'_>) -> Markup {
    let s = &answer["summary"];
    let id = text(&s["region_id"]);
    let name = text(&s["region_name"]);
    let mode = text(&s["scaling_mode"]);
    let capacity = num(&s["capacity_score"]).unwrap_or(0.0);
    let overall = num(&s["overall_pressure"]).unwrap_or(0.0);
    let budget = &s["budget"];
    let util = &s["utilization"];
    let trend: Vec<TrendPoint> = answer["history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| TrendPoint {
            label: when(&h["createdAt"]),
            capacity: num(&h["avgCapacity"]),
            pressure: num(&h["peakPressure"]),
        })
        .collect();
    page(
        name,
        true,
        html! {
            p { a href="/regions" { "← All regions" } }
            div id="live-content" data-region-id=(id) {
                h1 data-region-id=(id) {
                    span data-field="name" { (name) } " "
                    span class={ "badge mode-" (mode) } data-field="mode" { (mode) }
                }
                p class="slug" {
                    (text(&s["region_slug"])) " · " (text(&s["country_code"])) " · " (text(&s["timezone"]))
                    " · mode since " (when(&s["mode_since"]))
                    @if let Some(pin) = s.get("pin").filter(|p| !p.is_null()) { " · pinned " (pin_text(pin)) }
                }
                section id="pressures" {
                        h2 { "Pressure" }
                        @for (i, (key, label)) in PRESSURE_TYPES.iter().enumerate() {
                            @let v = num(&s["pressures"][*key]).unwrap_or(0.0);
                            div class="pressure-row" data-pressure=(key) data-weight=(number(policy.weights[i])) {
                                div { (label) br; span class="weight" { (number(policy.weights[i] * 100.0)) "% weight" } }
                                (bar(v, policy.pressure_band(v), label))
                                div class="value" { (number(v)) }
                            }
                        }
                        div class="pressure-row" data-pressure="overall" {
                            div { strong { "Overall" } }
                            (bar(overall, policy.pressure_band(overall), "overall pressure"))
                            div class="value" { strong { (number(overall)) } }
                        }
                }
                div class="two" {
                    section id="summary" {
                        h2 { "Summary" }
                        (metric("capacity", "Capacity", capacity, policy.capacity_band(capacity)))
                        table {
                            tr { th { "Warning index" } td class="num" { (score(&s["warning_index"])) } }
                            tr { th { "Fatigue" } td class="num" { (score(&s["fatigue_score"])) } }
                            tr { th { "Active agencies" } td class="num" { (score(&util["active_agencies"])) } }
                            tr { th { "Active clients" } td class="num" { (score(&util["active_clients"])) } }
                            tr { th { "Jobs in queue" } td class="num" { (score(&util["jobs_in_queue"])) } }
                            tr { th { "Updated" } td class="num" { (when(&s["updated_at"])) } }
                        }
                    }
                    section id="budget" {
                        h2 { "Budget" }
                        div class="metric" {
                            div class="label" { span { "Remaining" } b { (score(&budget["percent_remaining"])) "%" } }
                            (bar(num(&budget["percent_remaining"]).unwrap_or(0.0), budget_band(num(&budget["percent_remaining"])), "budget remaining"))
                        }
                        table {
                            tr { th { "Monthly" } td class="num" { (money(&budget["monthly"])) } }
                            tr { th { "Remaining" } td class="num" data-field="remaining" { (money(&budget["remaining"])) } }
                            @if !budget["held"].is_null() {
                                tr { th { "Held (open holds)" } td class="num" data-field="held" { (money(&budget["held"])) } }
                            }
                            tr { th { "Spent today" } td class="num" { (money(&budget["spent_today"])) } }
                            tr { th { "Spent this month" } td class="num" { (money(&budget["spent_this_month"])) } }
                        }
                    }
                }
                section id="trend" {
                    h2 { "Health trend" }
                    p class="legend" { span class="c" { "■ capacity (average)" } " · " span class="p" { "■ pressure (peak)" } " · last " (trend.len()) " hourly snapshots" }
                    (charts::trend(&trend))
                }
                div class="two" {
                    section id="transitions" {
                        h2 { "Recent mode transitions" }
                        (transitions_table(extras.transitions))
                    }
                    section id="alerts" {
                        h2 { "Alerts" }
                        (alerts_table(extras.alerts))
                    }
                }
            }
            (live_events())
        },
    )
}

fn pin_text(pin: &Value) -> String {
    match pin {
        Value::Object(m) => {
            let mode = m.get("mode").map(text).unwrap_or("");
            match m.get("until").filter(|u| !u.is_null()) {
                Some(u) => format!("{mode} until {}", when(u)),
                None => mode.to_string(),
            }
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The colour of a budget percentage: low budget is the bad end.
fn budget_band(pct: Option<f64>) -> &'static str {
    match pct {
        Some(p) if p < 10.0 => "frozen",
        Some(p) if p < 25.0 => "throttled",
        Some(p) if p < 50.0 => "cautious",
        _ => "normal",
    }
}

fn transitions_table(rows: &Value) -> Markup {
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or(&[]);
    html! {
        @if rows.is_empty() { p class="empty" { "No mode changes recorded." } }
        @else {
            table {
                tr { th { "When" } th { "From" } th { "To" } th class="num" { "Capacity" } th class="num" { "Pressure" } th { "Reason" } }
                @for t in rows {
                    tr {
                        td class="when" { (when(&t["created_at"])) }
                        td { span class={ "badge mode-" (text(&t["from_mode"])) } { (text(&t["from_mode"])) } }
                        td { span class={ "badge mode-" (text(&t["to_mode"])) } { (text(&t["to_mode"])) } }
                        td class="num" { (score(&t["capacity"])) }
                        td class="num" { (score(&t["pressure"])) }
                        td { (text(&t["reason"])) }
                    }
                }
            }
        }
    }
}

fn alerts_table(rows: &Value) -> Markup {
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or(&[]);
    html! {
        @if rows.is_empty() { p class="empty" { "No alerts." } }
        @else {
            table {
                tr { th { "When" } th { "Severity" } th { "Alert" } th { "Resolved" } }
                @for a in rows {
                    tr {
                        td class="when" { (when(&a["created_at"])) }
                        td { span class={ "badge " (text(&a["severity"])) } { (text(&a["severity"])) } }
                        td { (text(&a["message"])) }
                        td { @if a["resolved_at"].is_null() { "open" } @else { (when(&a["resolved_at"])) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bands_follow_the_policy() {
        let p = Policy::default();
        assert_eq!(p.capacity_band(5.0), "frozen");
        assert_eq!(p.capacity_band(29.99), "throttled");
        assert_eq!(p.capacity_band(30.0), "cautious");
        assert_eq!(p.capacity_band(50.0), "normal");
        assert_eq!(p.pressure_band(90.5), "frozen");
        assert_eq!(p.pressure_band(75.0), "cautious");
        assert_eq!(p.pressure_band(60.0), "normal");
        let q = Policy::from_json(&json!({"cautious_capacity_below": "70", "pressure_weight_posting": 0.4}));
        assert_eq!(q.capacity_band(60.0), "cautious");
        assert_eq!(q.weights[0], 0.4);
        assert_eq!(q.weights[1], 0.25);
    }

    #[test]
    fn money_and_time() {
        assert_eq!(money(&json!(123456)), "1,234.56");
        assert_eq!(money(&json!(5)), "0.05");
        assert_eq!(money(&json!(100000000)), "1,000,000.00");
        assert_eq!(money(&json!(-250)), "-2.50");
        assert_eq!(money(&Value::Null), "–");
        assert_eq!(when(&json!("2026-05-01T12:34:56.789+00:00")), "2026-05-01 12:34");
    }

    fn region(id: &str, name: &str, mode: &str, capacity: f64, pressure: f64) -> Value {
        json!({"regionId": id, "regionName": name, "regionSlug": name.to_lowercase(), "scalingMode": mode,
               "capacityScore": capacity, "overallPressure": pressure, "budgetPercentRemaining": 40,
               "warningIndex": 15, "jobsInQueue": 3, "budget": {"monthly": 1000, "remaining": 400, "spentToday": 0}})
    }

    #[test]
    fn grid_has_a_linked_card_per_region_with_escaped_names() {
        let health = json!({"success": true, "regions": [region("r1", "Frankfurt", "normal", 80.0, 20.0),
                                                        region("r2", "<Sydney>", "throttled", 25.0, 80.0)]});
        let html = grid(&health, &Policy::default()).into_string();
        assert!(html.contains(r#"data-count="2""#));
        assert!(html.contains(r#"href="/regions/r1""#) && html.contains(r#"href="/regions/r2""#));
        assert!(html.contains("&lt;Sydney&gt;") && !html.contains("<Sydney>"));
        assert!(html.contains(r#"class="fill throttled" x="0" y="0" width="25""#));
        assert!(html.contains(r#"class="fill throttled" x="0" y="0" width="80""#));
        assert!(!html.contains("Held"));
        let mut held = region("r3", "Virginia", "normal", 80.0, 10.0);
        held["budget"]["held"] = json!(2500);
        let html = grid(&json!({"regions": [held]}), &Policy::default()).into_string();
        assert!(html.contains("Held <b>25.00</b>"));
    }

    #[test]
    fn region_page_shows_four_weighted_pressures() {
        let answer = json!({"success": true, "summary": {
            "region_id": "r1", "region_name": "Frankfurt", "region_slug": "eu", "scaling_mode": "cautious",
            "capacity_score": 45, "overall_pressure": 61.5,
            "pressures": {"posting": 70, "orchestration": 60, "creative": 55, "intel": 58, "overall": 61.5},
            "budget": {"monthly": 1000, "remaining": 500, "percent_remaining": 50, "held": 120},
            "utilization": {"active_agencies": 1, "active_clients": 2, "jobs_in_queue": 3}},
            "history": [{"createdAt": "2026-05-01T10:00:00+00:00", "avgCapacity": 50, "peakPressure": 60}]});
        let html =
            region_page(&answer, &Policy::default(), RegionExtras { transitions: &json!([]), alerts: &json!([]) })
                .into_string();
        for (key, weight, width) in [
            ("posting", "0.3", "70"),
            ("orchestration", "0.25", "60"),
            ("creative", "0.25", "55"),
            ("intel", "0.2", "58"),
        ] {
            assert!(html.contains(&format!(r#"data-pressure="{key}" data-weight="{weight}""#)), "{key}");
            assert!(html.contains(&format!(r#"width="{width}" height="10""#)), "{key}");
        }
        assert!(html.contains("30% weight") && html.contains("20% weight"));
        assert!(html.contains(r#"data-field="held">1.20<"#));
        assert!(html.contains(r#"data-points="1""#));
    }
}
