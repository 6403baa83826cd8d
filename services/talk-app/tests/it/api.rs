//! `POST /api/ask`: authentication (none, cookie, token, revoked token), the answer
//! contract, errors in JSON, and the per-athlete rate limit.

use crate::helpers::*;
use chrono::Timelike;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE};
use serde_json::{Value, json};

fn assert_contract(answer: &Value) {
    let keys: Vec<&str> = answer
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["kind", "text", "table", "chart", "sql", "read_as"],
        "{answer}"
    );
    assert!(
        ["text", "table", "clarify", "unsupported"].contains(&answer["kind"].as_str().unwrap())
    );
    assert!(answer["text"].is_string());
    if let Some(table) = answer["table"].as_object() {
        let width = table["columns"].as_array().unwrap().len();
        assert!(
            table["rows"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r.as_array().unwrap().len() == width)
        );
    }
}

#[tokio::test]
async fn needs_a_session_or_a_token_and_answers_the_contract() {
    let app = spawn().await;
    app.seed().await;
    let url = app.url("/api/ask");
    let body = json!({ "question": "how many runs this year" });

    let res = app.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    let res = app
        .http
        .post(&url)
        .header(AUTHORIZATION, "Bearer stk_nope")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // With the browser session.
    let (cookie, demo) = app.demo().await;
    let res = app
        .http
        .post(&url)
        .header(COOKIE, &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let conversation = res.headers()["x-conversation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer: Value = res.json().await.unwrap();
    assert_contract(&answer);
    assert_eq!(answer["kind"], "text");

    // With a token made in settings, shown once on the page.
    let token = app.create_token(&cookie, "laptop").await;
    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "question": "show my runs last week", "conversation": conversation }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-conversation-id"], conversation.as_str());
    let answer: Value = res.json().await.unwrap();
    assert_contract(&answer);
    assert_eq!(answer["kind"], "table");
    assert!(answer["sql"].is_string());

    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "question": "weekly running distance this year as a chart" }))
        .send()
        .await
        .unwrap();
    // Without a conversation id a token's questions share one "API" conversation of
    // the token's own, instead of one new conversation per question.
    let api_conversation = res.headers()["x-conversation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(api_conversation, conversation);
    let answer: Value = res.json().await.unwrap();
    assert_contract(&answer);
    assert!(answer["chart"]["kind"].is_string(), "{answer}");
    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "question": "how many rides this year" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-conversation-id"],
        api_conversation.as_str()
    );
    {
        let mut conn = app.conn().await;
        let listed = db::chats::list(&mut conn, demo, 10).await.unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        let api = listed
            .iter()
            .find(|c| c.id.to_string() == api_conversation)
            .unwrap();
        assert_eq!(api.title, "API: laptop");
        let id = api.id;
        assert_eq!(db::chats::messages(&mut conn, id).await.unwrap().len(), 4);
    }

    // The token is never shown again, and revoking it ends it.
    let settings = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(!settings.contains(&token));
    let mut conn = app.conn().await;
    let listed = db::api_tokens::list(&mut conn, demo).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
    // Another athlete cannot revoke it, nor learn that it exists: as unknown as an id
    // that never was.
    let (other, _) = app.demo().await;
    for id in [listed[0].id, uuid::Uuid::new_v4()] {
        let res = app
            .post_form(&format!("/settings/tokens/{id}/revoke"), Some(&other), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "still live");
    let res = app
        .post_form(
            &format!("/settings/tokens/{}/revoke", listed[0].id),
            Some(&cookie),
            &[],
        )
        .await;
    assert_eq!(location(&res), "/settings?done=revoked");
    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let app = spawn().await;
    app.seed().await;
    let (_, demo) = app.demo().await;
    let mut conn = app.conn().await;
    let (_, token) = db::api_tokens::create(&mut conn, demo, "t").await.unwrap();
    let url = app.url("/api/ask");
    for (body, content_type, status) in [
        (
            r#"{"question": "   "}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"nope": 1}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "question=runs",
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let res = app
            .http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["error"].is_string(), "{body}");
    }
    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "question": "runs", "conversation": uuid::Uuid::new_v4() }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a new conversation with that id"
    );
}

#[tokio::test]
async fn the_rate_limit_answers_429_per_athlete() {
    let app = spawn_with(&[("QUESTIONS_PER_MINUTE", "3")]).await;
    app.seed().await;
    let (_, copy) = app.demo().await;
    let mut conn = app.conn().await;
    let (_, demo) = db::api_tokens::create(&mut conn, copy, "t").await.unwrap();
    let (_, other) = db::api_tokens::create(&mut conn, OTHER, "t").await.unwrap();
    // The window is the wall-clock minute: keep clear of its end.
    let second = chrono::Utc::now().second();
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(61 - second))).await;
    }
    let ask = |token: String| {
        let req = app
            .http
            .post(app.url("/api/ask"))
            .bearer_auth(token)
            .json(&json!({ "question": "how many rides this year" }));
        async move { req.send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(ask(demo.clone()).await.status(), StatusCode::OK);
    }
    let limited = ask(demo.clone()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert!(limited.json::<Value>().await.unwrap()["error"].is_string());
    // Another athlete has a budget of their own.
    assert_eq!(ask(other).await.status(), StatusCode::OK);
}
