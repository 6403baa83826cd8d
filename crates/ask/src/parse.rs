//! From words to a [`Plan`]: rules run in a fixed order (out of scope, time, units and
//! thresholds, names, sports, filters, grouping, metric, aggregation), each using the
//! words it recognises. What is left decides between a fresh plan, a follow-up merged
//! into the previous plan, a clarifying question, or "not understood".

use crate::lexicon::{self, AggWord, Tokens};
use crate::plan::*;
use crate::time::{self, WEEKDAYS};
use crate::{Context, Parsed};
use chrono::NaiveDate;
use domain::{SportFamily, Units};

/// Everything the rules found in one question.
#[derive(Debug, Default)]
struct Parts {
    periods: Vec<Period>,
    filters: Filters,
    units: Option<Units>,
    /// A distance or elevation unit was named outside a threshold ("how many km").
    unit_metric: Option<Metric>,
    metric: Option<Metric>,
    aggregation: Option<Aggregation>,
    /// "how many", "number of": a count unless a metric is named.
    count_words: bool,
    /// "longest", "biggest": needs distance or time to be named.
    ambiguous_extreme: bool,
    order: Option<Order>,
    limit: Option<u32>,
    group: Option<GroupBy>,
    chart: Option<ChartKind>,
    compare: bool,
    list_verb: bool,
    /// "how much": a quantity, never a list.
    how_much: bool,
    /// "best": the fastest, for races and times.
    best: bool,
    /// "most": with groups, the top group rather than a maximum.
    most: bool,
    pronoun: bool,
    /// "it", "its": one activity, when the previous answer was one.
    single_pronoun: bool,
    follow_up_lead: bool,
    /// "activities", "workouts" with no sport: every sport, said out loud.
    any_sport: bool,
    /// "ever", "of all time": every date, said out loud.
    all_time: bool,
    /// "recent runs": a few, newest first.
    recent: bool,
    /// "biggest week", "favourite day": the top group of a series is asked for.
    top_group: bool,
    /// The limit came from "last 8", "first 5": it says which activities count.
    scoped: bool,
    /// "stats", "totals", "volume": the usual total.
    stats: bool,
    /// "running performance": how fast, for sports that have a pace or speed.
    performance: bool,
    /// "how's my training going": this week against the weeks before.
    summary: bool,
    /// "how close am I to 100 km": a distance goal in metres.
    goal: Option<f64>,
    /// "how has my pace developed": a series with its direction.
    trend: bool,
    /// A second sport to set beside the first ("runs vs rides").
    other_sport: Option<SportSel>,
    /// A second part of the day to set beside the first ("mornings vs evenings").
    other_day_part: Option<DayPart>,
    /// The highest and the lowest named together ("fastest vs slowest run").
    extremes: bool,
    /// "the one before": in a comparison, the activity before the one named.
    previous_one: bool,
    /// A sport that counts as well ("runs including trail runs").
    included: Option<SportSel>,
}

impl Parts {
    /// Whether the question says what to compute (rather than only narrowing).
    fn has_core(&self) -> bool {
        self.summary
            || self.stats
            || self.trend
            || self.goal.is_some()
            || self.metric.is_some()
            || self.aggregation.is_some()
            || self.count_words
            || self.ambiguous_extreme
            || self.order.is_some()
    }

    fn has_narrowing(&self) -> bool {
        !self.periods.is_empty()
            || self.all_time
            || self.any_sport
            || self.filters != Filters::default()
            || self.units.is_some()
            || self.group.is_some()
            || self.chart.is_some()
    }

    /// Whether the question names which activities it is about.
    fn names_subject(&self) -> bool {
        self.filters.sports.is_some() || self.filters.race.is_some() || self.any_sport
    }

    /// Whether, in a conversation, this turn builds on the previous answer: it says so
    /// ("and …", "what about …", "those"), or it only narrows or re-measures without
    /// naming its own activities ("in 2024?", "as a chart", "what was my average
    /// pace?", "by time"). A turn that names its activities ("my 10k runs") is a new
    /// question, and so is one with its own measure and period.
    fn is_follow_up(&self) -> bool {
        if self.follow_up_lead || self.pronoun {
            return true;
        }
        if self.names_subject() {
            return false;
        }
        if !self.has_core() {
            return self.has_narrowing() && !self.list_verb;
        }
        self.periods.is_empty() && !self.all_time && self.group.is_none() && !self.compare
    }

    /// Whether the turn names a measure and nothing else: "what was the heart rate?".
    fn only_measure(&self) -> bool {
        (self.metric.is_some() || self.unit_metric.is_some())
            && self.aggregation.is_none()
            && !self.count_words
            && self.order.is_none()
            && !self.has_narrowing()
    }

    /// Whether the turn asks for activities themselves (a superlative, first/last).
    fn wants_activities(&self) -> bool {
        (matches!(
            self.aggregation,
            Some(Aggregation::Max | Aggregation::Min | Aggregation::List)
        ) && !self.most)
            || self.order.is_some()
            || self.limit.is_some()
            || self.ambiguous_extreme
    }
}

/// Turns a question into a plan, a clarifying question, a refusal or "not understood".
/// Total: never panics, whatever the input. A question over [`crate::MAX_QUESTION_CHARS`]
/// is refused whole: answering only its first part would answer a different question.
/// So is a question with words no rule used: it comes back as [`Parsed::Partial`].
pub fn parse(question: &str, ctx: &Context) -> Parsed {
    if crate::is_too_long(question) {
        return Parsed::Unsupported {
            text: crate::too_long_text(),
        };
    }
    let mut t = Tokens::new(question);
    if t.is_empty() {
        return Parsed::NotUnderstood;
    }
    if let Some(why) = lexicon::out_of_scope(&t) {
        return Parsed::Unsupported { text: why.into() };
    }
    if let Some(sport) = lexicon::unknown_sport(&t) {
        return Parsed::Unsupported {
            text: format!(
                "Strava has no sport type for {sport}, so there is nothing about it to look up. \
                 Ask about the sports Strava records, e.g. runs, rides, swims, walks or hikes."
            ),
        };
    }
    // "what percentage of my rides were commutes": the rides, and the part of them.
    if let Some((head, tail)) = lexicon::split_share(question) {
        return share(&head, &tail, ctx);
    }
    let parts = read_parts(&mut t, ctx);
    let unused = t.unused_phrases();
    let parsed = match &ctx.previous {
        // After a question asked back, a reply that only narrows completes it ("for runs").
        Some(prev) if parts.is_follow_up() || (prev.asked_back && !parts.has_core()) => {
            follow_up(prev, parts, ctx.today)
        }
        _ if !parts.has_core() && !parts.has_narrowing() && !parts.list_verb => {
            Parsed::NotUnderstood
        }
        _ => build(parts, ctx.today),
    };
    if unused.is_empty() {
        return parsed;
    }
    match parsed {
        Parsed::Plan(plan) => Parsed::Partial {
            plan: Some(plan),
            unused,
        },
        Parsed::Clarify { plan, .. } | Parsed::Partial { plan, .. } => {
            Parsed::Partial { plan, unused }
        }
        other => other,
    }
}

/// A share question, read as its two halves: the whole ("of my rides in 2025") and the
/// part ("were commutes").
fn share(head: &str, tail: &str, ctx: &Context) -> Parsed {
    let (mut th, mut tt) = (Tokens::new(head), Tokens::new(tail));
    while th.take_any_seq(lexicon::SHARE_WORDS) || tt.take_any_seq(lexicon::SHARE_WORDS) {}
    th.take_any_seq(&[&["how", "much", "of"]]);
    let whole = read_parts(&mut th, ctx);
    let part = read_parts(&mut tt, ctx);
    let mut unused = th.unused_phrases();
    unused.extend(tt.unused_phrases());
    let part_filters = Filters {
        sports: part.filters.sports.or(part.other_sport),
        ..part.filters
    };
    let mut parsed = build(whole, ctx.today);
    if let Parsed::Plan(plan) = &mut parsed {
        if part_filters == Filters::default() || !plan.metric.is_additive() {
            unused.push(tail.trim().to_string());
        }
        if plan.aggregation == Aggregation::List {
            plan.metric = Metric::Count;
        }
        plan.aggregation = Aggregation::Total;
        plan.limit = None;
        plan.share = Some(part_filters);
    }
    match parsed {
        Parsed::Plan(plan) if !unused.is_empty() => Parsed::Partial {
            plan: Some(plan),
            unused,
        },
        other => other,
    }
}

fn read_parts(t: &mut Tokens, ctx: &Context) -> Parts {
    let lead = lexicon::FOLLOW_UP_LEADS
        .iter()
        .filter(|lead| t.seq_at(0, lead))
        .map(|lead| lead.len())
        .max();
    if let Some(n) = lead {
        t.take(0, n);
    }
    let mut p = Parts {
        follow_up_lead: lead.is_some(),
        pronoun: t.has_any(lexicon::PRONOUNS),
        single_pronoun: t.has_any(lexicon::SINGLE_PRONOUNS),
        how_much: t.has_seq(&["how", "much"]),
        ..Parts::default()
    };
    p.summary = t.take_any_seq(lexicon::SUMMARY_PHRASES);
    let faster = t.has_any(&["faster", "slower"]);
    if t.take_any_seq(lexicon::TREND_WORDS) {
        p.trend = true;
        if faster {
            p.metric = Some(Metric::Speed);
        }
    }
    // "running performance" is how fast; "a summary of my performance" is the totals.
    p.performance = t.has_any(&["performance"])
        && !t.has_any(&[
            "summary",
            "stats",
            "statistics",
            "totals",
            "overview",
            "volume",
        ]);
    while t.take_any_seq(lexicon::STATS_WORDS) {
        p.stats = true;
    }
    read_goal(t, &mut p);
    // Streaks first: "in a row" must not be read as a time phrase.
    if t.take_any_seq(lexicon::STREAK_PHRASES) {
        p.aggregation = Some(Aggregation::Streak);
    }
    read_group_and_chart(t, &mut p);
    p.all_time = t.take_any_seq(lexicon::ALL_TIME_PHRASES);
    // Clock times and gear ids before dates: "after 9pm" is not "after 9 <month>", and
    // "b2002" is a bike, not the year 2002.
    read_start_time(t, &mut p);
    read_gear_id(t, &mut p);
    let apart = lexicon::COMPARE_WORDS.iter().any(|w| t.has_seq(w));
    p.periods = time::take_periods(t, ctx.today, apart);
    p.compare = t.take_any_seq(lexicon::COMPARE_WORDS);
    if p.compare || p.periods.len() >= 2 {
        t.take_any_seq(lexicon::COMPARE_DIRECTION);
    }
    read_thresholds(t, &mut p);
    read_race(t, &mut p);
    read_name(t, &mut p);
    // Negations before the positive readers: "not commutes" is not "commutes".
    read_negation(t, &mut p);
    read_inclusion(t, &mut p);
    let first_named = (0..t.len())
        .find_map(|i| lexicon::sport_at(t, i))
        .map(|(s, _)| s);
    p.filters.sports = lexicon::take_sport(t);
    if let (Some(sports), Some(also)) = (&mut p.filters.sports, p.included.take()) {
        include(sports, also);
    }
    if p.filters.sports.is_some() {
        p.other_sport = lexicon::take_sport(t);
        // Keep the question's order: "swimming vs cycling" lists swims first.
        if p.other_sport.is_some() && p.other_sport == first_named {
            std::mem::swap(&mut p.filters.sports, &mut p.other_sport);
        }
    }
    p.any_sport = false;
    for w in lexicon::ANY_SPORT_WORDS {
        if t.take_seq(&[w]) {
            p.any_sport = p.filters.sports.is_none();
        }
    }
    read_units(t, &mut p);
    read_flags(t, &mut p);
    read_versus(t, &mut p);
    read_metric(t, &mut p);
    read_aggregation(t, &mut p);
    p.list_verb = t.has_any(lexicon::LIST_VERBS);
    p
}

fn read_group_and_chart(t: &mut Tokens, p: &mut Parts) {
    'outer: for (g, phrases) in lexicon::GROUP_PHRASES {
        for ph in *phrases {
            if t.take_seq(ph) {
                p.group = Some(*g);
                // "biggest week", "favourite day": the top group of a series.
                if matches!(ph[0], "biggest" | "best" | "busiest") {
                    p.most = true;
                    p.top_group = true;
                    p.aggregation = Some(Aggregation::Total);
                } else if matches!(ph[0], "favourite" | "favorite") {
                    // The favourite day is the one with the most activities.
                    p.most = true;
                }
                break 'outer;
            }
        }
    }
    if t.take_any_seq(lexicon::LINE_CHART_PHRASES) {
        p.chart = Some(ChartKind::Line);
    }
    if t.take_any_seq(lexicon::CHART_WORDS) && p.chart.is_none() {
        p.chart = Some(ChartKind::Bar);
    }
}

/// "over 15 km", "longer than 2 hours", "at least 10 miles", "under 30 min".
fn read_thresholds(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        for (cmp, phrases) in [
            (Cmp::AtLeast, lexicon::AT_LEAST),
            (Cmp::AtMost, lexicon::AT_MOST),
        ] {
            for ph in phrases {
                if !t.seq_at(i, ph) {
                    continue;
                }
                let j = i + ph.len();
                let Some(n) = t.number(j) else { continue };
                let Some(unit) = t.free(j + 1) else { continue };
                // "1000 m of climbing", "3000 ft elevation": a climb, not a distance.
                let of = usize::from(t.is(j + 2, "of"));
                let climb = t.is_any(j + 2 + of, lexicon::CLIMB_WORDS);
                let mut extra = 0;
                if let Some((metres, imperial)) = lexicon::distance_unit(unit)
                    && climb
                    && lexicon::CLIMB_UNITS.contains(&unit)
                {
                    p.filters.elevation = Some((cmp, n * metres));
                    p.units = Some(if imperial {
                        Units::Imperial
                    } else {
                        Units::Metric
                    });
                    extra = of + 1;
                } else if let Some((metres, imperial)) = lexicon::distance_unit(unit) {
                    p.filters.distance = Some((cmp, n * metres));
                    if unit != "k" {
                        p.units = Some(if imperial {
                            Units::Imperial
                        } else {
                            Units::Metric
                        });
                    }
                } else if let Some(secs) = lexicon::duration_unit(unit) {
                    // "1 hour and 30 minutes", "1 h 30 min".
                    let and = usize::from(t.is(j + 2, "and"));
                    let more = t
                        .number(j + 2 + and)
                        .zip(t.free(j + 3 + and).and_then(lexicon::duration_unit));
                    let mut total = n * secs;
                    if let Some((n2, secs2)) = more.filter(|(_, s2)| *s2 < secs) {
                        total += n2 * secs2;
                        extra = and + 2;
                    }
                    p.filters.duration = Some((cmp, total));
                } else {
                    continue;
                }
                t.take(i, ph.len() + 2 + extra);
                // "10 miles long", "2 hours or more".
                let mut k = i + ph.len() + 2 + extra;
                while t.is_any(k, lexicon::THRESHOLD_TAILS) && k < i + ph.len() + 5 + extra {
                    t.take(k, 1);
                    k += 1;
                }
            }
        }
    }
}

/// "how close am I to 100 km", "how far am I from 2000 km of cycling", "how much more
/// running do I need for 250 km".
fn read_goal(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        let Some(lead) = lexicon::GOAL_LEADS.iter().find(|l| t.seq_at(i, l)) else {
            continue;
        };
        let j = i + lead.len();
        let Some(n) = t.number(j) else { continue };
        let Some((metres, imperial)) = t.free(j + 1).and_then(lexicon::distance_unit) else {
            continue;
        };
        p.goal = Some(n * metres);
        if t.free(j + 1) != Some("k") {
            p.units = Some(if imperial {
                Units::Imperial
            } else {
                Units::Metric
            });
        }
        t.take(i, lead.len() + 2);
        t.take_any_seq(&[&["how", "much", "more"], &["more"]]);
        return;
    }
}

/// "before 7am", "after 9pm", "began before 6:30", "later than 20:00".
fn read_start_time(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        if let Some((span, used)) = clock_range(t, i) {
            p.filters.start_time = Some(span);
            t.take(i, used);
            break;
        }
        let bound = [(false, lexicon::BEFORE_TIME), (true, lexicon::AFTER_TIME)]
            .into_iter()
            .find_map(|(after, phrases)| {
                let ph = phrases.iter().find(|ph| t.seq_at(i, ph))?;
                let (minutes, used) = clock_time(t, i + ph.len())?;
                Some((after, minutes, ph.len() + used))
            });
        if let Some((after, minutes, used)) = bound {
            p.filters.start_time = Some(if after {
                ClockSpan {
                    from: Some(minutes),
                    to: None,
                }
            } else {
                ClockSpan {
                    from: None,
                    to: Some(minutes),
                }
            });
            t.take(i, used);
            break;
        }
    }
    if p.filters.start_time.is_some() {
        for w in lexicon::START_VERBS {
            t.take_seq(&[w]);
        }
    }
}

/// "between 6am and 8am", "from 6 to 8am", "between 10pm and 2am" at word `i`: the
/// window and the words it takes. A bare first hour takes the second's am or pm.
fn clock_range(t: &Tokens, i: usize) -> Option<(ClockSpan, usize)> {
    if !t.is_any(i, lexicon::CLOCK_RANGE_LEADS) {
        return None;
    }
    let j = i + 1;
    let (first, first_used, explicit) = match clock_time(t, j) {
        Some((m, used)) => (m, used, true),
        None => {
            let hour = t.free(j)?.parse::<u32>().ok().filter(|h| *h <= 24)?;
            (hour * 60, 1, false)
        }
    };
    let k = j + first_used;
    if !t.is_any(k, lexicon::CLOCK_RANGE_JOINS) {
        return None;
    }
    let (second, second_used) = clock_time(t, k + 1)?;
    let mut from = first;
    // "from 6 to 8pm": the first hour is in the afternoon too.
    if !explicit && second >= 12 * 60 && from < 12 * 60 && from + 12 * 60 <= second {
        from += 12 * 60;
    }
    let span = ClockSpan {
        from: Some(from % (24 * 60)),
        to: Some(second % (24 * 60)),
    };
    Some((span, 1 + first_used + 1 + second_used))
}

/// A clock time at word `i` in minutes after midnight, and the words it takes: "7 am",
/// "6 30", "6.30 pm", "21 00", "9 oclock". A bare number ("before 7") is not a time:
/// it could be a date or a count.
fn clock_time(t: &Tokens, i: usize) -> Option<(u32, usize)> {
    let first = t.free(i)?;
    let (mut hour, mut minute, mut used) = match first.split_once('.') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?, 1),
        Some(_) => return None,
        None => (first.parse::<u32>().ok()?, 0, 1),
    };
    let mut explicit = used == 1 && first.contains('.');
    if !explicit
        && let Some(m) = t.free(i + 1)
        && m.len() == 2
        && let Ok(m) = m.parse::<u32>()
    {
        minute = m;
        used += 1;
        explicit = true;
    }
    match t.free(i + used) {
        Some("am") => {
            if hour == 12 {
                hour = 0;
            }
            used += 1;
            explicit = true;
        }
        Some("pm") => {
            if hour < 12 {
                hour += 12;
            }
            used += 1;
            explicit = true;
        }
        Some("oclock" | "h") => {
            used += 1;
            explicit = true;
        }
        _ => {}
    }
    (explicit && hour <= 24 && minute < 60).then_some(((hour % 24) * 60 + minute, used))
}

/// "not commutes", "excluding virtual rides", "rides with no bike set", "not indoors".
fn read_negation(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        let Some(neg) = lexicon::NEGATIONS.iter().find(|n| t.seq_at(i, n)) else {
            continue;
        };
        let mut j = i + neg.len();
        while t.is_any(j, lexicon::NEGATION_GAP) {
            j += 1;
        }
        let taken = if let Some(ph) = lexicon::COMMUTE_PHRASES.iter().find(|ph| t.seq_at(j, ph)) {
            p.filters.commute = Some(false);
            ph.len()
        } else if let Some(ph) = lexicon::INDOOR_WORDS.iter().find(|ph| t.seq_at(j, ph)) {
            p.filters.trainer = Some(false);
            ph.len()
        } else if let Some(ph) = lexicon::OUTDOOR_WORDS.iter().find(|ph| t.seq_at(j, ph)) {
            p.filters.trainer = Some(true);
            ph.len()
        } else if t.is_any(j, lexicon::GEAR_WORDS) {
            p.filters.gear = Some(GearSel::None);
            let mut n = 1;
            while t.is_any(j + n, lexicon::GEAR_TAILS) {
                n += 1;
            }
            n
        } else if let Some((sport, n)) = lexicon::sport_at(t, j) {
            p.filters.exclude = Some(sport);
            n
        } else {
            continue;
        };
        t.take(i, j - i + taken);
    }
}

/// A sport that counts as well: "including trail runs", "virtual rides included".
fn read_inclusion(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        if let Some(w) = lexicon::INCLUSIONS.iter().find(|w| t.seq_at(i, w))
            && let Some((sport, n)) = lexicon::sport_at(t, i + w.len())
        {
            t.take(i, w.len() + n);
            p.included = Some(sport);
            return;
        }
        if let Some((sport, n)) = lexicon::sport_at(t, i)
            && let Some(w) = lexicon::INCLUDED.iter().find(|w| t.seq_at(i + n, w))
        {
            t.take(i, n + w.len());
            p.included = Some(sport);
            return;
        }
    }
}

/// Widens `sports` by `also`'s types; the name says so only when something was added
/// ("runs" already hold trail runs).
fn include(sports: &mut SportSel, also: SportSel) {
    let added: Vec<_> = also
        .types
        .into_iter()
        .filter(|t| !sports.types.contains(t))
        .collect();
    if added.is_empty() {
        return;
    }
    sports.types.extend(added);
    sports.singular = format!("{} or {}", sports.singular, also.singular);
    sports.plural = format!("{} and {}", sports.plural, also.plural);
}

/// A Strava gear id: "b1234567" (a bike) or "g1234567" (shoes), split by the
/// tokenizer into a letter and a number.
fn read_gear_id(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        if t.is_any(i, &["b", "g"])
            && let Some(n) = t.free(i + 1)
            && n.len() >= 3
            && n.chars().all(|c| c.is_ascii_digit())
        {
            let id = format!("{}{n}", t.free(i).unwrap_or_default());
            p.filters.gear = Some(GearSel::Id(id));
            t.take(i, 2);
            t.take_seq(&["gear"]);
            return;
        }
    }
}

fn read_race(t: &mut Tokens, p: &mut Parts) {
    if t.take_any_seq(lexicon::HALF_MARATHON_PHRASES) {
        p.filters.race = Some(Race::Half);
    } else if t.take_any_seq(lexicon::MARATHON_PHRASES) {
        p.filters.race = Some(Race::Marathon);
    } else {
        for i in 0..t.len() {
            let n = t.number(i);
            let unit_k = t.is(i + 1, "k");
            let unit_km_race =
                t.is_any(i + 1, lexicon::KM_WORDS) && t.is_any(i + 2, lexicon::RACE_NOUNS);
            if unit_k || unit_km_race {
                let race = match n {
                    Some(5.0) => Some(Race::FiveK),
                    Some(10.0) => Some(Race::TenK),
                    _ => None,
                };
                if let Some(r) = race {
                    p.filters.race = Some(r);
                    t.take(i, 2);
                    break;
                }
            }
        }
    }
    if p.filters.race.is_some() {
        lexicon::RACE_NOUNS.iter().any(|w| t.take_seq(&[w]));
    }
}

/// A name to look for: in double quotes, after "named"/"called", or "parkrun".
fn read_name(t: &mut Tokens, p: &mut Parts) {
    if let Some(q) = t.quoted.first() {
        p.filters.name = Some(q.chars().take(100).collect());
        // "runs called \"Loop\"": the lead word belongs to the quoted name.
        for i in 0..t.len() {
            if t.is_any(i, lexicon::NAME_LEADS) {
                t.take(i, 1);
            }
        }
        return;
    }
    for i in 0..t.len() {
        if t.is_any(i, lexicon::NAME_LEADS) {
            let mut words = Vec::new();
            let mut k = i + 1;
            while let Some(w) = t.free(k) {
                if lexicon::NAME_STOP_WORDS.contains(&w) || words.len() >= 4 {
                    break;
                }
                words.push(w.to_string());
                k += 1;
            }
            if !words.is_empty() {
                p.filters.name = Some(words.join(" "));
                t.take(i, k - i);
                return;
            }
        }
    }
    if t.has_any(lexicon::PARKRUN_WORDS) {
        p.filters.name = Some("parkrun".into());
    }
}

/// Units named outside a threshold: "in miles", "how many km", "in feet".
fn read_units(t: &mut Tokens, p: &mut Parts) {
    for i in 0..t.len() {
        let Some(w) = t.free(i) else { continue };
        let named = lexicon::UNIT_WORDS.iter().find(|(word, ..)| *word == w);
        let (units, metric) = match named {
            Some((_, units, metric)) => (*units, *metric),
            None => match lexicon::distance_unit(w) {
                Some((_, imperial)) if w != "m" => (
                    if imperial {
                        Units::Imperial
                    } else {
                        Units::Metric
                    },
                    Some(Metric::Distance),
                ),
                _ => continue,
            },
        };
        p.units = Some(units);
        if p.unit_metric.is_none() {
            p.unit_metric = metric;
        }
        t.take(i, 1);
    }
}

fn read_flags(t: &mut Tokens, p: &mut Parts) {
    if t.take_any_seq(lexicon::WEEKEND_WORDS) {
        p.filters.weekend = Some(true);
    } else if t.take_any_seq(lexicon::WEEKDAY_WORDS) {
        p.filters.weekend = Some(false);
    }
    if t.take_any_seq(lexicon::COMMUTE_PHRASES) {
        p.filters.commute = Some(true);
    }
    if t.take_any_seq(lexicon::INDOOR_WORDS) {
        p.filters.trainer = Some(true);
    } else if t.take_any_seq(lexicon::OUTDOOR_WORDS) {
        p.filters.trainer = Some(false);
    }
    for (name, iso) in WEEKDAYS {
        if t.take_seq(&[name]) {
            p.filters.weekday = Some(*iso);
            break;
        }
    }
    // In question order, so "mornings vs evenings" keeps its sides in that order.
    for i in 0..t.len() {
        let Some((part, _)) = lexicon::DAY_PARTS
            .iter()
            .find(|(_, words)| t.is_any(i, words))
        else {
            continue;
        };
        t.take(i, 1);
        if p.filters.day_part.is_none() {
            p.filters.day_part = Some(*part);
        } else if p.filters.day_part != Some(*part) && p.other_day_part.is_none() {
            p.other_day_part = Some(*part);
        }
    }
}

/// Two activities side by side: "fastest vs slowest run" (both ends of one measure),
/// "my last run vs the one before", "my two long runs compared" (the two longest).
fn read_versus(t: &mut Tokens, p: &mut Parts) {
    for (top, bottom) in lexicon::EXTREME_PAIRS {
        if t.has_any(top) && t.has_any(bottom) {
            p.extremes = true;
            // The top word says the measure; the bottom one only says "both ends".
            for i in 0..t.len() {
                if t.is_any(i, bottom) {
                    t.take(i, 1);
                }
            }
            break;
        }
    }
    if !p.compare {
        return;
    }
    if t.take_any_seq(lexicon::PREVIOUS_ONE) {
        p.previous_one = true;
    }
    if let Some(i) = (0..t.len()).find(|&i| t.number(i) == Some(2.0) && t.is(i + 1, "long")) {
        t.take(i, 2);
        p.limit = Some(2);
        p.aggregation = Some(Aggregation::Max);
        p.ambiguous_extreme = true;
    }
}

fn read_metric(t: &mut Tokens, p: &mut Parts) {
    // Superlatives that also say how to aggregate.
    if t.has_any(lexicon::MAX_SUPERLATIVES) {
        p.aggregation = p.aggregation.or(Some(Aggregation::Max));
    }
    if t.has_any(lexicon::MIN_SUPERLATIVES) {
        p.aggregation = p.aggregation.or(Some(Aggregation::Min));
    }
    for (metric, phrases) in lexicon::METRIC_PHRASES {
        if phrases.iter().any(|ph| t.take_seq(ph)) {
            p.metric = Some(*metric);
            break;
        }
    }
    // "how far" is a total distance.
    if p.metric == Some(Metric::Distance) && t.has_seq(&["how", "far"]) {
        p.aggregation = p.aggregation.or(Some(Aggregation::Total));
    }
}

fn read_aggregation(t: &mut Tokens, p: &mut Parts) {
    // "my 10k PR", "personal best half marathon": the fastest.
    if t.take_any_seq(lexicon::RECORD_PHRASES) {
        p.best = true;
        p.aggregation = p.aggregation.or(Some(Aggregation::Max));
    }
    if t.take_any_seq(lexicon::COUNT_PHRASES) {
        p.count_words = true;
    }
    // "top 5", "last 3 rides", "my 3 fastest": a small whole number next to a
    // superlative or an order word is how many to show.
    for i in 0..t.len() {
        let Some(n) = t.number(i) else { continue };
        if n.fract() != 0.0 || !(1.0..=200.0).contains(&n) {
            continue;
        }
        let before = i.checked_sub(1).and_then(|k| t.word(k));
        let after = t.word(i + 1);
        if before.is_some_and(|w| lexicon::BEFORE_LIMIT.contains(&w))
            || after.is_some_and(|w| lexicon::AFTER_LIMIT.contains(&w))
        {
            p.limit = Some(n as u32);
            // "my last 8 runs", "first 5 rides": which activities, not how many to show.
            p.scoped = before.is_some_and(|w| lexicon::SCOPE_WORDS.contains(&w));
            t.take(i, 1);
            break;
        }
    }
    for i in 0..t.len() {
        let Some(w) = t.free(i).map(str::to_owned) else {
            continue;
        };
        let w = w.as_str();
        let Some(word) = lexicon::aggregation_word(w) else {
            if w == "per" && t.is_any(i + 1, lexicon::PER_ACTIVITY_NOUNS) {
                t.take(i, 1);
                p.aggregation = p.aggregation.or(Some(Aggregation::Average));
            }
            continue;
        };
        let agg = match word {
            AggWord::Total => Some(Aggregation::Total),
            AggWord::Average => Some(Aggregation::Average),
            AggWord::Best => {
                p.best = true;
                Some(Aggregation::Max)
            }
            AggWord::Most => {
                p.most = true;
                Some(Aggregation::Max)
            }
            AggWord::Longest | AggWord::Shortest => {
                p.ambiguous_extreme = true;
                Some(if word == AggWord::Shortest {
                    Aggregation::Min
                } else {
                    Aggregation::Max
                })
            }
            AggWord::Highest => Some(Aggregation::Max),
            AggWord::Lowest => Some(Aggregation::Min),
            AggWord::First => {
                p.order = Some(Order::Oldest);
                None
            }
            AggWord::Recent => {
                // "recent runs": a few of them; "my most recent run" is caught below.
                p.order = Some(Order::Newest);
                p.recent = true;
                None
            }
            AggWord::Last => {
                p.order = Some(Order::Newest);
                None
            }
        };
        t.take(i, 1);
        // "most recent" is an order, not a maximum.
        if word == AggWord::Most && t.is_any(i + 1, lexicon::RECENT_AFTER_MOST) {
            p.order = Some(Order::Newest);
            t.take(i + 1, 1);
            continue;
        }
        if let Some(a) = agg
            && p.aggregation.is_none()
        {
            p.aggregation = Some(a);
        }
    }
    // "the 5 longest" is caught above; "5 runs" after "last"/"first" also.
    if p.order.is_some() && p.limit.is_none() {
        p.limit = Some(if p.recent { RECENT_COUNT } else { 1 });
    }
}

/// How many activities "recent runs" shows.
const RECENT_COUNT: u32 = 10;

/// A fresh plan from a question that says what to compute.
fn build(mut p: Parts, today: NaiveDate) -> Parsed {
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
    let quantity =
        p.count_words || p.how_much || p.group.is_some() || p.compare || p.aggregation.is_some();
    let mut metric = p.metric.or(p.unit_metric.filter(|_| quantity));
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
    let aggregation = if let Some(Aggregation::Streak) = p.aggregation {
        Aggregation::Streak
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
                    set_periods(&mut plan, p.periods.clone(), p.compare);
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
        (None, Aggregation::Total | Aggregation::Streak) => Metric::Count,
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
    set_periods(&mut plan, p.periods, p.compare);
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
fn versus(p: &Parts) -> Result<Option<Versus>, String> {
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
fn phrase_of(plan: &Plan) -> String {
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
fn needs_sport(plan: &Plan) -> bool {
    plan.metric.is_speed() && plan.filters.family().is_none() && plan.group != Some(GroupBy::Sport)
}

/// Asks which sport a pace or speed question is about; the reply completes `plan`.
fn ask_sport(plan: Plan) -> Parsed {
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

fn set_periods(plan: &mut Plan, mut periods: Vec<Period>, compare: bool) {
    if compare && periods.len() >= 2 {
        periods.truncate(4);
        plan.compare = periods;
        plan.period = Period::All;
    } else if let Some(first) = periods.into_iter().next() {
        plan.period = first;
        plan.compare.clear();
    }
}

/// A chart needs a series: months for long spans, weeks for short ones.
fn default_group(period: &Period) -> GroupBy {
    match period {
        Period::Range { range, .. } if range.num_days() <= 62 => GroupBy::Week,
        Period::Range { range, .. } if range.num_days() > 3 * 366 => GroupBy::Year,
        Period::EveryYear { .. } => GroupBy::Year,
        _ => GroupBy::Month,
    }
}

/// A turn that builds on the previous plan.
fn follow_up(prev: &Plan, p: Parts, today: NaiveDate) -> Parsed {
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
        let mut plan = merge(prev.clone(), p);
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
fn inherit(prev: &Plan, mut p: Parts) -> Parts {
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
    f.weekday = f.weekday.or(old.weekday);
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
fn merge(mut plan: Plan, p: Parts) -> Plan {
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
        plan.group = None;
    } else if let [Period::Range { range, .. }] = p.periods.as_slice()
        && let Some(shifted) = time::same_span_in_year(&plan.period, *range)
    {
        // "runs in November" then "and in 2024?": November 2024.
        plan.period = shifted;
    } else if !p.periods.is_empty() {
        set_periods(&mut plan, p.periods, p.compare);
    } else if p.all_time {
        plan.period = Period::All;
        plan.compare.clear();
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use domain::SportType;

    fn ctx() -> Context {
        Context {
            today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            units: Units::Metric,
            previous: None,
        }
    }

    fn plan(q: &str) -> Plan {
        match parse(q, &ctx()) {
            Parsed::Plan(p) => p,
            other => panic!("{q}: {other:?}"),
        }
    }

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
}
