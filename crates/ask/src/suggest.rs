//! Follow-up questions offered under an answer ("what about rides?", "by week", "and
//! last year?"), derived from the answer's plan.
//!
//! Each suggestion is a follow-up the engine itself reads back into a new plan in the
//! same conversation: candidates are parsed with the answer's plan as the previous
//! one, and only those that give a plan (not a question back, not a partial reading)
//! and change something are kept. So a button never leads to "not understood".

use crate::plan::{Aggregation, GroupBy, Period, Plan};
use crate::{Context, Parsed, parse};
use domain::SportFamily;

/// Most suggestions offered under one answer.
pub const MAX_SUGGESTIONS: usize = 3;

/// Up to [`MAX_SUGGESTIONS`] follow-ups to the answer of `plan`, most useful first;
/// `ctx.previous` is ignored (the plan is the previous turn).
pub fn suggestions(plan: &Plan, ctx: &Context) -> Vec<String> {
    if plan.asked_back {
        return Vec::new();
    }
    let ctx = Context {
        previous: Some(plan.clone()),
        ..ctx.clone()
    };
    let mut out: Vec<String> = Vec::new();
    for alternatives in candidates(plan) {
        if out.len() == MAX_SUGGESTIONS {
            break;
        }
        // The first wording of an idea the engine reads is the one offered.
        if let Some(q) = alternatives.into_iter().find(|q| answers(plan, q, &ctx)) {
            out.push(q);
        }
    }
    out
}

/// Whether `question`, asked after `plan`, reads as a new plan of its own.
fn answers(plan: &Plan, question: &str, ctx: &Context) -> bool {
    matches!(parse(question, ctx), Parsed::Plan(p) if p != *plan && !p.asked_back)
}

/// Ideas for a next question, each as wordings to try in order.
fn candidates(plan: &Plan) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let series = plan.compare.is_empty()
        && plan.compare_sides.is_empty()
        && !plan.summary
        && plan.goal.is_none()
        && plan.share.is_none()
        && !plan.returns_activities()
        && matches!(plan.aggregation, Aggregation::Total | Aggregation::Average);
    // Another shape of the same figures.
    if series {
        match (plan.group, plan.chart) {
            (None, _) if plan.period != Period::All => {
                let by = if short_period(&plan.period) {
                    "By week"
                } else {
                    "By month"
                };
                // A series always comes with a chart: no "as a chart" beside it.
                out.push(words(&[by]));
            }
            (None, _) => out.push(words(&["By year"])),
            (Some(GroupBy::Week), _) => out.push(words(&["By month"])),
            (Some(GroupBy::Month), _) if plan.period != Period::All => {
                out.push(words(&["By week"]))
            }
            (Some(_), None) => out.push(words(&["As a chart"])),
            _ => {}
        }
    }
    // The same question about another sport.
    let family = plan.filters.sports.as_ref().and_then(|s| s.family());
    let other = match family {
        Some(SportFamily::Foot) => Some("rides"),
        Some(SportFamily::Cycle | SportFamily::Swim) => Some("runs"),
        // Every sport so far: narrowing to runs is the usual next step.
        None if plan.filters.sports.is_none() => Some("runs"),
        _ => None,
    };
    if let Some(sport) = other.filter(|_| plan.filters.race.is_none()) {
        out.push(vec![format!("What about {sport}?")]);
    }
    // The same question another time.
    if plan.compare.is_empty() {
        match &plan.period {
            Period::All => out.push(words(&["And this year?"])),
            Period::Range { label, .. } if !label.contains("last year") => {
                out.push(words(&["Same for last year", "And last year?"]))
            }
            _ => {}
        }
    }
    out
}

/// Whether a period is short enough for weeks to be the natural unit.
fn short_period(period: &Period) -> bool {
    matches!(period, Period::Range { range, .. } if range.num_days() <= 62)
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ctx, plan};

    #[test]
    fn totals_get_a_shape_a_sport_and_a_time() {
        let s = suggestions(&plan("how far did I run this year"), &ctx());
        assert!(
            (2..=MAX_SUGGESTIONS).contains(&s.len()),
            "two or three: {s:?}"
        );
        assert!(s.iter().any(|q| q.contains("rides")), "{s:?}");
        assert!(s.iter().any(|q| q.contains("month")), "{s:?}");
    }

    #[test]
    fn every_suggestion_reads_as_a_plan() {
        for q in [
            "how many runs did I do last month",
            "show my runs last week",
            "weekly running distance this year as a chart",
            "what was my longest run",
            "how far did I ride in 2025",
            "total elevation this year",
            "average pace of my runs this month",
            "how many activities",
        ] {
            let p = plan(q);
            let s = suggestions(&p, &ctx());
            assert!(s.len() <= MAX_SUGGESTIONS, "{q}: {s:?}");
            let follow = Context {
                previous: Some(p.clone()),
                ..ctx()
            };
            for f in &s {
                assert!(
                    matches!(parse(f, &follow), Parsed::Plan(ref n) if *n != p),
                    "{q} -> {f}"
                );
            }
            println!("{q}: {s:?}");
        }
    }

    #[test]
    fn a_question_asked_back_gets_none() {
        let mut p = plan("how many runs this year");
        p.asked_back = true;
        assert!(suggestions(&p, &ctx()).is_empty());
    }
}
