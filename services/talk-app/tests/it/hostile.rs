//! The hostile corpus for the ways in: `POST /api/ask` bodies and headers, and the
//! chat form. Each input gets a clear 4xx (JSON on the API, a page or a sentence on
//! the chat) and changes nothing; every `/api/*` failure answers JSON, even with the
//! database down.

use crate::helpers::*;
use diesel_async::RunQueryDsl;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::Value;

/// Bodies `POST /api/ask` must refuse with a 4xx and a JSON `error`.
fn api_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let json = "application/json";
    let mut out: Vec<(&'static str, String, Vec<u8>)> = vec![
        ("empty body", json.into(), Vec::new()),
        ("null", json.into(), b"null".to_vec()),
        ("an array", json.into(), b"[]".to_vec()),
        ("a string", json.into(), br#""how many runs""#.to_vec()),
        (
            "question a number",
            json.into(),
            br#"{"question": 42}"#.to_vec(),
        ),
        (
            "question null",
            json.into(),
            br#"{"question": null}"#.to_vec(),
        ),
        (
            "question blank",
            json.into(),
            br#"{"question": " \t\n "}"#.to_vec(),
        ),
        (
            "unknown field",
            json.into(),
            br#"{"question": "runs", "sql": "DROP TABLE activities"}"#.to_vec(),
        ),
        (
            "duplicate field",
            json.into(),
            br#"{"question": "runs", "question": "rides"}"#.to_vec(),
        ),
        (
            "conversation not a uuid",
            json.into(),
            br#"{"question": "runs", "conversation": "1 OR 1=1"}"#.to_vec(),
        ),
        (
            "conversation a number",
            json.into(),
            br#"{"question": "runs", "conversation": 7}"#.to_vec(),
        ),
        ("truncated", json.into(), br#"{"question": "ru"#.to_vec()),
        (
            "trailing garbage",
            json.into(),
            br#"{"question": "runs"} {}"#.to_vec(),
        ),
        (
            "invalid utf-8",
            json.into(),
            b"{\"question\": \"\xff\xfe runs\"}".to_vec(),
        ),
        (
            "lone surrogate escape",
            json.into(),
            br#"{"question": "\ud800 runs"}"#.to_vec(),
        ),
        (
            "a NUL character",
            json.into(),
            br#"{"question": "runs\u0000 this year"}"#.to_vec(),
        ),
        (
            "form encoded",
            "application/x-www-form-urlencoded".into(),
            b"question=runs".to_vec(),
        ),
        (
            "text/plain",
            "text/plain".into(),
            br#"{"question": "runs"}"#.to_vec(),
        ),
        (
            "no content type",
            String::new(),
            br#"{"question": "runs"}"#.to_vec(),
        ),
    ];
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    out.push(("nested 10,000 deep", json.into(), deep.into_bytes()));
    let long = format!(r#"{{"question": "{}"}}"#, "a".repeat(2001));
    out.push((
        "question of 2,001 characters",
        json.into(),
        long.into_bytes(),
    ));
    let big = format!(r#"{{"question": "{}"}}"#, "a".repeat(20_000));
    out.push(("body over 16 KB", json.into(), big.into_bytes()));
    out
}

#[tokio::test]
async fn hostile_api_requests_get_a_json_4xx_and_change_nothing() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    let url = app.url("/api/ask");
    for (what, content_type, body) in api_corpus() {
        let mut req = app.http.post(&url).header(COOKIE, &cookie).body(body);
        if !content_type.is_empty() {
            req = req.header(CONTENT_TYPE, content_type);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_client_error(), "{what}: {}", res.status());
        assert!(
            res.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{what}"
        );
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {err}"
        );
    }

    // Headers: a malformed or oversized bearer token, a foreign conversation.
    let long = format!("Bearer stk_{}", "x".repeat(5000));
    for auth in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer\tstk_x",
        long.as_str(),
    ] {
        let res = app
            .http
            .post(&url)
            .header("authorization", auth)
            .json(&serde_json::json!({ "question": "runs" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:.20}");
        assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    }
    let other = app.sign_in(OTHER).await;
    let res = app
        .http
        .post(&url)
        .header(COOKIE, &other)
        .json(&serde_json::json!({ "question": "runs" }))
        .send()
        .await
        .unwrap();
    let theirs = res.headers()["x-conversation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let res = app
        .http
        .post(&url)
        .header(COOKIE, &cookie)
        .json(&serde_json::json!({ "question": "runs", "conversation": theirs }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());

    // Wrong paths and methods under /api answer JSON too.
    for (method, path, status) in [
        (
            reqwest::Method::GET,
            "/api/ask",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            reqwest::Method::PUT,
            "/api/ask",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (reqwest::Method::GET, "/api/nothing", StatusCode::NOT_FOUND),
        (reqwest::Method::POST, "/api/", StatusCode::NOT_FOUND),
    ] {
        let res = app
            .http
            .request(method.clone(), app.url(path))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{method} {path}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].is_string(), "{method} {path}");
    }
    // A cross-site call (including `Origin: null`) is refused in JSON.
    for origin in ["null", "https://evil.example"] {
        let res = app
            .http
            .post(&url)
            .header(COOKIE, &cookie)
            .header("origin", origin)
            .json(&serde_json::json!({ "question": "runs" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    }

    let mut conn = app.conn().await;
    assert_eq!(
        count(&mut conn, "messages", demo).await,
        0,
        "nothing was stored"
    );
    assert_eq!(count(&mut conn, "conversations", demo).await, 0);
}

#[tokio::test]
async fn hostile_chat_forms_get_a_clear_answer_and_change_nothing() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    let url = app.url("/chat/ask");
    let form = "application/x-www-form-urlencoded";
    let big = format!("question={}", "a".repeat(20_000));
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "no question field",
            form,
            b"conversation=".to_vec(),
            StatusCode::BAD_REQUEST,
            "could not be read",
        ),
        (
            "json body",
            "application/json",
            br#"{"question": "runs"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "could not be read",
        ),
        (
            "over 16 KB",
            form,
            big.into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large",
        ),
        (
            "conversation not a uuid",
            form,
            b"question=runs&conversation=%27%20OR%201%3D1".to_vec(),
            StatusCode::NOT_FOUND,
            "Page not found",
        ),
    ];
    for (what, content_type, body, status, words) in cases {
        let res = app
            .http
            .post(&url)
            .header(COOKIE, &cookie)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{what}");
        assert!(
            res.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
        let page = res.text().await.unwrap();
        assert!(page.contains(words), "{what}: {page}");
    }
    // Questions the engine refuses come back to the chat with a sentence.
    let long = "a".repeat(2001);
    for (question, code) in [
        ("   ", "empty"),
        (long.as_str(), "long"),
        ("runs\u{0} this year", "unreadable"),
        ("runs \u{1b}[2J this year", "unreadable"),
    ] {
        let res = app
            .post_form("/chat/ask", Some(&cookie), &[("question", question)])
            .await;
        assert_eq!(location(&res), format!("/chat?error={code}#ask"));
    }
    let page = app
        .get("/chat?error=unreadable", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("control characters"), "{page}");
    // A page address with a malformed query string gets a page, not plain text.
    let res = app.get("/chat?error=%FF&wait=x", Some(&cookie)).await;
    assert!(res.status().is_success() || res.status().is_client_error());
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // A form posted from a sandboxed frame or another site.
    for origin in ["null", "https://evil.example"] {
        let res = app
            .http
            .post(&url)
            .header(COOKIE, &cookie)
            .header("origin", origin)
            .form(&[("question", "how many runs this year")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Cross-site form posts are refused")
        );
    }
    let mut conn = app.conn().await;
    assert_eq!(
        count(&mut conn, "messages", demo).await,
        0,
        "nothing was stored"
    );
}

#[tokio::test]
async fn with_the_database_down_the_api_still_answers_json() {
    let (base, keys) = spawn_without_database().await;
    let http = reqwest::Client::new();
    // A browser's signed session cookie makes the app look the session up first.
    let cookie = keys.cookie(
        uuid::Uuid::new_v4(),
        chrono::Utc::now() + chrono::Duration::hours(1),
    );
    let cookie = format!("{}={}", cookie.name(), cookie.value());
    for (what, req) in [
        (
            "session cookie",
            http.post(format!("{base}/api/ask")).header(COOKIE, &cookie),
        ),
        (
            "bearer token",
            http.post(format!("{base}/api/ask"))
                .bearer_auth("stk_whatever"),
        ),
    ] {
        let res = req
            .json(&serde_json::json!({ "question": "how many runs this year" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert!(res.headers().contains_key("retry-after"), "{what}");
        assert!(
            res.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{what}"
        );
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].is_string(), "{what}");
    }
    // Pages keep their HTML error page.
    let res = http
        .get(format!("{base}/chat"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("Something went wrong"));
}

#[tokio::test]
async fn with_the_pool_exhausted_the_api_answers_json() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, _) = app.demo().await;
    let (base, pool) = app.replica_with_one_connection();
    let ask = || {
        app.http
            .post(format!("{base}/api/ask"))
            .header(COOKIE, &cookie)
            .json(&serde_json::json!({ "question": "how many runs this year" }))
            .send()
    };
    let held = pool.get().await.unwrap();
    // The pool waits its 10 s for a connection, then gives up.
    let res = ask().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    let err: Value = res.json().await.unwrap();
    assert!(err["error"].is_string());
    drop(held);
    let res = ask().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_locked_limits_table_answers_503_at_once_and_others_are_answered_after() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, _) = app.demo().await;
    let ask = || {
        app.http
            .post(app.url("/api/ask"))
            .header(COOKIE, &cookie)
            .json(&serde_json::json!({ "question": "how many runs this year" }))
            .send()
    };
    let mut lock = app.conn().await;
    diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
    diesel::sql_query("LOCK TABLE api_rate_limits IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();
    // More questions than the pool has connections: each is told to come back,
    // within Strava-like seconds, instead of holding a connection while it waits.
    let started = std::time::Instant::now();
    let answers = futures_util::future::join_all((0..12).map(|_| ask())).await;
    for res in answers {
        let res = res.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key("retry-after"));
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    diesel::sql_query("ROLLBACK")
        .execute(&mut lock)
        .await
        .unwrap();
    let res = ask().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A question one character over `ask::MAX_QUESTION_CHARS` whose last words matter: cut
/// at the limit it would read as "how many runs", a different question.
fn one_over_the_limit() -> String {
    let head = "how many runs";
    let tail = "in 2025";
    let pad = ask::MAX_QUESTION_CHARS + 1 - head.len() - tail.len();
    let q = format!("{head}{}{tail}", " ".repeat(pad));
    assert_eq!(q.chars().count(), ask::MAX_QUESTION_CHARS + 1);
    q
}

#[tokio::test]
async fn a_question_over_the_limit_is_refused_by_the_api_and_the_chat() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    let limit = format!("longer than {} characters", ask::MAX_QUESTION_CHARS);

    let res = app
        .http
        .post(app.url("/api/ask"))
        .header(COOKIE, &cookie)
        .json(&serde_json::json!({ "question": one_over_the_limit() }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains(&limit), "{err}");

    let long = one_over_the_limit();
    let res = app
        .post_form("/chat/ask", Some(&cookie), &[("question", long.as_str())])
        .await;
    assert_eq!(location(&res), "/chat?error=long#ask");
    let page = app
        .get("/chat?error=long", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&limit), "{page}");
    // The form itself stops typing at the same limit.
    assert!(
        page.contains(&format!(r#"maxlength="{}""#, ask::MAX_QUESTION_CHARS)),
        "{page}"
    );

    let mut conn = app.conn().await;
    assert_eq!(count(&mut conn, "messages", demo).await, 0);
    assert_eq!(count(&mut conn, "conversations", demo).await, 0);

    // At the limit exactly, the question is answered.
    let at_limit = format!(
        "how many runs{}",
        " ".repeat(ask::MAX_QUESTION_CHARS - "how many runs".len() - "in 2025".len())
    ) + "in 2025";
    let res = app
        .http
        .post(app.url("/api/ask"))
        .header(COOKIE, &cookie)
        .json(&serde_json::json!({ "question": at_limit }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert!(
        answer["text"].as_str().unwrap().contains("2025"),
        "{answer}"
    );
}
