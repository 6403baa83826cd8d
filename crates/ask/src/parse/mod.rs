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

mod as_typed;
mod build;
mod follow_up;
mod readers;
#[cfg(test)]
mod tests;

use build::*;
use follow_up::*;
use readers::*;

/// Everything the rules found in one question.
#[derive(Debug, Default)]
struct Parts {
    periods: Vec<Period>,
    filters: Filters,
    units: Option<Units>,
    /// A distance or elevation unit was named outside a threshold ("how many km").
    unit_metric: Option<Metric>,
    /// That unit stands for the measure ("km last week"), not after "in".
    unit_as_measure: bool,
    /// "my run", "my ride": one activity of the sport, in the singular.
    my_one: bool,
    /// "how consistent have I been": activities per week, over recent weeks unless
    /// the question gives a period.
    consistency: bool,
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
    /// "the year before", "the month before": the previous answer's period, one step
    /// earlier.
    earlier: Option<time::Step>,
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
/// So is a question with words no rule used: it comes back as [`Parsed::Partial`],
/// quoting them as typed and, when the rest reads on its own as the same plan,
/// offering the question without them.
pub fn parse(question: &str, ctx: &Context) -> Parsed {
    match read(question, ctx) {
        Parsed::Partial { plan, unused, .. } => {
            let retry = plan.as_ref().and_then(|plan| {
                let rest = as_typed::without(question, &unused)?;
                // Asked from the button, the question has no turn before it: a
                // declined question leaves no context.
                let fresh = Context {
                    previous: None,
                    ..ctx.clone()
                };
                matches!(read(&rest, &fresh), Parsed::Plan(p) if p == *plan).then_some(rest)
            });
            Parsed::Partial {
                unused: as_typed::as_typed(question, &unused),
                plan,
                retry,
            }
        }
        other => other,
    }
}

fn read(question: &str, ctx: &Context) -> Parsed {
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
    // "that ride", "this run": the activity the conversation is about; with none yet,
    // ask which rather than answer about every ride.
    if ctx.previous.is_none()
        && let Some(one) = demonstrative_activity(&t)
    {
        return Parsed::Clarify {
            text: format!("Which {one} do you mean? For example:"),
            options: vec![format!("my last {one}"), format!("my longest {one}")],
            plan: None,
        };
    }
    let small_talk = lexicon::SMALL_TALK.iter().any(|s| t.has_seq(s));
    let parts = read_parts(&mut t, ctx);
    if small_talk && !parts.has_core() {
        return Parsed::Unsupported {
            text: lexicon::SMALL_TALK_REPLY.into(),
        };
    }
    let unused = t.unused_phrases();
    let parsed = match &ctx.previous {
        // After a question asked back, a reply that only narrows completes it ("for runs").
        Some(prev) if parts.is_follow_up() || (prev.asked_back && !parts.has_core()) => {
            follow_up(prev, parts, ctx.today)
        }
        // "what about 2024?" with nothing before it: there is no answer to build on.
        None if parts.follow_up_lead && !parts.has_core() => nothing_before(parts, ctx.today),
        _ if !parts.has_core() && !parts.has_narrowing() && !parts.list_verb => {
            Parsed::NotUnderstood
        }
        _ => build(parts, ctx.today),
    };
    let parsed = respelt(parsed, &t.respelt);
    if unused.is_empty() {
        return parsed;
    }
    match parsed {
        Parsed::Plan(plan) => Parsed::Partial {
            plan: Some(plan),
            unused,
            retry: None,
        },
        Parsed::Clarify { plan, .. } | Parsed::Partial { plan, .. } => Parsed::Partial {
            plan,
            unused,
            retry: None,
        },
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
    let parsed = respelt(parsed, &[th.respelt, tt.respelt].concat());
    match parsed {
        Parsed::Plan(plan) if !unused.is_empty() => Parsed::Partial {
            plan: Some(plan),
            unused,
            retry: None,
        },
        other => other,
    }
}

/// Tells the plan which misspelt words it read as which known words, for the read-as
/// line.
fn respelt(mut parsed: Parsed, respelt: &[(String, String)]) -> Parsed {
    if let Parsed::Plan(plan)
    | Parsed::Partial {
        plan: Some(plan), ..
    }
    | Parsed::Clarify {
        plan: Some(plan), ..
    } = &mut parsed
    {
        plan.respelt = respelt.to_vec();
    }
    parsed
}

/// A follow-up with no earlier answer ("what about 2024?" first in a conversation):
/// asked back with whole questions for the period it names.
fn nothing_before(parts: Parts, today: NaiveDate) -> Parsed {
    let plan = match build(parts, today) {
        Parsed::Plan(plan) => plan,
        other => return other,
    };
    let when = plan.period.label().to_string();
    let ask = |q: &str| [q, when.as_str()].join(" ").trim().to_string();
    Parsed::Clarify {
        text:
            "There is no earlier answer here to build on. What would you like to know? For example:"
                .into(),
        options: vec![
            ask("how many activities"),
            ask("how far did I run"),
            ask("my rides"),
        ],
        plan: Some(plan),
    }
}

/// The sport of "that ride", "this run" (one activity pointed at), in its singular.
fn demonstrative_activity(t: &Tokens) -> Option<String> {
    (0..t.len()).find_map(|i| {
        if !t.is_any(i, &["that", "this"]) {
            return None;
        }
        singular_sport_at(t, i + 1).map(|sport| sport.singular)
    })
}

/// The sport named at word `i` when it is named in the singular ("run", not "runs"):
/// one activity of it is meant.
fn singular_sport_at(t: &Tokens, i: usize) -> Option<SportSel> {
    let (sport, n) = lexicon::sport_at(t, i)?;
    (n == 1 && t.word(i) == Some(sport.singular.as_str())).then_some(sport)
}

fn read_parts(t: &mut Tokens, ctx: &Context) -> Parts {
    // A follow-up's lead may come after a greeting or a hedge ("ok, and last year?").
    let start = lexicon::lead_in_words(t);
    let lead = lexicon::FOLLOW_UP_LEADS
        .iter()
        .filter(|lead| t.seq_at(start, lead))
        .map(|lead| lead.len())
        .max();
    if let Some(n) = lead {
        t.take(start, n);
    }
    let mut p = Parts {
        follow_up_lead: lead.is_some(),
        pronoun: t.has_any(lexicon::PRONOUNS),
        single_pronoun: t.has_any(lexicon::SINGLE_PRONOUNS),
        how_much: t.has_seq(&["how", "much"]),
        ..Parts::default()
    };
    t.take_any_seq(lexicon::TRAINING_NOUNS);
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
    // "analyse my run from last month": that run itself, not the totals.
    if (0..t.len()).any(|i| singular_sport_at(t, i).is_some()) {
        t.take_any_seq(&[&["analyze"], &["analyse"], &["analysis"]]);
    }
    while t.take_any_seq(lexicon::STATS_WORDS) {
        p.stats = true;
    }
    read_goal(t, &mut p);
    // Streaks first: "in a row" must not be read as a time phrase.
    if t.take_any_seq(lexicon::STREAK_PHRASES) {
        p.aggregation = Some(Aggregation::Streak);
    }
    // "when was my last rest day", "how many rest days": one answer gives both.
    for i in 0..t.len() {
        if t.is_any(i, &["last", "latest"])
            && lexicon::REST_DAY_PHRASES
                .iter()
                .any(|ph| t.seq_at(i + 1, ph))
        {
            t.take(i, 1);
        }
    }
    if t.take_any_seq(lexicon::REST_DAY_PHRASES) {
        p.aggregation = Some(Aggregation::RestDays);
        t.take_any_seq(lexicon::COUNT_PHRASES);
    }
    read_group_and_chart(t, &mut p);
    p.all_time = t.take_any_seq(lexicon::ALL_TIME_PHRASES);
    // Clock times and gear ids before dates: "after 9pm" is not "after 9 <month>", and
    // "b2002" is a bike, not the year 2002.
    read_start_time(t, &mut p);
    read_gear_id(t, &mut p);
    let apart = lexicon::COMPARE_WORDS.iter().any(|w| t.has_seq(w));
    p.periods = time::take_periods(t, ctx.today, apart);
    // After the dates, so "the week before last" stays a date of its own.
    if p.periods.is_empty()
        && let Some(Plan {
            period: Period::Range { .. },
            ..
        }) = &ctx.previous
    {
        p.earlier = time::take_step_back(t);
    }
    // "compare this month vs last month": one comparison, however many words ask it.
    while t.take_any_seq(lexicon::COMPARE_WORDS) {
        p.compare = true;
    }
    if p.compare || p.periods.len() >= 2 {
        t.take_any_seq(lexicon::COMPARE_DIRECTION);
    }
    read_thresholds(t, &mut p);
    read_race(t, &mut p);
    read_marked(t, &mut p);
    read_name(t, &mut p);
    // Negations before the positive readers: "not commutes" is not "commutes".
    read_negation(t, &mut p);
    read_inclusion(t, &mut p);
    // "did I work out": any activity, never the sport type Workout that the two words
    // would spell together.
    let worked_out = t.take_any_seq(lexicon::WORK_OUT_PHRASES);
    p.my_one = (0..t.len()).any(|i| t.is(i, "my") && singular_sport_at(t, i + 1).is_some());
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
    p.any_sport = worked_out && p.filters.sports.is_none();
    for w in lexicon::ANY_SPORT_WORDS {
        if t.take_seq(&[w]) {
            p.any_sport = p.filters.sports.is_none();
        }
    }
    read_units(t, &mut p);
    // "when do I usually ride (during the week)": which weekday, the most common.
    let measured = lexicon::METRIC_PHRASES
        .iter()
        .any(|(_, phrases)| phrases.iter().any(|ph| t.has_seq(ph)));
    if p.group.is_none()
        && !measured
        && t.has_any(&["when"])
        && t.take_any_seq(lexicon::USUAL_WORDS)
    {
        t.take_any_seq(&[&["during", "the", "week"], &["in", "the", "week"]]);
        p.group = Some(GroupBy::Weekday);
        p.most = true;
    }
    read_flags(t, &mut p);
    read_versus(t, &mut p);
    read_metric(t, &mut p);
    read_aggregation(t, &mut p);
    p.list_verb = t.has_any(lexicon::LIST_VERBS);
    p
}
