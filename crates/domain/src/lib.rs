//! StravaTalk's pure domain: identifiers, sport types, units and their formatting,
//! local-date arithmetic and secrets: the types the question engine (`ask`), the demo
//! generator (`demo`), the database and the services share. No I/O lives here.

pub mod activity;
pub mod dates;
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
