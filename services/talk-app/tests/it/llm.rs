//! The optional language-model fallback against a fake OpenAI-compatible server:
//! used only for questions the engine does not understand, sees no activity data,
//! and whatever SQL it writes is guarded and runs scoped to the asking athlete.

use crate::helpers::{OTHER, TestApp, count, spawn_with};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::fake_llm::{FakeLlm, Reply};

/// Words the built-in engine does not understand, so the fallback is asked.
const ODD_QUESTION: &str = "zorblax my quuxes frobnicated";

fn reply(sql: &str) -> Reply {
    Reply::Content(json!({ "kind": "text", "sql": sql, "chart": null }).to_string())
}

async fn start(replies: Vec<Reply>) -> (TestApp, FakeLlm, String) {
    let fake = FakeLlm::start(replies);
    let base = fake.base_url();
    let app = spawn_with(&[
        ("LLM_BASE_URL", &base),
        ("LLM_MODEL", "fake-model"),
        ("LLM_TIMEOUT_SECS", "1"),
    ])
    .await;
    app.seed().await;
    // The other athlete gets activities of their own, which must never show.
    let mut conn = app.conn().await;
    let theirs: Vec<_> =
        domain::demo::demo_activities_with_seed(chrono::Utc::now().date_naive(), 1, 99)
            .into_iter()
            .enumerate()
            .map(|(i, mut a)| {
                a.athlete_id = OTHER;
                a.id = domain::ActivityId(5_000_000 + i as i64);
                db::activities::ActivityRow::new(&a, None, chrono::Utc::now())
            })
            .collect();
    db::activities::upsert_many(&mut conn, &theirs)
        .await
        .unwrap();
    let (cookie, _) = app.demo().await;
    (app, fake, cookie)
}

async fn ask(app: &TestApp, cookie: &str, question: &str) -> Value {
    let res = app
        .http
        .post(app.url("/api/ask"))
        .header(COOKIE, cookie)
        .json(&json!({ "question": question }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the fallback never turns into an error status"
    );
    res.json().await.unwrap()
}

#[tokio::test]
async fn generated_sql_runs_scoped_to_the_asking_athlete() {
    let (app, fake, cookie) =
        start(vec![reply("SELECT count(*) AS activities FROM activities")]).await;
    assert!(matches!(
        domain::ask::parse(
            ODD_QUESTION,
            &domain::ask::Context {
                today: chrono::Utc::now().date_naive(),
                units: domain::Units::Metric,
                previous: None
            }
        ),
        domain::ask::Parsed::NotUnderstood
    ));
    let demo = app.athlete_of(&cookie).await;
    let mut conn = app.conn().await;
    let mine = count(&mut conn, "activities", demo).await;
    let theirs = count(&mut conn, "activities", OTHER).await;
    assert!(mine > 0 && theirs > 0);

    let answer = ask(&app, &cookie, ODD_QUESTION).await;
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("**{}**", domain::format::number(mine as f64, 2))),
        "{text}"
    );
    assert!(answer["sql"].as_str().unwrap().contains("count(*)"));

    // The model saw the question and the schema, never a row.
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = requests[0].to_string();
    assert!(sent.contains("zorblax") && sent.contains("start_date_local"));
    for word in ["Morning Run", "parkrun", "Zwift", "9000000"] {
        assert!(
            !sent.contains(word),
            "the prompt must not carry activity data ({word})"
        );
    }
}

#[tokio::test]
async fn a_query_naming_another_athlete_sees_nothing_of_theirs() {
    let (app, _fake, cookie) = start(vec![reply(&format!(
        "SELECT count(*) AS n FROM activities WHERE athlete_id = {}",
        OTHER.get()
    ))])
    .await;
    let answer = ask(&app, &cookie, ODD_QUESTION).await;
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains("No activities match") || text.contains("**0"),
        "{text}"
    );
}

#[tokio::test]
async fn hostile_or_broken_replies_become_plain_answers_and_change_nothing() {
    let (app, _fake, cookie) = start(vec![
        reply("DELETE FROM activities"),
        reply("SELECT * FROM strava_tokens"),
        reply("SELECT set_config('stravatalk.athlete_id', '2', true)"),
        Reply::Content("Sure! You ran a lot.".into()),
        Reply::Status(500),
        Reply::Slow(
            Duration::from_secs(3),
            json!({"sql": "SELECT 1"}).to_string(),
        ),
    ])
    .await;
    let demo = app.athlete_of(&cookie).await;
    let mut conn = app.conn().await;
    let before = (
        count(&mut conn, "activities", demo).await,
        count(&mut conn, "activities", OTHER).await,
    );
    let expectations = [
        ("unsupported", "refused"),
        ("unsupported", "refused"),
        ("unsupported", "refused"),
        ("text", "not the JSON"),
        ("text", "error"),
        ("text", "in time"),
    ];
    for (kind, words) in expectations {
        let answer = ask(&app, &cookie, ODD_QUESTION).await;
        assert_eq!(answer["kind"], kind, "{answer}");
        assert!(answer["text"].as_str().unwrap().contains(words), "{answer}");
    }
    let after = (
        count(&mut conn, "activities", demo).await,
        count(&mut conn, "activities", OTHER).await,
    );
    assert_eq!(before, after);
}

#[tokio::test]
async fn understood_questions_never_reach_the_model() {
    let (app, fake, cookie) = start(vec![reply("SELECT 1")]).await;
    let answer = ask(&app, &cookie, "how many runs this year").await;
    assert_eq!(answer["kind"], "text");
    assert!(fake.requests().is_empty());
}
