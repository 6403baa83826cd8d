//! A turn that builds on the previous plan: what it inherits, what it replaces.

use super::*;

/// A turn that builds on the previous plan.
pub(super) fn follow_up(prev: &Plan, p: Parts, today: NaiveDate) -> Parsed {
    // "and the year before?": the same question, its period one step earlier.
    if let Some(step) = p.earlier {
        let mut parsed = follow_up(prev, Parts { earlier: None, ..p }, today);
        if let Parsed::Plan(plan)
        | Parsed::Clarify {
            plan: Some(plan), ..
        } = &mut parsed
            && let Some(earlier) = time::step_back(&plan.period, step)
        {
            plan.period = earlier;
        }
        return parsed;
    }
    // "and its duration?" after one activity: the same activity, another measure.
    if (p.single_pronoun || p.only_measure())
        && prev.returns_activities()
        && prev.limit == Some(1)
        && p.aggregation.is_none()
        && p.periods.is_empty()
        && !p.names_subject()
        && let Some(metric) = p.metric.or(p.unit_metric)
    {
        let mut plan = prev.clone();
        plan.focus = Some(metric);
        return Parsed::Plan(plan);
    }
    if !p.has_core() {
        let mut plan = merge(prev.clone(), p, today);
        plan.asked_back = false;
        return if needs_sport(&plan) {
            ask_sport(plan)
        } else {
            Parsed::Plan(plan)
        };
    }
    build(inherit(prev, p), today)
}

/// A turn with its own measure ("and how far in total?", "which of those was the
/// longest?"): everything it leaves out comes from the previous plan.
pub(super) fn inherit(prev: &Plan, mut p: Parts) -> Parts {
    let old = &prev.filters;
    let f = &mut p.filters;
    if !p.any_sport {
        f.sports = f.sports.take().or_else(|| old.sports.clone());
        f.race = f.race.or(old.race);
    }
    f.distance = f.distance.or(old.distance);
    f.duration = f.duration.or(old.duration);
    f.elevation = f.elevation.or(old.elevation);
    f.name = f.name.take().or_else(|| old.name.clone());
    f.commute = f.commute.or(old.commute);
    f.trainer = f.trainer.or(old.trainer);
    if !names_days(&p.periods) {
        f.weekday = f.weekday.or(old.weekday);
    }
    f.day_part = f.day_part.or(old.day_part);
    if p.periods.is_empty() && !p.all_time {
        if prev.compare.is_empty() {
            if prev.period != Period::All {
                p.periods = vec![prev.period.clone()];
            }
        } else {
            p.periods = prev.compare.clone();
            p.compare = true;
        }
    }
    p.units = p.units.or(prev.units);
    if !p.wants_activities() && p.aggregation != Some(Aggregation::Streak) {
        p.group = p.group.or(prev.group);
        p.chart = p.chart.or(prev.chart);
    }
    p
}

/// A follow-up: the previous plan with whatever this question names replaced.
pub(super) fn merge(mut plan: Plan, p: Parts, today: NaiveDate) -> Plan {
    let f = p.filters;
    if let Some(s) = f.sports {
        if plan.filters.race.is_some() && s.family() != Some(SportFamily::Foot) {
            plan.filters.race = None;
        }
        // A new sport makes a pace-or-speed question follow the sport's habit.
        if plan.metric.is_speed() {
            plan.metric = match s.family() {
                Some(SportFamily::Cycle) => Metric::Speed,
                Some(SportFamily::Foot | SportFamily::Swim) => Metric::Pace,
                _ => plan.metric,
            };
        }
        plan.filters.sports = Some(s);
    }
    macro_rules! over {
        ($($field:ident),*) => { $( if f.$field.is_some() { plan.filters.$field = f.$field; } )* };
    }
    over!(
        race, distance, duration, name, commute, trainer, weekday, day_part
    );
    if p.compare && p.periods.len() == 1 && plan.period != Period::All {
        // "compare with October 2025": the previous period against the new one.
        let previous = std::mem::replace(&mut plan.period, Period::All);
        plan.compare = vec![
            previous,
            p.periods.into_iter().next().unwrap_or(Period::All),
        ];
        time::fair(&mut plan.compare, today);
        plan.group = None;
    } else if let [Period::Range { range, .. }] = p.periods.as_slice()
        && let Some(shifted) = time::same_span_in_year(&plan.period, *range)
    {
        // "runs in November" then "and in 2024?": November 2024.
        plan.period = shifted;
    } else if !p.periods.is_empty() {
        set_periods(&mut plan, p.periods, p.compare, today);
    } else if p.all_time {
        plan.period = Period::All;
        plan.compare.clear();
    }
    if f.weekday.is_none() && names_days(std::slice::from_ref(&plan.period)) {
        plan.filters.weekday = None;
    }
    if p.any_sport {
        plan.filters.sports = None;
        plan.filters.race = None;
    }
    if p.units.is_some() {
        plan.units = p.units;
    }
    if p.group.is_some() {
        plan.group = p.group;
    }
    if let Some(kind) = p.chart {
        plan.chart = Some(kind);
        if plan.group.is_none() && !plan.returns_activities() {
            plan.group = Some(default_group(&plan.period));
        }
    }
    plan
}

/// Whether a turn moves to a few days ("yesterday", "last weekend"): a weekday filter
/// the earlier turn had ("on Tuesdays") then either repeats the days or empties them,
/// so the new days replace it.
fn names_days(periods: &[Period]) -> bool {
    matches!(periods, [Period::Range { range, .. }] if range.num_days() < 7)
}
