//! From a [`Plan`] to one parameterised `SELECT` over `activities`.
//!
//! Whatever came from the question (numbers, names, dates) travels as a bind
//! parameter; the SQL text is assembled only from fixed fragments in this file. `$1` is
//! always the athlete id, bound by whoever runs the query (row-level security scopes
//! the rows anyway; the condition is there for the index). The result is a single
//! text value holding a JSON array of row objects, so callers need no dynamic row type.
//!
//! Row shapes (keys of each JSON object):
//! - activities: `id, name, sport_type, start_date_local, distance_m, moving_time_s,
//!   elapsed_time_s, total_elevation_gain_m, average_speed_mps, average_heartrate,
//!   max_heartrate, average_cadence, average_watts, kudos_count, calories, ord`;
//! - one aggregate: `n, value`;
//! - groups: `grp, n, value, ord` (week, month and year series include empty periods);
//! - comparisons: `ord, n, value` (`ord` indexes `plan.compare`);
//! - streak: `first_day, last_day, days, active_days`.

use crate::Context;
use crate::plan::*;
use chrono::{Days, NaiveDateTime, NaiveTime};
use domain::dates::DateRange;
use serde::{Deserialize, Serialize};

/// At most this many rows are shown; one more is fetched to know there were more.
pub const MAX_ROWS: usize = 200;

/// Sport types a race distance applies to.
const RACE_SPORTS: &[&str] = &["Run", "TrailRun", "VirtualRun"];

/// A bind parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Bind {
    /// `integer`.
    Int(i32),
    /// `bigint`.
    BigInt(i64),
    /// `double precision`.
    Float(f64),
    /// `boolean`.
    Bool(bool),
    /// `text`.
    Text(String),
    /// `text[]`.
    TextArray(Vec<String>),
    /// `timestamp` (local wall-clock time, no zone).
    Timestamp(NaiveDateTime),
}

/// One SQL statement and its parameters from `$2` on (`$1` is the athlete id).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The statement; it returns one row with one text column (a JSON array).
    pub sql: String,
    /// Values for `$2`, `$3`, ...
    pub binds: Vec<Bind>,
}

/// Collects bind values and hands out their placeholders.
struct Binds(Vec<Bind>);

impl Binds {
    fn add(&mut self, b: Bind) -> String {
        self.0.push(b);
        // $1 is the athlete id.
        format!("${}", self.0.len() + 1)
    }
}

/// Compiles a plan to SQL.
pub fn compile(plan: &Plan, ctx: &Context) -> Query {
    let mut b = Binds(Vec::new());
    let filters = filter_conditions(plan, &mut b);
    let sql = if plan.aggregation == Aggregation::Streak {
        streak_sql(plan, filters, &mut b)
    } else if plan.aggregation == Aggregation::RestDays {
        rest_days_sql(plan, filters, ctx, &mut b)
    } else if plan.summary {
        let sides = summary_periods(ctx.today)
            .iter()
            .map(|p| period_side(p, &mut b))
            .collect();
        compare_sql(plan, filters, sides)
    } else if !plan.compare_sides.is_empty() {
        let mut conds = filters;
        conds.extend(period_condition(&plan.period, &mut b));
        let sides = plan
            .compare_sides
            .iter()
            .map(|side| narrowing(plan, side, &mut b))
            .collect();
        compare_sql(plan, conds, sides)
    } else if !plan.compare.is_empty() {
        let sides = plan
            .compare
            .iter()
            .map(|p| period_side(p, &mut b))
            .collect();
        compare_sql(plan, filters, sides)
    } else if let Some(group) = plan.group {
        group_sql(plan, group, filters, ctx, &mut b)
    } else if plan.returns_activities() {
        activities_sql(plan, filters, &mut b)
    } else {
        let mut conds = filters;
        conds.extend(period_condition(&plan.period, &mut b));
        // "over my last 8 runs": the figure covers only those activities.
        let from = scoped_activities(plan, &conds, &mut b);
        // "what percentage of my rides were commutes": the same figure over the part.
        let part = match &plan.share {
            Some(filters) => {
                let cond = narrowing(plan, filters, &mut b);
                format!(
                    ", count(*) FILTER (WHERE {cond}) AS part_n, \
                     (sum({}) FILTER (WHERE {cond}))::float8 AS part_value",
                    column(plan.metric)
                )
            }
            None => String::new(),
        };
        format!(
            "SELECT coalesce(json_agg(r), '[]'::json)::text AS result FROM (\
             SELECT count(*) AS n, count({}) AS known, ({}) AS value{part} FROM {from}) r",
            column(plan.metric),
            aggregate(plan.metric, plan.aggregation, false),
        )
    };
    Query { sql, binds: b.0 }
}

/// The condition `filters` add to `plan`'s own: one side of "runs vs rides", the part
/// of a share.
fn narrowing(plan: &Plan, filters: &Filters, b: &mut Binds) -> String {
    let mut narrow = plan.clone();
    narrow.filters = filters.clone();
    // The first condition is the athlete, already in the outer query.
    let conds = filter_conditions(&narrow, b);
    match conds[1..].join(" AND ") {
        c if c.is_empty() => "TRUE".into(),
        c => c,
    }
}

/// The activities a query reads: all that match, or only the first or last N of them
/// ("over my last 8 runs"), as a `FROM` item.
fn scoped_activities(plan: &Plan, conds: &[String], b: &mut Binds) -> String {
    match plan.scope() {
        Some((order, n)) => format!(
            "(SELECT * FROM activities WHERE {} ORDER BY start_date_local {}, id {} LIMIT {}) a",
            conds.join(" AND "),
            order.sql(),
            order.sql(),
            b.add(Bind::BigInt(i64::from(n)))
        ),
        None => format!("activities a WHERE {}", conds.join(" AND ")),
    }
}

/// The per-activity expression a metric aggregates (a count sums ones).
fn column(metric: Metric) -> &'static str {
    match metric {
        Metric::Count => "1",
        other => other.column(),
    }
}

/// The aggregate expression; `outer_join` counts only matched rows (series with gaps).
fn aggregate(metric: Metric, agg: Aggregation, outer_join: bool) -> String {
    let col = column(metric);
    if metric == Metric::Count {
        return if outer_join {
            "count(start_date_local)".into()
        } else {
            "count(*)".into()
        };
    }
    if metric.is_speed() {
        // The average speed of several activities is their total distance over their
        // total moving time, not the mean of their averages.
        return match agg {
            Aggregation::Max => format!("max({col})"),
            Aggregation::Min => format!("min({col})"),
            _ => "sum(distance_m) / nullif(sum(moving_time_s), 0)".into(),
        };
    }
    let expr = match agg {
        Aggregation::Total if metric.is_nullable() => format!("sum({col})"),
        Aggregation::Total if metric.is_additive() => format!("coalesce(sum({col}), 0)"),
        Aggregation::Max => format!("max({col})"),
        Aggregation::Min => format!("min({col})"),
        _ => format!("avg({col})"),
    };
    format!("({expr})::float8")
}

/// Conditions from the filters and the metric (not the period).
fn filter_conditions(plan: &Plan, b: &mut Binds) -> Vec<String> {
    let f = &plan.filters;
    let mut c = vec!["athlete_id = $1".to_string()];
    if let Some(s) = &f.sports {
        let types = s.types.iter().map(|t| t.as_str().to_string()).collect();
        c.push(format!(
            "sport_type = ANY({})",
            b.add(Bind::TextArray(types))
        ));
    }
    if let Some(race) = f.race {
        if f.sports.is_none() {
            let types = RACE_SPORTS.iter().map(|s| s.to_string()).collect();
            c.push(format!(
                "sport_type = ANY({})",
                b.add(Bind::TextArray(types))
            ));
        }
        let (lo, hi) = race.bounds_m();
        c.push(format!(
            "distance_m BETWEEN {} AND {}",
            b.add(Bind::Float(lo)),
            b.add(Bind::Float(hi))
        ));
    }
    if let Some(m) = f.marked {
        // Fixed codes, never user text.
        c.push(format!("workout_type IN ({})", m.codes()));
    }
    let op = |cmp: Cmp| match cmp {
        Cmp::AtLeast => ">=",
        Cmp::AtMost => "<=",
    };
    if let Some((cmp, m)) = f.distance {
        c.push(format!("distance_m {} {}", op(cmp), b.add(Bind::Float(m))));
    }
    if let Some((cmp, s)) = f.duration {
        c.push(format!(
            "moving_time_s {} {}",
            op(cmp),
            b.add(Bind::Float(s))
        ));
    }
    if let Some((cmp, m)) = f.elevation {
        c.push(format!(
            "total_elevation_gain_m {} {}",
            op(cmp),
            b.add(Bind::Float(m))
        ));
    }
    if let Some(name) = &f.name {
        c.push(format!(
            "name ILIKE '%' || {} || '%'",
            b.add(Bind::Text(escape_like(name)))
        ));
    }
    if let Some(v) = f.commute {
        c.push(format!("commute = {}", b.add(Bind::Bool(v))));
    }
    if let Some(v) = f.trainer {
        c.push(format!("trainer = {}", b.add(Bind::Bool(v))));
    }
    if let Some(d) = f.weekday {
        c.push(format!(
            "EXTRACT(ISODOW FROM start_date_local) = {}",
            b.add(Bind::Int(i32::from(d)))
        ));
    }
    if let Some(weekend) = f.weekend {
        let op = if weekend { ">=" } else { "<" };
        c.push(format!("EXTRACT(ISODOW FROM start_date_local) {op} 6"));
    }
    if let Some(span) = f.start_time {
        let minute =
            "(EXTRACT(HOUR FROM start_date_local) * 60 + EXTRACT(MINUTE FROM start_date_local))";
        let mut bind = |m: u32| b.add(Bind::Int(i32::try_from(m).unwrap_or(0)));
        c.push(match (span.from, span.to) {
            (Some(from), Some(to)) => {
                let joiner = if from > to { "OR" } else { "AND" };
                format!(
                    "({minute} >= {} {joiner} {minute} < {})",
                    bind(from),
                    bind(to)
                )
            }
            (Some(from), None) => format!("{minute} >= {}", bind(from)),
            (None, Some(to)) => format!("{minute} < {}", bind(to)),
            (None, None) => "TRUE".into(),
        });
    }
    if let Some(x) = &f.exclude {
        let types = x.types.iter().map(|t| t.as_str().to_string()).collect();
        c.push(format!(
            "sport_type <> ALL({})",
            b.add(Bind::TextArray(types))
        ));
    }
    match &f.gear {
        Some(GearSel::None) => c.push("gear_id IS NULL".into()),
        Some(GearSel::Any) => c.push("gear_id IS NOT NULL".into()),
        Some(GearSel::Id(id)) => c.push(format!("gear_id = {}", b.add(Bind::Text(id.clone())))),
        None => {}
    }
    if let Some(part) = f.day_part {
        let (from, to) = part.hours();
        let (from, to) = (b.add(Bind::Int(from)), b.add(Bind::Int(to)));
        let joiner = if part == DayPart::Night { "OR" } else { "AND" };
        c.push(format!(
            "(EXTRACT(HOUR FROM start_date_local) >= {from} {joiner} \
             EXTRACT(HOUR FROM start_date_local) < {to})"
        ));
    }
    // Pace and speed mean nothing without distance (yoga, weights).
    if plan.metric.is_speed() {
        c.push("distance_m > 0 AND moving_time_s > 0".into());
    }
    // "shortest" means the shortest that went anywhere.
    if plan.metric == Metric::Distance
        && (plan.aggregation == Aggregation::Min || plan.versus == Some(Versus::Extremes))
    {
        c.push("distance_m > 0".into());
    }
    c
}

/// `LIKE` treats `%`, `_` and `\` specially; a name is matched literally.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn midnight(d: chrono::NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::MIN)
}

/// One period as a side of a comparison: its condition, or TRUE for all time.
fn period_side(p: &Period, b: &mut Binds) -> String {
    period_condition(p, b).unwrap_or_else(|| "TRUE".into())
}

fn period_condition(p: &Period, b: &mut Binds) -> Option<String> {
    match p {
        Period::All => None,
        Period::Range { range, .. } => Some(format!(
            "start_date_local >= {} AND start_date_local < {}",
            b.add(Bind::Timestamp(midnight(range.start))),
            b.add(Bind::Timestamp(midnight(range.end)))
        )),
        Period::EveryYear { month, day, .. } => Some(format!(
            "EXTRACT(MONTH FROM start_date_local) = {} AND EXTRACT(DAY FROM start_date_local) = {}",
            b.add(Bind::Int(i32::try_from(*month).unwrap_or(1))),
            b.add(Bind::Int(i32::try_from(*day).unwrap_or(1)))
        )),
    }
}

const ACTIVITY_COLUMNS: &str = "id, name, sport_type, start_date_local, distance_m, \
     moving_time_s, elapsed_time_s, total_elevation_gain_m, average_speed_mps, \
     average_heartrate, max_heartrate, average_cadence, average_watts, kudos_count, calories";

fn activities_sql(plan: &Plan, mut conds: Vec<String>, b: &mut Binds) -> String {
    if let Some(race) = plan.best_effort() {
        return best_effort_sql(plan, race, conds, b);
    }
    conds.extend(period_condition(&plan.period, b));
    let col = column(plan.metric);
    let order = match plan.aggregation {
        Aggregation::Max => format!("{col} DESC NULLS LAST, start_date_local DESC, id"),
        Aggregation::Min => format!("{col} ASC NULLS LAST, start_date_local DESC, id"),
        _ if plan.order == Order::Newest => "start_date_local DESC, id DESC".into(),
        _ => "start_date_local ASC, id ASC".into(),
    };
    let default = if plan.aggregation == Aggregation::List {
        MAX_ROWS + 1
    } else {
        1
    };
    let limit = plan.limit.map_or(default, |n| (n as usize).min(MAX_ROWS));
    // The top activity by each measure, in that order (the same one twice when the
    // readings agree); or the top and the bottom by one measure.
    let ends = match (plan.also_by, plan.versus) {
        (Some(other), _) => Some(format!("{} DESC", column(other))),
        (None, Some(Versus::Extremes)) => Some(format!("{col} ASC")),
        _ => None,
    };
    if let Some(second) = ends {
        let conds = conds.join(" AND ");
        return format!(
            "SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
             (SELECT {ACTIVITY_COLUMNS}, 1 AS ord FROM activities WHERE {conds} \
             ORDER BY {col} DESC NULLS LAST, start_date_local DESC, id LIMIT 1) UNION ALL \
             (SELECT {ACTIVITY_COLUMNS}, 2 AS ord FROM activities WHERE {conds} \
             ORDER BY {second} NULLS LAST, start_date_local DESC, id LIMIT 1)) r"
        );
    }
    let from = scoped_activities(plan, &conds, b);
    // A plain list counts every match, before the limit: "293 activities; the first
    // 200 shown". Top-N and first/last lists need no count, and skipping it lets the
    // database keep only the top rows while sorting.
    let total = if plan.aggregation == Aggregation::List && plan.limit.is_none() {
        ", count(*) OVER () AS total"
    } else {
        ""
    };
    let limit = b.add(Bind::BigInt(limit as i64));
    if !total.is_empty() {
        return format!(
            "SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
             SELECT {ACTIVITY_COLUMNS}, row_number() OVER (ORDER BY {order}) AS ord{total} \
             FROM {from} ORDER BY {order} LIMIT {limit}) r"
        );
    }
    // Numbered after the limit: a window over every match would sort them all, where
    // ORDER BY ... LIMIT keeps only the top rows.
    format!(
        "SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
         SELECT t.*, row_number() OVER (ORDER BY {order}) AS ord FROM (\
         SELECT {ACTIVITY_COLUMNS} FROM {from} ORDER BY {order} LIMIT {limit}) t) r"
    )
}

/// "Fastest 5k": the fastest stretches of that distance within any run (best
/// efforts), each with its run; when none are stored, whole runs of about the
/// distance, fastest first. `basis` says which the rows are.
fn best_effort_sql(
    plan: &Plan,
    race: crate::plan::Race,
    mut conds: Vec<String>,
    b: &mut Binds,
) -> String {
    let limit = b.add(Bind::BigInt(i64::from(
        plan.limit.unwrap_or(1).min(MAX_ROWS as u32),
    )));
    let metres = race.metres();
    let lo = b.add(Bind::Float(metres - 1.0));
    let hi = b.add(Bind::Float(metres + 1.0));
    let within = period_condition(&plan.period, b).unwrap_or_else(|| "TRUE".into());
    conds.push(within.clone());
    format!(
        "WITH e AS (SELECT a.id, a.name, a.sport_type, b.start_date_local, b.distance_m, \
         b.moving_time_s, b.elapsed_time_s, a.total_elevation_gain_m, \
         (b.distance_m / nullif(b.elapsed_time_s, 0))::float8 AS average_speed_mps, \
         a.average_heartrate, a.max_heartrate, a.average_cadence, a.average_watts, \
         a.kudos_count, a.calories, a.distance_m AS activity_distance_m, 'effort' AS basis \
         FROM (SELECT * FROM best_efforts WHERE athlete_id = $1 AND distance_m BETWEEN {lo} AND {hi} \
         AND {within}) b JOIN activities a ON a.athlete_id = b.athlete_id AND a.id = b.activity_id \
         ORDER BY b.elapsed_time_s ASC, b.start_date_local DESC LIMIT {limit}), \
         w AS (SELECT {ACTIVITY_COLUMNS}, NULL::float8 AS activity_distance_m, 'run' AS basis \
         FROM activities WHERE {} ORDER BY average_speed_mps DESC NULLS LAST, start_date_local DESC, id \
         LIMIT {limit}) \
         SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
         SELECT x.*, row_number() OVER (ORDER BY x.average_speed_mps DESC NULLS LAST, x.start_date_local DESC) AS ord \
         FROM (SELECT * FROM e UNION ALL SELECT * FROM w WHERE NOT EXISTS (SELECT 1 FROM e)) x) r",
        conds.join(" AND ")
    )
}

fn group_sql(
    plan: &Plan,
    group: GroupBy,
    mut conds: Vec<String>,
    ctx: &Context,
    b: &mut Binds,
) -> String {
    // Series by calendar unit list every unit in the span, empty ones included, so an
    // average per week counts the weeks without activities too.
    let (unit, fmt) = match group {
        GroupBy::Week => ("week", "YYYY-MM-DD"),
        GroupBy::Month => ("month", "YYYY-MM"),
        GroupBy::Year => ("year", "YYYY"),
        GroupBy::Sport => return category_group_sql(plan, "sport_type", conds, b),
        GroupBy::Gear => {
            return category_group_sql(plan, "coalesce(gear_id, 'no gear recorded')", conds, b);
        }
        GroupBy::Weekday => return weekday_group_sql(plan, conds, b),
    };
    let bounds = match &plan.period {
        Period::Range { range, .. } => {
            // The series stops today: the rest of this month has no bars yet.
            let today_end = ctx
                .today
                .checked_add_days(Days::new(1))
                .unwrap_or(ctx.today);
            let end = range.end.min(today_end).max(range.start);
            let last = end.pred_opt().unwrap_or(end).max(range.start);
            Some((
                b.add(Bind::Timestamp(midnight(range.start))),
                b.add(Bind::Timestamp(midnight(last))),
            ))
        }
        _ => None,
    };
    conds.extend(period_condition(&plan.period, b));
    let (lo, hi) = bounds.unwrap_or_else(|| {
        (
            "(SELECT min(start_date_local) FROM a)".into(),
            "(SELECT max(start_date_local) FROM a)".into(),
        )
    });
    format!(
        "WITH a AS (SELECT * FROM activities WHERE {conds}), \
         k AS (SELECT generate_series(date_trunc('{unit}', {lo}::timestamp), \
         date_trunc('{unit}', {hi}::timestamp), interval '1 {unit}') AS k) \
         SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
         SELECT to_char(k.k, '{fmt}') AS grp, count(start_date_local) AS n, ({agg}) AS value, \
         k.k AS ord FROM k LEFT JOIN a ON date_trunc('{unit}', a.start_date_local) = k.k \
         GROUP BY k.k ORDER BY k.k DESC LIMIT {limit}) r",
        conds = conds.join(" AND "),
        agg = aggregate(plan.metric, plan.aggregation, true),
        limit = MAX_ROWS + 1,
    )
}

/// A series over a category (sport type, gear), largest first, with the distance
/// alongside so "what have I done" reads as a table of volumes.
fn category_group_sql(plan: &Plan, key: &str, mut conds: Vec<String>, b: &mut Binds) -> String {
    conds.extend(period_condition(&plan.period, b));
    let agg = aggregate(plan.metric, plan.aggregation, false);
    format!(
        "SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
         SELECT {key} AS grp, count(*) AS n, ({agg}) AS value, \
         coalesce(sum(distance_m), 0)::float8 AS distance_m, \
         row_number() OVER (ORDER BY ({agg}) DESC NULLS LAST, {key}) AS ord \
         FROM activities WHERE {} GROUP BY {key} ORDER BY ord LIMIT {}) r",
        conds.join(" AND "),
        MAX_ROWS + 1
    )
}

fn weekday_group_sql(plan: &Plan, mut conds: Vec<String>, b: &mut Binds) -> String {
    conds.extend(period_condition(&plan.period, b));
    format!(
        "WITH a AS (SELECT * FROM activities WHERE {}), k AS (SELECT generate_series(1, 7) AS k) \
         SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
         SELECT (ARRAY['Monday','Tuesday','Wednesday','Thursday','Friday','Saturday','Sunday'])[k.k] \
         AS grp, count(start_date_local) AS n, ({}) AS value, k.k AS ord \
         FROM k LEFT JOIN a ON EXTRACT(ISODOW FROM a.start_date_local) = k.k GROUP BY k.k) r",
        conds.join(" AND "),
        aggregate(plan.metric, plan.aggregation, true)
    )
}

/// One row per side (a period, a sport), each side a condition on the activities.
fn compare_sql(plan: &Plan, conds: Vec<String>, sides: Vec<String>) -> String {
    let cases: Vec<String> = sides
        .iter()
        .enumerate()
        .map(|(i, cond)| format!("WHEN {i} THEN {cond}"))
        .collect();
    let values: Vec<String> = (0..sides.len()).map(|i| format!("({i})")).collect();
    format!(
        "WITH a AS (SELECT * FROM activities WHERE {}), k AS (SELECT * FROM (VALUES {}) v(k)) \
         SELECT coalesce(json_agg(r ORDER BY r.ord), '[]'::json)::text AS result FROM (\
         SELECT k.k AS ord, count(start_date_local) AS n, ({}) AS value \
         FROM k LEFT JOIN a ON (CASE k.k {} END) GROUP BY k.k) r",
        conds.join(" AND "),
        values.join(", "),
        aggregate(plan.metric, plan.aggregation, true),
        cases.join(" ")
    )
}

/// "How's my training going": this week so far, and the four whole weeks before it.
pub fn summary_periods(today: chrono::NaiveDate) -> [Period; 2] {
    let week = DateRange::this_week(today);
    let before = week
        .start
        .checked_sub_days(Days::new(28))
        .and_then(|start| DateRange::new(start, week.start))
        .unwrap_or(week);
    [
        Period::Range {
            range: week,
            label: "this week".into(),
        },
        Period::Range {
            range: before,
            label: "the four weeks before".into(),
        },
    ]
}

fn streak_sql(plan: &Plan, mut conds: Vec<String>, b: &mut Binds) -> String {
    conds.extend(period_condition(&plan.period, b));
    // Gaps and islands: consecutive days minus their rank give the same date.
    format!(
        "WITH d AS (SELECT DISTINCT start_date_local::date AS day FROM activities WHERE {}), \
         g AS (SELECT day, day - (row_number() OVER (ORDER BY day))::int AS island FROM d) \
         SELECT coalesce(json_agg(r), '[]'::json)::text AS result FROM (\
         SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS days, \
         (SELECT count(*) FROM d) AS active_days FROM g GROUP BY island \
         ORDER BY count(*) DESC, max(day) DESC LIMIT 1) r",
        conds.join(" AND ")
    )
}

/// Every finished day of the period (all time: from the first activity), each with
/// whether it had an activity: counted, and the latest day without one. The series'
/// column is named like the activities' so the period's own condition applies to it.
fn rest_days_sql(plan: &Plan, conds: Vec<String>, ctx: &Context, b: &mut Binds) -> String {
    let today = b.add(Bind::Timestamp(midnight(ctx.today)));
    let (lo, hi) = match &plan.period {
        Period::Range { range, .. } => (
            b.add(Bind::Timestamp(midnight(range.start))),
            format!(
                "least({}, {today})",
                b.add(Bind::Timestamp(midnight(range.end)))
            ),
        ),
        _ => ("(SELECT min(day) FROM d)::timestamp".into(), today),
    };
    let within = period_condition(&plan.period, b).unwrap_or_else(|| "TRUE".into());
    format!(
        "WITH d AS (SELECT DISTINCT start_date_local::date AS day FROM activities WHERE {}), \
         s AS (SELECT start_date_local::date AS day FROM generate_series({lo}, \
         {hi} - interval '1 day', interval '1 day') AS g(start_date_local) WHERE {within}) \
         SELECT coalesce(json_agg(r), '[]'::json)::text AS result FROM (\
         SELECT count(*) AS days, count(*) FILTER (WHERE d.day IS NULL) AS rest_days, \
         max(s.day) FILTER (WHERE d.day IS NULL) AS last_rest, min(s.day) AS first_day, \
         max(s.day) AS last_day FROM s LEFT JOIN d USING (day)) r",
        conds.join(" AND ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ctx, plan};

    fn sql(q: &str) -> Query {
        compile(&plan(q), &ctx())
    }

    #[test]
    fn user_text_is_bound_not_spliced() {
        let q = sql("runs called \"x'); DROP TABLE activities; --\" this year");
        assert!(!q.sql.contains("DROP"));
        assert!(
            q.binds
                .contains(&Bind::Text("x'); DROP TABLE activities; --".into()))
        );
        assert!(q.sql.contains("athlete_id = $1"));
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn one_statement_each_shape() {
        for q in [
            "how many runs in 2025",
            "my last 3 rides",
            "longest run by distance",
            "weekly ride distance this year",
            "distance by sport this year",
            "which day of the week do I run most",
            "running distance 2025 vs 2024",
            "my longest streak",
            "average pace of my last 8 runs",
            "longest of my last 10 runs",
            "my fastest vs slowest run this year",
            "my last run vs the one before",
            "my longest activity",
            "distance per gear",
        ] {
            let s = sql(q).sql;
            assert!(!s.contains(';'), "{q}: {s}");
            // Every read of the table is the asker's rows only.
            let reads = s.matches("FROM activities").count();
            let own = s.matches("FROM activities WHERE athlete_id = $1").count()
                + s.matches("FROM activities a WHERE athlete_id = $1").count();
            assert!(reads > 0 && reads == own, "{q}: {s}");
        }
    }
}
