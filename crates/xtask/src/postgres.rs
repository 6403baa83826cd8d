//! The database the dev and test commands use: `DATABASE_URL` when set, else a
//! throwaway cluster from the local PostgreSQL server binaries.

use crate::process;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A database to use; a cluster this process started is stopped and removed on drop.
pub struct Database {
    url: String,
    cluster: Option<Cluster>,
}

struct Cluster {
    pg_ctl: PathBuf,
    data: PathBuf,
    run_as_postgres: bool,
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
            Some(c) => format!("a throwaway PostgreSQL cluster in {}", c.data.display()),
            None => "DATABASE_URL".to_owned(),
        }
    }

    /// A fresh cluster, whatever `DATABASE_URL` says.
    pub fn start_throwaway() -> Result<Self, String> {
        let bin = find_server_binaries().ok_or(
            "DATABASE_URL is not set and no PostgreSQL server binaries were found (initdb and pg_ctl on PATH \
             or under /usr/lib/postgresql/*/bin): install PostgreSQL or set DATABASE_URL",
        )?;
        let root = crate::workspace_root().join("target/xtask");
        std::fs::create_dir_all(&root)
            .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        let data = root.join(format!("pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        // initdb refuses to run as root; the postgres user does it instead.
        let run_as_postgres = is_root();
        if run_as_postgres {
            run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&data),
                "chown",
            )?;
        }
        let port = process::free_port()?;
        let initdb = bin.join("initdb");
        let mut init = as_user(run_as_postgres, &initdb);
        init.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "-N",
        ]);
        run(&mut init, "initdb")?;
        let pg_ctl = bin.join("pg_ctl");
        let opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c full_page_writes=off -c max_connections=200",
            data.display()
        );
        let mut start = as_user(run_as_postgres, &pg_ctl);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(data.join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"]);
        run(&mut start, "pg_ctl start")?;
        let cluster = Cluster {
            pg_ctl,
            data,
            run_as_postgres,
        };
        println!(
            "xtask: started PostgreSQL on 127.0.0.1:{port} ({})",
            cluster.data.display()
        );
        Ok(Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            cluster: Some(cluster),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(c) = self.cluster.take() {
            let mut stop = as_user(c.run_as_postgres, &c.pg_ctl);
            stop.arg("-D")
                .arg(&c.data)
                .args(["-m", "fast", "-w", "stop"]);
            let _ = stop.stdout(std::process::Stdio::null()).status();
            let _ = std::fs::remove_dir_all(&c.data);
            println!("xtask: stopped the throwaway PostgreSQL cluster");
        }
    }
}

fn as_user(run_as_postgres: bool, program: &Path) -> Command {
    if run_as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The folder holding `initdb` and `pg_ctl`: PATH first, then the newest Debian-style install.
fn find_server_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((v, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}
