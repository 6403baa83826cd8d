//! Per-test PostgreSQL databases.

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const TEST_DB_PREFIX: &str = "stravatalk_test_";

/// A database of one test's own, dropped (with any open connections) when this value is.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
    pool: db::Pool,
}

impl TestDb {
    /// Creates a fresh, fully migrated database. Panics with one line naming what to set
    /// when `DATABASE_URL` is missing or the server cannot be reached.
    pub async fn new() -> TestDb {
        let admin_url = database_url_or_exit();
        let template = template_name(&admin_url);
        let name = format!("{TEST_DB_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(&admin_url).await;
        diesel::sql_query(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("could not create test database from template {template}: {e}"));
        let url = with_database(&admin_url, &name);
        let pool = db::connect_pool(&url, 8).expect("pool for the test database");
        TestDb {
            name,
            url,
            admin_url,
            pool,
        }
    }

    /// URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool on this test's database.
    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    /// A new connection of its own (not from the pool).
    pub async fn conn(&self) -> AsyncPgConnection {
        connect(&self.url).await
    }

    /// Name of the database.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, where blocking on async work is not
        // allowed; a short-lived thread with its own runtime does the cleanup.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = db::connect(&admin_url).await.ok()?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: test database {} was not dropped", self.name);
        }
    }
}

/// `DATABASE_URL`, or a panic with one line saying what to set.
pub fn database_url_or_exit() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set: point it at a PostgreSQL server that may create databases \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres), or run the tests with `cargo xtask test`"
        ),
    }
}

async fn connect(url: &str) -> AsyncPgConnection {
    db::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at DATABASE_URL ({}): {e}; start PostgreSQL or set DATABASE_URL to one that runs",
            redacted(url)
        )
    })
}

/// The URL with its password hidden, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Name of the migrated template for the current migrations, creating it on first use.
/// Within a process a `OnceLock` guards it; across processes (nextest runs each test in
/// its own) an advisory lock does, and the template only gets its final name once it is
/// fully migrated.
fn template_name(admin_url: &str) -> String {
    static TEMPLATE: OnceLock<Result<String, String>> = OnceLock::new();
    let admin_url = admin_url.to_owned();
    TEMPLATE
        .get_or_init(|| {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(ensure_template(&admin_url))
            })
            .join()
            .map_err(|_| "template creation panicked".to_owned())?
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn ensure_template(admin_url: &str) -> Result<String, String> {
    let name = format!("stravatalk_tpl_{}", migrations_fingerprint());
    let mut admin = connect(admin_url).await;
    // Any constant will do; it only has to be the same for every test process.
    const LOCK_KEY: i64 = 0x5354_5241_5641_5441;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(LOCK_KEY)
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    let result = build_template_if_missing(&mut admin, admin_url, &name).await;
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(LOCK_KEY)
        .execute(&mut admin)
        .await;
    result.map(|()| name)
}

async fn build_template_if_missing(
    admin: &mut AsyncPgConnection,
    admin_url: &str,
    name: &str,
) -> Result<(), String> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Found =
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .get_result(admin)
            .await
            .map_err(|e| e.to_string())?;
    if found.n > 0 {
        return Ok(());
    }
    let building = format!("{name}_building");
    let exec = |sql: String| diesel::sql_query(sql);
    exec(format!(
        "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
    ))
    .execute(admin)
    .await
    .map_err(|e| e.to_string())?;
    exec(format!("CREATE DATABASE \"{building}\""))
        .execute(admin)
        .await
        .map_err(|e| format!("cannot create databases on DATABASE_URL's server: {e}"))?;
    db::migrate::run_pending(&with_database(admin_url, &building))
        .await
        .map_err(|e| format!("migrating the test template failed: {e}"))?;
    exec(format!(
        "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
    ))
    .execute(admin)
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// A short hash of every migration file, so a changed migration gets a new template.
fn migrations_fingerprint() -> String {
    let mut hasher = Sha256::new();
    let mut versions = db::migrate::embedded_versions();
    versions.sort();
    for v in &versions {
        hasher.update(v.as_bytes());
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../db/migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    for f in files {
        hasher.update(f.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&f).unwrap_or_default());
    }
    let digest = hasher.finalize();
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(redacted("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert!(!redacted("postgres://u:secret@h/db").contains("secret"));
    }
}
