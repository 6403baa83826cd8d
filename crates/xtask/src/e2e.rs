//! `cargo xtask e2e`: the browser suite (`services/talk-app/e2e`) against the whole
//! product, started as `dev` starts it but on free ports and a throwaway database.
//! Needs Node and Chromium (Debian's `chromium`); installs the suite's npm packages
//! from the lockfile when they are missing. Screenshots go to `target/e2e/`.

use crate::postgres::Database;
use crate::stack::{self, Ports, Stack};
use crate::workspace_root;
use std::path::Path;
use std::process::Command;

/// Where the suite looks for Chromium unless `CHROMIUM` says otherwise.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Builds, starts the stack, runs the suite, stops everything; fails when the suite does.
pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let suite = root.join("services/talk-app/e2e");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    if !Path::new(&chromium).is_file() {
        return Err(format!(
            "no Chromium at {chromium}: install Debian's `chromium` package or set CHROMIUM"
        ));
    }
    if !crate::process::succeeds("node", &["--version"]) {
        return Err("node is not installed (Debian: apt-get install nodejs npm)".into());
    }
    if !suite.join("node_modules/playwright-core").is_dir() {
        npm_ci(&suite)?;
    }

    stack::build(stack::Targets::All)?;
    // Its own cluster: the suite migrates and seeds, which a shared DATABASE_URL must not see.
    let db = Database::start_throwaway()?;
    let ports = Ports {
        talk_app: pg_cluster::free_port()?,
        gateway: pg_cluster::free_port()?,
        fake_strava: pg_cluster::free_port()?,
    };
    let stack = Stack::start(&db, ports)?;
    let shots = root.join("target/e2e");
    // Only this run's screenshots, so none of an older run is mistaken for current.
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).map_err(|e| format!("{}: {e}", shots.display()))?;
    println!(
        "xtask: running the browser suite; screenshots in {}",
        shots.display()
    );
    let status = Command::new("node")
        .arg("run.cjs")
        .current_dir(&suite)
        .env("BASE_URL", format!("http://127.0.0.1:{}", ports.talk_app))
        .env(
            "FAKE_URL",
            format!("http://127.0.0.1:{}", ports.fake_strava),
        )
        .env("SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .status()
        .map_err(|e| format!("cannot run node: {e}"))?;
    drop(stack);
    drop(db);
    if status.success() {
        Ok(())
    } else {
        Err(format!("the browser suite failed ({status})"))
    }
}

fn npm_ci(suite: &Path) -> Result<(), String> {
    println!("xtask: npm ci in {}", suite.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(suite)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm ci failed ({status})"))
    }
}
