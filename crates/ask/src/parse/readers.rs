//! The rules that read one kind of phrase each (groups, thresholds, clock times,
//! negations, sports included, races, names, units, flags, superlatives), marking the
//! words they use.

use super::*;

pub(super) fn read_group_and_chart(t: &mut Tokens, p: &mut Parts) {
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
    if t.take_any_seq(lexicon::CONSISTENCY_WORDS) {
        p.consistency = true;
        p.group = p.group.or(Some(GroupBy::Week));
        p.chart = Some(ChartKind::Bar);
    }
    let mut split = false;
    while t.take_any_seq(lexicon::GROUP_NOUNS) {
        split = true;
    }
    if split && p.group.is_none() {
        p.group = Some(GroupBy::Sport);
    }
    if p.group.is_some() {
        while t.take_any_seq(lexicon::SPLIT_WORDS) {}
    }
    if t.take_any_seq(lexicon::LINE_CHART_PHRASES) {
        p.chart = Some(ChartKind::Line);
    }
    if t.take_any_seq(lexicon::CHART_WORDS) && p.chart.is_none() {
        p.chart = Some(ChartKind::Bar);
    }
}

/// "over 15 km", "longer than 2 hours", "at least 10 miles", "under 30 min".
pub(super) fn read_thresholds(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn read_goal(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn read_start_time(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn clock_range(t: &Tokens, i: usize) -> Option<(ClockSpan, usize)> {
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
pub(super) fn clock_time(t: &Tokens, i: usize) -> Option<(u32, usize)> {
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
pub(super) fn read_negation(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn read_inclusion(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn include(sports: &mut SportSel, also: SportSel) {
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
pub(super) fn read_gear_id(t: &mut Tokens, p: &mut Parts) {
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

pub(super) fn read_race(t: &mut Tokens, p: &mut Parts) {
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

/// What the athlete marked on Strava: "my races", "races this year", "my long runs".
pub(super) fn read_marked(t: &mut Tokens, p: &mut Parts) {
    // The run word after "long" is left for the sport; "my two long runs" are the two
    // longest, read with the comparison.
    let counted = |i: usize| i.checked_sub(1).is_some_and(|k| t.number(k).is_some());
    if let Some(i) =
        (0..t.len()).find(|&i| t.is(i, "long") && t.is_any(i + 1, &["run", "runs"]) && !counted(i))
    {
        t.take(i, 1);
        p.filters.marked = Some(Marked::LongRun);
        return;
    }
    if p.filters.race.is_none() && t.take_any_seq(lexicon::MARKED_RACE_WORDS) {
        p.filters.marked = Some(Marked::Race);
    }
}

/// A name to look for: in double quotes, after "named"/"called", or "parkrun".
pub(super) fn read_name(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn read_units(t: &mut Tokens, p: &mut Parts) {
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
        // Metres are a climb or a swim's length: with swims named, the distance.
        let metric = metric.or_else(|| {
            (units == Units::Metric
                && lexicon::CLIMB_UNITS.contains(&w)
                && p.filters.family() == Some(SportFamily::Swim))
            .then_some(Metric::Distance)
        });
        p.units = Some(units);
        if p.unit_metric.is_none() {
            p.unit_metric = metric;
            // "km last week", "miles on my shoes": the unit is what is asked for;
            // "my walks in miles" only says how to show them.
            p.unit_as_measure =
                metric.is_some() && !i.checked_sub(1).is_some_and(|k| t.is(k, "in"));
        }
        t.take(i, 1);
    }
}

pub(super) fn read_flags(t: &mut Tokens, p: &mut Parts) {
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
pub(super) fn read_versus(t: &mut Tokens, p: &mut Parts) {
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

pub(super) fn read_metric(t: &mut Tokens, p: &mut Parts) {
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
            // The same measure named twice ("how much elevation did I climb",
            // "mileage and distance"): one reading.
            while phrases.iter().any(|ph| t.take_seq(ph)) {}
            break;
        }
    }
    // "how far" is a total distance; "how far do I usually run" an average.
    let usual = (0..t.len()).any(|i| {
        t.free(i)
            .and_then(lexicon::aggregation_word)
            .is_some_and(|w| w == AggWord::Average)
    });
    if p.metric == Some(Metric::Distance) && t.has_seq(&["how", "far"]) && !usual {
        p.aggregation = p.aggregation.or(Some(Aggregation::Total));
    }
}

pub(super) fn read_aggregation(t: &mut Tokens, p: &mut Parts) {
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
    // "which day do I run most often": the most, counted.
    if p.most {
        t.take_any_seq(&[&["often"], &["frequently"]]);
    }
}

/// How many activities "recent runs" shows.
pub(super) const RECENT_COUNT: u32 = 10;
