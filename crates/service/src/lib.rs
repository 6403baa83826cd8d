//! Run-time plumbing shared by both services: layered configuration that names the
//! variable at fault, tracing set-up, and the `/healthz` and `/readyz` endpoints.

pub mod access_log;
pub mod config;
pub mod health;
pub mod server;
pub mod telemetry;

pub use config::{ConfigError, Env};
pub use server::{DbSettings, HttpSettings};
