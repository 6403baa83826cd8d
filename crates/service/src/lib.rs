//! Run-time plumbing shared by both services: layered configuration that names the
//! variable at fault, tracing set-up, the HTTP server with `/healthz` and `/readyz`, and the
//! HTML escaper, exit codes and the `Secure` cookie rule.

pub mod access_log;
pub mod config;
pub mod cookies;
pub mod exit;
pub mod health;
pub mod html;
pub mod server;
pub mod telemetry;

pub use config::{ConfigError, Env};
pub use server::{Application, DbSettings, HttpSettings};
