//! strava-gateway as a running service: health endpoints, start-up errors, shutdown.
//! (Moved here from `tests/gateway.rs` so the crate has one test binary.)

use service::Env;
use std::process::{Command, Stdio};
use std::time::Duration;
use strava_gateway::Settings;
use testkit::TestDb;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // 32 bytes 0..31

/// What `serve` needs besides the database and the key; Strava is never called here.
const STRAVA_VARS: &[(&str, &str)] = &[
    ("STRAVA_CLIENT_ID", "1234"),
    ("STRAVA_CLIENT_SECRET", "not-used-here"),
    ("STRAVA_OAUTH_BASE_URL", "http://127.0.0.1:9/oauth"),
    ("STRAVA_API_BASE_URL", "http://127.0.0.1:9/api/v3"),
    ("STRAVA_WEBHOOK_VERIFY_TOKEN", "verify"),
    ("GATEWAY_PUBLIC_URL", "http://127.0.0.1:9"),
    ("TALK_APP_URL", "http://127.0.0.1:8"),
    ("OAUTH_STATE_SECRET", "0123456789abcdef0123456789abcdef"),
];

fn settings(db: &TestDb) -> Settings {
    let mut vars = vec![
        ("DATABASE_URL", db.url()),
        ("PORT", "0"),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("TOKEN_ENCRYPTION_KEY", KEY),
    ];
    vars.extend_from_slice(STRAVA_VARS);
    let env = Env::from_pairs(None, strava_gateway::settings::DEFAULTS, &vars).unwrap();
    Settings::from_env(&env).unwrap()
}

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_current() {
    let db = TestDb::new().await;
    let app = strava_gateway::startup::build(&settings(&db), db.pool().clone()).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn readyz_fails_while_migrations_are_pending() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query("DELETE FROM __diesel_schema_migrations")
        .execute(&mut conn)
        .await
        .unwrap();
    let app = strava_gateway::startup::build(&settings(&db), db.pool().clone()).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let res = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["reason"].as_str().unwrap().contains("pending"),
        "{body}"
    );
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn start_up_names_the_missing_or_invalid_variable_without_printing_secrets() {
    let bin = env!("CARGO_BIN_EXE_strava-gateway");
    let run = |vars: &[(&str, &str)]| {
        let out = Command::new(bin)
            .arg("serve")
            .env_clear()
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        run(&[("DATABASE_URL", "postgres://x@127.0.0.1/db")])
            .contains("TOKEN_ENCRYPTION_KEY is not set")
    );
    let bad_key = run(&[
        ("DATABASE_URL", "postgres://x@127.0.0.1/db"),
        ("TOKEN_ENCRYPTION_KEY", "sekrit-value"),
    ]);
    assert!(
        bad_key.contains("TOKEN_ENCRYPTION_KEY is invalid"),
        "{bad_key}"
    );
    assert!(!bad_key.contains("sekrit-value"), "{bad_key}");
    let bad_url = run(&[
        ("DATABASE_URL", "mysql://user:pw@h/db"),
        ("TOKEN_ENCRYPTION_KEY", KEY),
    ]);
    assert!(
        bad_url.contains("DATABASE_URL is invalid") && !bad_url.contains("pw@"),
        "{bad_url}"
    );
    let bad_port = run(&[
        ("DATABASE_URL", "postgres://x@127.0.0.1/db"),
        ("TOKEN_ENCRYPTION_KEY", KEY),
        ("PORT", "http"),
    ]);
    assert!(bad_port.contains("PORT is invalid"), "{bad_port}");
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("migrate"));
}

#[tokio::test]
async fn the_binary_serves_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_strava-gateway"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("PORT", "0")
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("TOKEN_ENCRYPTION_KEY", KEY)
        .env("LOG_FORMAT", "json")
        .envs(STRAVA_VARS.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = testkit::process::follow_logs(child.stderr.take().unwrap());
    let port = logs.port();
    let res = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The image's HEALTHCHECK: the binary probes its own /healthz.
    let probe = |port: u16| {
        Command::new(env!("CARGO_BIN_EXE_strava-gateway"))
            .arg("healthcheck")
            .env_clear()
            .env("PORT", port.to_string())
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(probe(port), "healthcheck against the running service");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(!probe(closed), "healthcheck fails when nothing answers");
    // Query strings carry secrets (verify token, OAuth code and state): never logged.
    let verify = STRAVA_VARS
        .iter()
        .find(|(k, _)| *k == "STRAVA_WEBHOOK_VERIFY_TOKEN")
        .unwrap()
        .1;
    let secret_urls = [
        format!("/webhook?hub.mode=subscribe&hub.verify_token={verify}&hub.challenge=c1"),
        "/oauth/callback?code=SECRET-OAUTH-CODE&state=SECRET-STATE".to_owned(),
    ];
    for url in &secret_urls {
        reqwest::get(format!("http://127.0.0.1:{port}{url}"))
            .await
            .unwrap();
    }
    let status = testkit::process::terminate(&mut child, Duration::from_secs(15))
        .expect("stops within 15 s of SIGTERM");
    assert!(status.success(), "{status}");
    let lines = logs.lines();
    assert!(
        lines.iter().any(|l| l.contains("/webhook")),
        "requests are logged"
    );
    for secret in [verify, "SECRET-OAUTH-CODE", "SECRET-STATE"] {
        assert!(
            !lines.iter().any(|l| l.contains(secret)),
            "{secret} leaked into the logs"
        );
    }
}
