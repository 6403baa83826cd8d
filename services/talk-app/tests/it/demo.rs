//! "Try the demo": each visitor gets a short-lived copy of the demo athlete of their
//! own; questions, tokens, settings and erasure act on that copy; the template itself
//! can no longer be signed into, used by token or erased.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn ask_api_with_token(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/ask"))
        .bearer_auth(token)
        .json(&json!({ "question": "how many runs this year" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_visitor_gets_a_demo_of_their_own() {
    let app = spawn().await;
    app.seed().await;
    let (ann, ann_id) = app.demo().await;
    let (bob, bob_id) = app.demo().await;
    assert_ne!(ann_id, bob_id);
    let mut conn = app.conn().await;
    let template = count(&mut conn, "activities", DEMO).await;
    assert!(template > 500);
    assert_eq!(count(&mut conn, "activities", ann_id).await, template);
    assert_eq!(count(&mut conn, "activities", bob_id).await, template);

    // Ann's question is hers alone.
    let res = app
        .post_form(
            "/chat/ask",
            Some(&ann),
            &[("question", "show my runs last week")],
        )
        .await;
    let to = location(&res);
    let conversation = to.trim_end_matches("#latest").to_owned();
    let page = app
        .get(&conversation, Some(&ann))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<table"), "{page}");
    assert!(
        !page.contains("strava.com/activities"),
        "demo rows link nowhere"
    );
    let bobs_chat = app.get("/chat", Some(&bob)).await.text().await.unwrap();
    assert!(!bobs_chat.contains(&conversation), "{bobs_chat}");
    assert_eq!(
        app.get(&conversation, Some(&bob)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(count(&mut conn, "messages", DEMO).await, 0);

    // Her token asks as her copy, and dies with it.
    let token = app.create_token(&ann, "script").await;
    assert_eq!(count(&mut conn, "api_tokens", ann_id).await, 1);
    assert_eq!(count(&mut conn, "api_tokens", DEMO).await, 0);
    assert_eq!(
        ask_api_with_token(&app, &token).await.status(),
        StatusCode::OK
    );
    let settings = app.get("/settings", Some(&ann)).await.text().await.unwrap();
    assert!(
        settings.contains("This demo account is yours alone"),
        "{settings}"
    );

    // Erasing is Ann's copy only: Bob and the template carry on.
    let res = app
        .post_form("/settings/delete", Some(&ann), &[("confirm", "yes")])
        .await;
    assert_eq!(location(&res), "/?notice=erased");
    assert!(
        db::athletes::find(&mut conn, ann_id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        ask_api_with_token(&app, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/chat", Some(&bob)).await.status(), StatusCode::OK);
    assert_eq!(count(&mut conn, "activities", DEMO).await, template);
    assert_eq!(count(&mut conn, "activities", bob_id).await, template);

    // A visitor already in the demo who presses the button again keeps their copy.
    let res = app.post_form("/demo", Some(&bob), &[]).await;
    assert_eq!(location(&res), "/chat");
    assert!(session_cookie(&res).is_none());
}

#[tokio::test]
async fn the_demo_template_cannot_be_signed_into_used_by_token_or_erased() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    let template = count(&mut conn, "activities", DEMO).await;

    // A login ticket for it (none is ever issued; this is the lock behind that).
    let (ticket, browser) = app.ticket(DEMO).await;
    let res = app
        .get(&format!("/auth/complete?ticket={ticket}"), Some(&browser))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&res).is_none());
    assert!(res.text().await.unwrap().contains("Try the demo"));

    // A session from the days of the shared demo is over.
    let row = db::sessions::create(
        &mut conn,
        DEMO,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    let cookie = app.keys.cookie(row.id, row.expires_at);
    let cookie = format!("{}={}", cookie.name(), cookie.value());
    let res = app.get("/chat", Some(&cookie)).await;
    assert_eq!(location(&res), "/?notice=session-ended");
    let res = app
        .post_form("/settings/delete", Some(&cookie), &[("confirm", "yes")])
        .await;
    assert_eq!(location(&res), "/?notice=session-ended");
    assert!(db::athletes::find(&mut conn, DEMO).await.unwrap().is_some());
    assert_eq!(count(&mut conn, "activities", DEMO).await, template);

    // So is an API token minted for it then.
    let (_, token) = db::api_tokens::create(&mut conn, DEMO, "old")
        .await
        .unwrap();
    assert_eq!(
        ask_api_with_token(&app, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = app
        .http
        .post(app.url("/api/ask"))
        .header("cookie", &cookie)
        .json(&json!({ "question": "how many runs this year" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&mut conn, "messages", DEMO).await, 0);
}

#[tokio::test]
async fn copies_are_capped_and_an_expired_copy_locks_out() {
    let app = spawn_with(&[("DEMO_MAX_COPIES", "1")]).await;
    app.seed().await;
    let (cookie, copy) = app.demo().await;
    let raw = {
        let res = app.post_form("/demo", None, &[]).await;
        assert_eq!(location(&res), "/?notice=demo-full");
        assert!(session_cookie(&res).is_none());
        app.get("/?notice=demo-full", None)
            .await
            .text()
            .await
            .unwrap()
    };
    assert!(raw.contains("too many visitors"), "{raw}");
    let mut conn = app.conn().await;
    let (_, token) = db::api_tokens::create(&mut conn, copy, "t").await.unwrap();
    assert_eq!(
        ask_api_with_token(&app, &token).await.status(),
        StatusCode::OK
    );

    // The session cookie lives no longer than the copy: a day.
    let row = db::athletes::find(&mut conn, copy).await.unwrap().unwrap();
    let expires = row.demo_expires_at.expect("a copy expires");
    let hours = (expires - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "{hours}");
    let session = app
        .keys
        .session_id(cookie.split_once('=').unwrap().1)
        .unwrap();
    let session = db::sessions::find_valid(&mut conn, session, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert!(session.expires_at <= expires);

    // Past its expiry, before upkeep has deleted it, its token no longer works.
    use diesel_async::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE athletes SET demo_expires_at = now() - interval '1 minute' WHERE id = {}",
        copy.get()
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let res = ask_api_with_token(&app, &token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());
}
