//! `cargo xtask dev`: the whole product on this machine, until Ctrl-C.

use crate::postgres::Database;
use crate::stack::{self, Ports, Stack};
use std::sync::mpsc;
use std::time::Duration;

const PORTS: Ports = Ports {
    talk_app: 8080,
    gateway: 8081,
    fake_strava: 8090,
};

/// Builds, migrates, seeds and runs both services; stops everything on Ctrl-C.
pub fn run() -> Result<(), String> {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    stack::build(stack::Targets::Bins)?;
    let db = Database::from_env_or_start()?;
    let mut stack = Stack::start(&db, PORTS)?;
    let Ports {
        talk_app,
        gateway,
        fake_strava,
    } = PORTS;
    println!();
    println!("  StravaTalk is running:");
    println!("    talk-app        http://127.0.0.1:{talk_app}/");
    println!("    strava-gateway  http://127.0.0.1:{gateway}/healthz");
    println!(
        "    fake Strava     http://127.0.0.1:{fake_strava}/_fake/state (\"Connect with Strava\" signs in its athlete)"
    );
    println!("    database        {}", db.describe());
    println!();
    println!("  Press Ctrl-C to stop.");
    // Wake up on Ctrl-C, or when a service exits on its own.
    loop {
        if stop_rx.recv_timeout(Duration::from_millis(500)).is_ok() {
            break;
        }
        if let Some(name) = stack.exited() {
            eprintln!("xtask: {name} exited; stopping the rest");
            break;
        }
    }
    println!("xtask: stopping…");
    drop(stack);
    drop(db);
    Ok(())
}
