//! The running product: strava-fake, strava-gateway and talk-app on one database,
//! migrated and seeded with the demo athlete. `dev` runs it on fixed ports until
//! Ctrl-C; `e2e` runs it on free ports under the browser suite.

use crate::postgres::Database;
use crate::{process, workspace_root};
use base64::Engine as _;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

const FAKE_CLIENT_ID: &str = "1234";
const FAKE_CLIENT_SECRET: &str = "fake-client-secret";

/// Where each service listens.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub talk_app: u16,
    pub gateway: u16,
    /// The fake Strava that stands in for strava.com (OAuth, API, webhooks).
    pub fake_strava: u16,
}

/// The three services, stopped (newest first) when dropped.
pub struct Stack {
    children: Vec<(&'static str, Child)>,
}

/// What [`build`] builds besides the binaries the stack runs.
#[derive(Clone, Copy)]
pub enum Targets {
    /// The binaries only: the quickest first build (`dev`).
    Bins,
    /// Every target, as the tests and `check-deploy` build them. The libraries then
    /// get the same features as in that build (dev-dependencies add some), so after
    /// one of those nothing is compiled again (`e2e`, which CI runs after them).
    All,
}

/// `cargo build --workspace`: the binaries the stack runs, and with
/// [`Targets::All`] everything else.
pub fn build(targets: Targets) -> Result<(), String> {
    println!("xtask: building the services…");
    let which = match targets {
        Targets::Bins => "--bins",
        Targets::All => "--all-targets",
    };
    let built = Command::new("cargo")
        .args(["build", "--workspace", which])
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if built.success() {
        Ok(())
    } else {
        Err("build failed".into())
    }
}

fn bin(name: &str) -> PathBuf {
    workspace_root().join("target/debug").join(name)
}

impl Stack {
    /// Migrates and seeds `db`, then starts the fake, the gateway and talk-app and
    /// points a webhook subscription at the gateway. Needs [`build`] first.
    pub fn start(db: &Database, ports: Ports) -> Result<Self, String> {
        let env = environment(db, ports);
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
        // Children pushed so far are stopped by Drop if a later one fails.
        let mut stack = Self {
            children: Vec::new(),
        };
        let fake = Command::new(bin("strava-fake"))
            .args(["--port", &ports.fake_strava.to_string()])
            .args(["--client-id", FAKE_CLIENT_ID])
            .args(["--client-secret", FAKE_CLIENT_SECRET])
            .args(["--athletes", "1", "--activities-per-athlete", "400"])
            .spawn()
            .map_err(|e| format!("cannot start strava-fake: {e}"))?;
        stack.children.push(("strava-fake", fake));
        if !process::wait_http_ok(ports.fake_strava, "/_fake/state", Duration::from_secs(30)) {
            return Err(format!(
                "strava-fake did not start on port {}",
                ports.fake_strava
            ));
        }
        for (name, port) in [
            ("strava-gateway", ports.gateway),
            ("talk-app", ports.talk_app),
        ] {
            let child = Command::new(bin(name))
                .arg("serve")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .env("PORT", port.to_string())
                .spawn()
                .map_err(|e| format!("cannot start {name}: {e}"))?;
            stack.children.push((name, child));
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
        Ok(stack)
    }

    /// The name of a service that has exited on its own, if any.
    pub fn exited(&mut self) -> Option<&'static str> {
        self.children
            .iter_mut()
            .find_map(|(name, c)| matches!(c.try_wait(), Ok(Some(_))).then_some(*name))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            process::terminate(child, Duration::from_secs(15));
        }
    }
}

/// The variables both services read, filled for local use.
fn environment(db: &Database, ports: Ports) -> Vec<(String, String)> {
    let key = token_key();
    let Ports {
        talk_app,
        gateway,
        fake_strava,
    } = ports;
    vec![
        ("DATABASE_URL".into(), db.url().to_owned()),
        ("BIND_ADDRESS".into(), "127.0.0.1".into()),
        ("LOG_FORMAT".into(), "pretty".into()),
        // talk-app signs session cookies with this; derived from the local token key.
        ("SESSION_SECRET".into(), format!("dev-session-{key}")),
        // Every page's footer shows it; a local run reaches nobody.
        (
            "SUPPORT_EMAIL".into(),
            "support@stravatalk.localhost".into(),
        ),
        (
            "GATEWAY_PUBLIC_URL".into(),
            format!("http://127.0.0.1:{gateway}"),
        ),
        (
            "TALK_APP_URL".into(),
            format!("http://127.0.0.1:{talk_app}"),
        ),
        ("STRAVA_CLIENT_ID".into(), FAKE_CLIENT_ID.into()),
        ("STRAVA_CLIENT_SECRET".into(), FAKE_CLIENT_SECRET.into()),
        (
            "STRAVA_OAUTH_BASE_URL".into(),
            format!("http://127.0.0.1:{fake_strava}/oauth"),
        ),
        (
            "STRAVA_API_BASE_URL".into(),
            format!("http://127.0.0.1:{fake_strava}/api/v3"),
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
/// against the same database. Never used outside `cargo xtask dev` and `e2e`.
fn token_key() -> String {
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
