//! The Strava gateway: the only StravaTalk service that talks to Strava. It receives
//! OAuth callbacks and webhook events and keeps activities in PostgreSQL current.

pub mod cli;
pub mod settings;
pub mod startup;

pub use settings::Settings;
pub use startup::Application;
