//! The database the dev and test commands use: `DATABASE_URL` when set, else a
//! throwaway cluster from the local PostgreSQL server binaries.

use pg_cluster::{Cluster, Options};

/// A database to use; a cluster this process started is stopped and removed on drop.
pub struct Database {
    url: String,
    cluster: Option<Cluster>,
}

impl Database {
    /// `DATABASE_URL` if set, else a fresh cluster.
    pub fn from_env_or_start() -> Result<Self, String> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Ok(Self { url, cluster: None }),
            _ => Self::start_throwaway(),
        }
    }

    /// The connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where the database is, for messages (no password).
    pub fn describe(&self) -> String {
        match &self.cluster {
            Some(c) => format!(
                "a throwaway PostgreSQL cluster in {}",
                c.data_dir().display()
            ),
            None => "DATABASE_URL".to_owned(),
        }
    }

    /// A fresh cluster, whatever `DATABASE_URL` says.
    pub fn start_throwaway() -> Result<Self, String> {
        Self::start_with(Options::default())
    }

    /// A fresh cluster that counts every statement (`pg_stat_statements`), for the
    /// benchmarks.
    pub fn start_counting_statements() -> Result<Self, String> {
        Self::start_with(
            Options::default().setting("shared_preload_libraries", "pg_stat_statements"),
        )
    }

    fn start_with(options: Options) -> Result<Self, String> {
        let root = crate::workspace_root().join("target/xtask");
        let name = format!("pg-{}", std::process::id());
        let cluster = Cluster::start(&root, &name, &options).map_err(|e| {
            format!("DATABASE_URL is not set and {e}: install PostgreSQL or set DATABASE_URL")
        })?;
        println!(
            "xtask: started PostgreSQL on 127.0.0.1:{} ({})",
            cluster.port(),
            cluster.data_dir().display()
        );
        Ok(Self {
            url: cluster.url(),
            cluster: Some(cluster),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if self.cluster.take().is_some() {
            println!("xtask: stopped the throwaway PostgreSQL cluster");
        }
    }
}
