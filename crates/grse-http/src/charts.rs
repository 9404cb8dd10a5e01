//! Inline SVG charts (no script, no front-end build): bars for 0–100 scores and the health trend.

use maud::{html, Markup};

/// A value clamped to [0, 100] (NaN counts as 0).
pub fn clamp(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 100.0)
    }
}

/// A number with at most two decimals and no trailing zeros: 87.5, 100, 12.34.
pub fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// A horizontal bar: the track is 100 units wide, the fill `value` units, coloured by `band`.
pub fn bar(value: f64, band: &str, label: &str) -> Markup {
    let v = clamp(value);
    html! {
        svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=(label) data-value=(number(v)) {
            rect class="track" x="0" y="0" width="100" height="10" {}
            rect class={ "fill " (band) } x="0" y="0" width=(number(v)) height="10" {}
        }
    }
}

/// One snapshot of the health trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub label: String,
    pub capacity: Option<f64>,
    pub pressure: Option<f64>,
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;

fn x_of(i: usize, n: usize) -> f64 {
    let span = W - LEFT - RIGHT;
    if n <= 1 {
        LEFT + span / 2.0
    } else {
        LEFT + span * i as f64 / (n - 1) as f64
    }
}

fn y_of(v: f64) -> f64 {
    TOP + (H - TOP - BOTTOM) * (1.0 - clamp(v) / 100.0)
}

/// The polyline `points` attribute of one series (points without a value are skipped).
pub fn series(points: &[TrendPoint], pick: impl Fn(&TrendPoint) -> Option<f64>) -> String {
    points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| pick(p).map(|v| format!("{},{}", number(x_of(i, points.len())), number(y_of(v)))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Capacity and peak pressure over the snapshots, oldest left.
pub fn trend(points: &[TrendPoint]) -> Markup {
    if points.is_empty() {
        return html! { p class="empty" { "No snapshots yet: the trend appears after the first hourly snapshot." } };
    }
    let n = points.len();
    html! {
        svg class="trend" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label="health trend" data-points=(n) {
            @for level in [0.0, 25.0, 50.0, 75.0, 100.0] {
                line class="grid" x1=(LEFT) x2=(W - RIGHT) y1=(number(y_of(level))) y2=(number(y_of(level))) {}
                text class="axis" x=(LEFT - 6.0) y=(number(y_of(level) + 4.0)) text-anchor="end" { (number(level)) }
            }
            polyline class="series capacity" points=(series(points, |p| p.capacity)) {}
            polyline class="series pressure" points=(series(points, |p| p.pressure)) {}
            @for (i, p) in points.iter().enumerate() {
                @if let Some(c) = p.capacity {
                    circle class="dot capacity" cx=(number(x_of(i, n))) cy=(number(y_of(c))) r="3" {
                        title { (p.label) ": capacity " (number(c)) }
                    }
                }
                @if let Some(v) = p.pressure {
                    circle class="dot pressure" cx=(number(x_of(i, n))) cy=(number(y_of(v))) r="3" {
                        title { (p.label) ": peak pressure " (number(v)) }
                    }
                }
            }
            text class="axis" x=(LEFT) y=(H - 8.0) text-anchor="start" { (points[0].label) }
            @if n > 1 {
                text class="axis" x=(W - RIGHT) y=(H - 8.0) text-anchor="end" { (points[n - 1].label) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(87.5), "87.5");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(12.345), "12.35");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.001), "0");
    }

    #[test]
    fn bar_width_is_the_value() {
        let svg = bar(42.5, "cautious", "posting").into_string();
        assert!(svg.contains(r#"class="fill cautious" x="0" y="0" width="42.5""#), "{svg}");
        assert!(bar(130.0, "x", "l").into_string().contains(r#"width="100" height="10"></rect></svg>"#));
        assert!(bar(f64::NAN, "x", "l").into_string().contains(r#"data-value="0""#));
        // labels are escaped
        assert!(bar(1.0, "x", "<b>").into_string().contains("aria-label=\"&lt;b&gt;\""));
    }

    #[test]
    fn trend_series() {
        let pts = vec![
            TrendPoint { label: "a".into(), capacity: Some(100.0), pressure: Some(0.0) },
            TrendPoint { label: "b".into(), capacity: None, pressure: Some(50.0) },
            TrendPoint { label: "c".into(), capacity: Some(0.0), pressure: Some(100.0) },
        ];
        assert_eq!(series(&pts, |p| p.capacity), "36,10 628,172");
        assert_eq!(series(&pts, |p| p.pressure), "36,172 332,91 628,10");
        let svg = trend(&pts).into_string();
        assert!(svg.contains(r#"data-points="3""#));
        assert!(trend(&[]).into_string().contains("No snapshots yet"));
    }
}
