//! A fresh plan from everything the rules read: the measure, how values combine,
//! side-by-side comparisons, and when to ask back instead.

use super::*;

/// A fresh plan from a question that says what to compute.
pub(super) fn build(mut p: Parts, today: NaiveDate) -> Parsed {
    // "how's my running going": without a measure or dates of its own, this week against
    // the four before; with them, it is a trend or a total.
    let this_week = |p: &Period| p.label() == "this week";
    if p.summary
        && p.metric.is_none()
        && p.group.is_none()
        && (p.periods.is_empty() || p.periods.iter().all(this_week))
    {
        let mut plan = Plan::new(Metric::Distance, Aggregation::Total);
        plan.filters = p.filters;
        plan.units = p.units;
        plan.summary = true;
        return Parsed::Plan(plan);
    }
    if p.summary {
        p.trend = p.trend || p.metric.is_some();
        p.stats = true;
        // "am I training more or less than last month": this month against that one.
        p.compare = p.compare || p.periods.iter().any(|x| x.label().starts_with("last "));
    }
    if p.trend {
        p.chart = Some(ChartKind::Line);
    }
    if p.goal.is_some() {
        p.metric = Some(Metric::Distance);
        p.aggregation = Some(Aggregation::Total);
    }
    if p.stats && p.metric.is_none() && !p.wants_activities() {
        p.metric = Some(match p.filters.family() {
            Some(SportFamily::Foot | SportFamily::Swim) if p.performance => Metric::Pace,
            Some(SportFamily::Cycle) if p.performance => Metric::Speed,
            _ => Metric::Distance,
        });
    }
    let versus = match versus(&p) {
        Ok(v) => v,
        Err(text) => return Parsed::Unsupported { text },
    };
    if versus.is_some() {
        p.compare = false;
    }
    // Two separate periods in one question are a comparison ("this year than last").
    p.compare = p.compare || p.periods.len() >= 2;
    // "compare today's long run with last Sunday's": single days side by side with
    // nothing to measure are the activities themselves; ask which measure.
    let single_days = p.periods.len() >= 2
        && p.periods
            .iter()
            .all(|d| matches!(d, Period::Range { range, .. } if range.num_days() == 1));
    if p.compare && single_days && p.metric.is_none() && p.unit_metric.is_none() && !p.count_words {
        let subject = p
            .filters
            .sports
            .as_ref()
            .map_or("activities", |s| s.plural.as_str());
        let days: Vec<&str> = p.periods.iter().map(Period::label).collect();
        let option = |what: &str| format!("{what} of my {subject} {}", days.join(" vs "));
        return Parsed::Clarify {
            text: "Compare them by what? For example:".into(),
            options: vec![option("distance"), option("moving time"), option("pace")],
            plan: None,
        };
    }
    // "this year compared to my all-time average"; "how do my stats compare to last
    // year" (against this year); a single span compared is a series over it.
    if p.compare && p.periods.len() == 1 && p.other_sport.is_none() && p.other_day_part.is_none() {
        if p.all_time {
            p.periods.push(Period::All);
        } else if let Some(Period::Range { range, label }) = p.periods.first()
            && label.starts_with("last ")
            && let Some(current) = time::current_like(*range, today)
        {
            p.periods.insert(0, current);
        } else if p.group.is_none() {
            p.group = p.periods.first().map(default_group);
            p.compare = false;
        }
    }
    if p.compare
        && p.periods.len() < 2
        && p.other_sport.is_none()
        && p.other_day_part.is_none()
        && p.group.is_none()
    {
        return Parsed::Clarify {
            text: "Compare what with what? Name two periods or two sports, for example:".into(),
            options: vec![
                "distance this month vs last month".into(),
                "runs this year vs last year".into(),
                "runs vs rides this year".into(),
            ],
            plan: None,
        };
    }
    // A unit says what to measure in "how many km", "km per week", "longest in km",
    // but "my walks in miles" is a list shown in miles.
    let quantity = p.count_words
        || p.how_much
        || p.group.is_some()
        || p.compare
        || p.aggregation.is_some()
        || (p.unit_as_measure && !p.list_verb);
    let mut metric = p.metric.or(p.unit_metric.filter(|_| quantity));
    // "How much did I run / ride / swim": how far (the answer gives the count beside
    // it); across sports, where distances do not add up, how long.
    if p.how_much
        && metric.is_none()
        && p.aggregation.is_none()
        && !p.count_words
        && p.group.is_none()
        && !p.compare
    {
        metric = match p.filters.family() {
            Some(SportFamily::Foot | SportFamily::Cycle | SportFamily::Swim) => {
                Some(Metric::Distance)
            }
            _ if p.names_subject() => Some(Metric::MovingTime),
            _ => None,
        };
    }
    let named_metric = p.metric;
    // "biggest week of running": the most distance; across sports, the most time.
    if p.top_group && metric.is_none() {
        metric = Some(if p.filters.family().is_some() {
            Metric::Distance
        } else {
            Metric::MovingTime
        });
    }
    // "peak heart rate on a ride", "my max heart rate": the highest one recorded.
    if metric == Some(Metric::MaxHeartRate)
        && p.aggregation.is_none()
        && p.group.is_none()
        && p.order.is_none()
    {
        p.aggregation = Some(Aggregation::Max);
    }
    if p.unit_metric.is_some() && metric == p.unit_metric {
        p.ambiguous_extreme = false;
    }
    // "best 5k time", "quickest run": the fastest.
    if p.best
        && matches!(
            metric,
            None | Some(Metric::MovingTime | Metric::ElapsedTime | Metric::Pace | Metric::Speed)
        )
    {
        metric = Some(Metric::Speed);
        p.aggregation = Some(Aggregation::Max);
    }
    // "which month did I run the most": totals per group, the top one named.
    if p.most && p.group.is_some() {
        p.aggregation = Some(Aggregation::Total);
    }
    if p.consistency && p.periods.is_empty() && !p.all_time {
        p.periods.push(time::last_weeks(today, CONSISTENCY_WEEKS));
    }
    // "how was my run?", "show me my ride": one activity, the latest, when nothing
    // else says which.
    if p.my_one
        && p.periods.is_empty()
        && !p.all_time
        && p.aggregation.is_none()
        && metric.is_none()
        && p.order.is_none()
        && p.limit.is_none()
        && !p.count_words
        && p.group.is_none()
        && !p.compare
        && !p.stats
        && !p.summary
    {
        p.order = Some(Order::Newest);
        p.limit = Some(1);
    }
    let aggregation = if let Some(a @ (Aggregation::Streak | Aggregation::RestDays)) = p.aggregation
    {
        a
    } else if (p.group.is_some() || p.compare) && metric.is_none() {
        // "which day do I run most", "runs per month": counts per group.
        metric = Some(Metric::Count);
        Aggregation::Total
    } else if let Some(a) = p.aggregation {
        a
    } else if p.count_words {
        metric = metric.or(Some(Metric::Count));
        Aggregation::Total
    } else if p.order.is_some() {
        Aggregation::List
    } else if p.group.is_some() || p.compare {
        Aggregation::Total
    } else if let Some(m) = metric {
        if m.is_additive() {
            Aggregation::Total
        } else {
            Aggregation::Average
        }
    } else {
        Aggregation::List
    };
    let mut also_by = None;
    let metric = match (metric, aggregation) {
        (Some(m), _) => m,
        (None, Aggregation::Max | Aggregation::Min) if p.group.is_none() => {
            // "Longest run / ride / swim" means by distance; the answer gives the time
            // too. Across sports ("longest activity") both readings are looked up, and
            // asked about only when they differ.
            if p.ambiguous_extreme && p.filters.family().is_none() {
                if p.limit.is_some_and(|n| n > 1) {
                    let word = if aggregation == Aggregation::Max {
                        "longest"
                    } else {
                        "shortest"
                    };
                    let mut plan = Plan::new(Metric::Distance, aggregation);
                    plan.filters = p.filters.clone();
                    set_periods(&mut plan, p.periods.clone(), p.compare, today);
                    plan.limit = p.limit;
                    // The options keep everything else the question said.
                    let n = p.limit.unwrap_or(1);
                    let plural = p
                        .filters
                        .sports
                        .as_ref()
                        .map_or("activities", |s| &s.plural);
                    let option = |by: &str| {
                        [&n.to_string(), word, plural, by, plan.period.label()]
                            .iter()
                            .filter(|s| !s.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    return Parsed::Clarify {
                        text: format!(
                            "Do you mean your {n} {word} {plural} by distance or by time?"
                        ),
                        options: vec![option("by distance"), option("by time")],
                        plan: Some(plan),
                    };
                }
                if aggregation == Aggregation::Max {
                    also_by = Some(Metric::MovingTime);
                }
            }
            Metric::Distance
        }
        (None, Aggregation::Total | Aggregation::Streak | Aggregation::RestDays) => Metric::Count,
        (None, _) => Metric::Distance,
    };
    let mut plan = Plan::new(metric, aggregation);
    plan.filters = p.filters;
    plan.units = p.units;
    plan.group = p.group;
    plan.chart = p.chart;
    plan.limit = p.limit;
    plan.order = p.order.unwrap_or(Order::Oldest);
    if (p.scoped || p.order.is_some())
        && let Some(n) = plan.limit
    {
        if plan.chart.is_some() && plan.group.is_none() {
            // "pace trend over my last 10 runs": those runs, charted.
            plan.aggregation = Aggregation::List;
            plan.order = Order::Newest;
        } else if plan.aggregation != Aggregation::List {
            // "average pace over my last 8 runs", "longest of my last 10 runs".
            plan.within = Some((plan.order, n));
            plan.limit = None;
        }
    }
    plan.also_by = also_by.filter(|_| plan.limit.is_none_or(|n| n == 1));
    plan.goal = p.goal;
    // "runs vs rides this year", "mornings vs evenings": side by side over one period.
    let sides: Vec<Filters> = if let Some(other) = p.other_sport
        && let Some(first) = plan.filters.sports.clone()
    {
        [first, other]
            .into_iter()
            .map(|sports| Filters {
                sports: Some(sports),
                ..Filters::default()
            })
            .collect()
    } else if let Some(other) = p.other_day_part
        && let Some(first) = plan.filters.day_part
    {
        [first, other]
            .into_iter()
            .map(|part| Filters {
                day_part: Some(part),
                ..Filters::default()
            })
            .collect()
    } else {
        Vec::new()
    };
    if !sides.is_empty() && plan.compare.is_empty() && plan.group.is_none() {
        if sides[0].sports.is_some() {
            plan.filters.sports = None;
        } else {
            plan.filters.day_part = None;
        }
        plan.compare_sides = sides;
        if plan.returns_activities() || plan.aggregation == Aggregation::List {
            plan.metric = named_metric.unwrap_or(Metric::Count);
            plan.aggregation = Aggregation::Total;
            plan.limit = None;
        }
        if plan.aggregation == Aggregation::Total && !plan.metric.is_additive() {
            plan.aggregation = Aggregation::Average;
        }
    }
    // "heart rate of my last run": that one activity, that measure.
    if plan.aggregation == Aggregation::List
        && plan.limit == Some(1)
        && let Some(m) = named_metric.filter(|m| *m != Metric::Count)
    {
        plan.focus = Some(m);
    }
    set_periods(&mut plan, p.periods, p.compare, today);
    if let Some(v) = versus {
        plan.versus = Some(v);
        match v {
            Versus::TopTwo => {
                plan.limit = Some(2);
                plan.within = None;
                if p.previous_one && plan.aggregation == Aggregation::List {
                    plan.order = p.order.unwrap_or(Order::Newest);
                }
            }
            Versus::Extremes => {
                plan.limit = None;
                plan.within = None;
                plan.focus = None;
                if plan.aggregation == Aggregation::List {
                    plan.aggregation = Aggregation::Max;
                }
                if plan.also_by.take().is_some() {
                    let what = phrase_of(&plan);
                    return Parsed::Clarify {
                        text: format!("Longest and shortest by distance or by time? Your {what}:"),
                        options: vec![
                            format!("longest vs shortest {what} by distance"),
                            format!("longest vs shortest {what} by time"),
                        ],
                        plan: Some(plan),
                    };
                }
            }
        }
    }
    if metric.is_additive()
        && aggregation == Aggregation::Average
        && matches!(
            plan.group,
            Some(GroupBy::Week | GroupBy::Month | GroupBy::Year)
        )
    {
        // "average distance per week": weekly totals, averaged by the renderer.
        plan.aggregation = Aggregation::Total;
    }
    if metric == Metric::Count && aggregation == Aggregation::Average {
        // "average runs per week": counts per period, averaged by the renderer.
        plan.aggregation = Aggregation::Total;
        plan.group = plan.group.or(Some(GroupBy::Week));
    }
    if plan.chart.is_some() && plan.group.is_none() && !plan.returns_activities() {
        plan.group = Some(default_group(&plan.period));
    }
    if needs_sport(&plan) {
        return ask_sport(plan);
    }
    if plan.aggregation == Aggregation::List
        && plan.filters == Filters::default()
        && plan.period == Period::All
        && plan.limit.is_none()
        && plan.chart.is_none()
    {
        return Parsed::Clarify {
            text: "Which activities? Name a sport, a period or both, for example:".into(),
            options: vec![
                "my activities this week".into(),
                "my runs last month".into(),
                "my rides in 2025".into(),
            ],
            plan: None,
        };
    }
    Parsed::Plan(plan)
}

/// Whether the question sets two activities side by side, and which two; a refusal
/// when it also sets periods, sports or groups side by side (not answered yet).
pub(super) fn versus(p: &Parts) -> Result<Option<Versus>, String> {
    let other_sides = p.periods.len() >= 2
        || p.other_sport.is_some()
        || p.other_day_part.is_some()
        || p.group.is_some();
    let two_of_a_list =
        p.compare && (p.previous_one || (p.limit == Some(2) && p.wants_activities()));
    let v = if p.extremes {
        Versus::Extremes
    } else if two_of_a_list {
        Versus::TopTwo
    } else {
        return Ok(None);
    };
    if other_sides || p.summary || p.trend {
        return Err(
            "I can set two activities side by side, or two periods or sports, but \
                   not both in one question yet. Ask one of them, e.g. \"my fastest vs \
                   slowest run this year\" or \"runs this year vs last year\"."
                .into(),
        );
    }
    Ok(Some(v))
}

/// "runs in 2025", "activities": what an option restates.
pub(super) fn phrase_of(plan: &Plan) -> String {
    let noun = plan
        .filters
        .sports
        .as_ref()
        .map_or("activity", |s| s.singular.as_str());
    [noun, plan.period.label()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pace and speed mean different things per sport: they need one family.
pub(super) fn needs_sport(plan: &Plan) -> bool {
    plan.metric.is_speed() && plan.filters.family().is_none() && plan.group != Some(GroupBy::Sport)
}

/// Asks which sport a pace or speed question is about; the reply completes `plan`.
pub(super) fn ask_sport(plan: Plan) -> Parsed {
    let what = plan.metric.noun();
    let (text, agg) = if plan.aggregation == Aggregation::Average {
        (format!("Average {what} for which sport?"), "average ")
    } else {
        (
            format!(
                "{}{} for which sport?",
                what[..1].to_uppercase(),
                &what[1..]
            ),
            "",
        )
    };
    Parsed::Clarify {
        text,
        options: vec![
            format!("{agg}pace of my runs"),
            format!("{agg}pace of my walks"),
            format!("{agg}pace of my swims"),
            format!("{agg}speed of my rides"),
        ],
        plan: Some(plan),
    }
}

pub(super) fn set_periods(
    plan: &mut Plan,
    mut periods: Vec<Period>,
    compare: bool,
    today: NaiveDate,
) {
    if compare && periods.len() >= 2 {
        periods.truncate(4);
        // "this month vs last year": this month against the same month of last year,
        // not against a whole year.
        if let [a, Period::Range { range: year, .. }] = periods.as_mut_slice()
            && let Some(same) = time::same_span_in_year(a, *year)
        {
            periods[1] = same;
        } else if let [Period::Range { range: year, .. }, b] = periods.as_mut_slice()
            && let Some(same) = time::same_span_in_year(b, *year)
        {
            periods[0] = same;
        }
        time::fair(&mut periods, today);
        plan.compare = periods;
        plan.period = Period::All;
    } else if let Some(first) = periods.into_iter().next() {
        plan.period = first;
        plan.compare.clear();
    }
}

/// How many weeks back "how consistent have I been" looks without a period.
const CONSISTENCY_WEEKS: u32 = 12;

/// A chart needs a series: months for long spans, weeks for short ones.
pub(super) fn default_group(period: &Period) -> GroupBy {
    match period {
        Period::Range { range, .. } if range.num_days() <= 62 => GroupBy::Week,
        Period::Range { range, .. } if range.num_days() > 3 * 366 => GroupBy::Year,
        Period::EveryYear { .. } => GroupBy::Year,
        _ => GroupBy::Month,
    }
}
