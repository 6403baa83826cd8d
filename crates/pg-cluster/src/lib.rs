//! A throwaway PostgreSQL cluster started from the local server binaries.
//!
//! `cargo xtask` uses one when `DATABASE_URL` is unset; tests that need a server
//! configured in a way the shared one is not (TLS only, say) start their own. The
//! cluster listens on 127.0.0.1 on a free port, trusts every local user, and is
//! stopped and deleted when the [`Cluster`] is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What to change in a new cluster before it starts.
#[derive(Debug, Default, Clone)]
pub struct Options {
    settings: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
    hba: Option<String>,
}

impl Options {
    /// A server setting, passed as `-c name=value` (e.g. `ssl`, `on`).
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A file written into the data directory, owned by the server's user and readable
    /// only by it (the server refuses a private key others can read).
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.to_owned(), contents.into()));
        self
    }

    /// Replaces `pg_hba.conf`, which decides who may connect and how.
    pub fn hba(mut self, contents: &str) -> Self {
        self.hba = Some(contents.to_owned());
        self
    }
}

/// A running cluster of this process's own; stopped and removed on drop.
#[derive(Debug)]
pub struct Cluster {
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
    run_as_postgres: bool,
}

impl Cluster {
    /// Creates a cluster in a fresh folder `name` under `parent` and starts it.
    pub fn start(parent: &Path, name: &str, options: &Options) -> Result<Self, String> {
        let bin = server_binaries().ok_or(
            "no PostgreSQL server binaries found (initdb and pg_ctl on PATH or under \
             /usr/lib/postgresql/*/bin)",
        )?;
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let data = parent.join(name);
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        // initdb refuses to run as root; the postgres user does it instead.
        let run_as_postgres = is_root();
        chown_to_postgres(run_as_postgres, &data)?;
        let port = free_port()?;
        let mut init = as_user(run_as_postgres, &bin.join("initdb"));
        init.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "-N",
        ]);
        run(&mut init, "initdb")?;
        // From here on the folder is a cluster: dropping it stops a server if one runs.
        let cluster = Cluster {
            pg_ctl: bin.join("pg_ctl"),
            data,
            port,
            run_as_postgres,
        };
        cluster.write_files(options)?;
        let mut opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c full_page_writes=off -c max_connections=200",
            cluster.data.display()
        );
        for (name, value) in &options.settings {
            opts.push_str(&format!(" -c {name}={value}"));
        }
        let mut start = as_user(run_as_postgres, &cluster.pg_ctl);
        start
            .arg("-D")
            .arg(&cluster.data)
            .arg("-l")
            .arg(cluster.data.join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"]);
        run(&mut start, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(cluster.data.join("server.log")).unwrap_or_default();
            format!("{e}\nserver log:\n{log}")
        })?;
        Ok(cluster)
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// `postgres://postgres@127.0.0.1:{port}/postgres`, the superuser's URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn write_files(&self, options: &Options) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let mut files: Vec<(&str, &[u8])> = options
            .files
            .iter()
            .map(|(name, contents)| (name.as_str(), contents.as_slice()))
            .collect();
        if let Some(hba) = &options.hba {
            files.push(("pg_hba.conf", hba.as_bytes()));
        }
        for (name, contents) in files {
            let path = self.data.join(name);
            std::fs::write(&path, contents)
                .and_then(|()| {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                })
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            chown_to_postgres(self.run_as_postgres, &path)?;
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = as_user(self.run_as_postgres, &self.pg_ctl);
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The folder holding `initdb` and `pg_ctl`: PATH first, then the newest Debian-style install.
pub fn server_binaries() -> Option<PathBuf> {
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
                (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((v, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
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

fn chown_to_postgres(run_as_postgres: bool, path: &Path) -> Result<(), String> {
    if !run_as_postgres {
        return Ok(());
    }
    run(
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path),
        "chown",
    )
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
