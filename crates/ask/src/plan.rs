//! The typed plan a question turns into: what to measure, over which activities,
//! for which period, and how to shape the result. Plans are stored as JSON with each
//! assistant message, so a follow-up can start from the previous one.

use domain::dates::DateRange;
use domain::format::METRES_PER_KILOMETRE;
use domain::{SportFamily, SportType, Units};
use serde::{Deserialize, Serialize};

/// What a question measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Number of activities.
    Count,
    /// Distance covered.
    Distance,
    /// Moving time.
    MovingTime,
    /// Elapsed time, stops included.
    ElapsedTime,
    /// Elevation gain.
    Elevation,
    /// Pace (time per distance); computed from speed.
    Pace,
    /// Speed (distance per time).
    Speed,
    /// Average heart rate of an activity.
    HeartRate,
    /// Maximum heart rate of an activity.
    MaxHeartRate,
    /// Average cadence.
    Cadence,
    /// Average power in watts.
    Power,
    /// Kudos received.
    Kudos,
    /// Calories burned, where Strava stores them.
    Calories,
}

impl Metric {
    /// The `activities` column that holds this metric (the id for a count).
    pub fn column(self) -> &'static str {
        match self {
            Metric::Count => "id",
            Metric::Distance => "distance_m",
            Metric::MovingTime => "moving_time_s",
            Metric::ElapsedTime => "elapsed_time_s",
            Metric::Elevation => "total_elevation_gain_m",
            Metric::Pace | Metric::Speed => "average_speed_mps",
            Metric::HeartRate => "average_heartrate",
            Metric::MaxHeartRate => "max_heartrate",
            Metric::Cadence => "average_cadence",
            Metric::Power => "average_watts",
            Metric::Kudos => "kudos_count",
            Metric::Calories => "calories",
        }
    }

    /// Whether adding values up means something (distance does, heart rate does not).
    pub fn is_additive(self) -> bool {
        matches!(
            self,
            Self::Count
                | Self::Distance
                | Self::MovingTime
                | Self::ElapsedTime
                | Self::Elevation
                | Self::Kudos
                | Self::Calories
        )
    }

    /// Whether Strava may leave the value out (no heart-rate strap, no power meter,
    /// calories not computed): a total of nothing recorded is unknown, not zero.
    pub fn is_nullable(self) -> bool {
        matches!(
            self,
            Self::HeartRate | Self::MaxHeartRate | Self::Cadence | Self::Power | Self::Calories
        )
    }

    /// Whether the metric is a speed, shown as pace or speed.
    pub fn is_speed(self) -> bool {
        matches!(self, Self::Pace | Self::Speed)
    }

    /// A lowercase name for sentences, e.g. "moving time".
    pub fn noun(self) -> &'static str {
        match self {
            Self::Count => "number of activities",
            Self::Distance => "distance",
            Self::MovingTime => "moving time",
            Self::ElapsedTime => "elapsed time",
            Self::Elevation => "elevation gain",
            Self::Pace => "pace",
            Self::Speed => "speed",
            Self::HeartRate => "heart rate",
            Self::MaxHeartRate => "max heart rate",
            Self::Cadence => "cadence",
            Self::Power => "power",
            Self::Kudos => "kudos",
            Self::Calories => "calories",
        }
    }
}

/// How values are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// A sum (or the count, for [`Metric::Count`]).
    Total,
    /// A mean; pace and speed are distance-weighted.
    Average,
    /// The highest value: the top activities, or the maximum per group.
    Max,
    /// The lowest value: the bottom activities, or the minimum per group.
    Min,
    /// The activities themselves, in date order.
    List,
    /// The longest run of consecutive days with at least one activity.
    Streak,
    /// The days of the period with no activity: how many, and the latest. Today is
    /// not over, so it is never counted.
    RestDays,
}

/// Date order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Oldest first: a plain list, or "my first run".
    #[default]
    Oldest,
    /// Newest first: "my last 3 rides".
    Newest,
}

impl Order {
    /// The SQL sort direction by start time.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Oldest => "ASC",
            Self::Newest => "DESC",
        }
    }
}

/// How a series is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Monday-to-Sunday weeks.
    Week,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
    /// Sport type.
    Sport,
    /// Day of the week.
    Weekday,
    /// Gear (bike or shoes), by Strava gear id.
    Gear,
}

impl GroupBy {
    /// The group column's name in tables and charts.
    pub fn column(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
            Self::Sport => "sport_type",
            Self::Weekday => "weekday",
            Self::Gear => "gear_id",
        }
    }
}

/// Chart shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Bars, for counts and totals.
    Bar,
    /// A line, for trends.
    Line,
}

/// A comparison operator for thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmp {
    /// At least (>=).
    AtLeast,
    /// At most (<=).
    AtMost,
}

/// A race distance; matched within [`Race::bounds_m`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Race {
    /// 5 km.
    FiveK,
    /// 10 km.
    TenK,
    /// 21.0975 km.
    Half,
    /// 42.195 km.
    Marathon,
}

/// Race distances match from 1% short to 4% long: GPS tracks of a certified course
/// nearly always measure long (corners cut wide, drift), rarely short.
pub const RACE_TOLERANCE_SHORT: f64 = 0.01;
/// See [`RACE_TOLERANCE_SHORT`].
pub const RACE_TOLERANCE_LONG: f64 = 0.04;

impl Race {
    /// The official distance in metres.
    pub fn metres(self) -> f64 {
        match self {
            Self::FiveK => 5.0 * METRES_PER_KILOMETRE,
            Self::TenK => 10.0 * METRES_PER_KILOMETRE,
            Self::Half => 21_097.5,
            Self::Marathon => 42_195.0,
        }
    }

    /// Inclusive distance bounds in metres that count as this race.
    pub fn bounds_m(self) -> (f64, f64) {
        let d = self.metres();
        (
            d * (1.0 - RACE_TOLERANCE_SHORT),
            d * (1.0 + RACE_TOLERANCE_LONG),
        )
    }

    /// How people write it: "5K", "half marathon".
    pub fn label(self) -> &'static str {
        match self {
            Self::FiveK => "5K",
            Self::TenK => "10K",
            Self::Half => "half marathon",
            Self::Marathon => "marathon",
        }
    }
}

/// Two activities set side by side, each with its figures and the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Versus {
    /// The first two of the plan's own ranking or date order: "my last run vs the one
    /// before", "my two longest rides this year".
    TopTwo,
    /// The top and the bottom by the plan's measure: "my fastest vs slowest run".
    Extremes,
}

/// Part of the day, by local start hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPart {
    /// 05:00 to 11:59.
    Morning,
    /// 12:00 to 16:59.
    Afternoon,
    /// 17:00 to 20:59.
    Evening,
    /// 21:00 to 04:59.
    Night,
}

impl DayPart {
    /// Start hour (inclusive) and end hour (exclusive); night wraps past midnight.
    pub fn hours(self) -> (i32, i32) {
        match self {
            Self::Morning => (5, 12),
            Self::Afternoon => (12, 17),
            Self::Evening => (17, 21),
            Self::Night => (21, 5),
        }
    }

    /// A lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
            Self::Evening => "evening",
            Self::Night => "night",
        }
    }
}

/// A set of sport types with the words used to talk about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SportSel {
    /// Strava sport types included.
    pub types: Vec<SportType>,
    /// One of them: "run".
    pub singular: String,
    /// Several: "runs".
    pub plural: String,
}

impl SportSel {
    /// The family shared by every type, if they share one.
    pub fn family(&self) -> Option<SportFamily> {
        let first = self.types.first()?.family();
        self.types
            .iter()
            .all(|t| t.family() == first)
            .then_some(first)
    }
}

/// Which activities count.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Filters {
    /// Sport types; `None` is every sport.
    pub sports: Option<SportSel>,
    /// A race distance.
    pub race: Option<Race>,
    /// Distance threshold in metres.
    pub distance: Option<(Cmp, f64)>,
    /// Moving-time threshold in seconds.
    pub duration: Option<(Cmp, f64)>,
    /// Elevation-gain threshold in metres ("more than 1000 m of climbing").
    #[serde(default)]
    pub elevation: Option<(Cmp, f64)>,
    /// Text the name must contain (case-insensitive).
    pub name: Option<String>,
    /// Commutes only (true) or no commutes (false).
    pub commute: Option<bool>,
    /// Indoor / trainer only (true) or outdoor only (false).
    pub trainer: Option<bool>,
    /// ISO weekday, 1 = Monday to 7 = Sunday.
    pub weekday: Option<u8>,
    /// Part of the day.
    pub day_part: Option<DayPart>,
    /// Weekend days only (true) or weekdays only (false).
    #[serde(default)]
    pub weekend: Option<bool>,
    /// Local start time window ("before 7am", "after 9pm", "between 6am and 8am").
    #[serde(default)]
    pub start_time: Option<ClockSpan>,
    /// Sport types left out ("excluding virtual rides").
    #[serde(default)]
    pub exclude: Option<SportSel>,
    /// Which gear: a Strava gear id, or none recorded.
    #[serde(default)]
    pub gear: Option<GearSel>,
    /// What the athlete marked the activity as on Strava (its workout type).
    #[serde(default)]
    pub marked: Option<Marked>,
}

/// What Strava's workout type marks an activity as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Marked {
    /// A race: a run or a ride marked as one.
    Race,
    /// A long run.
    LongRun,
}

impl Marked {
    /// Strava's `workout_type` codes for it (runs count from 0, rides from 10).
    pub fn codes(self) -> &'static str {
        match self {
            Self::Race => "1, 11",
            Self::LongRun => "2",
        }
    }

    /// "race", "long runs".
    pub fn noun(self, one: bool) -> &'static str {
        match (self, one) {
            (Self::Race, true) => "race",
            (Self::Race, false) => "races",
            (Self::LongRun, true) => "long run",
            (Self::LongRun, false) => "long runs",
        }
    }
}

/// A window of local start times, in minutes after midnight: `from` inclusive, `to`
/// exclusive ("before 7am" starts before 07:00; "after 9pm" includes 21:00). A window
/// with `from` after `to` wraps past midnight ("between 10pm and 2am").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSpan {
    /// Earliest start, if bounded.
    pub from: Option<u32>,
    /// Start before this, if bounded.
    pub to: Option<u32>,
}

impl ClockSpan {
    /// "before 07:00", "from 21:00", "between 06:00 and 08:00".
    pub fn words(self) -> String {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        match (self.from, self.to) {
            (Some(a), Some(b)) => format!("between {} and {}", hm(a), hm(b)),
            (Some(a), None) => format!("from {}", hm(a)),
            (None, Some(b)) => format!("before {}", hm(b)),
            (None, None) => "at any time".into(),
        }
    }
}

/// A gear filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GearSel {
    /// No gear recorded on the activity ("rides with no bike set").
    None,
    /// Some gear recorded.
    Any,
    /// One piece of gear, by its Strava id ("b12345", "g67890").
    Id(String),
}

impl Filters {
    /// The weekend, start-time, exclusion and gear filters as words for a sentence,
    /// each with a leading space: " at weekends starting before 07:00 except virtual
    /// rides with no gear recorded". Empty when none is set.
    pub fn extra_words(&self) -> String {
        let mut out = String::new();
        if let Some(weekend) = self.weekend {
            out.push_str(if weekend {
                " at weekends"
            } else {
                " on weekdays"
            });
        }
        if let Some(span) = self.start_time {
            out.push_str(&format!(" starting {}", span.words()));
        }
        if let Some(x) = &self.exclude {
            out.push_str(&format!(" except {}", x.plural));
        }
        // With a sport named, the mark follows it ("rides marked as races"); alone it
        // is the noun itself.
        if let (Some(m), Some(_)) = (self.marked, &self.sports) {
            out.push_str(&format!(" marked as {}", m.noun(false)));
        }
        match &self.gear {
            Some(GearSel::None) => out.push_str(" with no gear recorded"),
            Some(GearSel::Any) => out.push_str(" with gear recorded"),
            Some(GearSel::Id(id)) => out.push_str(&format!(" with gear {id}")),
            None => {}
        }
        out
    }

    /// The family the activities share, as far as the filters say.
    pub fn family(&self) -> Option<SportFamily> {
        if self.race.is_some() || self.marked == Some(Marked::LongRun) {
            return Some(SportFamily::Foot);
        }
        self.sports.as_ref().and_then(SportSel::family)
    }
}

/// The time a question covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Period {
    /// Everything on record.
    All,
    /// Local dates in a range; `label` restates it ("in November 2023").
    Range {
        /// The dates.
        range: DateRange,
        /// How the answer restates it.
        label: String,
    },
    /// One calendar day in every year ("on Christmas Day").
    EveryYear {
        /// Month, 1 to 12.
        month: u32,
        /// Day of month.
        day: u32,
        /// How the answer restates it.
        label: String,
    },
}

impl Period {
    /// The phrase to restate in answers; empty for [`Period::All`].
    pub fn label(&self) -> &str {
        match self {
            Self::All => "",
            Self::Range { label, .. } | Self::EveryYear { label, .. } => label,
        }
    }
}

/// Everything needed to answer one question with one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// What is measured.
    pub metric: Metric,
    /// How it is combined.
    pub aggregation: Aggregation,
    /// Which activities count.
    pub filters: Filters,
    /// Which dates count.
    pub period: Period,
    /// A series instead of one value.
    pub group: Option<GroupBy>,
    /// Two or more periods side by side (then `period` is ignored).
    pub compare: Vec<Period>,
    /// Date order of lists.
    pub order: Order,
    /// How many activities or groups to show at most.
    pub limit: Option<u32>,
    /// Units named in the question, overriding the athlete's preference.
    pub units: Option<Units>,
    /// A chart was asked for (grouped answers always get one).
    pub chart: Option<ChartKind>,
    /// A second measure the top activity is also ranked by, when the question fits
    /// both ("my longest activity": by distance and by time). When one activity tops
    /// both, that is the answer; otherwise the answer asks which, showing both.
    #[serde(default)]
    pub also_by: Option<Metric>,
    /// The measure a follow-up asks about the same activities ("and its duration?").
    #[serde(default)]
    pub focus: Option<Metric>,
    /// Only the first or last N activities count ("over my last 8 runs", "longest of
    /// my last 10 runs"), whatever is computed over them.
    #[serde(default)]
    pub within: Option<(Order, u32)>,
    /// This plan is a question asked back: the next turn completes it ("for runs").
    #[serde(default)]
    pub asked_back: bool,
    /// Groups of activities side by side over one period, each a narrowing of
    /// `filters` ("runs vs rides this year", "morning runs vs evening runs").
    #[serde(default)]
    pub compare_sides: Vec<Filters>,
    /// A distance goal in metres ("how close am I to 100 km this month").
    #[serde(default)]
    pub goal: Option<f64>,
    /// "How's my training going": this week against the four weeks before.
    #[serde(default)]
    pub summary: bool,
    /// The part whose share of the total is asked ("what percentage of my rides were
    /// commutes": commutes).
    #[serde(default)]
    pub share: Option<Filters>,
    /// Two of the activities compared with each other rather than listed.
    #[serde(default)]
    pub versus: Option<Versus>,
    /// Misspelt words of the question and the known words they were read as.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub respelt: Vec<(String, String)>,
}

impl Plan {
    /// A plan that counts every activity ever: the neutral starting point.
    pub fn new(metric: Metric, aggregation: Aggregation) -> Self {
        Self {
            metric,
            aggregation,
            filters: Filters::default(),
            period: Period::All,
            group: None,
            compare: Vec::new(),
            order: Order::Oldest,
            limit: None,
            units: None,
            chart: None,
            also_by: None,
            focus: None,
            within: None,
            asked_back: false,
            compare_sides: Vec::new(),
            goal: None,
            summary: false,
            share: None,
            versus: None,
            respelt: Vec::new(),
        }
    }

    /// The units answers use: the question's, else the athlete's.
    pub fn units_or(&self, athlete: Units) -> Units {
        self.units.unwrap_or(athlete)
    }

    /// The activities a figure or a superlative covers when the question limits them
    /// ("average pace over my last 8 runs"): their order and how many.
    pub fn scope(&self) -> Option<(Order, u32)> {
        self.within
    }

    /// The race distance whose best efforts answer the question ("fastest 5k", "my
    /// 10k PR"): the fastest stretch of it within any run, when such efforts are
    /// stored; otherwise whole runs of about that distance answer, and say so.
    pub fn best_effort(&self) -> Option<Race> {
        let f = &self.filters;
        let only_race_and_sport = Filters {
            race: None,
            sports: None,
            ..f.clone()
        } == Filters::default();
        (self.aggregation == Aggregation::Max
            && self.metric.is_speed()
            && self.group.is_none()
            && self.compare.is_empty()
            && self.compare_sides.is_empty()
            && self.also_by.is_none()
            && self.versus.is_none()
            && self.within.is_none()
            && only_race_and_sport)
            .then_some(f.race)
            .flatten()
    }

    /// Whether the result is a list of activities (rather than numbers).
    pub fn returns_activities(&self) -> bool {
        self.group.is_none()
            && self.compare.is_empty()
            && self.compare_sides.is_empty()
            && matches!(
                self.aggregation,
                Aggregation::List | Aggregation::Max | Aggregation::Min
            )
    }
}
