//! The crate boundaries `ARCHITECTURE.md` promises, checked against `cargo metadata`
//! so that a new dependency edge that breaks one fails here, not in review.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Workspace crate → the workspace crates it depends on (normal and build
/// dependencies; dev-dependencies only reach tests, which may use anything).
fn workspace_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .filter_map(|d| d["name"].as_str())
                .filter(|n| names.contains(*n))
                .map(str::to_owned)
                .collect();
            (p["name"].as_str().unwrap_or_default().to_owned(), deps)
        })
        .collect()
}

/// Every crate `from` reaches, directly or through others.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(next) = todo.pop() {
        for dep in graph.get(&next).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn crates_depend_only_in_the_directions_the_architecture_allows() {
    let graph = workspace_graph();
    assert!(graph.contains_key("strava-gateway") && graph.contains_key("talk-app"));
    let mut broken = Vec::new();
    let mut forbid = |from: &str, to: &str, transitive: bool| {
        let reached = if transitive {
            reachable(&graph, from)
        } else {
            graph.get(from).cloned().unwrap_or_default()
        };
        if reached.contains(to) {
            broken.push(format!("{from} must not depend on {to}"));
        }
    };
    for other in graph.keys().filter(|n| n.as_str() != "domain") {
        forbid("domain", other, false);
    }
    for product in ["domain", "ask", "demo", "db", "service"] {
        for not in [
            "strava-gateway",
            "talk-app",
            "testkit",
            "strava-fake",
            "xtask",
        ] {
            forbid(product, not, true);
        }
    }
    forbid("ask", "db", true);
    // The database layer runs statements with typed parameters, not the engine's types.
    forbid("db", "ask", true);
    forbid("service", "ask", true);
    forbid("strava-gateway", "talk-app", true);
    forbid("talk-app", "strava-gateway", true);
    forbid("strava-gateway", "ask", true);
    for service in ["strava-gateway", "talk-app"] {
        for support in ["testkit", "strava-fake", "pg-cluster", "xtask"] {
            forbid(service, support, true);
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_graph_reader_sees_indirect_edges() {
    // The check above is only as good as `reachable`: talk-app reaches domain through db.
    let graph = workspace_graph();
    assert!(reachable(&graph, "talk-app").contains("domain"));
    assert!(!reachable(&graph, "domain").contains("db"));
}
