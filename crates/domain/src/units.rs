//! The athlete's measurement preference and the unit factors that follow from it.
//!
//! Strava reports `measurement_preference` as "meters" or "feet". Everything we store
//! is SI; these helpers say what unit a person sees and how many metres one of them
//! is, so the SQL compiler and the renderer divide by the same factor.

use crate::format::{METRES_PER_FOOT, METRES_PER_KILOMETRE, METRES_PER_MILE, METRES_PER_YARD};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Metric or imperial, from Strava's `measurement_preference`.
///
/// Serialises as Strava spells it ("meters" / "feet"); "metric" and "imperial" are
/// accepted when reading, since people and config files write those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Units {
    /// Kilometres, metres, km/h.
    #[default]
    #[serde(rename = "meters", alias = "metric")]
    Metric,
    /// Miles, feet, yards, mph.
    #[serde(rename = "feet", alias = "imperial")]
    Imperial,
}

/// A measurement preference that is neither metric nor imperial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown measurement preference (expected \"meters\" or \"feet\")")]
pub struct UnitsParseError;

impl Units {
    /// Strava's spelling: "meters" or "feet".
    pub fn as_strava(self) -> &'static str {
        match self {
            Self::Metric => "meters",
            Self::Imperial => "feet",
        }
    }

    /// Reads Strava's `measurement_preference` (also "metric"/"imperial", any case);
    /// `None` for anything else, so the caller chooses the fallback.
    pub fn from_strava(value: &str) -> Option<Self> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("meters") || v.eq_ignore_ascii_case("metric") {
            Some(Self::Metric)
        } else if v.eq_ignore_ascii_case("feet") || v.eq_ignore_ascii_case("imperial") {
            Some(Self::Imperial)
        } else {
            None
        }
    }

    /// Like [`Units::from_strava`] but missing or unknown values mean metric,
    /// which is Strava's own default.
    pub fn from_strava_or_default(value: Option<&str>) -> Self {
        value.and_then(Self::from_strava).unwrap_or_default()
    }

    /// Metres in one long-distance unit (km or mile).
    pub fn metres_per_distance_unit(self) -> f64 {
        match self {
            Self::Metric => METRES_PER_KILOMETRE,
            Self::Imperial => METRES_PER_MILE,
        }
    }

    /// "km" or "mi".
    pub fn distance_label(self) -> &'static str {
        match self {
            Self::Metric => "km",
            Self::Imperial => "mi",
        }
    }

    /// Metres in one elevation unit (metre or foot).
    pub fn metres_per_elevation_unit(self) -> f64 {
        match self {
            Self::Metric => 1.0,
            Self::Imperial => METRES_PER_FOOT,
        }
    }

    /// "m" or "ft".
    pub fn elevation_label(self) -> &'static str {
        match self {
            Self::Metric => "m",
            Self::Imperial => "ft",
        }
    }

    /// Metres in one swim-distance unit (metre or yard).
    pub fn metres_per_swim_unit(self) -> f64 {
        match self {
            Self::Metric => 1.0,
            Self::Imperial => METRES_PER_YARD,
        }
    }

    /// "m" or "yd".
    pub fn swim_label(self) -> &'static str {
        match self {
            Self::Metric => "m",
            Self::Imperial => "yd",
        }
    }

    /// Multiply metres per second by this to get km/h or mph.
    pub fn speed_factor(self) -> f64 {
        3600.0 / self.metres_per_distance_unit()
    }

    /// "km/h" or "mph".
    pub fn speed_label(self) -> &'static str {
        match self {
            Self::Metric => "km/h",
            Self::Imperial => "mph",
        }
    }
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_strava())
    }
}

impl FromStr for Units {
    type Err = UnitsParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_strava(s).ok_or(UnitsParseError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strava_values() {
        assert_eq!(Units::from_strava("meters"), Some(Units::Metric));
        assert_eq!(Units::from_strava("feet"), Some(Units::Imperial));
        assert_eq!(Units::from_strava(" Imperial "), Some(Units::Imperial));
        assert_eq!(Units::from_strava("furlongs"), None);
        assert_eq!(Units::from_strava_or_default(None), Units::Metric);
        assert_eq!(Units::from_strava_or_default(Some("??")), Units::Metric);
        assert_eq!("feet".parse::<Units>(), Ok(Units::Imperial));
        assert!("".parse::<Units>().is_err());
    }

    #[test]
    fn display_and_serde_use_strava_spelling() {
        for u in [Units::Metric, Units::Imperial] {
            assert_eq!(u.to_string().parse::<Units>(), Ok(u));
            let json = serde_json::to_string(&u).unwrap();
            assert_eq!(json, format!("\"{}\"", u.as_strava()));
            assert_eq!(serde_json::from_str::<Units>(&json).unwrap(), u);
        }
        assert_eq!(
            serde_json::from_str::<Units>("\"metric\"").unwrap(),
            Units::Metric
        );
        assert!(serde_json::from_str::<Units>("\"Metric\"").is_err());
    }

    #[test]
    fn factors() {
        assert_eq!(Units::Imperial.metres_per_distance_unit(), 1609.344);
        assert!((Units::Metric.speed_factor() - 3.6).abs() < 1e-12);
        assert!((Units::Imperial.speed_factor() - 2.236_936_292).abs() < 1e-8);
    }
}
