//! The limits on asking: one per-minute budget for every way of asking (question box,
//! example and clarify buttons, the API) and a cap on questions in flight per athlete
//! that a second replica obeys too, because both live in Postgres.

use crate::helpers::*;
use chrono::Timelike;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::fake_llm::{FakeLlm, Reply};

/// Words the built-in engine does not understand, so the (slow, fake) model is asked.
const ODD_QUESTION: &str = "zorblax my quuxes frobnicated";

/// The rate window is the wall-clock minute: keep clear of its end.
async fn clear_of_the_minute_end() {
    let second = chrono::Utc::now().second();
    if second > 45 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }
}

async fn api_ask(app: &TestApp, base: &str, cookie: &str, question: &str) -> reqwest::Response {
    app.http
        .post(format!("{base}/api/ask"))
        .header(COOKIE, cookie)
        .json(&json!({ "question": question }))
        .send()
        .await
        .unwrap()
}

async fn form_ask(app: &TestApp, base: &str, cookie: &str, form: &[(&str, &str)]) -> String {
    let res = app
        .http
        .post(format!("{base}/chat/ask"))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res)
}

async fn in_flight(app: &TestApp, athlete: domain::AthleteId) -> i64 {
    let mut conn = app.conn().await;
    db::ask_limits::in_flight(&mut conn, athlete).await.unwrap()
}

async fn messages(app: &TestApp, athlete: domain::AthleteId) -> i64 {
    let mut conn = app.conn().await;
    count(&mut conn, "messages", athlete).await
}

#[tokio::test]
async fn one_budget_covers_the_question_box_its_buttons_and_the_api() {
    let app = spawn_with(&[("QUESTIONS_PER_MINUTE", "3")]).await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    clear_of_the_minute_end().await;
    let base = app.base.clone();

    // An example button, then a follow-up button in the same conversation, then the API.
    let to = form_ask(
        &app,
        &base,
        &cookie,
        &[("question", talk_app::pages::chat::EXAMPLES[0])],
    )
    .await;
    assert!(to.ends_with("#latest"), "{to}");
    let id = to
        .trim_start_matches("/chat/")
        .trim_end_matches("#latest")
        .to_owned();
    let to = form_ask(
        &app,
        &base,
        &cookie,
        &[
            ("question", "longest run by distance"),
            ("conversation", &id),
        ],
    )
    .await;
    assert!(to.ends_with("#latest"), "{to}");
    assert_eq!(
        api_ask(&app, &base, &cookie, "how many rides this year")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(messages(&app, demo).await, 6);

    // The fourth question of the minute, through the form: refused with a sentence.
    let to = form_ask(
        &app,
        &base,
        &cookie,
        &[
            ("question", "how many runs this year"),
            ("conversation", &id),
        ],
    )
    .await;
    let prefix = format!("/chat/{id}?error=rate&wait=");
    assert!(to.starts_with(&prefix), "{to}");
    let page = app
        .get(to.trim_end_matches("#ask"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("questions in the last minute. Please wait"),
        "{page}"
    );
    // And through the API: 429 with Retry-After.
    let res = api_ask(&app, &base, &cookie, "how many runs this year").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(
        messages(&app, demo).await,
        6,
        "refused questions store nothing"
    );
}

#[tokio::test]
async fn a_second_replica_obeys_the_in_flight_limit() {
    let fake = FakeLlm::start(vec![Reply::Slow(
        Duration::from_secs(4),
        json!({ "kind": "text", "sql": "SELECT 1 AS one", "chart": null }).to_string(),
    )]);
    let llm = fake.base_url();
    let app = spawn_with(&[
        ("LLM_BASE_URL", &llm),
        ("LLM_MODEL", "fake-model"),
        ("LLM_TIMEOUT_SECS", "10"),
        ("QUESTIONS_IN_FLIGHT", "1"),
    ])
    .await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    let other = app.sign_in(OTHER).await;
    let replica = app.replica();

    // A slow question on the first replica holds the athlete's one slot...
    let slow = {
        let req = app
            .http
            .post(app.url("/api/ask"))
            .header(COOKIE, &cookie)
            .json(&json!({ "question": ODD_QUESTION }));
        tokio::spawn(async move { req.send().await.unwrap().status() })
    };
    for _ in 0..100 {
        if in_flight(&app, demo).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(in_flight(&app, demo).await, 1);

    // ...so the second replica turns the next one away, on the API and on the page.
    let res = api_ask(&app, &replica, &cookie, "how many runs this year").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "5");
    let err = res.json::<Value>().await.unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("being answered"),
        "{err}"
    );
    let to = form_ask(
        &app,
        &replica,
        &cookie,
        &[("question", "how many runs this year")],
    )
    .await;
    assert_eq!(to, "/chat?error=busy#ask");
    let page = app
        .http
        .get(format!("{replica}/chat?error=busy"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("still being answered"), "{page}");
    // Another athlete is not held up.
    assert_eq!(
        api_ask(&app, &replica, &other, "how many runs this year")
            .await
            .status(),
        StatusCode::OK
    );

    // Once the slow answer is in, the slot is free again.
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    assert_eq!(in_flight(&app, demo).await, 0);
    assert_eq!(
        api_ask(&app, &replica, &cookie, "how many runs this year")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn twelve_slow_questions_from_one_athlete_leave_room_for_everyone_else() {
    let fake = FakeLlm::start(vec![Reply::Slow(
        Duration::from_secs(3),
        json!({ "kind": "text", "sql": "SELECT 1 AS one", "chart": null }).to_string(),
    )]);
    let llm = fake.base_url();
    let app = spawn_with(&[
        ("LLM_BASE_URL", &llm),
        ("LLM_MODEL", "fake-model"),
        ("LLM_TIMEOUT_SECS", "10"),
    ])
    .await;
    app.seed().await;
    let (cookie, _) = app.demo().await;
    let other = app.sign_in(OTHER).await;
    let started = std::time::Instant::now();
    let mut asks = Vec::new();
    for _ in 0..12 {
        let req = app
            .http
            .post(app.url("/api/ask"))
            .header(COOKIE, &cookie)
            .json(&json!({ "question": ODD_QUESTION }));
        asks.push(tokio::spawn(async move {
            let res = req.send().await.unwrap();
            (res.status(), started.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // While the athlete's two slots wait on the model, the service stays ready and
    // other athletes are answered.
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
    let res = api_ask(&app, &app.base, &other, "how many runs this year").await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut answered = Vec::new();
    let mut refused = Vec::new();
    for a in asks {
        let (status, took) = a.await.unwrap();
        match status {
            StatusCode::OK => answered.push(took),
            StatusCode::TOO_MANY_REQUESTS => refused.push(took),
            other => panic!("unexpected {other}"),
        }
    }
    println!(
        "12 slow questions at once: {} answered (last after {:?}), {} refused (last after {:?})",
        answered.len(),
        answered.iter().max().unwrap(),
        refused.len(),
        refused.iter().max().unwrap()
    );
    assert_eq!((answered.len(), refused.len()), (2, 10));
}
