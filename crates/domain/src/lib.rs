//! StravaTalk's pure domain: identifiers, sport types, units and their formatting,
//! local-date arithmetic and secrets: the types the question engine (`ask`), the demo
//! generator (`demo`), the database and the services share. No I/O lives here.

pub mod activity;
pub mod dates;
pub mod efforts;
pub mod fields;
pub mod format;
pub mod gear;
pub mod ids;
pub mod secret;
pub mod sport;
pub mod units;

pub use activity::{Activity, ActivitySource, Workout};
pub use dates::DateRange;
pub use efforts::BestEffort;
pub use gear::{Gear, GearKind};
pub use ids::{ActivityId, AthleteId};
pub use secret::Secret;
pub use sport::{SportFamily, SportType};
pub use units::Units;
