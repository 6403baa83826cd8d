//! The optional language-model fallback against a fake OpenAI-compatible server:
//! used only for questions the engine does not understand, sees no activity data,
//! and whatever SQL it writes is guarded and runs scoped to the asking athlete.

use crate::helpers::{OTHER, TestApp, count, spawn_with, spawn_with_pool};
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
    let theirs: Vec<_> = demo::demo_activities_with_seed(chrono::Utc::now().date_naive(), 1, 99)
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
        ask::parse(
            ODD_QUESTION,
            &ask::Context {
                today: chrono::Utc::now().date_naive(),
                units: domain::Units::Metric,
                previous: None
            }
        ),
        ask::Parsed::NotUnderstood
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
    assert!(text.contains("query the language model wrote"), "{text}");

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
async fn the_prompt_names_exactly_the_sandbox_views_columns() {
    use diesel_async::RunQueryDsl;
    let (app, fake, cookie) = start(vec![reply("SELECT count(*) AS n FROM activities")]).await;
    ask(&app, &cookie, ODD_QUESTION).await;
    let sent = fake.requests()[0].to_string();
    let sent: Value = serde_json::from_str(&sent).unwrap();
    let prompt = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "system")
        .and_then(|m| m["content"].as_str())
        .unwrap()
        .to_owned();
    // The lines between "with columns:" and the next sentence, "- name type[: meaning]".
    let told: Vec<String> = prompt
        .split_once("with columns:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("- "))
        .map(|l| l[2..].split(' ').next().unwrap().to_owned())
        .collect();
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    let mut conn = app.conn().await;
    let view: Vec<String> = diesel::sql_query(
        "SELECT column_name::text AS column_name FROM information_schema.columns \
         WHERE table_schema = 'stravatalk_model' AND table_name = 'activities' \
         ORDER BY ordinal_position",
    )
    .load::<Column>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|c| c.column_name)
    .collect();
    assert!(view.len() > 30, "{view:?}");
    assert_eq!(told, view);
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

#[tokio::test]
async fn no_connection_is_held_while_the_model_thinks() {
    const POOL: usize = 2;
    let fake = FakeLlm::start(vec![Reply::Held(
        json!({ "kind": "text", "sql": "SELECT count(*) AS activities FROM activities", "chart": null })
            .to_string(),
    )]);
    let base = fake.base_url();
    let app = spawn_with_pool(
        &[
            ("LLM_BASE_URL", &base),
            ("LLM_MODEL", "fake-model"),
            ("LLM_TIMEOUT_SECS", "60"),
            // Every question of this athlete is in flight at once, on purpose.
            ("QUESTIONS_IN_FLIGHT", "8"),
        ],
        Some(POOL),
    )
    .await;
    app.seed().await;
    let (mine, _) = app.demo().await;
    let theirs = app.sign_in(OTHER).await;

    // Twice as many questions waiting on the model as the pool has connections.
    let waiting: Vec<_> = (0..2 * POOL)
        .map(|_| {
            let (http, url, cookie) = (app.http.clone(), app.url("/api/ask"), mine.clone());
            tokio::spawn(async move {
                http.post(url)
                    .header(COOKIE, cookie)
                    .json(&json!({ "question": ODD_QUESTION }))
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    for _ in 0..400 {
        if fake.requests().len() >= POOL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(fake.requests().len() >= POOL, "the model was not asked");

    // While the model thinks, the app is ready and another athlete is answered.
    let ready = app.get("/readyz", None).await;
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "{}",
        ready.text().await.unwrap()
    );
    let other = app
        .http
        .post(app.url("/api/ask"))
        .header(COOKIE, &theirs)
        .json(&json!({ "question": "how many rides this year" }))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);

    fake.release();
    for task in waiting {
        let res = task.await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let answer: Value = res.json().await.unwrap();
        assert!(
            answer["text"].as_str().unwrap().contains("activities: **"),
            "{answer}"
        );
    }
    assert_eq!(
        fake.requests().len(),
        2 * POOL,
        "every question reached the model"
    );
}

/// ~200 rows of ~600 KB each (8 columns of 75 KB), from functions the guard allows.
const OVERSIZED: &str = "SELECT n, b AS c1, b AS c2, b AS c3, b AS c4, b AS c5, b AS c6, b AS c7, b AS c8 \
     FROM generate_series(1, 250) AS n, \
          (SELECT string_agg('0123456789', '') AS b FROM generate_series(1, 7500)) AS big";

/// Peak resident memory of this process (the app runs inside it), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::test]
async fn an_oversized_generated_result_stays_small_in_the_api_the_messages_and_the_page() {
    use ask::{CELL_CHARS, TABLE_BYTES};
    let (app, _fake, cookie) = start(vec![Reply::Content(
        json!({ "kind": "table", "sql": OVERSIZED, "chart": null }).to_string(),
    )])
    .await;
    let before = peak_rss_mb();
    let res = app
        .http
        .post(app.url("/api/ask"))
        .header(COOKIE, &cookie)
        .json(&json!({ "question": ODD_QUESTION }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let conversation = res
        .headers()
        .get("x-conversation-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.bytes().await.unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    let text = answer["text"].as_str().unwrap();
    assert!(text.contains("Only the first **"), "{text}");
    assert!(
        text.contains(&format!("cut to {CELL_CHARS} characters")),
        "{text}"
    );
    assert!(text.contains("more than 200 rows"), "{text}");
    let rows = answer["table"]["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() < 200);
    assert!(
        rows.iter()
            .flat_map(|r| r.as_array().unwrap())
            .all(|c| c.as_str().is_none_or(|s| s.chars().count() <= CELL_CHARS))
    );
    assert!(
        body.len() < TABLE_BYTES + 16 * 1024,
        "API answer: {} bytes",
        body.len()
    );

    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    let mut conn = app.conn().await;
    let stored: Stored = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT max(octet_length(content) + octet_length(coalesce(answer::text, '')))::bigint AS bytes \
             FROM messages",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    assert!(
        (stored.bytes as usize) < TABLE_BYTES + 32 * 1024,
        "messages row: {} bytes",
        stored.bytes
    );

    let page = app
        .get(&format!("/chat/{conversation}"), Some(&cookie))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("cut to 200 characters"));
    assert!(
        html.len() < 4 * TABLE_BYTES,
        "chat page: {} bytes",
        html.len()
    );
    println!(
        "oversized generated query (201 rows × ~600 KB): API answer {:.1} KB, messages row {:.1} KB, \
         chat page {:.1} KB; peak RSS of the test process (app inside) {before:.0} MB before, {:.0} MB after",
        body.len() as f64 / 1024.0,
        stored.bytes as f64 / 1024.0,
        html.len() as f64 / 1024.0,
        peak_rss_mb()
    );
}

#[tokio::test]
async fn overlong_model_replies_and_queries_are_refused_unrun() {
    let long_sql = format!(
        "SELECT count(*) AS n FROM activities WHERE name <> '{}'",
        "x".repeat(talk_app::llm::MAX_GENERATED_SQL_CHARS)
    );
    let huge_reply = format!(
        "SELECT count(*) AS n FROM activities WHERE name <> '{}'",
        "x".repeat(talk_app::llm::MAX_REPLY_BYTES)
    );
    let (app, _fake, cookie) = start(vec![reply(&long_sql), reply(&huge_reply)]).await;
    let answer = ask(&app, &cookie, ODD_QUESTION).await;
    assert_eq!(answer["kind"], "unsupported", "{answer}");
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("longer than 8192 characters"),
        "{answer}"
    );
    let answer = ask(&app, &cookie, ODD_QUESTION).await;
    assert!(
        answer["text"].as_str().unwrap().contains("too long"),
        "{answer}"
    );
    assert!(
        answer.to_string().len() < 4096,
        "{} bytes",
        answer.to_string().len()
    );
}

/// The plan the engine reads `question` as today, as the model would send it.
fn plan_of(question: &str) -> Value {
    let ctx = ask::Context {
        today: chrono::Utc::now().date_naive(),
        units: domain::Units::Metric,
        previous: None,
    };
    match ask::parse(question, &ctx) {
        ask::Parsed::Plan(plan) => serde_json::to_value(plan).unwrap(),
        other => panic!("{question}: {other:?}"),
    }
}

#[tokio::test]
async fn a_plan_from_the_model_is_compiled_and_answered_like_the_engines_own() {
    let plan = plan_of("how many runs this year");
    let (app, fake, cookie) =
        start(vec![Reply::Content(json!({ "plan": plan }).to_string())]).await;
    let read = ask(&app, &cookie, ODD_QUESTION).await;
    let own = ask(&app, &cookie, "how many runs this year").await;
    assert_eq!(read["kind"], "text");
    assert_eq!(read["text"], own["text"], "{read}");
    assert_eq!(read["sql"], own["sql"], "the same compiler, the same query");
    assert_eq!(
        read["read_as"].as_str().unwrap(),
        format!(
            "{} · read by the language model",
            own["read_as"].as_str().unwrap()
        )
    );
    // The model was shown how the engine reads questions, and no activity data.
    let sent = fake.requests()[0].to_string();
    assert!(sent.contains("how many runs did I do in November 2023") && sent.contains("plan: {"));
    assert!(!sent.contains("Morning Run"));
}

#[tokio::test]
async fn a_plan_reaching_past_the_shape_or_its_bounds_is_refused_and_runs_nothing() {
    let mut other = plan_of("how many runs this year");
    other["athlete_id"] = json!(OTHER.get());
    let mut huge = plan_of("my 5 longest rides this year");
    huge["limit"] = json!(1_000_000);
    let (app, _fake, cookie) = start(vec![
        Reply::Content(json!({ "plan": other }).to_string()),
        Reply::Content(json!({ "plan": huge }).to_string()),
        Reply::Content(json!({ "plan": { "metric": "vibes" } }).to_string()),
    ])
    .await;
    for words in ["“athlete_id”", "more than 200 activities", "not a plan"] {
        let answer = ask(&app, &cookie, ODD_QUESTION).await;
        assert_eq!(answer["kind"], "unsupported", "{answer}");
        let text = answer["text"].as_str().unwrap();
        assert!(
            text.contains(words) && text.contains("Nothing was run"),
            "{text}"
        );
        assert!(answer["sql"].is_null(), "{answer}");
    }
}
