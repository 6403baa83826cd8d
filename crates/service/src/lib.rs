//! Run-time plumbing shared by both services: layered configuration that names the
//! variable at fault, tracing set-up, the `/healthz` and `/readyz` endpoints, and the
//! HTML escaper, and exit codes.

pub mod access_log;
pub mod config;
pub mod exit;
pub mod health;
pub mod html;
pub mod server;
pub mod telemetry;

pub use config::{ConfigError, Env};
pub use server::{DbSettings, HttpSettings};
