//! `cargo xtask check-deploy`: the deployment files agree with the services.
//!
//! Each service's binary is taken from the workspace's debug build, the one the tests
//! use (what is checked is behaviour, not release codegen, and CI compiles once), then
//! started with an empty environment; every "X is not set" it answers adds X (with a
//! test value) until it serves. The variables it asked for are the ones it requires,
//! and each must be in `.env.example`, in the service's `render.yaml` entry and in its
//! `docker-compose.yml` entry. The running binary must answer `/healthz` and the
//! health check path `render.yaml` names; every Dockerfile named must exist. It runs
//! against a throwaway cluster of its own (PostgreSQL server binaries needed).

use crate::postgres::Database;
use crate::{process, workspace_root};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yaml_rust2::{Yaml, YamlLoader};

const SERVICES: &[&str] = &["strava-gateway", "talk-app"];
/// Variables Render sets by itself.
const PROVIDED_BY_RENDER: &[&str] = &["PORT"];

/// Runs every check and reports all problems at once.
pub fn check() -> Result<(), String> {
    let root = workspace_root();
    let env_example = read_env_example(&root.join(".env.example"))?;
    let render = load_yaml(&root.join("render.yaml"))?;
    let compose = load_yaml(&root.join("docker-compose.yml"))?;
    // Its own cluster: the binaries migrate it, which must not touch DATABASE_URL's.
    let db = Database::start_throwaway()?;
    build_debug()?;
    let mut problems = Vec::new();

    for service in SERVICES {
        let render_entry = render["services"]
            .as_vec()
            .and_then(|v| v.iter().find(|s| s["name"].as_str() == Some(service)))
            .ok_or_else(|| format!("render.yaml has no service {service}"))?;
        let compose_entry = &compose["services"][*service];
        if compose_entry.is_badvalue() {
            return Err(format!("docker-compose.yml has no service {service}"));
        }
        for dockerfile in [
            render_entry["dockerfilePath"].as_str(),
            compose_entry["build"]["dockerfile"].as_str(),
        ] {
            match dockerfile {
                Some(path) if root.join(path).is_file() => {}
                other => problems.push(format!("{service}: Dockerfile {other:?} does not exist")),
            }
        }

        let binary = root.join("target/debug").join(service);
        migrate(&binary, db.url())?;
        let (required, port, mut child) = discover(&binary, db.url(), &env_example)?;
        let health_path = render_entry["healthCheckPath"]
            .as_str()
            .unwrap_or("/healthz")
            .to_owned();
        for path in ["/healthz", health_path.as_str()] {
            if !process::wait_http_ok(port, path, Duration::from_secs(10)) {
                problems.push(format!("{service}: {path} did not answer 200"));
            }
        }
        process::terminate(&mut child, Duration::from_secs(10));
        println!(
            "xtask: {service} requires {}",
            required.iter().cloned().collect::<Vec<_>>().join(", ")
        );

        let render_vars: BTreeSet<String> = render_entry["envVars"]
            .as_vec()
            .map(|v| {
                v.iter()
                    .filter_map(|e| e["key"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let compose_vars: BTreeSet<String> = compose_entry["environment"]
            .as_hash()
            .map(|h| {
                h.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for var in &required {
            if !env_example.contains_key(var) {
                problems.push(format!(
                    "{service}: {var} is required but missing from .env.example"
                ));
            }
            if !render_vars.contains(var) && !PROVIDED_BY_RENDER.contains(&var.as_str()) {
                problems.push(format!(
                    "{service}: {var} is required but missing from render.yaml"
                ));
            }
            if !compose_vars.contains(var) {
                problems.push(format!(
                    "{service}: {var} is required but missing from docker-compose.yml"
                ));
            }
        }
    }
    if problems.is_empty() {
        println!("xtask: deployment files agree with the services");
        Ok(())
    } else {
        Err(format!(
            "deployment files are out of step:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// `NAME=value` lines, and `# NAME=value` examples of optional ones.
fn read_env_example(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

fn load_yaml(path: &Path) -> Result<Yaml, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    YamlLoader::load_from_str(&text)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{} is empty", path.display()))
}

/// Builds every target as the tests do, so that CI's test step compiles nothing again;
/// `--locked` as in the Dockerfiles.
fn build_debug() -> Result<(), String> {
    let status = Command::new("cargo")
        .args(["build", "--workspace", "--all-targets", "--locked"])
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the workspace build failed".into())
    }
}

fn migrate(binary: &Path, database_url: &str) -> Result<(), String> {
    let out = Command::new(binary)
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", database_url)
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Starts `serve` with nothing set, adding each variable it reports missing until it
/// runs; returns the variables it needed, its port and the running child.
fn discover(
    binary: &Path,
    database_url: &str,
    documented: &BTreeMap<String, String>,
) -> Result<(BTreeSet<String>, u16, std::process::Child), String> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..40 {
        let port = pg_cluster::free_port()?;
        let mut child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .envs(&vars)
            .env("PORT", port.to_string())
            .env("BIND_ADDRESS", "127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if matches!(child.try_wait(), Ok(None)) {
            return Ok((vars.keys().cloned().collect(), port, child));
        }
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        let missing = stderr
            .split_whitespace()
            .zip(stderr.split_whitespace().skip(1))
            .zip(stderr.split_whitespace().skip(2))
            .find(|((_, is), not)| {
                *is == "is" && (not.starts_with("not") || not.starts_with("invalid"))
            })
            .map(|((var, _), _)| var.trim_start_matches("error:").to_owned());
        let Some(var) = missing else {
            return Err(format!("{} serve stopped: {stderr}", binary.display()));
        };
        if vars.contains_key(&var) {
            return Err(format!("{var} is set but refused: {stderr}"));
        }
        let value = if var == "DATABASE_URL" {
            database_url.to_owned()
        } else {
            test_value(&var, documented)
        };
        vars.insert(var, value);
    }
    Err("serve kept asking for variables".into())
}

/// A valid value for a variable: the documented example when it has one, else one of
/// the right shape.
fn test_value(var: &str, documented: &BTreeMap<String, String>) -> String {
    match documented.get(var).filter(|v| !v.is_empty()) {
        Some(v) => v.clone(),
        None if var.ends_with("_KEY") => "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
        None if var.ends_with("_ID") => "1234".into(),
        None if var.ends_with("_URL") => "http://127.0.0.1:9".into(),
        None => "check-deploy-test-value-of-at-least-32-bytes".into(),
    }
}
