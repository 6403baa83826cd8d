//! The Strava gateway: the only StravaTalk service that talks to Strava. It receives
//! OAuth callbacks and webhook events and keeps activities in PostgreSQL current.

pub mod admin;
pub mod cli;
pub mod convert;
pub mod import;
pub mod oauth;
pub mod settings;
pub mod startup;
pub mod strava;
pub mod tokens;
pub mod webhook;
pub mod worker;

pub use settings::Settings;
pub use startup::Application;
