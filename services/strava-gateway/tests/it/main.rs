//! strava-gateway's integration tests: one binary (faster to build than many), one
//! module per area, each test with a database of its own.

mod backfill;
mod convert;
mod demo_upkeep;
mod details;
mod governor;
mod hostile;
mod hostile_upload;
mod import;
mod import_zip;
mod oauth;
mod purge;
mod service;
mod subscription;
mod sync_support;
mod tokens;
mod upload;
mod webhook;
mod worker;
