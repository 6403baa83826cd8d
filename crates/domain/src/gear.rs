//! An athlete's gear: the bikes and shoes Strava lists on the athlete, or an export
//! names in its "Activity Gear" column.

use serde::{Deserialize, Serialize};

/// Bikes or shoes: Strava keeps the two apart (`bikes` and `shoes` on the athlete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GearKind {
    Bike,
    Shoes,
}

impl GearKind {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bike => "bike",
            Self::Shoes => "shoes",
        }
    }

    /// The stored value read back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bike" => Some(Self::Bike),
            "shoes" => Some(Self::Shoes),
            _ => None,
        }
    }
}

/// One piece of gear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gear {
    /// Strava's id ("b12345", "g12345"), or [`Gear::export_id`] of the name.
    pub id: String,
    pub name: String,
    /// `None` where the source does not say (an export names gear only).
    pub kind: Option<GearKind>,
    /// The athlete's default gear of its kind.
    pub primary: bool,
    pub retired: bool,
    /// Strava's own total for the gear, metres.
    pub distance_m: Option<f64>,
}

impl Gear {
    /// The key of gear an export names without an id.
    pub fn export_id(name: &str) -> String {
        format!("export:{name}")
    }
}
