//! The question parser from the outside: many phrasings of the same thing give the same
//! plan, and no input at all makes parse, compile or render panic.

use ask::{
    self, Aggregation, AnswerKind, Cmp, Context, GroupBy, Metric, Order, Parsed, Period, Plan, Race,
};
use chrono::NaiveDate;
use domain::Units;
use proptest::prelude::*;

fn ctx() -> Context {
    Context {
        today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        units: Units::Metric,
        previous: None,
    }
}

fn plan(q: &str) -> Plan {
    match ask::parse(q, &ctx()) {
        Parsed::Plan(p) => p,
        other => panic!("{q:?}: {other:?}"),
    }
}

fn range(p: &Plan) -> (String, String) {
    match &p.period {
        Period::Range { range, .. } => (range.start.to_string(), range.end.to_string()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn phrasings_of_a_count_agree() {
    for q in [
        "How many runs did I do in November 2025?",
        "how many times did I run in nov 2025",
        "number of runs in November 2025",
        "count my runs during november 2025",
        "how often did I go running in 2025-11",
        "How many jogs in November, 2025?",
    ] {
        let p = plan(q);
        assert_eq!(p.metric, Metric::Count, "{q}");
        assert_eq!(p.aggregation, Aggregation::Total, "{q}");
        assert_eq!(p.filters.sports.as_ref().unwrap().plural, "runs", "{q}");
        assert_eq!(range(&p), ("2025-11-01".into(), "2025-12-01".into()), "{q}");
    }
}

#[test]
fn sport_synonyms() {
    let plural = |q: &str| plan(q).filters.sports.unwrap().plural;
    for q in [
        "how far did I cycle",
        "how far did I bike",
        "how far did I ride",
        "how far did I rode",
    ] {
        assert_eq!(plural(q), "rides", "{q}");
    }
    assert_eq!(plural("swimming distance this year"), "swims");
    assert_eq!(plural("how many hikes"), "hikes");
    assert_eq!(plural("how many trail runs"), "trail runs");
    assert_eq!(plural("zwift rides this year"), "virtual rides");
    assert_eq!(plural("how many weights sessions"), "strength sessions");
    assert_eq!(
        plural("how many stand up paddling sessions"),
        "Stand Up Paddling activities"
    );
}

#[test]
fn units_and_thresholds() {
    let p = plan("runs at least 10 miles long");
    assert_eq!(p.filters.distance, Some((Cmp::AtLeast, 16_093.44)));
    assert_eq!(p.units, Some(Units::Imperial));
    let p = plan("swims under 45 min");
    assert_eq!(p.filters.duration, Some((Cmp::AtMost, 2700.0)));
    let p = plan("how far did I run this year in miles");
    assert_eq!(p.units, Some(Units::Imperial));
    assert_eq!(p.metric, Metric::Distance);
    let p = plan("my half marathons");
    assert_eq!(p.filters.race, Some(Race::Half));
    let (lo, hi) = Race::Marathon.bounds_m();
    assert!(lo <= 42_295.0 && 42_515.0 <= hi);
}

#[test]
fn lists_and_orders() {
    let p = plan("my last 3 rides");
    assert_eq!(
        (p.aggregation, p.order, p.limit),
        (Aggregation::List, Order::Newest, Some(3))
    );
    let p = plan("first run of 2024");
    assert_eq!(
        (p.aggregation, p.order, p.limit),
        (Aggregation::List, Order::Oldest, Some(1))
    );
    let p = plan("the 10 longest rides by distance");
    assert_eq!((p.aggregation, p.limit), (Aggregation::Max, Some(10)));
}

#[test]
fn groups_and_charts() {
    assert_eq!(plan("monthly ride distance").group, Some(GroupBy::Month));
    assert_eq!(plan("runs per week this year").group, Some(GroupBy::Week));
    assert_eq!(plan("distance by sport").group, Some(GroupBy::Sport));
    assert_eq!(plan("yearly elevation").group, Some(GroupBy::Year));
    let p = plan("how many runs in 2025 as a chart");
    assert!(p.chart.is_some());
    assert_eq!(p.group, Some(GroupBy::Month));
}

#[test]
fn follow_up_with_units_only() {
    let mut c = ctx();
    c.previous = Some(plan("how far did I run in 2025"));
    let Parsed::Plan(p) = ask::parse("in miles", &c) else {
        panic!()
    };
    assert_eq!(p.units, Some(Units::Imperial));
    assert_eq!(p.metric, Metric::Distance);
    // A new conversation has no previous plan: the same words are not understood.
    assert!(!matches!(ask::parse("and?", &ctx()), Parsed::Plan(_)));
}

#[test]
fn plans_round_trip_as_json() {
    for q in [
        "weekly running distance this year as a chart",
        "runs on christmas day",
        "running distance 2025 vs 2024",
        "morning runs on tuesdays over 5 km called \"park\"",
    ] {
        let p = plan(q);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(serde_json::from_value::<Plan>(json).unwrap(), p, "{q}");
    }
}

#[test]
fn direct_answers_follow_the_contract() {
    let a = ask::parse("my 3 longest activities", &ctx())
        .direct_answer(&ctx())
        .unwrap();
    assert_eq!(a.kind, AnswerKind::Clarify);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["kind"], "clarify");
    assert!(json["table"].is_null() && json["chart"].is_null() && json["sql"].is_null());
    assert_eq!(
        json["read_as"],
        "Activities · all time · top 3 longest by distance · asked back"
    );
    let a = ask::parse("delete my runs", &ctx())
        .direct_answer(&ctx())
        .unwrap();
    assert_eq!(a.kind, AnswerKind::Unsupported);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn never_panics_on_any_text(q in "\\PC{0,300}") {
        let c = ctx();
        if let Parsed::Plan(p) = ask::parse(&q, &c) {
            let query = ask::compile(&p, &c);
            prop_assert!(query.sql.contains("athlete_id = $1"));
            let _ = ask::render(&p, &serde_json::json!([]), &c);
        }
    }

    #[test]
    fn never_panics_on_question_like_text(
        words in prop::collection::vec(prop::sample::select(vec![
            "how", "many", "runs", "rides", "last", "week", "month", "year", "in", "2025",
            "november", "since", "between", "and", "5", "k", "over", "10", "km", "miles",
            "longest", "fastest", "top", "3", "by", "distance", "time", "per", "vs", "chart",
            "christmas", "day", "average", "pace", "streak", "the", "first", "\"", "2024-02-30",
            "31", "february", "0", "99999", "on", "mondays", "morning", "what", "about",
        ]), 0..14),
        today_offset in -40_000i64..40_000,
    ) {
        let q = words.join(" ");
        let c = Context {
            today: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::TimeDelta::days(today_offset),
            units: Units::Imperial,
            previous: Some(plan("how many runs in 2025")),
        };
        if let Parsed::Plan(p) = ask::parse(&q, &c) {
            let _ = ask::compile(&p, &c);
            let rows = serde_json::json!([{"n": 3, "value": 1.5, "grp": "x", "ord": 0}]);
            let _ = ask::render(&p, &rows, &c);
        }
    }
}

#[test]
fn a_question_over_the_limit_is_refused_whole_not_cut() {
    // Cut at the limit this would read as "how many runs": a narrower question.
    let head = "how many runs";
    let tail = "in 2025";
    let pad = |n: usize| " ".repeat(n - head.len() - tail.len());
    let over = format!("{head}{}{tail}", pad(ask::MAX_QUESTION_CHARS + 1));
    assert!(ask::is_too_long(&over));
    match ask::parse(&over, &ctx()) {
        Parsed::Unsupported { text } => {
            assert_eq!(text, ask::too_long_text());
            assert!(text.contains("longer than 500 characters"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let at = format!("{head}{}{tail}", pad(ask::MAX_QUESTION_CHARS));
    assert!(!ask::is_too_long(&at));
    assert_eq!(plan(&at), plan("how many runs in 2025"));
}
