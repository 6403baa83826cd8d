//! talk-app: the chat where an athlete asks about their own training, rendered on the
//! server with Leptos (no WASM), plus its JSON API and CLI.

pub mod app;
pub mod cli;
pub mod settings;
pub mod startup;

pub use settings::Settings;
pub use startup::Application;
