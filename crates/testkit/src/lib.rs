//! Test support shared by every crate's tests.
//!
//! [`TestDb::new`] gives each test its own database, created from a template that is
//! migrated once (per migration set, across processes) and dropped when the test ends,
//! so tests never share state and can run in parallel. [`TlsServer`] is a throwaway
//! PostgreSQL of a test's own that speaks TLS, for the `sslmode` tests.

pub mod fake_llm;
mod pg;
pub mod process;
pub mod statements;
mod tls_server;

pub use pg::{TestDb, database_url_or_exit, with_database};
pub use statements::StatementCounter;
pub use tls_server::{Accepts, TlsServer};
