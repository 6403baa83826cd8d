//! `cargo xtask`: the two README commands and their helpers.
//!
//! - `cargo xtask dev`: run the whole product locally;
//! - `cargo xtask test`: run every test;
//! - `cargo xtask bench`: run the benchmarks on a release build;
//! - `cargo xtask e2e`: run the browser suite against the running product.
//!
//! Each uses `DATABASE_URL` when set; otherwise it starts a throwaway PostgreSQL
//! cluster from the local server binaries under `target/xtask/`, and stops it after.

mod deploy;
mod dev;
mod e2e;
mod postgres;
mod process;
mod stack;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <dev | test [ARGS...] | bench>

  dev     migrate, load the demo athlete and run strava-gateway and talk-app until Ctrl-C
  test    run every test (cargo nextest when installed, else cargo test); ARGS go to the runner
  bench   run the benchmarks on a release build and print their figures
  e2e     run the browser suite (Chromium, both screen widths) against the whole product;
          screenshots go to target/e2e/
  check-deploy
          check render.yaml, docker-compose.yml and .env.example against the debug binaries";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev::run(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(),
        Some("e2e") => e2e::run(),
        Some("check-deploy") => deploy::check(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (this crate lives in `crates/xtask`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn test(extra: &[String]) -> Result<(), String> {
    let db = postgres::Database::from_env_or_start()?;
    let use_nextest = process::succeeds("cargo", &["nextest", "--version"]);
    let mut args: Vec<&str> = if use_nextest {
        vec!["nextest", "run", "--workspace", "--no-fail-fast"]
    } else {
        vec!["test", "--workspace", "--no-fail-fast"]
    };
    args.extend(extra.iter().map(String::as_str));
    println!(
        "xtask: running `cargo {}` against {}",
        args.join(" "),
        db.describe()
    );
    let status = std::process::Command::new("cargo")
        .args(&args)
        .current_dir(workspace_root())
        .env("DATABASE_URL", db.url())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    drop(db);
    if status.success() {
        Ok(())
    } else {
        Err(format!("tests failed ({status})"))
    }
}

/// Every benchmark, on release builds; each prints its own figures. They run on a
/// throwaway cluster that loads `pg_stat_statements`, so the question and event
/// benchmarks can print statements per question and per event; without the local
/// server binaries, on `DATABASE_URL` (statements then show as n/a unless that server
/// loads it).
fn bench() -> Result<(), String> {
    let db = postgres::Database::start_counting_statements()
        .or_else(|_| postgres::Database::from_env_or_start())?;
    let root = workspace_root();
    let run = |args: &[&str]| -> Result<(), String> {
        println!("xtask: cargo {}", args.join(" "));
        let status = std::process::Command::new("cargo")
            .args(args)
            .current_dir(&root)
            .env("DATABASE_URL", db.url())
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`cargo {}` failed ({status})", args.join(" ")))
        }
    };
    for example in ["bulk_upsert", "connect_latency", "demo_and_limits"] {
        run(&[
            "run",
            "--release",
            "--quiet",
            "-p",
            "db",
            "--example",
            example,
        ])?;
    }
    // The webhook and import benchmarks start the release gateway binary beside
    // themselves.
    run(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "strava-gateway",
        "--bins",
        "--example",
        "bench_webhooks",
        "--example",
        "bench_import",
        "--example",
        "bench_events",
    ])?;
    for example in ["bench_import", "bench_webhooks", "bench_events"] {
        run(&[
            "run",
            "--release",
            "--quiet",
            "-p",
            "strava-gateway",
            "--example",
            example,
        ])?;
    }
    run(&["bench", "--quiet", "-p", "talk-app", "--bench", "ask"])
}
