//! talk-app as a running service: pages, health endpoints, start-up errors, shutdown.

use service::Env;
use std::process::{Command, Stdio};
use std::time::Duration;
use talk_app::{Application, Settings};
use testkit::TestDb;

async fn start(db: &TestDb) -> String {
    let env = Env::from_pairs(
        None,
        talk_app::settings::DEFAULTS,
        &[
            ("DATABASE_URL", db.url()),
            ("PORT", "0"),
            ("BIND_ADDRESS", "127.0.0.1"),
        ],
    )
    .unwrap();
    let app = Application::build(&Settings::from_env(&env).unwrap(), db.pool().clone()).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

#[tokio::test]
async fn serves_the_home_page_health_and_a_real_404() {
    let db = TestDb::new().await;
    let base = start(&db).await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            reqwest::get(format!("{base}{path}"))
                .await
                .unwrap()
                .status(),
            200,
            "{path}"
        );
    }
    let home = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(
        home.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = home.text().await.unwrap();
    assert!(
        html.contains("<title>StravaTalk</title>") && html.contains("plain English"),
        "{html}"
    );
    assert!(!html.contains(".wasm"), "server-rendered only");

    let css = reqwest::get(format!("{base}/static/app.css"))
        .await
        .unwrap();
    assert_eq!(css.status(), 200);

    let missing = reqwest::get(format!("{base}/no/such/page")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_binary_serves_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("PORT", "0")
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let port = testkit::process::listening_port(child.stderr.take().unwrap());
    assert_eq!(
        reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let status = testkit::process::terminate(&mut child, Duration::from_secs(15))
        .expect("stops within 15 s of SIGTERM");
    assert!(status.success(), "{status}");
}

#[test]
fn start_up_names_the_missing_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("serve")
        .env_clear()
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL is not set"));
    let help = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
}
