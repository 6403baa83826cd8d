//! Time phrases: "last week", "in November 2023", "since March", "between 1 May and
//! 3 June 2024", "the last 30 days", "on Christmas Day". Every date is the athlete's
//! local date; `today` comes from the caller's clock.
//!
//! A month or day without a year means the most recent one that has begun: asked on
//! 29 November 2026, "in December" is December 2025 and "in November" is this month.

use crate::lexicon::Tokens;
use crate::plan::Period;
use chrono::{Datelike, Days, NaiveDate};
use domain::dates::DateRange;

/// Months by name and abbreviation.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

/// Weekday names (ISO numbers, Monday = 1); plural forms too ("on Mondays").
pub const WEEKDAYS: &[(&str, u8)] = &[
    ("monday", 1),
    ("mondays", 1),
    ("tuesday", 2),
    ("tuesdays", 2),
    ("wednesday", 3),
    ("wednesdays", 3),
    ("thursday", 4),
    ("thursdays", 4),
    ("friday", 5),
    ("fridays", 5),
    ("saturday", 6),
    ("saturdays", 6),
    ("sunday", 7),
    ("sundays", 7),
];

/// Full English weekday name for an ISO number.
pub fn weekday_name(iso: u8) -> &'static str {
    match iso {
        1 => "Monday",
        2 => "Tuesday",
        3 => "Wednesday",
        4 => "Thursday",
        5 => "Friday",
        6 => "Saturday",
        _ => "Sunday",
    }
}

fn month_number(w: &str) -> Option<u32> {
    MONTHS.iter().find(|(n, _)| *n == w).map(|(_, m)| *m)
}

fn month_name(m: u32) -> &'static str {
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    .get(m.saturating_sub(1) as usize)
    .copied()
    .unwrap_or("")
}

/// A date as people read it: "3 Mar 2024".
pub fn day_label(d: NaiveDate) -> String {
    domain::format::day(d)
}

/// One time expression found in the question.
#[derive(Debug, Clone)]
enum Item {
    Range(DateRange, String),
    EveryYear(u32, u32, String),
}

impl Item {
    fn into_period(self) -> Period {
        match self {
            Item::Range(range, label) => Period::Range { range, label },
            Item::EveryYear(month, day, label) => Period::EveryYear { month, day, label },
        }
    }

    /// The dates covered, when they are one span.
    fn range(&self) -> Option<DateRange> {
        match self {
            Item::Range(r, _) => Some(*r),
            Item::EveryYear(..) => None,
        }
    }
}

fn year_at(t: &Tokens, i: usize) -> Option<i32> {
    let w = t.free(i)?;
    if w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()) {
        let y: i32 = w.parse().ok()?;
        (1970..=2100).contains(&y).then_some(y)
    } else {
        None
    }
}

fn day_number_at(t: &Tokens, i: usize) -> Option<u32> {
    let w = t.free(i)?;
    if w.len() <= 2 && w.chars().all(|c| c.is_ascii_digit()) {
        let d: u32 = w.parse().ok()?;
        (1..=31).contains(&d).then_some(d)
    } else {
        None
    }
}

/// The most recent `month` (of any year) that has begun by `today`.
fn recent_month(today: NaiveDate, month: u32) -> i32 {
    if month <= today.month() {
        today.year()
    } else {
        today.year() - 1
    }
}

/// The most recent `month`/`day` not after `today`.
fn recent_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(today.year(), month, day);
    match this {
        Some(d) if d <= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() - 1, month, day),
    }
}

/// The most recent day before `today` that is weekday `iso` (Monday = 1).
fn weekday_before(today: NaiveDate, iso: u8) -> Option<NaiveDate> {
    let back = (today.weekday().number_from_monday() + 7 - u32::from(iso)) % 7;
    let back = if back == 0 { 7 } else { back };
    today.checked_sub_days(Days::new(u64::from(back)))
}

fn single_day(d: NaiveDate) -> Item {
    Item::Range(DateRange::day(d), format!("on {}", day_label(d)))
}

/// A date or span starting at word `i`; returns it and the index after it.
fn item_at(t: &Tokens, i: usize, today: NaiveDate) -> Option<(Item, usize)> {
    let w = t.free(i)?;
    if w == "the" {
        return item_at(t, i + 1, today);
    }
    // ISO date.
    if w.len() == 10
        && let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d")
    {
        return Some((single_day(d), i + 1));
    }
    if w.len() == 7
        && w.as_bytes().get(4) == Some(&b'-')
        && let (Ok(y), Ok(m)) = (w[..4].parse::<i32>(), w[5..].parse::<u32>())
        && let Some(r) = DateRange::month(y, m)
    {
        return Some((Item::Range(r, format!("in {} {y}", month_name(m))), i + 1));
    }
    // "christmas [day|eve] [2023]", "new years day|eve [2023]".
    let holiday = if t.is(i, "christmas") || t.is(i, "xmas") {
        if t.is(i + 1, "eve") {
            Some((12, 24, "Christmas Eve", 2))
        } else if t.is(i + 1, "day") {
            Some((12, 25, "Christmas Day", 2))
        } else {
            Some((12, 25, "Christmas Day", 1))
        }
    } else if t.seq_at(i, &["new", "year", "day"]) || t.seq_at(i, &["new", "years", "day"]) {
        Some((1, 1, "New Year's Day", 3))
    } else if t.seq_at(i, &["new", "year", "eve"]) || t.seq_at(i, &["new", "years", "eve"]) {
        Some((12, 31, "New Year's Eve", 3))
    } else {
        None
    };
    if let Some((m, d, name, n)) = holiday {
        let after = i + n;
        if let Some(y) = year_at(t, after)
            && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
        {
            return Some((
                Item::Range(DateRange::day(date), format!("on {name} {y}")),
                after + 1,
            ));
        }
        return Some((
            Item::EveryYear(m, d, format!("on {name} (every year)")),
            after,
        ));
    }
    // "3 march [2024]"
    if let Some(d) = day_number_at(t, i)
        && let Some(m) = t.free(i + 1).and_then(month_number)
    {
        return Some(day_month(t, today, m, d, i + 2));
    }
    if let Some(m) = t.free(i).and_then(month_number) {
        // "may" is a month only where a date is clearly meant.
        if w == "may" {
            let before = i.checked_sub(1).and_then(|k| t.word(k));
            let dated = matches!(
                before,
                Some("in" | "since" | "of" | "during" | "until" | "from" | "and" | "to" | "on")
            ) || year_at(t, i + 1).is_some()
                || day_number_at(t, i + 1).is_some();
            if !dated {
                return None;
            }
        }
        // "march 3 [2024]"
        if let Some(d) = day_number_at(t, i + 1)
            && year_at(t, i + 1).is_none()
        {
            return Some(day_month(t, today, m, d, i + 2));
        }
        let (y, next) = match year_at(t, i + 1) {
            Some(y) => (y, i + 2),
            None => (recent_month(today, m), i + 1),
        };
        let r = DateRange::month(y, m)?;
        return Some((Item::Range(r, format!("in {} {y}", month_name(m))), next));
    }
    if let Some(y) = year_at(t, i) {
        let r = DateRange::year(y)?;
        return Some((Item::Range(r, format!("in {y}")), i + 1));
    }
    season_at(t, i, today)
        .or_else(|| ago_at(t, i, today))
        .or_else(|| relative_at(t, i, today))
}

/// Seasons by name and the month each begins in: the meteorological seasons of the
/// northern hemisphere, where most athletes are. The label gives the dates, so an
/// athlete elsewhere sees which months were read.
const SEASONS: &[(&str, u32)] = &[
    ("spring", 3),
    ("summer", 6),
    ("autumn", 9),
    ("fall", 9),
    ("winter", 12),
];

/// "this spring", "last summer", "winter 2024", "the autumn of 2023": three months.
/// Without a year, the most recent season of that name that has begun; "last" passes
/// over one still under way.
fn season_at(t: &Tokens, i: usize, today: NaiveDate) -> Option<(Item, usize)> {
    let lead = t.is_any(i, &["this", "last", "past", "previous"]);
    let j = if lead { i + 1 } else { i };
    let name = t.free(j)?;
    let &(name, first_month) = SEASONS.iter().find(|(n, _)| *n == name)?;
    let begins = |year: i32| NaiveDate::from_ymd_opt(year, first_month, 1);
    let (year, next) = if let Some(y) = year_at(t, j + 1) {
        (y, j + 2)
    } else if t.is(j + 1, "of")
        && let Some(y) = year_at(t, j + 2)
    {
        (y, j + 3)
    } else {
        // "fall" alone is more often the verb: a season only after a lead or "the".
        let after_the = j > 0 && t.is(j - 1, "the");
        if name == "fall" && !lead && !after_the {
            return None;
        }
        let latest = if begins(today.year())? <= today {
            today.year()
        } else {
            today.year() - 1
        };
        let latest_ends = begins(latest)?.checked_add_months(chrono::Months::new(3))?;
        let passed_over = t.is_any(i, &["last", "past", "previous"]) && today < latest_ends;
        (if passed_over { latest - 1 } else { latest }, j + 1)
    };
    let start = begins(year)?;
    let range = DateRange::new(start, start.checked_add_months(chrono::Months::new(3))?)?;
    let season = if first_month == 12 {
        format!("{name} {year}/{:02}", (year + 1) % 100)
    } else {
        format!("{name} {year}")
    };
    Some((
        Item::Range(range, format!("in {season} ({})", span_label(range))),
        next,
    ))
}

/// "3 days ago" (that day), "two weeks ago" (that calendar week), "a month ago",
/// "a year ago" (that calendar month or year).
fn ago_at(t: &Tokens, i: usize, today: NaiveDate) -> Option<(Item, usize)> {
    if !t.is(i + 2, "ago") {
        return None;
    }
    let n = match t.number(i) {
        Some(n) if n.fract() == 0.0 && (1.0..=1000.0).contains(&n) => n as u32,
        _ if t.is_any(i, &["a", "an", "one"]) => 1,
        _ => return None,
    };
    let back = |months: u32| today.checked_sub_months(chrono::Months::new(months));
    let unit = t.free(i + 1)?;
    let (range, what) = match unit {
        "day" | "days" => {
            let d = today.checked_sub_days(Days::new(u64::from(n)))?;
            (DateRange::day(d), day_label(d))
        }
        "week" | "weeks" => {
            let r = DateRange::week_of(today.checked_sub_days(Days::new(u64::from(n) * 7))?);
            (r, format!("the week {}", span_label(r)))
        }
        "month" | "months" => {
            let r = DateRange::month_of(back(n)?);
            (
                r,
                format!("{} {}", month_name(r.start.month()), r.start.year()),
            )
        }
        "year" | "years" => {
            let r = DateRange::year_of(back(n.checked_mul(12)?)?);
            (r, r.start.year().to_string())
        }
        _ => return None,
    };
    let unit = if n == 1 {
        unit.trim_end_matches('s')
    } else {
        unit
    };
    Some((
        Item::Range(range, format!("{n} {unit} ago ({what})")),
        i + 3,
    ))
}

fn day_month(t: &Tokens, today: NaiveDate, m: u32, d: u32, next: usize) -> (Item, usize) {
    let (date, next) = match year_at(t, next) {
        Some(y) => (NaiveDate::from_ymd_opt(y, m, d), next + 1),
        None => (recent_day(today, m, d), next),
    };
    match date {
        Some(date) => (single_day(date), next),
        // "31 february": no such day; read it as the month.
        None => {
            let y = recent_month(today, m);
            let r = DateRange::month(y, m).unwrap_or(DateRange::day(today));
            (Item::Range(r, format!("in {} {y}", month_name(m))), next)
        }
    }
}

/// "today", "last week", "the last 30 days", "year to date" and the like.
fn relative_at(t: &Tokens, i: usize, today: NaiveDate) -> Option<(Item, usize)> {
    let r = |range: DateRange, label: &str| Item::Range(range, label.to_string());
    let w = t.free(i)?;
    let one = |item: Item| Some((item, i + 1));
    match w {
        "today" => return one(r(DateRange::day(today), "today")),
        "yesterday" => {
            let y = today.checked_sub_days(Days::new(1)).unwrap_or(today);
            return one(Item::Range(
                DateRange::day(y),
                format!("yesterday ({})", day_label(y)),
            ));
        }
        "ytd" => return one(r(DateRange::year_to_date(today), "this year so far")),
        "recently" | "lately" => {
            return one(r(DateRange::last_n_days(today, 30), "in the last 30 days"));
        }
        _ => {}
    }
    if t.seq_at(i, &["year", "to", "date"]) {
        return Some((r(DateRange::year_to_date(today), "this year so far"), i + 3));
    }
    if t.seq_at(i, &["so", "far", "this", "year"]) {
        return Some((r(DateRange::year_to_date(today), "this year so far"), i + 4));
    }
    if t.seq_at(i, &["week", "before", "last"]) {
        let range = DateRange::week_before_last(today);
        let label = format!("the week before last ({})", span_label(range));
        return Some((Item::Range(range, label), i + 3));
    }
    if t.is_any(i, &["this", "current"]) {
        // "this morning": today; the part of the day is left for its own rule.
        if t.is_any(i + 1, &["morning", "afternoon", "evening"]) {
            return Some((r(DateRange::day(today), "today"), i + 1));
        }
        // "this week's runs" arrives as "this weeks".
        let item = match t.free(i + 1)? {
            "week" | "weeks" => r(DateRange::this_week(today), "this week"),
            "month" | "months" => r(DateRange::this_month(today), "this month"),
            "year" | "years" => r(DateRange::this_year(today), "this year"),
            _ => return None,
        };
        return Some((item, i + 2));
    }
    if t.is_any(i, &["last", "past", "previous"]) {
        let past = t.is(i, "past");
        // "last 30 days", "past 3 months"
        if let Some(n) = t.number(i + 1)
            && n.fract() == 0.0
            && (1.0..=10_000.0).contains(&n)
        {
            let n = n as u32;
            let days = match t.free(i + 2)? {
                "day" | "days" => n,
                "week" | "weeks" => n.saturating_mul(7),
                "month" | "months" => {
                    let start = today
                        .checked_sub_months(chrono::Months::new(n))
                        .unwrap_or(today);
                    (today - start).num_days().max(0) as u32
                }
                "year" | "years" => {
                    let start = today
                        .checked_sub_months(chrono::Months::new(n.saturating_mul(12)))
                        .unwrap_or(today);
                    (today - start).num_days().max(0) as u32
                }
                _ => return None,
            };
            let unit = t.free(i + 2).unwrap_or("days");
            let label = format!("in the last {n} {unit}");
            return Some((r(DateRange::last_n_days(today, days), &label), i + 3));
        }
        let item = match t.free(i + 1)? {
            "week" if past => r(DateRange::last_n_days(today, 7), "in the past 7 days"),
            "month" if past => r(DateRange::last_n_days(today, 30), "in the past 30 days"),
            "year" if past => r(DateRange::last_n_days(today, 365), "in the past 365 days"),
            "week" => {
                let range = DateRange::last_week(today);
                Item::Range(range, format!("last week ({})", span_label(range)))
            }
            "month" => {
                let range = DateRange::last_month(today);
                let label = format!(
                    "last month ({} {})",
                    month_name(range.start.month()),
                    range.start.year()
                );
                Item::Range(range, label)
            }
            "year" => {
                let range = DateRange::last_year(today);
                Item::Range(range, format!("last year ({})", range.start.year()))
            }
            wd => {
                // "last tuesday": the most recent one before today.
                let (_, iso) = WEEKDAYS.iter().find(|(n, _)| *n == wd)?;
                single_day(weekday_before(today, *iso)?)
            }
        };
        return Some((item, i + 2));
    }
    None
}

/// The last `n` weeks up to today, as "in the last 12 weeks" reads.
pub fn last_weeks(today: NaiveDate, n: u32) -> Period {
    Period::Range {
        range: DateRange::last_n_days(today, n.saturating_mul(7)),
        label: format!("in the last {n} weeks"),
    }
}

/// "16 Nov – 22 Nov 2026".
fn span_label(r: DateRange) -> String {
    match r.last_day() {
        Some(last) => format!("{} to {}", day_label(r.start), day_label(last)),
        None => "no days".to_string(),
    }
}

/// Periods set side by side, made fair: when one is still under way on `today` and
/// another has ended, each is cut to the same stretch (a year to the same day of the
/// year, a month to the same day of the month, a week or other span to the same
/// number of days), and the labels say so. "This year vs last year" on 8 December
/// compares 1 Jan – 8 Dec with 1 Jan – 8 Dec, never eleven months with twelve.
pub fn fair(periods: &mut [Period], today: NaiveDate) {
    let under_way = periods.iter().find_map(|p| match p {
        Period::Range { range, .. } if range.start <= today && today < range.end => Some(*range),
        _ => None,
    });
    let Some(current) = under_way else { return };
    let days_in = (today - current.start).num_days() + 1;
    let is_year = |r: DateRange| {
        r.start.ordinal() == 1 && r.start.with_year(r.start.year() + 1) == Some(r.end)
    };
    let is_month = |r: DateRange| {
        r.start.day() == 1 && r.start.checked_add_months(chrono::Months::new(1)) == Some(r.end)
    };
    let mut cut_any = false;
    for period in periods.iter_mut() {
        let Period::Range { range, label } = period else {
            continue;
        };
        if *range == current || range.end > today {
            continue;
        }
        // The day after the same stretch of the earlier period.
        let end = if is_year(current) && is_year(*range) {
            NaiveDate::from_ymd_opt(range.start.year(), today.month(), today.day())
                // 29 February in a year without one: through 28 February.
                .or_else(|| NaiveDate::from_ymd_opt(range.start.year(), 2, 28))
                .and_then(|d| d.succ_opt())
        } else if is_month(current) && is_month(*range) {
            let last = range.last_day().map_or(1, |d| d.day());
            range
                .start
                .with_day(today.day().min(last))
                .and_then(|d| d.succ_opt())
        } else {
            range.start.checked_add_days(Days::new(days_in as u64))
        };
        let Some(end) = end.filter(|e| *e < range.end) else {
            continue;
        };
        let Some(cut) = DateRange::new(range.start, end) else {
            continue;
        };
        *label = format!("{label} to the same point ({})", span_label(cut));
        *range = cut;
        cut_any = true;
    }
    if !cut_any {
        return;
    }
    for period in periods.iter_mut() {
        if let Period::Range { range, label } = period
            && *range == current
            && let Some(so_far) = DateRange::new(current.start, today.succ_opt().unwrap_or(today))
        {
            *label = format!("{label} so far ({})", span_label(so_far));
            *range = so_far;
        }
    }
}

/// How far "the … before" moves a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Year,
    Month,
    Week,
}

/// Takes "the year before", "the month before", "a year earlier" and the like.
pub fn take_step_back(t: &mut Tokens) -> Option<Step> {
    for (step, unit) in [
        (Step::Year, "year"),
        (Step::Month, "month"),
        (Step::Week, "week"),
    ] {
        for phrase in [[unit, "before"], [unit, "earlier"], [unit, "prior"]] {
            if t.take_seq(&phrase) {
                return Some(step);
            }
        }
    }
    None
}

/// `period` one `step` earlier: a year, a month or a week back, labelled as dates of
/// their own ("in 2024", "in May 2025", "from 1 Dec 2026 to 7 Dec 2026").
pub fn step_back(period: &Period, step: Step) -> Option<Period> {
    let Period::Range { range, .. } = period else {
        return None;
    };
    let back = |d: NaiveDate| match step {
        Step::Year => d.checked_sub_months(chrono::Months::new(12)),
        Step::Month => d.checked_sub_months(chrono::Months::new(1)),
        Step::Week => d.checked_sub_days(Days::new(7)),
    };
    let range = DateRange::new(back(range.start)?, back(range.end)?)?;
    let (y, m) = (range.start.year(), range.start.month());
    let label = if DateRange::year(y) == Some(range) {
        format!("in {y}")
    } else if DateRange::month(y, m) == Some(range) {
        format!("in {} {y}", month_name(m))
    } else if range.num_days() == 1 {
        format!("on {}", day_label(range.start))
    } else {
        format!("from {}", span_label(range))
    };
    Some(Period::Range { range, label })
}

/// A follow-up that names only a year ("and in 2024?") after a span inside one year
/// ("runs in November"): the same span in that year. `None` when `year` is not one
/// whole calendar year or `previous` is not a span within a single year.
pub fn same_span_in_year(previous: &Period, year: DateRange) -> Option<Period> {
    let Period::Range { range, .. } = previous else {
        return None;
    };
    let y = year.start.year();
    if DateRange::year(y) != Some(year) {
        return None;
    }
    let last = range.last_day()?;
    let from = range.start.year();
    if last.year() != from || DateRange::year(from) == Some(*range) {
        return None;
    }
    let shift = |d: NaiveDate| {
        d.with_year(y)
            .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), d.day() - 1))
    };
    let start = shift(range.start)?;
    let end = shift(last)?.succ_opt()?;
    let range = DateRange::new(start, end)?;
    let month = DateRange::month(y, start.month());
    let label = if month == Some(range) {
        format!("in {} {y}", month_name(start.month()))
    } else if range.num_days() == 1 {
        format!("on {}", day_label(start))
    } else {
        format!("from {}", span_label(range))
    };
    Some(Period::Range { range, label })
}

/// The current period of the same kind as `range` ("last year" → this year, "last
/// month" → this month, "last week" → this week), for "compare to last year". `None`
/// when `range` is not a whole year, month or Monday-to-Sunday week, or is current.
pub fn current_like(range: DateRange, today: NaiveDate) -> Option<Period> {
    let (current, label) = if DateRange::year(range.start.year()) == Some(range) {
        (DateRange::this_year(today), "this year")
    } else if DateRange::month(range.start.year(), range.start.month()) == Some(range) {
        (DateRange::this_month(today), "this month")
    } else if DateRange::week_of(range.start) == range {
        (DateRange::this_week(today), "this week")
    } else {
        return None;
    };
    (current != range).then(|| Period::Range {
        range: current,
        label: label.into(),
    })
}

/// The span from the start of `a` to the end of `b`. Month names resolve to their most
/// recent past occurrence, so "from January to December" can come out backwards
/// (January this year, December last year): then `a` is taken a year earlier.
fn span_between(a: DateRange, b: DateRange) -> Option<DateRange> {
    if b.end > a.start {
        return DateRange::new(a.start, b.end);
    }
    let start = a.start.with_year(a.start.year() - 1)?;
    (b.end > start)
        .then(|| DateRange::new(start, b.end))
        .flatten()
}

/// Finds every time expression, uses their words, and returns them in order; with
/// `apart`, "between X and Y" is two periods rather than one span.
pub fn take_periods(t: &mut Tokens, today: NaiveDate, apart: bool) -> Vec<Period> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if t.free(i).is_none() {
            i += 1;
            continue;
        }
        // "since X": from X up to today.
        if t.is_any(i, &["since", "after"])
            && let Some((item, next)) = item_at(t, i + 1, today)
            && let Some(from) = item.range()
        {
            let end = today.checked_add_days(Days::new(1)).unwrap_or(today);
            if let Some(range) = DateRange::new(from.start, end.max(from.start)) {
                out.push(Period::Range {
                    range,
                    label: format!("since {}", day_label(from.start)),
                });
            }
            t.take(i, next - i);
            i = next;
            continue;
        }
        // "between X and Y", "from X to Y": one span, unless the question sets them side
        // by side ("compare my rides between last month and this month").
        if t.is_any(i, &["between", "from"])
            && let Some((a, mid)) = item_at(t, i + 1, today)
            && t.is_any(mid, &["and", "to", "until", "till", "through"])
            && let Some((b, next)) = item_at(t, mid + 1, today)
            && let (Some(ra), Some(rb)) = (a.range(), b.range())
            && let Some(range) = span_between(ra, rb)
        {
            if apart && t.is(i, "between") {
                out.push(a.into_period());
                out.push(b.into_period());
                t.take(i, next - i);
                i = next;
                continue;
            }
            let label = format!("from {}", span_label(range));
            out.push(Period::Range { range, label });
            t.take(i, next - i);
            i = next;
            continue;
        }
        // "on Tuesday" is one day, the most recent Tuesday; "on Tuesdays" and "on
        // Tuesday mornings" are every one.
        if t.is(i, "on")
            && let Some(next) = t.free(i + 1)
            && let Some((_, iso)) = WEEKDAYS
                .iter()
                .find(|(name, _)| *name == next && !name.ends_with('s'))
            && !t.is_any(i + 2, &["mornings", "afternoons", "evenings", "nights"])
            && let Some(day) = weekday_before(today, *iso)
        {
            out.push(single_day(day).into_period());
            t.take(i, 2);
            i += 2;
            continue;
        }
        let lead = usize::from(t.is_any(i, &["in", "on", "during", "for"]));
        if let Some((item, next)) = item_at(t, i + lead, today) {
            out.push(item.into_period());
            t.take(i, next - i);
            i = next;
            continue;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn one(q: &str) -> Period {
        let mut t = Tokens::new(q);
        let mut p = take_periods(&mut t, today(), false);
        assert_eq!(p.len(), 1, "{q}: {p:?}");
        p.remove(0)
    }

    fn range(q: &str) -> (String, String) {
        match one(q) {
            Period::Range { range, .. } => (range.start.to_string(), range.end.to_string()),
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn calendar_phrases() {
        let r = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(range("in november 2023"), r("2023-11-01", "2023-12-01"));
        assert_eq!(range("in november"), r("2026-11-01", "2026-12-01"));
        assert_eq!(range("in december"), r("2025-12-01", "2026-01-01"));
        assert_eq!(range("in 2024"), r("2024-01-01", "2025-01-01"));
        assert_eq!(range("last week"), r("2026-11-16", "2026-11-23"));
        assert_eq!(range("this week"), r("2026-11-23", "2026-11-30"));
        assert_eq!(range("the week before last"), r("2026-11-09", "2026-11-16"));
        assert_eq!(range("last month"), r("2026-10-01", "2026-11-01"));
        assert_eq!(range("last year"), r("2025-01-01", "2026-01-01"));
        assert_eq!(range("year to date"), r("2026-01-01", "2026-11-30"));
        assert_eq!(range("the last 7 days"), r("2026-11-23", "2026-11-30"));
        assert_eq!(range("since march"), r("2026-03-01", "2026-11-30"));
        assert_eq!(range("on 2024-03-03"), r("2024-03-03", "2024-03-04"));
        assert_eq!(range("on march 3 2024"), r("2024-03-03", "2024-03-04"));
        assert_eq!(range("on 3rd March 2024"), r("2024-03-03", "2024-03-04"));
        assert_eq!(
            range("between 1 may 2024 and 3 june 2024"),
            r("2024-05-01", "2024-06-04")
        );
        assert_eq!(range("yesterday"), r("2026-11-28", "2026-11-29"));
        assert_eq!(range("last tuesday"), r("2026-11-24", "2026-11-25"));
        assert_eq!(range("christmas 2024"), r("2024-12-25", "2024-12-26"));
        // Seasons: the most recent that has begun; "last" passes over one under way.
        assert_eq!(range("this spring"), r("2026-03-01", "2026-06-01"));
        assert_eq!(range("last summer"), r("2026-06-01", "2026-09-01"));
        assert_eq!(range("last autumn"), r("2025-09-01", "2025-12-01"));
        assert_eq!(range("in the fall"), r("2026-09-01", "2026-12-01"));
        assert_eq!(range("this winter"), r("2025-12-01", "2026-03-01"));
        assert_eq!(range("summer 2024"), r("2024-06-01", "2024-09-01"));
        assert_eq!(range("the winter of 2023"), r("2023-12-01", "2024-03-01"));
        assert_eq!(
            one("last summer").label(),
            "in summer 2026 (1 Jun 2026 to 31 Aug 2026)"
        );
        // So long ago: a day, a calendar week, month or year.
        assert_eq!(range("3 days ago"), r("2026-11-26", "2026-11-27"));
        assert_eq!(range("two weeks ago"), r("2026-11-09", "2026-11-16"));
        assert_eq!(range("a month ago"), r("2026-10-01", "2026-11-01"));
        assert_eq!(range("a year ago"), r("2025-01-01", "2026-01-01"));
        assert_eq!(one("3 days ago").label(), "3 days ago (26 Nov 2026)");
        assert!(matches!(
            one("on christmas day"),
            Period::EveryYear {
                month: 12,
                day: 25,
                ..
            }
        ));
    }

    #[test]
    fn may_needs_context() {
        let mut t = Tokens::new("may i see my runs");
        assert!(take_periods(&mut t, today(), false).is_empty());
        assert_eq!(range("in may"), ("2026-05-01".into(), "2026-06-01".into()));
    }
}
