//! Strava sport types.
//!
//! Strava keeps adding `sport_type` values, so a sport is stored as the string Strava
//! sent: values we do not know yet pass through unchanged instead of failing a sync.
//! On top of the string this module knows the current list of values, how to show one
//! to a person, and which [`SportFamily`] it belongs to (which decides whether a pace
//! or a speed is the natural way to describe how fast it went).

use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

/// Every `sport_type` value in Strava's API documentation at the time of writing.
const KNOWN: &[&str] = &[
    "AlpineSki",
    "BackcountrySki",
    "Badminton",
    "Basketball",
    "Canoeing",
    "Cricket",
    "Crossfit",
    "Dance",
    "EBikeRide",
    "Elliptical",
    "EMountainBikeRide",
    "Golf",
    "GravelRide",
    "Handcycle",
    "HighIntensityIntervalTraining",
    "Hike",
    "IceSkate",
    "InlineSkate",
    "Kayaking",
    "Kitesurf",
    "MountainBikeRide",
    "NordicSki",
    "Padel",
    "Pickleball",
    "Pilates",
    "Racquetball",
    "Ride",
    "RockClimbing",
    "RollerSki",
    "Rowing",
    "Run",
    "Sail",
    "Skateboard",
    "Snowboard",
    "Snowshoe",
    "Soccer",
    "Squash",
    "StairStepper",
    "StandUpPaddling",
    "Surfing",
    "Swim",
    "TableTennis",
    "Tennis",
    "TrailRun",
    "Velomobile",
    "VirtualRide",
    "VirtualRow",
    "VirtualRun",
    "Volleyball",
    "Walk",
    "WeightTraining",
    "Wheelchair",
    "Windsurf",
    "Workout",
    "Yoga",
];

/// Sports moved on foot (or wheelchair): described by pace per km or per mile.
/// Wheelchair sits here because Strava shows it with a pace, like a run.
const FOOT: &[&str] = &[
    "Run",
    "TrailRun",
    "VirtualRun",
    "Walk",
    "Hike",
    "Snowshoe",
    "Wheelchair",
];

/// The English "Activity Type" names of Strava's bulk export (`activities.csv`) and
/// the `sport_type` each stands for. The export shows display names, some of which
/// no longer spell the API value ("Football (Soccer)" is `Soccer`, "Rock Climb" is
/// `RockClimbing`).
const EXPORT_NAMES: &[(&str, &str)] = &[
    ("Alpine Ski", "AlpineSki"),
    ("Backcountry Ski", "BackcountrySki"),
    ("Badminton", "Badminton"),
    ("Basketball", "Basketball"),
    ("Canoe", "Canoeing"),
    ("Canoeing", "Canoeing"),
    ("Cricket", "Cricket"),
    ("Crossfit", "Crossfit"),
    ("Dance", "Dance"),
    ("E-Bike Ride", "EBikeRide"),
    ("E-Mountain Bike Ride", "EMountainBikeRide"),
    ("Elliptical", "Elliptical"),
    ("Football (Soccer)", "Soccer"),
    ("Golf", "Golf"),
    ("Gravel Ride", "GravelRide"),
    ("Handcycle", "Handcycle"),
    ("HIIT", "HighIntensityIntervalTraining"),
    (
        "High Intensity Interval Training",
        "HighIntensityIntervalTraining",
    ),
    ("Hike", "Hike"),
    ("Ice Skate", "IceSkate"),
    ("Inline Skate", "InlineSkate"),
    ("Kayaking", "Kayaking"),
    ("Kitesurf", "Kitesurf"),
    ("Mountain Bike Ride", "MountainBikeRide"),
    ("Nordic Ski", "NordicSki"),
    ("Padel", "Padel"),
    ("Pickleball", "Pickleball"),
    ("Pilates", "Pilates"),
    ("Racquetball", "Racquetball"),
    ("Ride", "Ride"),
    ("Rock Climb", "RockClimbing"),
    ("Roller Ski", "RollerSki"),
    ("Rowing", "Rowing"),
    ("Run", "Run"),
    ("Sail", "Sail"),
    ("Skateboard", "Skateboard"),
    ("Snowboard", "Snowboard"),
    ("Snowshoe", "Snowshoe"),
    ("Squash", "Squash"),
    ("Stair-Stepper", "StairStepper"),
    ("Stand Up Paddling", "StandUpPaddling"),
    ("Surf", "Surfing"),
    ("Surfing", "Surfing"),
    ("Swim", "Swim"),
    ("Table Tennis", "TableTennis"),
    ("Tennis", "Tennis"),
    ("Trail Run", "TrailRun"),
    ("Velomobile", "Velomobile"),
    ("Virtual Ride", "VirtualRide"),
    ("Virtual Row", "VirtualRow"),
    ("Virtual Run", "VirtualRun"),
    ("Volleyball", "Volleyball"),
    ("Walk", "Walk"),
    ("Weight Training", "WeightTraining"),
    ("Wheelchair", "Wheelchair"),
    ("Windsurf", "Windsurf"),
    ("Workout", "Workout"),
    ("Yoga", "Yoga"),
];

/// "Activity Type" names of exports in other languages: (language, name shown,
/// `sport_type`). "seen" names were read in public repositories' copies of real
/// exports or export fixtures (see the gateway's `tests/data/export-languages.txt`);
/// the others are Strava's app wording as we know it, not yet checked against an
/// export, and are marked so. A name not here is kept as given (see
/// [`SportType::from_export_name`]).
const TRANSLATED_EXPORT_NAMES: &[(&str, &str, &str)] = &[
    // seen
    ("de", "Lauf", "Run"),
    ("de", "Radfahrt", "Ride"),
    ("nl", "Hardloopsessie", "Run"),
    ("nl", "Fietsrit", "Ride"),
    ("nl", "Virtuele fietsrit", "VirtualRide"),
    ("nl", "Zwemmen", "Swim"),
    ("nl", "Wandeling", "Walk"),
    ("nl", "Hiken", "Hike"),
    ("nl", "Krachttraining", "WeightTraining"),
    ("fr", "Course à pied", "Run"),
    ("fr", "Vélo", "Ride"),
    ("fr", "Natation", "Swim"),
    ("fr", "Marche", "Walk"),
    ("fr", "Randonnée", "Hike"),
    ("es", "Carrera", "Run"),
    ("es", "Entrenamiento con pesas", "WeightTraining"),
    ("zh", "骑行", "Ride"),
    ("ja", "ランニング", "Run"),
    // unverified: app wording, no export line seen
    ("de", "Schwimmen", "Swim"),
    ("de", "Spaziergang", "Walk"),
    ("de", "Wanderung", "Hike"),
    ("de", "Trailrun", "TrailRun"),
    ("de", "Virtuelle Radfahrt", "VirtualRide"),
    ("de", "Krafttraining", "WeightTraining"),
    ("fr", "Trail", "TrailRun"),
    ("fr", "Vélo virtuel", "VirtualRide"),
    ("fr", "Musculation", "WeightTraining"),
    ("es", "Bicicleta", "Ride"),
    ("es", "Natación", "Swim"),
    ("es", "Caminata", "Walk"),
    ("es", "Senderismo", "Hike"),
    ("it", "Corsa", "Run"),
    ("it", "Giro in bici", "Ride"),
    ("it", "Nuoto", "Swim"),
    ("it", "Camminata", "Walk"),
    ("it", "Escursione", "Hike"),
    ("pt", "Corrida", "Run"),
    ("pt", "Pedalada", "Ride"),
    ("pt", "Natação", "Swim"),
    ("pt", "Caminhada", "Walk"),
    ("pt", "Trilha", "Hike"),
    ("ru", "Забег", "Run"),
    ("ru", "Велозаезд", "Ride"),
    ("ru", "Заплыв", "Swim"),
    ("ru", "Ходьба", "Walk"),
    ("ru", "Поход", "Hike"),
    ("ja", "ラン", "Run"),
    ("ja", "ライド", "Ride"),
    ("ja", "スイム", "Swim"),
    ("ja", "ウォーク", "Walk"),
    ("ja", "ハイキング", "Hike"),
    ("zh", "跑步", "Run"),
    ("zh", "游泳", "Swim"),
    ("zh", "步行", "Walk"),
    ("zh", "徒步", "Hike"),
];

/// Sports on wheels driven by pedals or hands: described by speed.
const CYCLE: &[&str] = &[
    "Ride",
    "GravelRide",
    "MountainBikeRide",
    "EBikeRide",
    "EMountainBikeRide",
    "VirtualRide",
    "Velomobile",
    "Handcycle",
];

/// A Strava `sport_type`, e.g. "Run" or "GravelRide"; unknown values are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SportType(String);

impl SportType {
    /// Every `sport_type` value Strava documents.
    pub const KNOWN: &'static [&'static str] = KNOWN;

    /// Wraps a value as Strava spells it; never fails.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The value exactly as Strava spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every `sport_type` value Strava documents.
    pub fn known() -> &'static [&'static str] {
        KNOWN
    }

    /// Whether Strava documents this value (exact spelling).
    pub fn is_known(&self) -> bool {
        KNOWN.contains(&self.0.as_str())
    }

    /// The family that decides pace versus speed.
    pub fn family(&self) -> SportFamily {
        SportFamily::of(&self.0)
    }

    /// Finds a known sport from loose text: any case, spaces, hyphens or underscores,
    /// and display names ("trail run", "e-bike ride", "HIIT") all match.
    pub fn lookup(text: &str) -> Option<SportType> {
        let wanted = squash(text);
        if wanted.is_empty() {
            return None;
        }
        KNOWN
            .iter()
            .find(|k| squash(k) == wanted || squash(&display_name_of(k)) == wanted)
            .map(|k| SportType::new(*k))
    }

    /// The sport of a bulk export's "Activity Type" display name. Names outside
    /// [`EXPORT_NAMES`] go through [`SportType::lookup`], and what that does not know
    /// either is kept as given with spaces and hyphens removed, so a sport Strava adds
    /// later still arrives in a recognisable spelling.
    pub fn from_export_name(name: &str) -> SportType {
        let name = name.trim();
        let folded = name.to_lowercase();
        EXPORT_NAMES
            .iter()
            .find(|(shown, _)| shown.eq_ignore_ascii_case(name))
            .map(|(_, sport)| SportType::new(*sport))
            .or_else(|| {
                TRANSLATED_EXPORT_NAMES
                    .iter()
                    .find(|(_, shown, _)| shown.to_lowercase() == folded)
                    .map(|(_, _, sport)| SportType::new(*sport))
            })
            .or_else(|| SportType::lookup(name))
            .unwrap_or_else(|| SportType::new(name.replace([' ', '-'], "")))
    }

    /// A name for a person: "TrailRun" -> "Trail Run", "EBikeRide" -> "E-Bike Ride".
    pub fn display_name(&self) -> String {
        display_name_of(&self.0)
    }
}

/// Lowercase letters and digits only, so loose spellings compare equal.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn display_name_of(raw: &str) -> String {
    // A few names read wrongly when split mechanically; everything else, including
    // values Strava adds later, is split at its CamelCase word boundaries.
    match raw {
        "HighIntensityIntervalTraining" => "HIIT".to_string(),
        "EBikeRide" => "E-Bike Ride".to_string(),
        "EMountainBikeRide" => "E-Mountain Bike Ride".to_string(),
        "Crossfit" => "CrossFit".to_string(),
        other => split_camel_case(other),
    }
}

/// "TrailRun" -> "Trail Run"; keeps acronyms together ("MTBRace" -> "MTB Race").
fn split_camel_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // A new word starts after a lowercase letter or digit, or where an acronym
            // ends and a capitalised word begins.
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out
}

impl fmt::Display for SportType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SportType {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for SportType {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl FromStr for SportType {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

impl AsRef<str> for SportType {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// How a sport's speed is best described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SportFamily {
    /// Runs, walks, hikes: pace per kilometre or mile.
    Foot,
    /// Bike-like sports: speed in km/h or mph.
    Cycle,
    /// Swims: pace per 100 metres or 100 yards.
    Swim,
    /// Everything else (including unknown sports): speed, if anything.
    Other,
}

impl SportFamily {
    /// The family of a raw `sport_type` value; unknown values are `Other`.
    pub fn of(sport_type: &str) -> Self {
        if FOOT.contains(&sport_type) {
            Self::Foot
        } else if CYCLE.contains(&sport_type) {
            Self::Cycle
        } else if sport_type == "Swim" {
            Self::Swim
        } else {
            Self::Other
        }
    }

    /// A lowercase name, e.g. "foot".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Foot => "foot",
            Self::Cycle => "cycle",
            Self::Swim => "swim",
            Self::Other => "other",
        }
    }

    /// Whether pace (time per distance) rather than speed describes this family.
    pub fn uses_pace(self) -> bool {
        matches!(self, Self::Foot | Self::Swim)
    }

    /// The known sport types in this family, e.g. to build an SQL `IN (...)` list.
    pub fn known_members(self) -> Vec<&'static str> {
        KNOWN
            .iter()
            .copied()
            .filter(|k| Self::of(k) == self)
            .collect()
    }
}

impl fmt::Display for SportFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn known_list_is_complete_and_unique() {
        let set: HashSet<_> = SportType::known().iter().collect();
        assert_eq!(set.len(), 55);
        assert_eq!(SportType::KNOWN.len(), 55);
        for k in FOOT.iter().chain(CYCLE) {
            assert!(SportType::new(*k).is_known(), "{k}");
        }
    }

    #[test]
    fn unknown_values_round_trip() {
        let s = SportType::from("Quidditch");
        assert!(!s.is_known());
        assert_eq!(s.as_str(), "Quidditch");
        assert_eq!(s.to_string(), "Quidditch");
        assert_eq!(s.family(), SportFamily::Other);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"Quidditch\"");
        assert_eq!(serde_json::from_str::<SportType>(&json).unwrap(), s);
        assert_eq!("run".parse::<SportType>().unwrap().as_str(), "run");
    }

    #[test]
    fn display_names() {
        let name = |s: &str| SportType::from(s).display_name();
        assert_eq!(name("TrailRun"), "Trail Run");
        assert_eq!(name("HighIntensityIntervalTraining"), "HIIT");
        assert_eq!(name("EBikeRide"), "E-Bike Ride");
        assert_eq!(name("EMountainBikeRide"), "E-Mountain Bike Ride");
        assert_eq!(name("StandUpPaddling"), "Stand Up Paddling");
        assert_eq!(name("Run"), "Run");
        assert_eq!(name("UnderwaterBasketWeaving"), "Underwater Basket Weaving");
        assert_eq!(name("MTBRace"), "MTB Race");
        assert_eq!(name("Ride2Work"), "Ride2 Work");
        assert_eq!(name(""), "");
    }

    #[test]
    fn export_names_map_to_documented_sport_types() {
        for (shown, sport) in EXPORT_NAMES {
            assert!(
                KNOWN.contains(sport),
                "{shown} -> {sport} is not a known type"
            );
        }
        let of = |s: &str| SportType::from_export_name(s).as_str().to_owned();
        assert_eq!(of("Football (Soccer)"), "Soccer");
        assert_eq!(of("Rock Climb"), "RockClimbing");
        assert_eq!(of("Stair-Stepper"), "StairStepper");
        assert_eq!(of(" e-bike ride "), "EBikeRide");
        assert_eq!(of("Canoe"), "Canoeing");
        assert_eq!(of("Quidditch Match"), "QuidditchMatch");
    }

    #[test]
    fn translated_export_names_map_to_documented_sport_types() {
        for (lang, shown, sport) in TRANSLATED_EXPORT_NAMES {
            assert!(KNOWN.contains(sport), "{lang} {shown} -> {sport}");
        }
        let of = |s: &str| SportType::from_export_name(s).as_str().to_owned();
        assert_eq!(of("Hardloopsessie"), "Run");
        assert_eq!(of("fietsrit"), "Ride");
        assert_eq!(of("Zwemmen"), "Swim");
        assert_eq!(of("COURSE À PIED"), "Run");
        assert_eq!(of("Entrenamiento con pesas"), "WeightTraining");
        assert_eq!(of("Lauf"), "Run");
    }

    #[test]
    fn lookup_accepts_loose_spellings() {
        let find = |s: &str| SportType::lookup(s).map(|t| t.as_str().to_string());
        assert_eq!(find("trail run").as_deref(), Some("TrailRun"));
        assert_eq!(find("e-bike ride").as_deref(), Some("EBikeRide"));
        assert_eq!(
            find("HIIT").as_deref(),
            Some("HighIntensityIntervalTraining")
        );
        assert_eq!(find("weight_training").as_deref(), Some("WeightTraining"));
        assert_eq!(find("quidditch"), None);
        assert_eq!(find("  "), None);
    }

    #[test]
    fn families() {
        assert_eq!(SportType::from("Run").family(), SportFamily::Foot);
        assert_eq!(SportType::from("Hike").family(), SportFamily::Foot);
        assert_eq!(SportType::from("VirtualRide").family(), SportFamily::Cycle);
        assert_eq!(SportType::from("Handcycle").family(), SportFamily::Cycle);
        assert_eq!(SportType::from("Swim").family(), SportFamily::Swim);
        assert_eq!(SportType::from("Rowing").family(), SportFamily::Other);
        assert!(SportFamily::Swim.uses_pace());
        assert!(!SportFamily::Cycle.uses_pace());
        assert_eq!(SportFamily::Swim.known_members(), vec!["Swim"]);
        assert_eq!(SportFamily::Cycle.known_members().len(), CYCLE.len());
        let total: usize = [
            SportFamily::Foot,
            SportFamily::Cycle,
            SportFamily::Swim,
            SportFamily::Other,
        ]
        .iter()
        .map(|f| f.known_members().len())
        .sum();
        assert_eq!(total, KNOWN.len());
    }
}
