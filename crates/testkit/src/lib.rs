//! Test support shared by every crate's tests.
//!
//! [`TestDb::new`] gives each test its own database, created from a template that is
//! migrated once (per migration set, across processes) and dropped when the test ends,
//! so tests never share state and can run in parallel.

pub mod fake_llm;
mod pg;
pub mod process;

pub use pg::{TestDb, database_url_or_exit, with_database};
