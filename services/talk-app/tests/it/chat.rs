//! The chat: asking through the plain HTML form, answers with text, table, chart, SQL
//! and clarify buttons, conversations per athlete, backfill progress.

use crate::helpers::*;
use reqwest::StatusCode;

/// Asks through the form and returns the page the redirect leads to.
async fn ask(app: &TestApp, cookie: &str, conversation: Option<&str>, q: &str) -> (String, String) {
    let mut form = vec![("question", q)];
    if let Some(c) = conversation {
        form.push(("conversation", c));
    }
    let res = app.post_form("/chat/ask", Some(cookie), &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{q}");
    let to = location(&res);
    assert!(to.starts_with("/chat/") && to.ends_with("#latest"), "{to}");
    let path = to.trim_end_matches("#latest").to_owned();
    let page = app.get(&path, Some(cookie)).await;
    assert_eq!(page.status(), 200);
    let id = path.trim_start_matches("/chat/").to_owned();
    (id, page.text().await.unwrap())
}

#[tokio::test]
async fn asking_through_the_form_shows_text_tables_charts_and_clarify_buttons() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, _) = app.demo().await;

    let new = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(
        new.contains("Try one of these") && new.contains("autofocus"),
        "{new}"
    );
    assert!(new.contains("<label for=\"question\">"));

    let (id, page) = ask(&app, &cookie, None, "how many runs this year").await;
    assert!(page.contains("how many runs this year"));
    assert!(page.contains("<strong>"), "bold figures: {page}");
    assert!(page.contains("id=\"latest\""));
    assert!(page.contains("<summary>SQL</summary>"));
    assert!(
        !page.contains("Try one of these"),
        "examples only for a new conversation"
    );

    let (same, page) = ask(&app, &cookie, Some(&id), "show my runs last week").await;
    assert_eq!(same, id, "follow-ups stay in the conversation");
    assert!(
        page.contains("<table") && page.contains("Distance ("),
        "{page}"
    );

    let (_, page) = ask(
        &app,
        &cookie,
        Some(&id),
        "weekly running distance this year as a chart",
    )
    .await;
    assert!(page.contains("<svg class=\"chart\""), "{page}");
    assert!(page.contains("role=\"img\""));

    let (_, page) = ask(&app, &cookie, Some(&id), "what was my longest run?").await;
    assert!(
        page.contains("name=\"question\" value=\"longest run by distance\"")
            || page.contains("class=\"chip\""),
        "{page}"
    );
    // Escaped, never raw: the question is shown as text.
    let (_, page) = ask(&app, &cookie, Some(&id), "<script>alert(1)</script> runs").await;
    assert!(!page.contains("<script>alert(1)</script>"));

    // The conversation is listed; an empty question comes back with words.
    let list = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(list.contains(&format!("/chat/{id}")));
    let res = app
        .post_form(
            "/chat/ask",
            Some(&cookie),
            &[("question", "  "), ("conversation", &id)],
        )
        .await;
    assert_eq!(location(&res), format!("/chat/{id}?error=empty#ask"));
    let page = app
        .get(&format!("/chat/{id}?error=empty"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Type a question first."));
}

#[tokio::test]
async fn conversations_are_private() {
    let app = spawn().await;
    app.seed().await;
    let (demo, _) = app.demo().await;
    let other = app.sign_in(OTHER).await;
    let (id, _) = ask(&app, &demo, None, "how many runs this year").await;
    assert_eq!(
        app.get(&format!("/chat/{id}"), Some(&other)).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            "/chat/ask",
            Some(&other),
            &[("question", "and last year?"), ("conversation", &id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/chat/not-a-uuid", Some(&demo)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn backfill_progress_shows_and_refreshes_until_done() {
    let app = spawn().await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let mut conn = app.conn().await;
    let mut status = db::sync::SyncStatus::starting(OTHER);
    status.activities_synced = 120;
    status.estimated_total = Some(480);
    db::sync::save(&mut conn, &status).await.unwrap();
    let page = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(page.contains("120 of about 480 activities"), "{page}");
    assert!(page.contains("<progress") && page.contains("http-equiv=\"refresh\""));

    status.state = db::sync::SyncState::Done;
    db::sync::save(&mut conn, &status).await.unwrap();
    let page = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(!page.contains("<progress") && !page.contains("http-equiv"));
}
