//! talk-app: the chat where an athlete asks about their own training, rendered on the
//! server with Leptos (no WASM), plus its JSON API and CLI.

pub mod api;
pub mod app;
pub mod ask;
pub mod ask_limits;
pub mod chart;
pub mod cli;
pub mod client;
pub mod components;
pub mod error;
pub mod llm;
pub mod markdown;
pub mod pages;
pub mod question;
pub mod session;
pub mod settings;
pub mod spreadsheet;
pub mod startup;

pub use settings::Settings;
pub use startup::Application;
