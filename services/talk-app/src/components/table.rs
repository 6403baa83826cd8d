//! An answer's table: headers with units, numbers right-aligned, and on each row of an
//! activity from Strava a "View on Strava" link, as Strava's brand guidelines word it.
//! Cells carry their raw value in `data-v` so the optional script can sort.

use crate::chart::{column_label, number};
use ask::Table;
use demo::DEMO_ACTIVITY_ID_BASE;
use leptos::prelude::*;
use serde_json::Value;

/// Decimals a number was rounded to by the engine (at most 3); whole numbers have none.
fn decimals(cell: &Value) -> usize {
    match cell {
        // 126.0 is a whole number the engine rounded to (metres of climb).
        Value::Number(n)
            if n.as_i64().is_none() && n.as_f64().is_some_and(|f| f.fract() != 0.0) =>
        {
            let repr = n.to_string();
            repr.split_once('.').map_or(0, |(_, d)| d.len()).min(3)
        }
        _ => 0,
    }
}

/// How a cell reads: integers grouped by thousands, decimals as many as the column's
/// most precise value (so "33.50" sits over "25.04"), dates and weeks as "6 Sep 2026".
fn cell_text(column: &str, cell: &Value, places: usize) -> String {
    match cell {
        Value::Null => "–".into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if places == 0 => domain::format::group_thousands(i),
            // The engine rounds to whole units where that is the precision (metres of
            // climb): print those without a trailing ".0".
            (None, Some(f)) if places == 0 && f.abs() < 1e15 => {
                domain::format::group_thousands(f.round() as i64)
            }
            (_, Some(f)) => domain::format::number(f, places),
            _ => n.to_string(),
        },
        // Names are the athlete's words, even when they look like a date.
        Value::String(s) if column == "name" => s.clone(),
        Value::String(s) => domain::format::date_key(s),
        other => other.to_string(),
    }
}

/// A link to the activity on Strava, for ids Strava gave: uploads from a Strava export
/// carry them too; demo activities have made-up ids from `DEMO_ACTIVITY_ID_BASE` up.
fn strava_link(id: &Value) -> Option<String> {
    let id = id
        .as_i64()
        .filter(|&i| i > 0 && i < DEMO_ACTIVITY_ID_BASE)?;
    Some(format!("https://www.strava.com/activities/{id}"))
}

/// The table of an answer; `about` says which answer it belongs to, so the label of
/// each table on a page differs.
#[component]
pub fn AnswerTable(table: Table, #[prop(optional, into)] about: String) -> impl IntoView {
    let id_col = table.columns.iter().position(|c| c == "id");
    let name_col = table.columns.iter().position(|c| c == "name");
    // The id is only there to build the link; alone it means nothing to a person.
    let shown: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !(Some(i) == id_col && name_col.is_some()))
        .collect();
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|c| {
            table
                .rows
                .iter()
                .any(|r| r.get(c).is_some_and(|v| v.is_number()))
        })
        .collect();
    let places: Vec<usize> = (0..table.columns.len())
        .map(|c| {
            table
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(decimals)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let labels: Vec<String> = table.columns.iter().map(|c| column_label(c)).collect();
    // A column of its own, so the link never hides in a name and sorting ignores it.
    let links: Vec<Option<String>> = table
        .rows
        .iter()
        .map(|row| id_col.and_then(|i| row.get(i)).and_then(strava_link))
        .collect();
    let any_link = links.iter().any(Option::is_some);
    let head = shown
        .iter()
        .map(|&c| {
            let class = numeric[c].then_some("num");
            view! { <th scope="col" class=class>{labels[c].clone()}</th> }
        })
        .collect_view();
    let link_head = any_link.then(
        || view! { <th scope="col" class="strava-col"><span class="sr-only">"Strava"</span></th> },
    );
    let rows = table
        .rows
        .iter()
        .zip(links)
        .map(|(row, link)| {
            let cells = shown
                .iter()
                .map(|&c| {
                    let cell = row.get(c).cloned().unwrap_or(Value::Null);
                    let text = cell_text(&table.columns[c], &cell, places[c]);
                    // Dates sort by their ISO form, which orders as time does.
                    let sort_key = number(&cell)
                        .filter(|_| numeric[c])
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| match &cell {
                            Value::String(raw) => raw.clone(),
                            _ => text.clone(),
                        });
                    let class = numeric[c].then_some("num");
                    view! { <td class=class data-v=sort_key data-label=labels[c].clone()>{text}</td> }
                })
                .collect_view();
            let link = any_link.then(|| match link {
                Some(href) => view! {
                    <td class="strava-col" data-v="">
                        <a class="view-on-strava" href=href rel="noopener" target="_blank">"View on Strava"</a>
                    </td>
                }
                .into_any(),
                // An upload's activity without a Strava id, or a demo one: nothing to view.
                None => view! { <td class="strava-col" data-v=""></td> }.into_any(),
            });
            view! { <tr>{cells}{link}</tr> }
        })
        .collect_view();
    let count = table.rows.len();
    let holds = shown
        .iter()
        .map(|&c| labels[c].as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let rows_word = if count == 1 { "row" } else { "rows" };
    let label = if about.is_empty() {
        format!("Table of {count} {rows_word}: {holds}")
    } else {
        format!("Table of {count} {rows_word} ({holds}), {about}")
    };
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            <table class="sortable">
                <caption class="sr-only">{format!("{count} rows")}</caption>
                <thead><tr>{head}{link_head}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_read_well() {
        assert_eq!(cell_text("count", &json!(12345), 0), "12,345");
        assert_eq!(cell_text("distance_km", &json!(1234.5), 1), "1,234.5");
        assert_eq!(cell_text("elevation_gain_m", &json!(126.0), 0), "126");
        // One column, one number of decimals.
        assert_eq!(decimals(&json!(25.04)), 2);
        assert_eq!(decimals(&json!(80.0)), 0);
        assert_eq!(cell_text("distance_km", &json!(33.5), 2), "33.50");
        assert_eq!(cell_text("distance_km", &json!(12), 2), "12.00");
        assert_eq!(
            cell_text("start_date_local", &json!("2023-11-02T07:10:00"), 0),
            "2 Nov 2023 07:10"
        );
        assert_eq!(cell_text("week", &json!("2026-09-07"), 0), "7 Sep 2026");
        assert_eq!(cell_text("name", &json!("2026-09-07"), 0), "2026-09-07");
        assert_eq!(cell_text("x", &Value::Null, 0), "–");
        assert_eq!(
            strava_link(&json!(42)).as_deref(),
            Some("https://www.strava.com/activities/42")
        );
        assert_eq!(strava_link(&json!(DEMO_ACTIVITY_ID_BASE + 5)), None);
    }
}
