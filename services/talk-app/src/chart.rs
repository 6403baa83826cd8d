//! Charts as inline SVG, drawn on the server from an answer's table and chart spec.
//!
//! Hand-written rather than plotters: a bar or line chart with a value axis is a few
//! dozen elements, and this keeps the output small (a few KB), styled by the page's CSS
//! and free of fonts. The `viewBox` scales to the container, and the type sizes are
//! chosen so labels stay readable on a 360 px wide phone.

use ask::plan::ChartKind;
use ask::{Chart, Table};
use serde_json::Value;
use service::html::escape;
use std::fmt::Write as _;

const WIDTH: f64 = 360.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 34.0;
/// Series colours; the first is our own teal (3:1 or more on the light and the dark
/// background alike), the others keep contrast with it.
const COLOURS: [&str; 4] = ["#138a80", "#0969da", "#bf3989", "#8250df"];

/// A column's name for people, with its unit in brackets: `distance_km` → "Distance (km)".
pub fn column_label(column: &str) -> String {
    const UNITS: &[(&str, &str)] = &[
        ("_min_per_100m", "min/100 m"),
        ("_min_per_100yd", "min/100 yd"),
        ("_min_per_km", "min/km"),
        ("_min_per_mi", "min/mi"),
        ("_per_100m", "min/100 m"),
        ("_per_100yd", "min/100 yd"),
        ("_per_km", "min/km"),
        ("_per_mi", "min/mi"),
        ("_rpm", "rpm"),
        ("_kcal", "kcal"),
        ("_kmh", "km/h"),
        ("_mph", "mph"),
        ("_km", "km"),
        ("_mi", "mi"),
        ("_yd", "yd"),
        ("_ft", "ft"),
        ("_m", "m"),
        ("_hours", "h"),
        ("_h", "h"),
        ("_min", "min"),
        ("_s", "s"),
        ("_bpm", "bpm"),
        ("_w", "W"),
        ("_kj", "kJ"),
    ];
    let special = match column {
        "start_date_local" => Some("Date"),
        "sport_type" => Some("Sport"),
        "grp" => Some("Group"),
        _ => None,
    };
    if let Some(s) = special {
        return s.to_owned();
    }
    let (base, unit) = UNITS
        .iter()
        .find_map(|(suffix, unit)| column.strip_suffix(suffix).map(|b| (b, Some(*unit))))
        .filter(|(b, _)| !b.is_empty())
        .unwrap_or((column, None));
    let mut words = base.replace('_', " ");
    if let Some(first) = words.get(0..1) {
        let upper = first.to_uppercase();
        words.replace_range(0..1, &upper);
    }
    match unit {
        Some(u) => format!("{words} ({u})"),
        None => words,
    }
}

/// A cell as a number, when it is one (or a numeric string).
pub fn number(cell: &Value) -> Option<f64> {
    match cell {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.replace(',', "").trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}

fn label_of(cell: &Value) -> String {
    match cell {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Round tick step for a range: 1, 2 or 5 times a power of ten, about five ticks.
fn nice_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn tick_text(value: f64, step: f64) -> String {
    if step >= 1.0 {
        domain::format::group_thousands(value.round() as i64)
    } else {
        let decimals = (-step.log10()).ceil().clamp(1.0, 3.0) as usize;
        format!("{value:.decimals$}")
    }
}

/// What a screen reader says instead of the picture: how many points, the first and
/// last, and where the highest and lowest values are.
fn summary(labels: &[String], values: &[Option<f64>]) -> String {
    let points: Vec<(&str, f64)> = labels
        .iter()
        .zip(values)
        .filter_map(|(l, v)| v.map(|v| (l.as_str(), v)))
        .collect();
    let show = |v: f64| domain::format::number(v, if v.fract() == 0.0 { 0 } else { 1 });
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return "no values".into();
    };
    let high = points
        .iter()
        .fold(first, |m, p| if p.1 > m.1 { p } else { m });
    let low = points
        .iter()
        .fold(first, |m, p| if p.1 < m.1 { p } else { m });
    format!(
        "{} values from {} ({}) to {} ({}); highest {} ({}), lowest {} ({})",
        points.len(),
        first.0,
        show(first.1),
        last.0,
        show(last.1),
        show(high.1),
        high.0,
        show(low.1),
        low.0
    )
}

/// The chart as an `<svg>` element, or `None` when the spec names columns the table
/// lacks or there is nothing to draw.
pub fn svg(table: &Table, chart: &Chart) -> Option<String> {
    let x_col = table.columns.iter().position(|c| *c == chart.x)?;
    let y_cols: Vec<usize> = chart
        .y
        .iter()
        .filter_map(|y| table.columns.iter().position(|c| c == y))
        .collect();
    if y_cols.is_empty() || table.rows.is_empty() {
        return None;
    }
    let keys: Vec<String> = table
        .rows
        .iter()
        .map(|r| r.get(x_col).map(label_of).unwrap_or_default())
        .collect();
    // Dates as people write them ("7 Sep 2026"); the axis shortens them ("7 Sep").
    let labels: Vec<String> = keys.iter().map(|k| domain::format::date_key(k)).collect();
    let series: Vec<Vec<Option<f64>>> = y_cols
        .iter()
        .map(|&c| {
            table
                .rows
                .iter()
                .map(|r| r.get(c).and_then(number))
                .collect()
        })
        .collect();
    let values = series.iter().flatten().flatten().copied();
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let step = nice_step(span);
    let y_min = (lo / step).floor() * step;
    let y_max = ((hi / step).ceil() * step).max(y_min + step);

    let n = labels.len();
    let ticks: Vec<String> = keys
        .iter()
        .map(|l| domain::format::date_key_short(l).chars().take(12).collect())
        .collect();
    let longest = ticks.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    // About 6.5 units per character at the chart's type size.
    let rotate = (longest.max(1) as f64) * 6.5 * n as f64 > WIDTH - LEFT - RIGHT;
    // Slanted labels reach left of their tick: leave room for the first one.
    let left = if rotate {
        LEFT.max(longest.min(12) as f64 * 5.8)
    } else {
        LEFT
    };
    let bottom = if rotate {
        34.0 + (longest.min(12) as f64) * 5.8
    } else {
        44.0
    };
    let height = (TOP + 160.0 + bottom).round();
    let plot_bottom = height - bottom;
    let plot_w = WIDTH - left - RIGHT;
    let band = plot_w / n as f64;
    let y_of = |v: f64| plot_bottom - (v - y_min) / (y_max - y_min) * (plot_bottom - TOP);
    let x_of = |i: usize| left + band * (i as f64 + 0.5);

    let y_title = chart.y.first().map(|y| column_label(y)).unwrap_or_default();
    let x_title = column_label(&chart.x);
    let summary = summary(&labels, &series[0]);
    let mut s = String::with_capacity(4096);
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{} by {}: {}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(&y_title),
        escape(&x_title),
        escape(&summary)
    );
    let _ = write!(
        s,
        r#"<text class="axis-title" x="4" y="16">{}</text>"#,
        escape(&y_title)
    );

    // Value axis: grid lines and tick labels.
    let mut tick = y_min;
    while tick <= y_max + step / 2.0 {
        let y = y_of(tick);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            left - 6.0,
            y + 4.0,
            tick_text(tick, step)
        );
        tick += step;
    }
    let zero = y_of(0.0f64.clamp(y_min, y_max));
    let _ = write!(
        s,
        r#"<line class="axis" x1="{left}" x2="{}" y1="{zero:.1}" y2="{zero:.1}"/>"#,
        WIDTH - RIGHT
    );

    // Category axis: every k-th label so they do not collide; at most eight when
    // slanted, which stays legible on a phone.
    let every = if rotate {
        n.div_ceil(8).max(((16.0 / band).ceil()) as usize)
    } else {
        1
    }
    .max(1);
    for (i, short) in ticks.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = x_of(i);
        let y = plot_bottom + 16.0;
        if rotate {
            let _ = write!(
                s,
                r#"<text class="tick" x="{x:.1}" y="{y:.1}" text-anchor="end" transform="rotate(-45 {x:.1} {y:.1})">{}</text>"#,
                escape(short)
            );
        } else {
            let _ = write!(
                s,
                r#"<text class="tick" x="{x:.1}" y="{y:.1}" text-anchor="middle">{}</text>"#,
                escape(short)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        left + plot_w / 2.0,
        height - 4.0,
        escape(&x_title)
    );

    match chart.kind {
        ChartKind::Bar => {
            let group = band * 0.8;
            let bar = group / series.len() as f64;
            for (k, values) in series.iter().enumerate() {
                for (i, v) in values.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let (a, b) = (y_of(*v), zero);
                    let x = left + band * i as f64 + band * 0.1 + bar * k as f64;
                    let _ = write!(
                        s,
                        r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                        a.min(b),
                        (bar - 1.0).max(1.0),
                        (a - b).abs().max(0.5),
                        COLOURS[k % COLOURS.len()],
                        escape(&labels[i]),
                        v
                    );
                }
            }
        }
        ChartKind::Line => {
            for (k, values) in series.iter().enumerate() {
                let colour = COLOURS[k % COLOURS.len()];
                // A missing value breaks the line instead of dropping to zero.
                for run in values
                    .iter()
                    .enumerate()
                    .collect::<Vec<_>>()
                    .split(|(_, v)| v.is_none())
                {
                    let points: Vec<String> = run
                        .iter()
                        .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x_of(*i), y_of(v))))
                        .collect();
                    if points.len() > 1 {
                        let _ = write!(
                            s,
                            r#"<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{}"/>"#,
                            points.join(" ")
                        );
                    }
                }
                if n <= 60 {
                    for (i, v) in values.iter().enumerate() {
                        if let Some(v) = v {
                            let _ = write!(
                                s,
                                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{}: {v}</title></circle>"#,
                                x_of(i),
                                y_of(*v),
                                escape(&labels[i])
                            );
                        }
                    }
                }
            }
        }
    }

    if series.len() > 1 {
        for (k, name) in chart.y.iter().enumerate() {
            let x = WIDTH - RIGHT - 120.0 * (chart.y.len() - k) as f64;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="22" width="10" height="10" fill="{}"/><text class="tick" x="{:.1}" y="31">{}</text>"#,
                COLOURS[k % COLOURS.len()],
                x + 14.0,
                escape(&column_label(name))
            );
        }
    }
    s.push_str("</svg>");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_carry_units() {
        assert_eq!(column_label("distance_km"), "Distance (km)");
        assert_eq!(column_label("pace_min_per_mi"), "Pace (min/mi)");
        assert_eq!(column_label("pace_per_km"), "Pace (min/km)");
        assert_eq!(column_label("elevation_gain_ft"), "Elevation gain (ft)");
        assert_eq!(column_label("count"), "Count");
        assert_eq!(column_label("start_date_local"), "Date");
        assert_eq!(column_label("m"), "M");
    }

    #[test]
    fn draws_bars_with_axis_titles_and_escapes_labels() {
        let table = Table {
            columns: vec!["month".into(), "distance_km".into()],
            rows: vec![
                vec![json!("2025-01"), json!(120.5)],
                vec![json!("<b>"), json!(80)],
                vec![json!("2025-03"), Value::Null],
            ],
        };
        let chart = Chart {
            kind: ChartKind::Bar,
            x: "month".into(),
            y: vec!["distance_km".into()],
        };
        let out = svg(&table, &chart).unwrap();
        assert!(out.starts_with("<svg") && out.ends_with("</svg>"));
        assert!(out.contains("Distance (km)") && out.contains(">Month<"));
        assert_eq!(out.matches("<rect").count(), 2);
        assert!(out.contains("&lt;b&gt;") && !out.contains("<b>"));
        // Months read as people write them, never ISO.
        assert!(out.contains(">Jan 2025<") && !out.contains("2025-01"));
        let weeks = Table {
            columns: vec!["week".into(), "distance_km".into()],
            rows: vec![vec![json!("2026-09-07"), json!(30.5)]],
        };
        let weekly = Chart {
            x: "week".into(),
            ..chart.clone()
        };
        let out = svg(&weeks, &weekly).unwrap();
        assert!(
            out.contains(">7 Sep<") && out.contains("7 Sep 2026: 30.5"),
            "{out}"
        );
        let line = svg(
            &table,
            &Chart {
                kind: ChartKind::Line,
                ..chart.clone()
            },
        )
        .unwrap();
        assert!(line.contains("<polyline"));
        let missing = Chart {
            x: "nope".into(),
            ..chart
        };
        assert!(svg(&table, &missing).is_none());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(100.0), 20.0);
        assert_eq!(nice_step(7.0), 2.0);
        assert_eq!(tick_text(1500.0, 500.0), "1,500");
    }
}
