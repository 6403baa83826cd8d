//! The one line under every answer that says how the question was read: which
//! activities, which dates, what was computed ("Runs · 1–30 Nov 2026 · count"). A
//! misreading shows at a glance, without reading the SQL.

use crate::Context;
use crate::plan::*;
use crate::time::weekday_name;
use chrono::{Datelike, NaiveDate};
use domain::dates::DateRange;
use domain::format;

/// How `plan` reads the question, parts joined by " · ".
pub fn read_as(plan: &Plan, ctx: &Context) -> String {
    let units = plan.units_or(ctx.units);
    let mut parts = vec![subject(&plan.filters, units)];
    if !plan.compare_sides.is_empty() {
        let names: Vec<String> = plan
            .compare_sides
            .iter()
            .map(|side| match (side.day_part, &side.sports) {
                (Some(part), None) => {
                    let (from, to) = part.hours();
                    format!("{}s ({from:02}:00–{to:02}:00)", part.name())
                }
                _ => subject(side, units).to_lowercase(),
            })
            .collect();
        parts[0] = format!("{} · {}", parts[0], names.join(" vs "));
    }
    if plan.summary {
        parts.push("this week vs the weekly average of the 4 weeks before".into());
        parts.push("distance".into());
        return parts.join(" · ");
    }
    if let Some((order, n)) = plan.scope() {
        parts.push(match order {
            Order::Newest if n == 1 => "the most recent one".into(),
            Order::Newest => format!("the last {n}"),
            Order::Oldest if n == 1 => "the first one".into(),
            Order::Oldest => format!("the first {n}"),
        });
    }
    parts.push(if plan.compare.is_empty() {
        period(&plan.period)
    } else {
        plan.compare
            .iter()
            .map(period)
            .collect::<Vec<_>>()
            .join(" vs ")
    });
    parts.push(measure(plan));
    if let Some(part) = &plan.share {
        parts.push(format!(
            "share that is {}",
            subject(part, units).to_lowercase()
        ));
    }
    if let Some(goal) = plan.goal {
        parts.push(format!("goal {}", format::distance(goal, units)));
    }
    if let Some(group) = plan.group {
        parts.push(
            match group {
                GroupBy::Week => "per week",
                GroupBy::Month => "per month",
                GroupBy::Year => "per year",
                GroupBy::Sport => "per sport",
                GroupBy::Weekday => "per weekday",
                GroupBy::Gear => "per gear",
            }
            .into(),
        );
    }
    for (typed, read) in &plan.respelt {
        parts.push(format!("read “{typed}” as {read}"));
    }
    parts.join(" · ")
}

/// "Runs", "Indoor rides on Tuesdays of at least 15 km", "Activities".
fn subject(f: &Filters, units: domain::Units) -> String {
    let mut out = match (&f.race, &f.sports, f.marked) {
        (Some(race), _, _) => format!("{} runs", race.label()),
        (None, Some(s), _) => s.plural.clone(),
        (None, None, Some(m)) => m.noun(false).into(),
        (None, None, None) => "activities".into(),
    };
    if let Some(t) = f.trainer {
        out = format!("{} {out}", if t { "indoor" } else { "outdoor" });
    }
    if let Some(c) = f.commute {
        out = format!("{} {out}", if c { "commute" } else { "non-commute" });
    }
    let at = |cmp: Cmp| match cmp {
        Cmp::AtLeast => "≥",
        Cmp::AtMost => "≤",
    };
    if let Some((cmp, m)) = f.distance {
        out.push_str(&format!(" {} {}", at(cmp), format::distance(m, units)));
    }
    if let Some((cmp, s)) = f.duration {
        out.push_str(&format!(" {} {}", at(cmp), format::duration_f64(s)));
    }
    if let Some((cmp, m)) = f.elevation {
        out.push_str(&format!(
            " with {} {} climbing",
            at(cmp),
            format::elevation(m, units)
        ));
    }
    if let Some(name) = &f.name {
        out.push_str(&format!(" named like “{name}”"));
    }
    if let Some(d) = f.weekday {
        out.push_str(&format!(" on {}s", weekday_name(d)));
    }
    if let Some(part) = f.day_part {
        let (from, to) = part.hours();
        out.push_str(&format!(" starting {from:02}:00–{to:02}:00"));
    }
    out.push_str(&f.extra_words());
    let mut chars = out.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// "1–30 Nov 2026", "3 Mar 2024", "all time".
fn period(p: &Period) -> String {
    match p {
        Period::All => "all time".into(),
        Period::Range { range, .. } => span(*range),
        Period::EveryYear { month, day, .. } => {
            let name = NaiveDate::from_ymd_opt(2000, *month, *day)
                .map_or_else(String::new, |d| d.format("%-d %b").to_string());
            format!("{name} every year")
        }
    }
}

fn span(r: DateRange) -> String {
    let Some(last) = r.last_day() else {
        return "no days".into();
    };
    let (a, b) = (r.start, last);
    if a == b {
        a.format("%-d %b %Y").to_string()
    } else if a.year() == b.year() && a.month() == b.month() {
        format!("{}–{} {}", a.day(), b.day(), a.format("%b %Y"))
    } else if a.year() == b.year() {
        format!("{} – {}", a.format("%-d %b"), b.format("%-d %b %Y"))
    } else {
        format!("{} – {}", a.format("%-d %b %Y"), b.format("%-d %b %Y"))
    }
}

/// "count", "total distance", "longest by distance", "list, newest first".
fn measure(plan: &Plan) -> String {
    if let Some(focus) = plan.focus {
        return format!("its {}", focus.noun());
    }
    let metric = plan.metric;
    let max = plan.aggregation == Aggregation::Max;
    let top = |what: String| match plan.limit {
        Some(n) if n > 1 => format!("top {n} {what}"),
        _ => what,
    };
    match plan.versus {
        Some(Versus::Extremes) => {
            return match metric {
                Metric::Distance | Metric::MovingTime | Metric::ElapsedTime => {
                    format!("longest vs shortest by {}", metric.noun())
                }
                Metric::Pace | Metric::Speed => "fastest vs slowest".into(),
                Metric::Elevation => "hilliest vs flattest".into(),
                m => format!("highest vs lowest {}", m.noun()),
            };
        }
        Some(Versus::TopTwo) => {
            let mut unranked = plan.clone();
            unranked.versus = None;
            return format!("{}, side by side", measure(&unranked));
        }
        None => {}
    }
    match plan.aggregation {
        Aggregation::Streak => "longest streak of active days".into(),
        Aggregation::RestDays => "rest days (days without one)".into(),
        Aggregation::Total if metric == Metric::Count => "count".into(),
        // Pace, heart rate and the like do not add up: side by side they are averages.
        Aggregation::Total if !metric.is_additive() => format!("average {}", metric.noun()),
        Aggregation::Total if plan.group.is_some() || !plan.compare.is_empty() => {
            format!("total {}", metric.noun())
        }
        Aggregation::Total => format!("total {}", metric.noun()),
        Aggregation::Average => format!("average {}", metric.noun()),
        Aggregation::Max | Aggregation::Min if plan.group.is_some() => {
            format!(
                "{} {}",
                if max { "highest" } else { "lowest" },
                metric.noun()
            )
        }
        Aggregation::Max | Aggregation::Min if plan.best_effort().is_some() => {
            top("fastest stretch within any run (best efforts), else whole runs".into())
        }
        Aggregation::Max | Aggregation::Min => {
            let what = match metric {
                Metric::Distance | Metric::MovingTime | Metric::ElapsedTime => {
                    let by = match plan.also_by {
                        Some(other) => format!("by {} and by {}", metric.noun(), other.noun()),
                        None => format!("by {}", metric.noun()),
                    };
                    format!("{} {by}", if max { "longest" } else { "shortest" })
                }
                Metric::Pace | Metric::Speed => if max { "fastest" } else { "slowest" }.into(),
                Metric::Elevation => if max { "hilliest" } else { "flattest" }.into(),
                m => format!("{} {}", if max { "highest" } else { "lowest" }, m.noun()),
            };
            top(what)
        }
        Aggregation::List => match (plan.order, plan.limit) {
            (Order::Newest, Some(1)) => "most recent".into(),
            (Order::Oldest, Some(1)) => "first".into(),
            (Order::Newest, Some(n)) => format!("last {n}"),
            (Order::Oldest, Some(n)) => format!("first {n}"),
            (_, None) => "list".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ctx, plan};

    fn read(q: &str) -> String {
        read_as(&plan(q), &ctx())
    }

    #[test]
    fn says_which_activities_dates_and_measure() {
        assert_eq!(
            read("how many runs in November"),
            "Runs · 1–30 Nov 2026 · count"
        );
        assert_eq!(
            read("average pace of my last 8 runs"),
            "Runs · the last 8 · all time · average pace"
        );
        assert_eq!(
            read("my longest ride in 2025"),
            "Rides · 1 Jan – 31 Dec 2025 · longest by distance"
        );
        assert_eq!(
            read("longest activity ever"),
            "Activities · all time · longest by distance and by moving time"
        );
        assert_eq!(
            read("weekly running distance this year"),
            "Runs · 1 Jan – 31 Dec 2026 · total distance · per week"
        );
        // A month under way (the test day is 29 November) against the same days of
        // the one before.
        assert_eq!(
            read("rides this month vs last month"),
            "Rides · 1–29 Nov 2026 vs 1–29 Oct 2026 · count"
        );
        assert_eq!(
            read("rides in 2024 vs 2025"),
            "Rides · 1 Jan – 31 Dec 2024 vs 1 Jan – 31 Dec 2025 · count"
        );
    }
}
