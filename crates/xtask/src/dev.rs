//! `cargo xtask dev`: the whole product on this machine, until Ctrl-C.

use crate::postgres::Database;
use crate::{process, workspace_root};
use base64::Engine as _;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

const TALK_APP_PORT: u16 = 8080;
const GATEWAY_PORT: u16 = 8081;
/// The fake Strava that stands in for strava.com locally (OAuth, API, webhooks).
const FAKE_STRAVA_PORT: u16 = 8090;
const FAKE_CLIENT_ID: &str = "1234";
const FAKE_CLIENT_SECRET: &str = "fake-client-secret";

/// Builds, migrates, seeds and runs both services; stops everything on Ctrl-C.
pub fn run() -> Result<(), String> {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    let root = workspace_root();
    println!("xtask: building the services…");
    let built = Command::new("cargo")
        .args(["build", "--workspace", "--bins"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err("build failed".into());
    }
    let bin = |name: &str| root.join("target/debug").join(name);
    let db = Database::from_env_or_start()?;
    let env = dev_environment(&db);

    for step in [["migrate"].as_slice(), ["seed-demo"].as_slice()] {
        let status = Command::new(bin("strava-gateway"))
            .args(step)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| format!("strava-gateway {}: {e}", step[0]))?;
        if !status.success() {
            return Err(format!("strava-gateway {} failed", step[0]));
        }
    }

    let mut children: Vec<(&str, Child)> = Vec::new();
    let started = (|| -> Result<(), String> {
        let fake = Command::new(bin("strava-fake"))
            .args([
                "--port",
                &FAKE_STRAVA_PORT.to_string(),
                "--client-id",
                FAKE_CLIENT_ID,
            ])
            .args([
                "--client-secret",
                FAKE_CLIENT_SECRET,
                "--athletes",
                "1",
                "--activities-per-athlete",
                "400",
            ])
            .spawn()
            .map_err(|e| format!("cannot start strava-fake: {e}"))?;
        children.push(("strava-fake", fake));
        if !process::wait_http_ok(FAKE_STRAVA_PORT, "/_fake/state", Duration::from_secs(30)) {
            return Err(format!(
                "strava-fake did not start on port {FAKE_STRAVA_PORT}"
            ));
        }
        for (name, port) in [
            ("strava-gateway", GATEWAY_PORT),
            ("talk-app", TALK_APP_PORT),
        ] {
            let child = Command::new(bin(name))
                .arg("serve")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .env("PORT", port.to_string())
                .spawn()
                .map_err(|e| format!("cannot start {name}: {e}"))?;
            children.push((name, child));
            if !process::wait_http_ok(port, "/readyz", Duration::from_secs(30)) {
                return Err(format!("{name} did not become ready on port {port}"));
            }
        }
        // The fake pushes webhook events once a subscription points at the gateway.
        let subscribed = Command::new(bin("strava-gateway"))
            .args(["subscription", "ensure"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| format!("strava-gateway subscription ensure: {e}"))?;
        if !subscribed.success() {
            return Err("strava-gateway subscription ensure failed".into());
        }
        Ok(())
    })();

    if started.is_ok() {
        println!();
        println!("  StravaTalk is running:");
        println!("    talk-app        http://127.0.0.1:{TALK_APP_PORT}/");
        println!("    strava-gateway  http://127.0.0.1:{GATEWAY_PORT}/healthz");
        println!(
            "    fake Strava     http://127.0.0.1:{FAKE_STRAVA_PORT}/_fake/state (\"Connect with Strava\" signs in its athlete)"
        );
        println!("    database        {}", db.describe());
        println!();
        println!("  Press Ctrl-C to stop.");
        // Wake up on Ctrl-C, or when a service exits on its own.
        loop {
            if stop_rx.recv_timeout(Duration::from_millis(500)).is_ok() {
                break;
            }
            let exited = children
                .iter_mut()
                .find_map(|(name, c)| matches!(c.try_wait(), Ok(Some(_))).then_some(*name));
            if let Some(name) = exited {
                eprintln!("xtask: {name} exited; stopping the rest");
                break;
            }
        }
    }
    println!("xtask: stopping…");
    for (_, child) in children.iter_mut().rev() {
        process::terminate(child, Duration::from_secs(15));
    }
    drop(db);
    started
}

/// The variables both services read, filled for local use.
fn dev_environment(db: &Database) -> Vec<(String, String)> {
    let key = dev_token_key();
    vec![
        ("DATABASE_URL".into(), db.url().to_owned()),
        ("BIND_ADDRESS".into(), "127.0.0.1".into()),
        ("LOG_FORMAT".into(), "pretty".into()),
        // talk-app signs session cookies with this; derived from the local token key.
        ("SESSION_SECRET".into(), format!("dev-session-{key}")),
        (
            "GATEWAY_PUBLIC_URL".into(),
            format!("http://127.0.0.1:{GATEWAY_PORT}"),
        ),
        (
            "TALK_APP_URL".into(),
            format!("http://127.0.0.1:{TALK_APP_PORT}"),
        ),
        ("STRAVA_CLIENT_ID".into(), FAKE_CLIENT_ID.into()),
        ("STRAVA_CLIENT_SECRET".into(), FAKE_CLIENT_SECRET.into()),
        (
            "STRAVA_OAUTH_BASE_URL".into(),
            format!("http://127.0.0.1:{FAKE_STRAVA_PORT}/oauth"),
        ),
        (
            "STRAVA_API_BASE_URL".into(),
            format!("http://127.0.0.1:{FAKE_STRAVA_PORT}/api/v3"),
        ),
        (
            "OAUTH_STATE_SECRET".into(),
            format!("dev-oauth-state-{key}"),
        ),
        (
            "STRAVA_WEBHOOK_VERIFY_TOKEN".into(),
            format!("dev-verify-{}", &key[..16]),
        ),
        ("TOKEN_ENCRYPTION_KEY".into(), key),
        (
            "RUST_LOG".into(),
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        ),
    ]
}

/// A token key for local use, kept under target/ so tokens stay readable across runs
/// against the same database. Never used outside `cargo xtask dev`.
fn dev_token_key() -> String {
    if let Ok(key) = std::env::var("TOKEN_ENCRYPTION_KEY") {
        return key;
    }
    let path = workspace_root().join("target/xtask/dev-token-key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        return key.trim().to_owned();
    }
    let mut bytes = [0u8; 32];
    if let Err(e) = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
    {
        eprintln!("xtask: no /dev/urandom ({e}); using a fixed development key");
    }
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    let _ = std::fs::create_dir_all(path.parent().expect("parent"));
    let _ = std::fs::write(&path, &key);
    key
}
