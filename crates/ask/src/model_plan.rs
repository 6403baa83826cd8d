//! A plan written by a language model for a question the rules could not read. The
//! model is shown how the rules themselves read a few questions ([`guide`]) and
//! answers with a plan of the same shape; [`from_model`] reads it, refuses any field a
//! plan does not have (an athlete, a table, raw SQL) and any value outside what the
//! engine would build, and hands back a plan the same compiler turns into SQL, with
//! every value the model wrote bound as a parameter.

use crate::compile::MAX_ROWS;
use crate::plan::{Filters, Period, Plan, SportSel};
use crate::{Context, Parsed, parse};
use serde_json::Value;

/// Questions whose plans show the model every part of the shape it may use.
const EXAMPLES: &[&str] = &[
    "how many runs did I do in November 2023",
    "my 5 longest rides this year",
    "average pace of my runs over 10 km since March",
    "weekly ride distance this year as a chart",
    "runs vs rides this year",
    "total elevation of hikes on weekends in 2024 excluding walks",
    "my fastest 5k",
];

/// Longest name filter a model's plan may carry, in characters (Strava names are
/// short; the rules never build a longer one either).
const MAX_NAME_CHARS: usize = 100;

/// How the rules read [`EXAMPLES`], as JSON the model can copy the shape of.
pub fn guide(ctx: &Context) -> String {
    let fresh = Context {
        previous: None,
        ..ctx.clone()
    };
    EXAMPLES
        .iter()
        .filter_map(|q| match parse(q, &fresh) {
            Parsed::Plan(plan) => {
                let json = serde_json::to_string(&plan).ok()?;
                Some(format!("Q: {q}\nplan: {json}"))
            }
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads a model's plan. `Err` says in plain words why it cannot be used.
pub fn from_model(value: &Value) -> Result<Plan, String> {
    let mut plan: Plan = serde_json::from_value(value.clone())
        .map_err(|e| format!("it is not a plan the engine knows ({e})"))?;
    let read = serde_json::to_value(&plan).map_err(|e| e.to_string())?;
    if let Some(key) = unknown_key(value, &read) {
        return Err(format!("it names “{key}”, which plans do not have"));
    }
    check(&plan)?;
    // What only the rules can know: no misspelling was read, nothing was asked back.
    plan.respelt.clear();
    plan.asked_back = false;
    Ok(plan)
}

/// The first key of `sent` (depth first) that reading it into a plan dropped.
fn unknown_key(sent: &Value, read: &Value) -> Option<String> {
    match (sent, read) {
        (Value::Object(s), Value::Object(r)) => s.iter().find_map(|(k, v)| match r.get(k) {
            None => Some(k.clone()),
            Some(rv) => unknown_key(v, rv),
        }),
        (Value::Array(s), Value::Array(r)) => {
            s.iter().zip(r).find_map(|(sv, rv)| unknown_key(sv, rv))
        }
        _ => None,
    }
}

/// The bounds the rules keep to, so a model's plan asks nothing they would not.
fn check(plan: &Plan) -> Result<(), String> {
    let count_ok = |n: u32| (1..=MAX_ROWS as u32).contains(&n);
    if plan.limit.is_some_and(|n| !count_ok(n)) || plan.within.is_some_and(|(_, n)| !count_ok(n)) {
        return Err(format!("it asks for more than {MAX_ROWS} activities"));
    }
    if plan.compare.len() > 4 || plan.compare_sides.len() > 4 {
        return Err("it sets more than four things side by side".into());
    }
    if plan.goal.is_some_and(|g| !g.is_finite() || g <= 0.0) {
        return Err("its goal is not a positive distance".into());
    }
    std::iter::once(&plan.period)
        .chain(&plan.compare)
        .try_for_each(check_period)?;
    std::iter::once(&plan.filters)
        .chain(&plan.compare_sides)
        .chain(&plan.share)
        .try_for_each(check_filters)
}

fn check_period(p: &Period) -> Result<(), String> {
    match p {
        Period::All => Ok(()),
        Period::Range { range, .. } => {
            let years = 1970..=2100;
            if range.start >= range.end
                || !years.contains(&chrono::Datelike::year(&range.start))
                || !years.contains(&chrono::Datelike::year(&range.end))
            {
                return Err("its dates are not a span between 1970 and 2100".into());
            }
            Ok(())
        }
        Period::EveryYear { month, day, .. } => {
            if chrono::NaiveDate::from_ymd_opt(2024, *month, *day).is_none() {
                return Err("its day of the year does not exist".into());
            }
            Ok(())
        }
    }
}

fn check_filters(f: &Filters) -> Result<(), String> {
    let sports = |s: &Option<SportSel>| {
        s.as_ref()
            .is_none_or(|s| !s.types.is_empty() && s.types.iter().all(|t| t.is_known()))
    };
    if !sports(&f.sports) || !sports(&f.exclude) {
        return Err("it names a sport type Strava does not have".into());
    }
    if f.name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        return Err(format!(
            "its name filter is over {MAX_NAME_CHARS} characters"
        ));
    }
    let threshold_ok =
        |t: &Option<(crate::plan::Cmp, f64)>| t.is_none_or(|(_, v)| v.is_finite() && v >= 0.0);
    if !threshold_ok(&f.distance) || !threshold_ok(&f.duration) || !threshold_ok(&f.elevation) {
        return Err("a threshold is not a positive number".into());
    }
    if f.weekday.is_some_and(|d| !(1..=7).contains(&d)) {
        return Err("its weekday is not 1 (Monday) to 7 (Sunday)".into());
    }
    let minute_ok = |m: Option<u32>| m.is_none_or(|m| m < 24 * 60);
    if f.start_time
        .is_some_and(|s| !minute_ok(s.from) || !minute_ok(s.to))
    {
        return Err("its start time is not a time of day".into());
    }
    if let Some(crate::plan::GearSel::Id(id)) = &f.gear
        && (id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err("its gear id is not a Strava gear id".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ctx, plan};
    use serde_json::json;

    #[test]
    fn the_guide_shows_plans_the_rules_made() {
        let guide = guide(&ctx());
        assert_eq!(guide.matches("plan: {").count(), EXAMPLES.len());
        assert!(guide.contains("\"metric\":\"count\""));
    }

    #[test]
    fn a_plan_the_rules_would_make_is_read_back_as_it_is() {
        let p = plan("weekly ride distance this year as a chart");
        let value = serde_json::to_value(&p).unwrap();
        assert_eq!(from_model(&value), Ok(p));
    }

    #[test]
    fn fields_plans_do_not_have_and_values_out_of_bounds_are_refused() {
        let good = serde_json::to_value(plan("how many runs this year")).unwrap();
        let with = |path: &[&str], v: Value| {
            let mut p = good.clone();
            let mut at = &mut p;
            for k in &path[..path.len() - 1] {
                at = &mut at[*k];
            }
            at[path[path.len() - 1]] = v;
            from_model(&p).unwrap_err()
        };
        assert!(with(&["athlete_id"], json!(2)).contains("“athlete_id”"));
        assert!(with(&["filters", "sql"], json!("1=1")).contains("“sql”"));
        assert!(with(&["limit"], json!(100_000)).contains("more than"));
        assert!(with(&["metric"], json!("vibes")).contains("not a plan"));
        assert!(with(&["filters", "weekday"], json!(9)).contains("weekday"));
        let sports = json!({"types": ["Quidditch"], "singular": "q", "plural": "qs"});
        assert!(with(&["filters", "sports"], sports).contains("sport type"));
        let backwards = json!({"type": "range", "range": {"start": "2026-02-01", "end": "2026-01-01"}, "label": ""});
        assert!(with(&["period"], backwards).contains("dates"));
        assert!(from_model(&json!("SELECT 1")).is_err());
    }
}
