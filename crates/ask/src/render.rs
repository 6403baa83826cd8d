//! From query rows to the answer a person reads: a sentence with the key figures in
//! bold and the period restated, plus a table (activities, groups, comparisons) and a
//! chart spec for series. Every number is formatted by [`domain::format`] in the units
//! the plan asks for.

use crate::Context;
use crate::answer::{Answer, AnswerKind, Chart, Table};
use crate::compile::MAX_ROWS;
use crate::plan::*;
use crate::read_as::read_as;
use crate::time::{day_label, weekday_name};
use chrono::{NaiveDate, NaiveDateTime};
use domain::format::{self, PaceUnit};
use domain::{SportFamily, Units};
use serde_json::{Value, json};

/// The answer when the question was not understood: what can be asked.
pub fn not_understood() -> Answer {
    let mut answer = Answer::unsupported(
        "Sorry, I didn't understand that. I answer questions about your own Strava \
         activities, for example:\n\
         - how many runs did I do last month?\n\
         - how far did I ride this year?\n\
         - my longest run by distance in 2025\n\
         - average pace of my runs since March\n\
         - weekly running distance this year as a chart\n\
         - this month vs last month\n\
         - my 5 fastest 5K runs",
    );
    answer.read_as = "not understood".into();
    answer
}

/// Renders query rows (a JSON array of objects, see [`crate::compile`]) for a plan.
pub fn render(plan: &Plan, rows: &Value, ctx: &Context) -> Answer {
    let empty = Vec::new();
    let rows = rows.as_array().unwrap_or(&empty);
    let r = Renderer {
        plan,
        units: plan.units_or(ctx.units),
        family: plan.filters.family(),
    };
    let mut answer = if plan.aggregation == Aggregation::Streak {
        r.streak(rows)
    } else if plan.aggregation == Aggregation::RestDays {
        r.rest_days(rows.first(), ctx.today)
    } else if plan.summary {
        r.summary(rows)
    } else if !plan.compare.is_empty() || !plan.compare_sides.is_empty() {
        r.compare(rows)
    } else if let Some(group) = plan.group {
        r.groups(group, rows)
    } else if plan.returns_activities() {
        r.activities(rows)
    } else {
        r.single(rows.first())
    };
    answer.read_as = read_as(plan, ctx);
    answer
}

/// The answer to a question understood only in part: what was understood, what was
/// not, and no figure, since any figure would answer a different question.
pub fn partial(
    plan: Option<&Plan>,
    unused: &[String],
    retry: Option<&str>,
    ctx: &Context,
) -> Answer {
    let quoted: Vec<String> = unused.iter().map(|u| format!("“{u}”")).collect();
    let what = match quoted.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => "part of it".into(),
    };
    let Some(p) = plan else {
        let mut answer = Answer::unsupported(format!(
            "I can't use {what} in that question yet, so I haven't answered it. \
             Try asking about distance, time, pace, elevation or counts of your activities."
        ));
        answer.read_as = format!("not used: {}", unused.join(", "));
        return answer;
    };
    let understood = read_as(p, ctx);
    let declined = format!(
        "I can't use {what} in that question yet, so I haven't answered it: \
         an answer without it would be about something else. Without it, I read \
         the question as: {understood}."
    );
    // Asked back with the question without those words as the option, so one tap
    // answers what was understood; the reading is named first, so the tap is a choice.
    let mut answer = match retry {
        Some(q) => Answer::clarify(&format!("{declined} Ask that instead?"), &[q.to_string()]),
        None => Answer::unsupported(format!(
            "{declined} Ask again without that part if that is what you want."
        )),
    };
    answer.read_as = format!("{understood} · not used: {}", unused.join(", "));
    answer
}

#[derive(Clone, Copy)]
struct Renderer<'a> {
    plan: &'a Plan,
    units: Units,
    family: Option<SportFamily>,
}

fn num(row: &Value, key: &str) -> Option<f64> {
    row.get(key)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
}

/// The local day an activity row started, as people read it: "3 Mar 2024".
fn activity_day(row: &Value) -> String {
    text_of(row, "start_date_local")
        .parse::<NaiveDateTime>()
        .map(|d| day_label(d.date()))
        .unwrap_or_default()
}

fn text_of<'v>(row: &'v Value, key: &str) -> &'v str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

fn round(v: f64, places: i32) -> Value {
    let scale = 10f64.powi(places);
    json!((v * scale).round() / scale)
}

fn bold(s: &str) -> String {
    format!("**{s}**")
}

/// Joins words and drops empty pieces: ("runs", "", "in 2023") -> "runs in 2023".
fn phrase(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Renderer<'_> {
    fn noun(&self, n: i64) -> String {
        let f = &self.plan.filters;
        let one = n == 1;
        let base = match (&f.sports, f.race) {
            (_, Some(race)) => format!("{} run{}", race.label(), if one { "" } else { "s" }),
            (Some(s), None) => {
                if one {
                    s.singular.clone()
                } else {
                    s.plural.clone()
                }
            }
            (None, None) => match f.marked {
                Some(m) => m.noun(one).to_string(),
                None => if one { "activity" } else { "activities" }.to_string(),
            },
        };
        let mut out = base;
        let mut extra = Vec::new();
        if f.commute == Some(true) {
            extra.push("commute".to_string());
        }
        if let Some(t) = f.trainer {
            extra.push(if t { "indoor" } else { "outdoor" }.to_string());
        }
        if !extra.is_empty() {
            out = format!("{} {out}", extra.join(" "));
        }
        if let Some(name) = &f.name {
            out.push_str(&format!(" named like “{name}”"));
        }
        if let Some((cmp, m)) = f.distance {
            let w = if cmp == Cmp::AtLeast {
                "at least"
            } else {
                "at most"
            };
            out.push_str(&format!(" of {w} {}", format::distance(m, self.units)));
        }
        if let Some((cmp, s)) = f.duration {
            let w = if cmp == Cmp::AtLeast {
                "at least"
            } else {
                "at most"
            };
            out.push_str(&format!(" lasting {w} {}", format::duration_f64(s)));
        }
        if let Some((cmp, m)) = f.elevation {
            let w = if cmp == Cmp::AtLeast {
                "at least"
            } else {
                "at most"
            };
            out.push_str(&format!(
                " with {w} {} of climbing",
                format::elevation(m, self.units)
            ));
        }
        if let Some(d) = f.weekday {
            out.push_str(&format!(" on {}s", weekday_name(d)));
        }
        out.push_str(&f.extra_words());
        if let Some(part) = f.day_part {
            out.push_str(match part {
                DayPart::Night => " at night",
                DayPart::Morning => " in the morning",
                DayPart::Afternoon => " in the afternoon",
                DayPart::Evening => " in the evening",
            });
        }
        out
    }

    fn period(&self) -> &str {
        self.plan.period.label()
    }

    /// "You have no runs in 2023."
    fn none(&self) -> Answer {
        Answer::text(format!(
            "You have no {}.",
            phrase(&[&self.noun(0), self.period()])
        ))
    }

    /// The pace unit when a speed is shown as pace.
    fn pace_unit(&self) -> Option<PaceUnit> {
        let family = self.family.unwrap_or(SportFamily::Foot);
        match self.plan.metric {
            Metric::Pace => PaceUnit::for_family(family, self.units)
                .or_else(|| PaceUnit::for_family(SportFamily::Foot, self.units)),
            Metric::Speed => self
                .family
                .and_then(|f| PaceUnit::for_family(f, self.units)),
            _ => None,
        }
    }

    /// A metric value for a sentence: "12.34 km", "1:02:03", "5:03 /km".
    fn show(&self, metric: Metric, v: f64) -> String {
        let u = self.units;
        match metric {
            Metric::Count | Metric::Kudos => format::group_thousands(v.round() as i64),
            Metric::Distance if self.plan.aggregation == Aggregation::Total => {
                format::total_distance_for(self.family.unwrap_or(SportFamily::Other), v, u)
            }
            Metric::Distance => {
                format::distance_for(self.family.unwrap_or(SportFamily::Other), v, u)
            }
            Metric::MovingTime | Metric::ElapsedTime => format::duration_f64(v),
            Metric::Elevation => format::elevation(v, u),
            Metric::Pace | Metric::Speed => match self.pace_unit() {
                Some(p) => format::pace(v, p),
                None => format::speed(v, u),
            },
            Metric::HeartRate | Metric::MaxHeartRate => format!("{} bpm", format::number(v, 0)),
            Metric::Cadence => format!("{} rpm", format::number(v, 0)),
            Metric::Power => format!("{} W", format::number(v, 0)),
            Metric::Calories => format!("{} kcal", format::number(v, 0)),
        }
    }

    /// A metric value for a table or chart: its column name and a JSON number.
    fn cell(&self, metric: Metric, v: Option<f64>) -> (String, Value) {
        let u = self.units;
        let swim = self.family == Some(SportFamily::Swim);
        let val = |x: Option<f64>, f: &dyn Fn(f64) -> Value| x.map_or(Value::Null, f);
        match metric {
            Metric::Count => ("count".into(), val(v, &|x| json!(x.round() as i64))),
            Metric::Kudos => ("kudos".into(), val(v, &|x| json!(x.round() as i64))),
            Metric::Distance if swim => (
                format!("distance_{}", u.swim_label()),
                val(v, &|x| round(x / u.metres_per_swim_unit(), 0)),
            ),
            Metric::Distance => (
                format!("distance_{}", u.distance_label()),
                val(v, &|x| round(x / u.metres_per_distance_unit(), 2)),
            ),
            Metric::MovingTime => ("moving_time_h".into(), val(v, &|x| round(x / 3600.0, 2))),
            Metric::ElapsedTime => ("elapsed_time_h".into(), val(v, &|x| round(x / 3600.0, 2))),
            Metric::Elevation => (
                format!("elevation_gain_{}", u.elevation_label()),
                val(v, &|x| round(x / u.metres_per_elevation_unit(), 0)),
            ),
            Metric::Pace | Metric::Speed => match self.pace_unit() {
                Some(p) => (
                    format!("pace_min_per_{}", &p.label()[1..]),
                    val(v, &|x| {
                        format::pace_seconds(x, p).map_or(Value::Null, |s| round(s / 60.0, 2))
                    }),
                ),
                None => (
                    format!("speed_{}", u.speed_label().replace("/", "")),
                    val(v, &|x| round(x * u.speed_factor(), 1)),
                ),
            },
            Metric::HeartRate => ("avg_heartrate_bpm".into(), val(v, &|x| round(x, 0))),
            Metric::MaxHeartRate => ("max_heartrate_bpm".into(), val(v, &|x| round(x, 0))),
            Metric::Cadence => ("avg_cadence_rpm".into(), val(v, &|x| round(x, 0))),
            Metric::Power => ("avg_power_w".into(), val(v, &|x| round(x, 0))),
            Metric::Calories => ("calories_kcal".into(), val(v, &|x| round(x, 0))),
        }
    }

    fn single(&self, row: Option<&Value>) -> Answer {
        let n = row.and_then(|r| num(r, "n")).unwrap_or(0.0) as i64;
        if n == 0 {
            return self.none();
        }
        let metric = self.plan.metric;
        let noun = self.noun(n);
        let period = self.period();
        if let Some(part) = &self.plan.share {
            let whole = row.and_then(|r| num(r, "value")).unwrap_or(0.0);
            return self.share(part, row, n, whole);
        }
        if metric == Metric::Count {
            return Answer::text(format!(
                "{}.",
                phrase(&[&bold(&n.to_string()), &noun, period])
            ));
        }
        let known = row.and_then(|r| num(r, "known")).unwrap_or(n as f64) as i64;
        let Some(v) = row.and_then(|r| num(r, "value")).filter(|_| known > 0) else {
            return self.not_recorded(n);
        };
        let how = match self.plan.aggregation {
            Aggregation::Total if metric.is_additive() => "total",
            Aggregation::Max => "highest",
            Aggregation::Min => "lowest",
            _ => "average",
        };
        let over = match self.plan.scope() {
            Some((Order::Newest, _)) => format!("your last {}", bold(&format::group_thousands(n))),
            Some((Order::Oldest, _)) => format!("your first {}", bold(&format::group_thousands(n))),
            None => bold(&format::group_thousands(n)),
        };
        if let Some(goal) = self.plan.goal {
            let left = goal - v;
            let rest = if left > 0.0 {
                format!("{} to go", bold(&self.show(metric, left)))
            } else {
                format!("goal reached, {} over", bold(&self.show(metric, -left)))
            };
            return Answer::text(format!(
                "{} of your {} goal so far over {}: {rest}.",
                bold(&self.show(metric, v)),
                self.show(metric, goal),
                phrase(&[&bold(&format::group_thousands(n)), &noun, period])
            ));
        }
        // Figures some activities lack are over the ones that have them, and say so.
        let partly = if known < n {
            format!(" ({known} of them recorded {})", metric.noun())
        } else {
            String::new()
        };
        Answer::text(format!(
            "{} {how} {} over {}{partly}.",
            bold(&self.show(metric, v)),
            metric.noun(),
            phrase(&[&over, &noun, period])
        ))
    }

    /// "43% of your rides were commutes (30 of 70)".
    fn share(&self, part: &Filters, row: Option<&Value>, n: i64, whole: f64) -> Answer {
        let metric = self.plan.metric;
        let part_value = row
            .and_then(|r| {
                if metric == Metric::Count {
                    num(r, "part_n")
                } else {
                    num(r, "part_value")
                }
            })
            .unwrap_or(0.0);
        let pct = if whole > 0.0 {
            part_value / whole * 100.0
        } else {
            0.0
        };
        let part_noun = Renderer {
            plan: &Plan {
                filters: Filters {
                    sports: part.sports.clone().or(self.plan.filters.sports.clone()),
                    ..part.clone()
                },
                ..self.plan.clone()
            },
            ..*self
        }
        .noun(2);
        let of = if metric == Metric::Count {
            format!(
                "{} of {}",
                format::group_thousands(part_value as i64),
                format::group_thousands(n)
            )
        } else {
            format!(
                "{} of {}",
                self.show(metric, part_value),
                self.show(metric, whole)
            )
        };
        let what = if metric == Metric::Count {
            phrase(&[&self.noun(n), self.period()])
        } else {
            phrase(&[metric.noun(), "of your", &self.noun(n), self.period()])
        };
        Answer::text(format!(
            "{} of your {what} {} {part_noun} ({of}).",
            bold(&format!("{}%", format::number(pct, 0))),
            if metric == Metric::Count {
                "were"
            } else {
                "was"
            },
        ))
    }

    /// A figure Strava did not record for any of the activities: not in the data,
    /// which is not the same as zero.
    fn not_recorded(&self, n: i64) -> Answer {
        let metric = self.plan.metric;
        Answer::unsupported(format!(
            "That is not in your data: none of your {} has {} recorded by Strava, so I \
             can't give a figure (it would not be zero, just unknown).",
            phrase(&[&format::group_thousands(n), &self.noun(n), self.period()]),
            metric.noun()
        ))
    }

    /// The column shown for how fast an activity went, if the sports agree on one.
    fn activity_table(&self, rows: &[Value]) -> Table {
        let u = self.units;
        let family = self.family;
        let mut columns: Vec<String> = ["id", "name", "sport_type", "start_date_local"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (dist_col, _) = self.cell(Metric::Distance, None);
        columns.push(dist_col);
        columns.push("moving_time".into());
        let pace = family.and_then(|f| PaceUnit::for_family(f, u));
        let speed_col = match (pace, family) {
            (Some(p), _) => Some(format!("pace_per_{}", &p.label()[1..])),
            (None, Some(SportFamily::Cycle)) => {
                Some(format!("speed_{}", u.speed_label().replace("/", "")))
            }
            _ if self.plan.metric.is_speed() => {
                Some(format!("speed_{}", u.speed_label().replace("/", "")))
            }
            _ => None,
        };
        if let Some(c) = &speed_col {
            columns.push(c.clone());
        }
        let (elev_col, _) = self.cell(Metric::Elevation, None);
        columns.push(elev_col);
        let extra = match self.plan.metric {
            m @ (Metric::HeartRate
            | Metric::MaxHeartRate
            | Metric::Cadence
            | Metric::Power
            | Metric::Kudos
            | Metric::Calories
            | Metric::ElapsedTime) => Some(m),
            _ => None,
        };
        if let Some(m) = extra {
            columns.push(self.cell(m, None).0);
        }
        let table_rows = rows
            .iter()
            .map(|r| {
                let mut cells = vec![
                    r.get("id").cloned().unwrap_or(Value::Null),
                    json!(text_of(r, "name")),
                    json!(text_of(r, "sport_type")),
                    json!(text_of(r, "start_date_local")),
                    self.cell(Metric::Distance, num(r, "distance_m")).1,
                    json!(format::duration_f64(
                        num(r, "moving_time_s").unwrap_or(-1.0)
                    )),
                ];
                let speed = num(r, "average_speed_mps").unwrap_or(0.0);
                match (&speed_col, pace) {
                    (Some(_), Some(p)) => cells.push(json!(
                        format::pace(speed, p)
                            .trim_end_matches(p.label())
                            .trim()
                            .to_string()
                    )),
                    (Some(_), None) => cells.push(round(speed * u.speed_factor(), 1)),
                    _ => {}
                }
                cells.push(
                    self.cell(Metric::Elevation, num(r, "total_elevation_gain_m"))
                        .1,
                );
                if let Some(m) = extra {
                    let key = match m {
                        Metric::HeartRate => "average_heartrate",
                        Metric::MaxHeartRate => "max_heartrate",
                        Metric::Cadence => "average_cadence",
                        Metric::Power => "average_watts",
                        Metric::Kudos => "kudos_count",
                        Metric::Calories => "calories",
                        _ => "elapsed_time_s",
                    };
                    cells.push(self.cell(m, num(r, key)).1);
                }
                cells
            })
            .collect();
        Table {
            columns,
            rows: table_rows,
        }
    }

    fn activities(&self, rows: &[Value]) -> Answer {
        if rows.is_empty() {
            return self.none();
        }
        let plan = self.plan;
        let more =
            plan.aggregation == Aggregation::List && plan.limit.is_none() && rows.len() > MAX_ROWS;
        let rows = &rows[..rows.len().min(MAX_ROWS)];
        let n = rows.len() as i64;
        let first = &rows[0];
        let name = text_of(first, "name");
        let date = activity_day(first);
        let period = self.period();
        if let Some(focus) = plan.focus
            && n == 1
        {
            return self.focused(focus, first);
        }
        if plan.also_by.is_some() {
            return self.both_readings(rows);
        }
        if plan.versus.is_some() {
            return self.versus(rows);
        }
        let text = match plan.aggregation {
            Aggregation::Max | Aggregation::Min => {
                let which = self.superlative();
                let shown = num(first, Metric::column(plan.metric))
                    .map(|v| self.show(plan.metric, v))
                    .unwrap_or_else(|| format::MISSING.to_string());
                let time = format::duration_f64(num(first, "moving_time_s").unwrap_or(-1.0));
                let value = if plan.filters.race.is_some() && plan.metric.is_speed() {
                    // A race is told by its time; the pace follows.
                    format!("{} ({})", bold(&time), bold(&shown))
                } else if plan.metric == Metric::Distance {
                    // The longest by distance, with the time it took.
                    format!("{} in {}", bold(&shown), bold(&time))
                } else {
                    bold(&shown)
                };
                if let Some(race) = plan.best_effort() {
                    // Which the figure is: a stretch within a run, or a whole run.
                    let within = text_of(first, "basis") == "effort";
                    let what = if within {
                        format!("{} within any run", race.label())
                    } else {
                        format!("run of about {}", race.label())
                    };
                    let mut text = if n == 1 {
                        format!(
                            "Your fastest {} was {value}, in {} on {}",
                            phrase(&[&what, period]),
                            bold(name),
                            bold(&date)
                        )
                    } else {
                        format!(
                            "Your {n} fastest {}: the top one is {value}, in {} on {}",
                            phrase(&[&what, period]),
                            bold(name),
                            bold(&date)
                        )
                    };
                    if within {
                        let run = num(first, "activity_distance_m")
                            .map(|m| format::distance(m, self.units))
                            .unwrap_or_default();
                        text.push_str(&format!(" (a {run} run)."));
                    } else {
                        text.push_str(
                            ". No best efforts within longer runs are stored for you, so whole runs of about that distance are compared.",
                        );
                    }
                    text
                } else if n == 1 {
                    format!(
                        "Your {} was {} on {}: {value}.",
                        phrase(&[&which, &self.noun(1), period]),
                        bold(name),
                        bold(&date),
                    )
                } else {
                    format!(
                        "Your {} {}: the top one is {} on {} with {value}.",
                        n,
                        phrase(&[&which, &self.noun(n), period]),
                        bold(name),
                        bold(&date),
                    )
                }
            }
            _ if plan.limit == Some(1) => {
                let which = if plan.order == Order::Newest {
                    "most recent"
                } else {
                    "first"
                };
                let dist = num(first, "distance_m").unwrap_or(0.0);
                let detail = if dist > 0.0 {
                    format!(
                        ": {}",
                        bold(&format::distance_for(
                            self.family.unwrap_or(SportFamily::Other),
                            dist,
                            self.units
                        ))
                    )
                } else {
                    String::new()
                };
                format!(
                    "Your {} was {} on {}{}.",
                    phrase(&[which, &self.noun(1), period]),
                    bold(name),
                    bold(&date),
                    detail
                )
            }
            _ if plan.limit.is_some() => {
                let which = if plan.order == Order::Newest {
                    "most recent"
                } else {
                    "first"
                };
                format!("Your {} {n} {}:", which, phrase(&[&self.noun(n), period]))
            }
            _ => {
                // The count is of every match; the table holds at most MAX_ROWS.
                let total = num(first, "total").map_or(n, |t| t as i64);
                let more_note = if more {
                    format!(" (showing the first {MAX_ROWS})")
                } else {
                    String::new()
                };
                format!(
                    "{}{more_note}.",
                    phrase(&[
                        &bold(&format::group_thousands(total)),
                        &self.noun(total),
                        period
                    ])
                )
            }
        };
        let table = self.activity_table(rows);
        let chart = plan.chart.map(|kind| Chart {
            kind,
            x: "start_date_local".into(),
            y: vec![table.columns[4].clone()],
        });
        Answer {
            kind: AnswerKind::Table,
            text,
            table: Some(table),
            chart,
            sql: None,
            read_as: String::new(),
        }
    }

    /// "and its duration?" about the one activity of the previous answer.
    fn focused(&self, metric: Metric, row: &Value) -> Answer {
        let name = text_of(row, "name");
        let date = activity_day(row);
        let text = match num(row, metric.column()).filter(|_| metric != Metric::Count) {
            Some(v) => format!(
                "The {} of {} on {} was {}.",
                metric.noun(),
                bold(name),
                bold(&date),
                bold(&self.show(metric, v))
            ),
            None => {
                return Answer::unsupported(format!(
                    "That is not in your data: Strava recorded no {} for {} on {}.",
                    metric.noun(),
                    bold(name),
                    bold(&date)
                ));
            }
        };
        Answer::table(text, self.activity_table(std::slice::from_ref(row)))
    }

    /// Two activities side by side: each named, then how the first differs.
    fn versus(&self, rows: &[Value]) -> Answer {
        let period = self.period();
        let noun = self.noun(1);
        let (first, second) = self.versus_labels();
        // Each named with the measure it was picked by (the distance, for a date order).
        let measure = match self.plan.aggregation {
            Aggregation::List => Metric::Distance,
            _ => self.plan.metric,
        };
        let named = |row: &Value| {
            let value = num(row, measure.column())
                .map(|v| format!(" ({})", bold(&self.show(measure, v))))
                .unwrap_or_default();
            format!(
                "{} on {}{value}",
                bold(text_of(row, "name")),
                bold(&activity_day(row))
            )
        };
        let distinct = rows.len() == 2 && rows[0].get("id") != rows[1].get("id");
        let (text, shown) = if distinct {
            let diffs = self.differences(&rows[0], &rows[1]);
            let diffs = if diffs.is_empty() {
                "the same on every measure".to_string()
            } else {
                diffs.join(", ")
            };
            (
                format!(
                    "Your {}, {}, against {second}, {}: {diffs}.",
                    phrase(&[first, &noun, period]),
                    named(&rows[0]),
                    named(&rows[1]),
                ),
                rows,
            )
        } else {
            (
                format!(
                    "You have only one {}, so there is nothing to set beside it: {}.",
                    phrase(&[&noun, period]),
                    named(&rows[0])
                ),
                &rows[..1],
            )
        };
        Answer::table(text, self.activity_table(shown))
    }

    /// What the two activities of a comparison are called: "fastest" and "the slowest",
    /// "last" and "the one before".
    fn versus_labels(&self) -> (&'static str, &'static str) {
        let plan = self.plan;
        let max = plan.aggregation == Aggregation::Max;
        let ranked = |top: &'static str, bottom: &'static str, second: &'static str| match (
            plan.versus,
            max,
        ) {
            (Some(Versus::Extremes), _) => (top, bottom),
            (_, true) => (top, second),
            (_, false) => (bottom, second),
        };
        match plan.aggregation {
            Aggregation::List if plan.order == Order::Newest => ("last", "the one before"),
            Aggregation::List => ("first", "the one after"),
            _ => match plan.metric {
                Metric::Distance | Metric::MovingTime | Metric::ElapsedTime => {
                    ranked("longest", "the shortest", "the next one")
                }
                Metric::Pace | Metric::Speed => ranked("fastest", "the slowest", "the next one"),
                Metric::Elevation => ranked("hilliest", "the flattest", "the next one"),
                _ => ranked("highest", "the lowest", "the next one"),
            },
        }
    }

    /// How `a` differs from `b`, measure by measure, skipping what either lacks:
    /// "**3.10 km longer**", "**0:12 /km faster**".
    fn differences(&self, a: &Value, b: &Value) -> Vec<String> {
        let family = self.family.unwrap_or(SportFamily::Other);
        let mut out = Vec::new();
        let mut say = |text: String| out.push(bold(&text));
        let both = |key: &str| Some((num(a, key)?, num(b, key)?));
        if let Some((x, y)) = both("distance_m")
            && (x - y).abs() >= 1.0
        {
            let w = if x > y { "longer" } else { "shorter" };
            say(format!(
                "{} {w}",
                format::distance_for(family, (x - y).abs(), self.units)
            ));
        }
        if let Some((x, y)) = both("moving_time_s")
            && (x - y).abs() >= 1.0
        {
            let w = if x > y { "more" } else { "less" };
            say(format!(
                "{} {w} moving time",
                format::duration_f64((x - y).abs())
            ));
        }
        if let Some((x, y)) = both("average_speed_mps")
            && x > 0.0
            && y > 0.0
        {
            match PaceUnit::for_family(family, self.units) {
                Some(unit) => {
                    let (px, py) = (format::pace_seconds(x, unit), format::pace_seconds(y, unit));
                    if let (Some(px), Some(py)) = (px, py)
                        && (px - py).abs() >= 1.0
                    {
                        let w = if px < py { "faster" } else { "slower" };
                        say(format!(
                            "{} {} {w}",
                            format::duration_f64((px - py).abs()),
                            unit.label()
                        ));
                    }
                }
                None if (x - y).abs() * self.units.speed_factor() >= 0.05 => {
                    let w = if x > y { "faster" } else { "slower" };
                    say(format!("{} {w}", format::speed((x - y).abs(), self.units)));
                }
                None => {}
            }
        }
        if let Some((x, y)) = both("total_elevation_gain_m")
            && (x - y).abs() >= 1.0
        {
            let w = if x > y { "more" } else { "less" };
            say(format!(
                "{} {w} climbing",
                format::elevation((x - y).abs(), self.units)
            ));
        }
        if let Some((x, y)) = both("average_heartrate")
            && (x - y).abs() >= 0.5
        {
            let w = if x > y { "higher" } else { "lower" };
            say(format!(
                "{} bpm {w} average heart rate",
                format::number((x - y).abs(), 0)
            ));
        }
        out
    }

    /// "My longest activity": the top one by distance and by time, which may be the same.
    fn both_readings(&self, rows: &[Value]) -> Answer {
        let describe = |row: &Value| {
            let date = activity_day(row);
            let dist = num(row, "distance_m").unwrap_or(0.0);
            let time = num(row, "moving_time_s").unwrap_or(0.0);
            format!(
                "{} on {} ({}, {})",
                bold(text_of(row, "name")),
                bold(&date),
                bold(&format::distance(dist, self.units)),
                bold(&format::duration_f64(time))
            )
        };
        let period = self.period();
        let word = "longest";
        let same = rows.len() == 2 && rows[0].get("id") == rows[1].get("id");
        let (text, shown) = if same || rows.len() == 1 {
            (
                format!(
                    "Your {} was {}: the longest by both distance and time.",
                    phrase(&[word, &self.noun(1), period]),
                    describe(&rows[0])
                ),
                &rows[..1],
            )
        } else {
            // The readings differ: ask which was meant, showing both.
            let what = phrase(&[word, &self.noun(1), period]);
            let text = format!(
                "Longest by distance or by time? By distance your {what} was {}; by time it \
                 was {}. Which did you mean?",
                describe(&rows[0]),
                describe(&rows[1])
            );
            let noun = self.noun(1);
            let options = [
                format!("{word} {noun} by distance {period}"),
                format!("{word} {noun} by time {period}"),
            ]
            .map(|o| o.trim().to_string());
            return Answer::clarify(&text, &options);
        };
        Answer::table(text, self.activity_table(shown))
    }

    fn superlative(&self) -> String {
        let max = self.plan.aggregation == Aggregation::Max;
        let s = match self.plan.metric {
            Metric::Distance => {
                if max {
                    "longest (by distance)"
                } else {
                    "shortest (by distance)"
                }
            }
            Metric::MovingTime => {
                if max {
                    "longest (by moving time)"
                } else {
                    "shortest (by moving time)"
                }
            }
            Metric::ElapsedTime => {
                if max {
                    "longest (by elapsed time)"
                } else {
                    "shortest (by elapsed time)"
                }
            }
            Metric::Pace | Metric::Speed => {
                if max {
                    "fastest"
                } else {
                    "slowest"
                }
            }
            Metric::Elevation => {
                if max {
                    "hilliest"
                } else {
                    "flattest"
                }
            }
            m => return format!("{} {}", if max { "highest" } else { "lowest" }, m.noun()),
        };
        s.to_string()
    }

    fn value_column(&self) -> String {
        self.cell(self.plan.metric, None).0
    }

    fn groups(&self, group: GroupBy, rows: &[Value]) -> Answer {
        let total_n: f64 = rows.iter().filter_map(|r| num(r, "n")).sum();
        if rows.is_empty() || total_n == 0.0 {
            return self.none();
        }
        if self.plan.metric.is_nullable() && rows.iter().all(|r| num(r, "value").is_none()) {
            return self.not_recorded(total_n as i64);
        }
        let more = rows.len() > MAX_ROWS;
        // The query takes the latest periods; keep the latest 200 of them.
        let rows = &rows[rows.len().saturating_sub(MAX_ROWS)..];
        let metric = self.plan.metric;
        let value_col = self.value_column();
        let mut columns = vec![group.column().to_string(), value_col.clone()];
        if metric != Metric::Count {
            columns.push("count".into());
        }
        // Sports and gear read as a table of volumes: the distance goes alongside.
        let with_distance =
            matches!(group, GroupBy::Sport | GroupBy::Gear) && metric != Metric::Distance;
        if with_distance {
            columns.push(self.cell(Metric::Distance, None).0);
        }
        let table_rows: Vec<Vec<Value>> = rows
            .iter()
            .map(|r| {
                let mut v = vec![
                    json!(text_of(r, "grp")),
                    self.cell(metric, num(r, "value")).1,
                ];
                if metric != Metric::Count {
                    v.push(json!(num(r, "n").unwrap_or(0.0) as i64));
                }
                if with_distance {
                    v.push(self.cell(Metric::Distance, num(r, "distance_m")).1);
                }
                v
            })
            .collect();
        let unit = match group {
            GroupBy::Week => "week",
            GroupBy::Month => "month",
            GroupBy::Year => "year",
            GroupBy::Sport => "sport",
            GroupBy::Weekday => "weekday",
            GroupBy::Gear => "gear",
        };
        let best = rows
            .iter()
            .filter_map(|r| num(r, "value").map(|v| (r, v)))
            .filter(|(r, _)| num(r, "n").unwrap_or(0.0) > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let n_all = total_n as i64;
        let title = if metric == Metric::Count {
            format!("{} per {unit}", capitalised(&self.noun(2)))
        } else {
            format!(
                "{} per {unit} for {}",
                capitalised(metric.noun()),
                self.noun(2)
            )
        };
        let mut text = phrase(&[&title, self.period()]);
        text.push(':');
        if metric.is_additive() && self.plan.aggregation == Aggregation::Total {
            let sum: f64 = rows.iter().filter_map(|r| num(r, "value")).sum();
            let avg = sum / rows.len().max(1) as f64;
            let avg_text = if metric == Metric::Count {
                format::number(avg, 1)
            } else {
                self.show(metric, avg)
            };
            if matches!(group, GroupBy::Week | GroupBy::Month | GroupBy::Year) {
                text.push_str(&format!(
                    " total {}, on average {} per {unit};",
                    bold(&self.show(metric, sum)),
                    bold(&avg_text)
                ));
            } else {
                text.push_str(&format!(" total {};", bold(&self.show(metric, sum))));
            }
        }
        if let Some((r, v)) = best {
            let label = text_of(r, "grp");
            let most = if metric == Metric::Count {
                "most"
            } else if metric.is_speed() {
                "fastest"
            } else {
                "highest"
            };
            text.push_str(&format!(
                " {most} {} with {}",
                bold(&format::date_key(label)),
                bold(&self.show(metric, v))
            ));
            if metric != Metric::Count {
                text.push_str(&format!(" ({} {} in all)", n_all, self.noun(n_all)));
            }
            text.push('.');
            // How regular: the calendar weeks or months that had anything at all.
            if metric == Metric::Count
                && matches!(group, GroupBy::Week | GroupBy::Month)
                && rows.len() > 1
                && !more
            {
                let active = rows
                    .iter()
                    .filter(|r| num(r, "value").is_some_and(|v| v > 0.0))
                    .count();
                text.push_str(&format!(
                    " Active in {} {unit}s.",
                    bold(&format!("{active} of {}", rows.len()))
                ));
            }
        } else if text.ends_with(';') {
            text.pop();
            text.push('.');
        }
        if self.plan.chart == Some(ChartKind::Line)
            && let Some(trend) = self.direction(rows)
        {
            text.push(' ');
            text.push_str(&trend);
        }
        if more {
            text.push_str(&format!(" Showing the latest {MAX_ROWS} {unit}s."));
        }
        let kind = self.plan.chart.unwrap_or(match group {
            GroupBy::Week | GroupBy::Month if !metric.is_additive() => ChartKind::Line,
            _ => ChartKind::Bar,
        });
        Answer {
            kind: AnswerKind::Table,
            text,
            chart: Some(Chart {
                kind,
                x: group.column().into(),
                y: vec![value_col],
            }),
            table: Some(Table {
                columns,
                rows: table_rows,
            }),
            sql: None,
            read_as: String::new(),
        }
    }

    fn compare(&self, rows: &[Value]) -> Answer {
        let metric = self.plan.metric;
        let by_sport = !self.plan.compare_sides.is_empty();
        // Each side as its own renderer: its noun, and its units (swims in metres).
        let side_plans: Vec<Plan> = self
            .plan
            .compare_sides
            .iter()
            .map(|side| Plan {
                filters: Filters {
                    sports: side.sports.clone().or(self.plan.filters.sports.clone()),
                    race: side.race.or(self.plan.filters.race),
                    day_part: side.day_part.or(self.plan.filters.day_part),
                    ..self.plan.filters.clone()
                },
                ..self.plan.clone()
            })
            .collect();
        let sides: Vec<Renderer> = side_plans
            .iter()
            .map(|plan| Renderer {
                plan,
                family: plan.filters.family(),
                ..*self
            })
            .collect();
        let labels: Vec<String> = if by_sport {
            sides.iter().map(|r| r.noun(2)).collect()
        } else {
            self.plan
                .compare
                .iter()
                .map(|p| period_name(p).to_string())
                .collect()
        };
        let lookup = |i: usize| {
            rows.iter()
                .find(|r| num(r, "ord") == Some(i as f64))
                .map(|r| (num(r, "n").unwrap_or(0.0), num(r, "value")))
                .unwrap_or((0.0, None))
        };
        let zero = if metric.is_additive() {
            Some(0.0)
        } else {
            None
        };
        let values: Vec<(f64, Option<f64>)> = (0..labels.len())
            .map(|i| {
                let (n, v) = lookup(i);
                (n, v.or(zero))
            })
            .collect();
        // Each sport in its own units: swims in metres beside rides in kilometres.
        let show_side = |i: usize, v: Option<f64>| {
            let side = sides.get(i).unwrap_or(self);
            v.map_or(format::MISSING.to_string(), |x| side.show(metric, x))
        };
        let pieces: Vec<String> = labels
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(i, (label, (_, v)))| {
                if by_sport && metric != Metric::Count {
                    format!("{label} {}", bold(&show_side(i, *v)))
                } else {
                    format!("{} {label}", bold(&show_side(i, *v)))
                }
            })
            .collect();
        let subject = if by_sport {
            let names: Vec<&str> = labels.iter().map(String::as_str).collect();
            let what = if metric == Metric::Count {
                String::new()
            } else {
                format!(": {}", self.compare_subject().replace(" of activities", ""))
            };
            phrase(&[&names.join(" vs "), self.period()]) + &what
        } else {
            self.compare_subject()
        };
        let mut text = format!("{}: {}", capitalised(&subject), pieces.join(" vs "));
        if let (Some((_, Some(a))), Some((_, Some(b)))) = (values.first(), values.get(1))
            && *b != 0.0
        {
            let pct = (a - b) / b * 100.0;
            if metric.is_speed() {
                // Speeds compare as "faster"/"slower": a pace going down is good news.
                let word = if pct >= 0.0 { "faster" } else { "slower" };
                text.push_str(&format!(" ({}% {word})", format::number(pct.abs(), 1)));
            } else {
                let sign = if pct >= 0.0 { "+" } else { "" };
                text.push_str(&format!(" ({sign}{}%)", format::number(pct, 1)));
            }
        }
        text.push('.');
        let value_col = self.value_column();
        let side = if by_sport { "sport" } else { "period" };
        let mut columns = vec![side.to_string(), value_col.clone()];
        if metric != Metric::Count {
            columns.push("count".into());
        }
        let table_rows = labels
            .iter()
            .zip(&values)
            .map(|(label, (n, v))| {
                let label = label.trim_start_matches("in ").trim_start_matches("on ");
                let mut row = vec![json!(label), self.cell(metric, *v).1];
                if metric != Metric::Count {
                    row.push(json!(*n as i64));
                }
                row
            })
            .collect();
        Answer {
            kind: AnswerKind::Table,
            text,
            chart: Some(Chart {
                kind: self.plan.chart.unwrap_or(ChartKind::Bar),
                x: side.into(),
                y: vec![value_col],
            }),
            table: Some(Table {
                columns,
                rows: table_rows,
            }),
            sql: None,
            read_as: String::new(),
        }
    }

    /// Which way a series went: the mean of its earlier half against its later half,
    /// over the groups that have activities. `None` for fewer than four such groups.
    fn direction(&self, rows: &[Value]) -> Option<String> {
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| num(r, "n").unwrap_or(0.0) > 0.0)
            .filter_map(|r| num(r, "value"))
            .collect();
        if values.len() < 4 {
            return None;
        }
        let half = values.len() / 2;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (early, late) = (mean(&values[..half]), mean(&values[values.len() - half..]));
        if early == 0.0 {
            return None;
        }
        let change = (late - early) / early * 100.0;
        let metric = self.plan.metric;
        let way = match (metric.is_speed(), change >= 0.0) {
            _ if change.abs() < 1.0 => "about level",
            (true, true) => "faster",
            (true, false) => "slower",
            (false, true) => "higher",
            (false, false) => "lower",
        };
        Some(format!(
            "Direction: {way} in the later half ({} on average, against {} in the earlier half).",
            bold(&self.show(metric, late)),
            bold(&self.show(metric, early))
        ))
    }

    /// "How's my training going": this week's volume against the four weeks before, as
    /// figures; whether that is good is the athlete's call, not ours.
    fn summary(&self, rows: &[Value]) -> Answer {
        let side = |i: f64| {
            rows.iter()
                .find(|r| num(r, "ord") == Some(i))
                .map_or((0.0, 0.0), |r| {
                    (num(r, "n").unwrap_or(0.0), num(r, "value").unwrap_or(0.0))
                })
        };
        let ((n_now, d_now), (n_before, d_before)) = (side(0.0), side(1.0));
        let per_week = d_before / 4.0;
        let noun = self.noun(2);
        let mut text = format!(
            "This week so far: {} over {} {noun}. The four weeks before averaged {} a week \
             ({} {noun} a week).",
            bold(&self.show(Metric::Distance, d_now)),
            format::group_thousands(n_now as i64),
            bold(&self.show(Metric::Distance, per_week)),
            format::number(n_before / 4.0, 1),
        );
        if per_week > 0.0 {
            let pct = (d_now - per_week) / per_week * 100.0;
            let way = if pct >= 0.0 { "above" } else { "below" };
            text.push_str(&format!(
                " This week is {}% {way} that average.",
                format::number(pct.abs(), 0)
            ));
        }
        let (col, _) = self.cell(Metric::Distance, None);
        Answer {
            kind: AnswerKind::Table,
            text,
            table: Some(Table {
                columns: vec!["period".into(), col, "count".into()],
                rows: vec![
                    vec![
                        json!("this week"),
                        self.cell(Metric::Distance, Some(d_now)).1,
                        json!(n_now as i64),
                    ],
                    vec![
                        json!("weekly average, previous 4 weeks"),
                        self.cell(Metric::Distance, Some(per_week)).1,
                        json!(format::number(n_before / 4.0, 1)),
                    ],
                ],
            }),
            chart: None,
            sql: None,
            read_as: String::new(),
        }
    }

    fn compare_subject(&self) -> String {
        let metric = self.plan.metric;
        if metric == Metric::Count {
            return self.noun(2);
        }
        let how = match self.plan.aggregation {
            Aggregation::Total if metric.is_additive() => "total",
            Aggregation::Max => "highest",
            Aggregation::Min => "lowest",
            _ => "average",
        };
        format!("{how} {} of {}", metric.noun(), self.noun(2))
    }

    /// "**5** rest days this month (…), up to yesterday; the latest on **6 Dec 2026**."
    fn rest_days(&self, row: Option<&Value>, today: NaiveDate) -> Answer {
        let get = |k: &str| row.and_then(|r| num(r, k)).unwrap_or(0.0) as i64;
        let (days, rest) = (get("days"), get("rest_days"));
        let without = format!("days with no {}", self.noun(2));
        let when = phrase(&[self.period()]);
        let when = if when.is_empty() {
            "since your first one".to_string()
        } else {
            when
        };
        if days == 0 {
            return Answer::text(format!(
                "There are no finished days {when} to count rest days in ({without})."
            ));
        }
        let day = |k: &str| {
            row.map(|r| text_of(r, k))
                .and_then(|t| t.parse::<NaiveDate>().ok())
        };
        let so_far = match &self.plan.period {
            Period::Range { range, .. } if range.end > today => ", up to yesterday",
            Period::All => ", up to yesterday",
            _ => "",
        };
        // All time starts at the first activity: say when that was.
        let span = match (&self.plan.period, day("first_day")) {
            (Period::All, Some(first)) => format!(" from {}", day_label(first)),
            _ => String::new(),
        };
        if rest == 0 {
            return Answer::text(format!(
                "No rest days {when}: you were active on all {} days{span}{so_far}.",
                bold(&format::group_thousands(days))
            ));
        }
        let latest = day("last_rest").map(day_label).unwrap_or_default();
        Answer::text(format!(
            "{} rest day{} ({without}) {when}, out of {} days{span}{so_far}; the latest on {}.",
            bold(&format::group_thousands(rest)),
            if rest == 1 { "" } else { "s" },
            format::group_thousands(days),
            bold(&latest)
        ))
    }

    fn streak(&self, rows: &[Value]) -> Answer {
        let Some(row) = rows.first() else {
            return Answer::text(format!(
                "You have no {}, so there is no streak.",
                phrase(&[&self.noun(0), self.period()])
            ));
        };
        let days = num(row, "days").unwrap_or(0.0) as i64;
        let active = num(row, "active_days").unwrap_or(0.0) as i64;
        let date = |k: &str| {
            text_of(row, k)
                .parse::<NaiveDate>()
                .map(day_label)
                .unwrap_or_default()
        };
        let (first, last) = (date("first_day"), date("last_day"));
        let span = if days == 1 {
            format!("on {first}")
        } else {
            format!("from {first} to {last}")
        };
        Answer::text(format!(
            "Your longest streak of {}: {} consecutive day{} with activity, {span} ({} active days in all).",
            phrase(&[&self.noun(2), self.period()]),
            bold(&days.to_string()),
            if days == 1 { "" } else { "s" },
            format::group_thousands(active)
        ))
    }
}

/// A period for a comparison: its label, or "all time" for everything.
fn period_name(p: &Period) -> &str {
    match p {
        Period::All => "all time",
        other => other.label(),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
