//! Typed identifiers, so an athlete id can never be passed where an activity id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! strava_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw Strava id.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().parse::<i64>() {
                    Ok(v) if v > 0 => Ok(Self(v)),
                    _ => Err(IdParseError { kind: stringify!($name), input_len: s.len() }),
                }
            }
        }
    };
}

strava_id!(
    /// A Strava athlete id.
    AthleteId
);
strava_id!(
    /// A Strava activity id.
    ActivityId
);

/// An id that is not a positive integer.
#[derive(Debug, thiserror::Error)]
#[error("{kind} must be a positive integer ({input_len} characters given)")]
pub struct IdParseError {
    kind: &'static str,
    input_len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positive_ids_only() {
        assert_eq!("42".parse::<AthleteId>().unwrap(), AthleteId(42));
        assert!("0".parse::<AthleteId>().is_err());
        assert!("-3".parse::<ActivityId>().is_err());
        assert!("abc".parse::<ActivityId>().is_err());
    }
}
