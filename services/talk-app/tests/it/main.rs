//! talk-app's integration tests, one binary: each test starts the app on port 0 against
//! its own migrated database and talks HTTP to it.

mod api;
mod auth;
mod chat;
mod demo;
mod helpers;
mod hostile;
mod limits;
mod llm;
mod pages;
mod settings;
mod upload;
