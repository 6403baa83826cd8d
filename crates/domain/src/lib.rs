//! StravaTalk's pure domain: identifiers, sport types, units and their formatting,
//! local-date arithmetic and the deterministic demo athlete. No I/O lives here.

pub mod activity;
pub mod ask;
pub mod dates;
pub mod demo;
pub mod format;
pub mod ids;
pub mod secret;
pub mod sport;
pub mod units;

pub use activity::{Activity, ActivitySource};
pub use dates::DateRange;
pub use ids::{ActivityId, AthleteId};
pub use secret::Secret;
pub use sport::{SportFamily, SportType};
pub use units::Units;
