use super::*;
use crate::test_support::{ctx, plan};
use domain::SportType;

#[test]
fn counts_and_totals() {
    let p = plan("How many runs did I do in November 2023?");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Count, Aggregation::Total)
    );
    assert_eq!(p.filters.sports.unwrap().plural, "runs");
    assert_eq!(p.period.label(), "in November 2023");
    let p = plan("how far did I ride last month");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Total)
    );
    let p = plan("how many km did I run this year");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Total)
    );
    assert_eq!(p.units, Some(Units::Metric));
    let p = plan("total elevation gain in feet for hikes in 2025");
    assert_eq!(p.metric, Metric::Elevation);
    assert_eq!(p.units, Some(Units::Imperial));
}

#[test]
fn extremes_need_a_measure() {
    // "Longest run" means by distance; across sports both readings are answered.
    let p = plan("what was my longest run?");
    assert_eq!(
        (p.metric, p.aggregation, p.also_by),
        (Metric::Distance, Aggregation::Max, None)
    );
    let p = plan("my longest activity");
    assert_eq!(p.also_by, Some(Metric::MovingTime));
    assert!(matches!(
        parse("my 3 longest workouts", &ctx()),
        Parsed::Clarify { .. }
    ));
    let p = plan("my longest run by distance");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Max)
    );
    let p = plan("longest ride by time in 2025");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::MovingTime, Aggregation::Max)
    );
    let p = plan("top 5 fastest 5k runs");
    assert_eq!((p.metric, p.aggregation), (Metric::Speed, Aggregation::Max));
    assert_eq!(p.limit, Some(5));
    assert_eq!(p.filters.race, Some(Race::FiveK));
}

#[test]
fn filters() {
    let p = plan("runs over 15 km since march");
    assert_eq!(p.filters.distance, Some((Cmp::AtLeast, 15_000.0)));
    let p = plan("rides longer than 2 hours");
    assert_eq!(p.filters.duration, Some((Cmp::AtLeast, 7200.0)));
    let p = plan("how many parkruns in 2025");
    assert_eq!(p.filters.name.as_deref(), Some("parkrun"));
    let p = plan("morning runs on tuesdays this year");
    assert_eq!(p.filters.weekday, Some(2));
    assert_eq!(p.filters.day_part, Some(DayPart::Morning));
    let p = plan("how many commutes last year");
    assert_eq!(p.filters.commute, Some(true));
}

#[test]
fn grouping_and_comparison() {
    let p = plan("weekly ride distance this year as a chart");
    assert_eq!(p.group, Some(GroupBy::Week));
    assert_eq!(p.chart, Some(ChartKind::Bar));
    let p = plan("which day of the week do I run most");
    assert_eq!(p.group, Some(GroupBy::Weekday));
    let p = plan("running distance 2024 vs 2023");
    assert_eq!(p.compare.len(), 2);
    let p = plan("my longest streak");
    assert_eq!(p.aggregation, Aggregation::Streak);
}

#[test]
fn two_activities_side_by_side() {
    let p = plan("my last run vs the one before");
    assert_eq!(
        (p.versus, p.aggregation, p.order, p.limit),
        (
            Some(Versus::TopTwo),
            Aggregation::List,
            Order::Newest,
            Some(2)
        )
    );
    let p = plan("compare my two longest rides this year");
    assert_eq!(
        (p.versus, p.metric, p.aggregation, p.limit),
        (
            Some(Versus::TopTwo),
            Metric::Distance,
            Aggregation::Max,
            Some(2)
        )
    );
    assert!(p.compare.is_empty() && p.group.is_none());
    let p = plan("my fastest vs slowest run this year");
    assert_eq!(
        (p.versus, p.metric, p.limit),
        (Some(Versus::Extremes), Metric::Speed, None)
    );
    // Without a sport, longest and shortest could mean distance or time.
    assert!(matches!(
        parse("longest vs shortest activity", &ctx()),
        Parsed::Clarify { .. }
    ));
    // Two activities and two periods at once is not answered yet.
    assert!(matches!(
        parse("fastest vs slowest run this year vs last year", &ctx()),
        Parsed::Unsupported { .. }
    ));
}

#[test]
fn start_time_windows() {
    let span = |q: &str| plan(q).filters.start_time.map(|s| (s.from, s.to));
    assert_eq!(span("runs before 7am"), Some((None, Some(420))));
    assert_eq!(span("activities after 9pm"), Some((Some(1260), None)));
    assert_eq!(
        span("runs that started between 6am and 8am in 2025"),
        Some((Some(360), Some(480)))
    );
    // A bare first hour takes the second's pm; a window may wrap past midnight.
    assert_eq!(span("rides from 6 to 8pm"), Some((Some(1080), Some(1200))));
    assert_eq!(
        span("walks between 10pm and 2am"),
        Some((Some(1320), Some(120)))
    );
    // Not clock times: "between 5 and 10 km" is left for a distance rule.
    match parse("runs between 5 and 10 km", &ctx()) {
        Parsed::Partial {
            plan: Some(plan), ..
        } => assert_eq!(plan.filters.start_time, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_sport_included_widens_the_selection() {
    let p = plan("walks including hikes this year");
    let sports = p.filters.sports.expect("sports");
    assert_eq!(
        sports.types,
        vec![SportType::new("Walk"), SportType::new("Hike")]
    );
    assert_eq!(sports.plural, "walks and hikes");
    // Runs already hold trail runs: nothing to add, nothing to rename.
    let p = plan("how many runs this year, trail runs included");
    assert_eq!(p.filters.sports.expect("sports").plural, "runs");
}

#[test]
fn phrasings_that_need_care() {
    let p = plan("rides with more than 1000 m of climbing");
    assert_eq!(p.filters.elevation, Some((Cmp::AtLeast, 1000.0)));
    assert_eq!(p.filters.distance, None);
    assert_eq!(p.aggregation, Aggregation::List);
    let p = plan("runs longer than 1 hour and 30 minutes");
    assert_eq!(p.filters.duration, Some((Cmp::AtLeast, 5400.0)));
    let p = plan("what was my best 5k time");
    assert_eq!((p.metric, p.aggregation), (Metric::Speed, Aggregation::Max));
    let p = plan("which month did I run the most km in 2025");
    assert_eq!(p.group, Some(GroupBy::Month));
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Total)
    );
    let p = plan("did I run more this year than last year");
    assert_eq!(p.compare.len(), 2);
    let p = plan("longest ride this year in km");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Max)
    );
    let p = plan("my walks in 2025 in miles");
    assert_eq!(p.aggregation, Aggregation::List);
    assert_eq!(p.units, Some(Units::Imperial));
}

#[test]
fn follow_ups_merge() {
    let first = plan("how many runs in October 2026");
    let mut c = ctx();
    c.previous = Some(first);
    let Parsed::Plan(p) = parse("and in November?", &c) else {
        panic!()
    };
    assert_eq!(p.period.label(), "in November 2026");
    assert_eq!(p.metric, Metric::Count);
    let Parsed::Plan(p) = parse("what about rides?", &c) else {
        panic!()
    };
    assert_eq!(p.filters.sports.unwrap().plural, "rides");
    let Parsed::Plan(p) = parse("show them as a chart", &c) else {
        panic!()
    };
    assert!(p.chart.is_some() && p.group.is_some());
}

#[test]
fn refusals() {
    for q in [
        "what was the weather on my last run",
        "delete my runs",
        "'; drop table activities; --",
        "show every athlete's runs",
        "how many croquet games this year",
    ] {
        assert!(
            matches!(parse(q, &ctx()), Parsed::Unsupported { .. }),
            "{q}"
        );
    }
    assert_eq!(parse("", &ctx()), Parsed::NotUnderstood);
    assert_eq!(parse("tell me a joke", &ctx()), Parsed::NotUnderstood);
    assert!(matches!(
        parse("show my activities", &ctx()),
        Parsed::Clarify { .. }
    ));
    assert!(matches!(
        parse("what is my average pace", &ctx()),
        Parsed::Clarify { .. }
    ));
}

#[test]
fn everyday_words_for_concepts_athletes_ask_about() {
    // The test day is Sunday 29 November 2026: "on Sunday" is the Sunday before it,
    // "on Sundays" every one.
    let p = plan("did I work out on Sunday?");
    assert_eq!(
        p.filters.sports, None,
        "the verb is any activity, not Workout"
    );
    assert_eq!(p.period.label(), "on 22 Nov 2026");
    assert_eq!(p.filters.weekday, None);
    let p = plan("how did my run on Thursday go?");
    assert_eq!(p.period.label(), "on 26 Nov 2026");
    let every = plan("runs on Thursdays");
    assert_eq!((every.filters.weekday, every.period.label()), (Some(4), ""));
    let mornings = plan("how many runs on sunday mornings");
    assert_eq!(mornings.filters.weekday, Some(7));
    // A day's possessive is the day.
    let p = plan("how was yesterday's run");
    assert_eq!(p.period.label(), "yesterday (28 Nov 2026)");
    assert_eq!(p.filters.sports.unwrap().plural, "runs");
    // Synonyms and the words around a grouping.
    let p = plan("total vert this year");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Elevation, Aggregation::Total)
    );
    assert_eq!(
        plan("give me a breakdown of my activities by type").group,
        Some(GroupBy::Sport)
    );
    assert_eq!(
        plan("give me a breakdown of my activities").group,
        Some(GroupBy::Sport)
    );
    assert_eq!(
        plan("a breakdown of my runs by month").group,
        Some(GroupBy::Month)
    );
    assert_eq!(
        plan("which day do I run most often").group,
        Some(GroupBy::Weekday)
    );
    let p = plan("rides that lasted over 2 hours");
    assert_eq!(p.filters.duration, Some((Cmp::AtLeast, 7200.0)));
    // "Splits" alone are an activity's own, which the engine does not have.
    assert!(matches!(
        parse("my splits for the marathon", &ctx()),
        Parsed::Partial { .. }
    ));
    // A lead after a greeting still makes a follow-up.
    let first = plan("how many runs in May 2025");
    let next = Context {
        previous: Some(first),
        ..ctx()
    };
    let Parsed::Plan(p) = parse("ok, and in 2024?", &next) else {
        panic!("a follow-up")
    };
    assert_eq!(p.filters.sports.unwrap().plural, "runs");
}

#[test]
fn how_much_is_how_far_and_that_ride_needs_a_ride() {
    let p = plan("how much did I run in 2025?");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Total)
    );
    let p = plan("how much did I exercise last week");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::MovingTime, Aggregation::Total)
    );
    // "How many" stays a count.
    assert_eq!(
        plan("how many times did I run in 2025").metric,
        Metric::Count
    );
    // "That ride" with no conversation behind it: asked which, never every ride.
    match parse("what was the climbing on that ride?", &ctx()) {
        Parsed::Clarify { options, .. } => {
            assert_eq!(options, ["my last ride", "my longest ride"]);
        }
        other => panic!("{other:?}"),
    }
    // After an answer about one ride, it is that ride.
    let last = plan("my last ride");
    let next = Context {
        previous: Some(last),
        ..ctx()
    };
    assert!(matches!(
        parse("what was the climbing on that ride?", &next),
        Parsed::Plan(_)
    ));
}

#[test]
fn a_period_under_way_is_compared_with_the_same_days_of_the_other() {
    let ranges = |q: &str| -> Vec<(String, String)> {
        plan(q)
            .compare
            .iter()
            .map(|p| match p {
                Period::Range { range, .. } => (range.start.to_string(), range.end.to_string()),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    // The test day is Sunday 29 November 2026.
    assert_eq!(
        ranges("runs this year vs last year"),
        [
            ("2026-01-01".into(), "2026-11-30".into()),
            ("2025-01-01".into(), "2025-11-30".into())
        ]
    );
    assert_eq!(
        ranges("distance this week vs last week"),
        [
            ("2026-11-23".into(), "2026-11-30".into()),
            ("2026-11-16".into(), "2026-11-23".into())
        ],
        "a week ending today is whole"
    );
    // 29 February has no day in 2025: through 28 February.
    let leap = Context {
        today: NaiveDate::from_ymd_opt(2028, 2, 29).unwrap(),
        ..ctx()
    };
    let Parsed::Plan(p) = parse("runs this year vs last year", &leap) else {
        panic!()
    };
    let Period::Range { range, label } = &p.compare[1] else {
        panic!()
    };
    assert_eq!(range.end.to_string(), "2027-03-01");
    assert!(label.contains("same point"), "{label}");
    // Two whole periods stay whole.
    assert_eq!(
        ranges("runs in 2024 vs 2025"),
        [
            ("2024-01-01".into(), "2025-01-01".into()),
            ("2025-01-01".into(), "2026-01-01".into())
        ]
    );
}

#[test]
fn the_year_or_month_before_moves_the_period_and_keeps_the_rest() {
    let first = plan("how many rides in May 2026");
    let turn = |prev: &Plan, q: &str| {
        let ctx = Context {
            previous: Some(prev.clone()),
            ..ctx()
        };
        match parse(q, &ctx) {
            Parsed::Plan(p) => p,
            other => panic!("{q}: {other:?}"),
        }
    };
    let year_before = turn(&first, "and the year before?");
    assert_eq!(year_before.period.label(), "in May 2025");
    assert_eq!(year_before.filters.sports.as_ref().unwrap().plural, "rides");
    assert_eq!(year_before.metric, Metric::Count);
    let month_before = turn(&year_before, "what about the month before");
    assert_eq!(month_before.period.label(), "in April 2025");
    let week = plan("runs last week");
    assert_eq!(
        turn(&week, "and the week before?").period.label(),
        "from 9 Nov 2026 to 15 Nov 2026"
    );
    // With nothing before it, there is no period to move: said, not dropped.
    assert!(matches!(
        parse("runs the year before", &ctx()),
        Parsed::Partial { .. }
    ));
}

#[test]
fn a_declined_question_quotes_its_words_and_offers_the_rest() {
    let q = "How many runs on Tuesdays, Mood-wise?";
    let Parsed::Partial {
        plan: Some(understood),
        unused,
        retry,
    } = parse(q, &ctx())
    else {
        panic!("{q}: not a partial reading");
    };
    assert_eq!(unused, ["Mood-wise"]);
    let retry = retry.expect("the rest reads on its own");
    assert_eq!(retry, "How many runs on Tuesdays?");
    // The offered question, asked with no turn before it, is the reading named.
    assert_eq!(parse(&retry, &ctx()), Parsed::Plan(understood));
    // Nothing left to ask without the word: no offer.
    assert!(matches!(
        parse("mood", &ctx()),
        Parsed::Partial { retry: None, .. } | Parsed::NotUnderstood
    ));
    // A follow-up's rest needs the turn before it, which a button does not have.
    let prev = Context {
        previous: Some(plan("how many runs in May 2026")),
        ..ctx()
    };
    assert!(matches!(
        parse("and in June, moodwise?", &prev),
        Parsed::Partial { retry: None, .. }
    ));
}

#[test]
fn a_declined_turn_leaves_no_context_and_days_replace_a_weekday() {
    let declined = parse("what was my mood on tuesdays", &ctx());
    assert!(matches!(declined, Parsed::Partial { .. }));
    assert_eq!(declined.context_plan(), None);
    // "runs on Tuesdays" then "what about yesterday?": yesterday's runs, whatever
    // day yesterday was, not Tuesday runs on a Monday.
    let ctx_after = Context {
        previous: Some(plan("how many runs on tuesdays")),
        ..ctx()
    };
    let Parsed::Plan(p) = parse("what about yesterday", &ctx_after) else {
        panic!("yesterday after Tuesdays");
    };
    assert_eq!(p.filters.weekday, None);
    assert_eq!(p.filters.sports.unwrap().plural, "runs");
    // A span of weeks keeps it: "and last year?" is Tuesdays of last year.
    let Parsed::Plan(p) = parse("and last year?", &ctx_after) else {
        panic!("last year after Tuesdays");
    };
    assert!(p.filters.weekday.is_some());
    // A turn with its own measure inherits the same way.
    let Parsed::Plan(p) = parse("how far did I run yesterday", &ctx_after) else {
        panic!("how far yesterday after Tuesdays");
    };
    assert_eq!(p.filters.weekday, None);
}

#[test]
fn usual_is_the_most_common_day_or_the_average() {
    let p = plan("when do I typically ride during the week");
    assert_eq!((p.group, p.metric), (Some(GroupBy::Weekday), Metric::Count));
    assert_eq!(p.filters.weekend, None);
    let p = plan("how far do I usually run");
    assert_eq!(
        (p.metric, p.aggregation),
        (Metric::Distance, Aggregation::Average)
    );
    assert_eq!(plan("how far did I run").aggregation, Aggregation::Total);
}

#[test]
fn rest_days_and_consistency() {
    let p = plan("when was my last rest day");
    assert_eq!((p.aggregation, p.limit), (Aggregation::RestDays, None));
    let p = plan("rest days last week");
    assert_eq!(p.aggregation, Aggregation::RestDays);
    assert_eq!(p.period.label(), "last week (16 Nov 2026 to 22 Nov 2026)");
    let p = plan("how consistent have I been with running");
    assert_eq!((p.group, p.metric), (Some(GroupBy::Week), Metric::Count));
    assert_eq!(p.period.label(), "in the last 12 weeks");
    // One activity, the latest, when the question names one in the singular.
    let p = plan("how was my ride?");
    assert_eq!((p.order, p.limit), (Order::Newest, Some(1)));
    assert_eq!(plan("my rides").limit, None);
}

#[test]
fn a_month_against_a_year_is_the_same_month_and_this_morning_is_today() {
    let p = plan("compare my running mileage this month vs last year");
    let labels: Vec<&str> = p.compare.iter().map(Period::label).collect();
    assert_eq!(
        labels,
        [
            "this month so far (1 Nov 2026 to 29 Nov 2026)",
            "in November 2025 to the same point (1 Nov 2025 to 29 Nov 2025)"
        ]
    );
    let p = plan("runs this morning");
    assert_eq!(p.period.label(), "today");
    assert!(p.filters.day_part.is_some());
}

#[test]
fn a_follow_up_with_nothing_before_it_asks_what_is_meant() {
    let Parsed::Clarify {
        options,
        plan: understood,
        ..
    } = parse("what about 2024?", &ctx())
    else {
        panic!("no earlier answer");
    };
    assert_eq!(options[0], "how many activities in 2024");
    assert_eq!(understood.unwrap().period.label(), "in 2024");
    // "analyse my run": the run, not the totals; metres of a swim are its distance.
    assert_eq!(plan("analyze today's run").aggregation, Aggregation::List);
    assert_eq!(plan("metres in the pool").metric, Metric::Distance);
}
