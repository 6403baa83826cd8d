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
    // Follow-ups under the latest answer only, as buttons that ask in this conversation.
    let offered = page.matches("class=\"suggestions ask-form\"").count();
    assert_eq!(offered, 1, "{page}");
    let under = page.split("class=\"suggestions ask-form\"").nth(1).unwrap();
    assert!(
        under.contains(&format!("name=\"conversation\" value=\"{id}\""))
            && under.contains("value=\"What about rides?\""),
        "{under}"
    );
    // Dates are written one way, never ISO.
    assert!(!page.contains(">2026-"), "ISO date in {page}");

    let (_, page) = ask(
        &app,
        &cookie,
        Some(&id),
        "weekly running distance this year as a chart",
    )
    .await;
    assert!(page.contains("<svg class=\"chart\""), "{page}");
    assert!(page.contains("role=\"img\""));
    // The chart's label summarises its values, and each table's label is its own.
    assert!(page.contains("values from "), "{page}");
    let labels: Vec<&str> = page
        .split("role=\"region\" aria-label=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(labels.len(), 2, "{page}");
    assert_ne!(labels[0], labels[1]);
    assert!(labels[0].contains("show my runs last week"), "{labels:?}");
    // The demo says it is the demo.
    assert!(page.contains("class=\"demo-banner\""));

    let (_, page) = ask(&app, &cookie, Some(&id), "my 3 longest activities").await;
    assert!(
        page.contains("name=\"question\" value=\"3 longest activities by distance\""),
        "no clarify buttons"
    );
    assert!(page.contains("class=\"read-as\""), "no read-as line");
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
    // Only browsers without JavaScript reload; app.js polls /chat/sync instead.
    assert!(page.contains("<progress") && page.contains("<noscript><meta http-equiv=\"refresh\""));
    assert!(!page.contains("demo-banner"), "not the demo");
    let sync = |cookie: String| {
        let app = &app;
        async move {
            let res = app.get("/chat/sync", Some(&cookie)).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let progress = sync(cookie.clone()).await;
    assert_eq!(progress["importing"], true);
    assert_eq!(progress["synced"], 120);
    assert_eq!(progress["total"], 480);

    // Without a known total, no guessed percentage.
    status.estimated_total = None;
    db::sync::save(&mut conn, &status).await.unwrap();
    let progress = sync(cookie.clone()).await;
    assert_eq!(progress["label"], "120 activities imported so far");
    assert!(progress["total"].is_null());
    let page = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(
        page.contains("120 activities imported so far") && !page.contains("max="),
        "{page}"
    );

    status.state = db::sync::SyncState::Done;
    db::sync::save(&mut conn, &status).await.unwrap();
    let page = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(!page.contains("<progress") && !page.contains("http-equiv"));
    let progress = sync(cookie.clone()).await;
    assert_eq!(progress["importing"], false);
    assert_eq!(progress["label"], "All 120 activities imported.");
    // Signed out, the status is not shown.
    let res = app.get("/chat/sync", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn conversations_can_be_renamed_deleted_and_paged() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, _) = app.demo().await;
    let other = app.sign_in(OTHER).await;
    let (id, page) = ask(&app, &cookie, None, "how many runs this year").await;
    assert!(
        page.contains(&format!("action=\"/chat/{id}/rename\"")),
        "{page}"
    );

    let res = app
        .post_form(
            &format!("/chat/{id}/rename"),
            Some(&cookie),
            &[("title", "  Run count  ")],
        )
        .await;
    assert_eq!(location(&res), format!("/chat/{id}"));
    let page = app
        .get(&format!("/chat/{id}"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<h1 id=\"chat-title\" class=\"chat-title\">Run count</h1>"),
        "{page}"
    );

    // Bad titles and other athletes change nothing.
    for title in ["   ", &"x".repeat(81), "a\u{1b}b"] {
        let res = app
            .post_form(
                &format!("/chat/{id}/rename"),
                Some(&cookie),
                &[("title", title)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{title:?}");
    }
    for action in ["rename", "delete"] {
        let res = app
            .post_form(
                &format!("/chat/{id}/{action}"),
                Some(&other),
                &[("title", "mine")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let page = app
        .get(&format!("/chat/{id}"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(">Run count</h1>"));

    // More conversations than one page holds: the rest are a link away.
    let athlete = app.athlete_of(&cookie).await;
    let mut conn = app.conn().await;
    for i in 0..30 {
        let title = format!("runs in {}", 2000 + i);
        let answer = serde_json::json!({ "text": "noted" });
        let stored = db::chats::append_exchange(
            &mut conn,
            uuid::Uuid::new_v4(),
            athlete,
            &title,
            &answer,
            None,
        )
        .await
        .unwrap();
        assert!(stored);
    }
    let first = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(
        first.contains("href=\"/chat?page=2\"") && !first.contains("Run count"),
        "{first}"
    );
    let second = app
        .get("/chat?page=2", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        second.contains("Run count") && second.contains("href=\"/chat?page=1\""),
        "{second}"
    );
    assert!(!second.contains("?page=3"));

    let res = app
        .post_form(&format!("/chat/{id}/delete"), Some(&cookie), &[])
        .await;
    assert_eq!(location(&res), "/chat");
    assert_eq!(
        app.get(&format!("/chat/{id}"), Some(&cookie))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_conversation_list_dates_conversations_in_the_athletes_time_zone() {
    use diesel_async::RunQueryDsl;
    let app = spawn().await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let (id, _) = ask(&app, &cookie, None, "how many runs this year").await;
    let mut conn = app.conn().await;
    // 20:00 UTC on 1 March is already 2 March at UTC+14, still 1 March in New York.
    diesel::sql_query(format!(
        "UPDATE conversations SET updated_at = '2026-03-01T20:00:00Z' WHERE id = '{id}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let page = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    // Leptos marks where one text node ends and the next begins.
    let page = page.replace("<!>", "");
    assert!(page.contains(" · 1 Mar"), "New York reads 1 Mar");
    diesel::sql_query(format!(
        "UPDATE athletes SET timezone = 'Pacific/Kiritimati' WHERE id = {}",
        OTHER.get()
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let page = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    let page = page.replace("<!>", "");
    assert!(
        page.contains(" · 2 Mar") && !page.contains(" · 1 Mar"),
        "Kiritimati reads 2 Mar"
    );
}

/// The read-as line of the latest answer on a chat page.
fn latest_read_as(page: &str) -> String {
    let latest = page
        .split("id=\"latest\"")
        .nth(1)
        .expect("a latest exchange");
    latest
        .split("class=\"read-as\">")
        .nth(1)
        .and_then(|r| r.split("</p>").next())
        .expect("a read-as line")
        .to_owned()
}

/// "Ask again" or "Edit question" in conversation `id`; returns the page it leads to.
async fn ask_again(app: &TestApp, cookie: &str, id: &str, q: &str) -> String {
    let form = [("question", q), ("conversation", id), ("again", "1")];
    let res = app.post_form("/chat/ask", Some(cookie), &form).await;
    assert_eq!(location(&res), format!("/chat/{id}#latest"));
    let page = app.get(&format!("/chat/{id}"), Some(cookie)).await;
    page.text().await.unwrap()
}

#[tokio::test]
async fn the_latest_question_can_be_asked_again_or_edited_without_javascript() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, _) = app.demo().await;
    let (id, _) = ask(&app, &cookie, None, "how many runs in 2025").await;
    let (_, page) = ask(&app, &cookie, Some(&id), "and the year before?").await;
    let follow_up = latest_read_as(&page);
    assert!(follow_up.contains("2024"), "{follow_up}");
    // Under the latest exchange only: "Ask again" and "Edit question", plain forms.
    assert_eq!(page.matches("class=\"redo\"").count(), 1, "{page}");
    let redo = page.split("class=\"redo\"").nth(1).unwrap();
    for part in [
        "name=\"again\" value=\"1\"",
        &format!("name=\"conversation\" value=\"{id}\""),
        "type=\"hidden\" name=\"question\" value=\"and the year before?\"",
        "id=\"edit-question\" name=\"question\"",
        "value=\"and the year before?\"",
    ] {
        assert!(redo.contains(part), "{part:?} not in {redo}");
    }

    // Asked again, it reads as it did: the context it had, not its own answer.
    let page = ask_again(&app, &cookie, &id, "and the year before?").await;
    assert_eq!(latest_read_as(&page), follow_up);
    assert_eq!(
        page.matches("class=\"question\"").count(),
        3,
        "added, not replaced"
    );
    // Asked as a new question instead, it steps back once more: what "again" avoids.
    let (_, page) = ask(&app, &cookie, Some(&id), "and the year before?").await;
    assert!(
        latest_read_as(&page).contains("2023"),
        "{}",
        latest_read_as(&page)
    );

    // Edited: the new wording is asked.
    let page = ask_again(&app, &cookie, &id, "how many rides in 2025").await;
    let edited = latest_read_as(&page);
    assert!(
        edited.contains("Rides") && edited.contains("2025"),
        "{edited}"
    );
    // A bad edit changes nothing and says why.
    let res = app
        .post_form(
            "/chat/ask",
            Some(&cookie),
            &[("question", " "), ("conversation", &id), ("again", "1")],
        )
        .await;
    assert_eq!(location(&res), format!("/chat/{id}?error=empty#ask"));
}

#[tokio::test]
async fn activities_from_strava_get_a_view_on_strava_link_and_demo_ones_none() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    let rows: Vec<_> = demo::demo_activities_with_seed(chrono::Utc::now().date_naive(), 1, 3)
        .into_iter()
        .enumerate()
        .map(|(i, mut a)| {
            a.athlete_id = OTHER;
            a.id = domain::ActivityId(6_000_000 + i as i64);
            db::activities::ActivityRow::new(&a, None, chrono::Utc::now())
        })
        .collect();
    db::activities::upsert_many(&mut conn, &rows).await.unwrap();
    let cookie = app.sign_in(OTHER).await;
    let (_, page) = ask(&app, &cookie, None, "show my 5 longest runs").await;
    let links = page.matches(">View on Strava</a>").count();
    assert_eq!(links, 5, "{page}");
    assert!(
        page.contains("<a href=\"https://www.strava.com/activities/6000")
            && page.contains("class=\"view-on-strava\">View on Strava</a>"),
        "{page}"
    );
    // The name is the athlete's text, not a link hidden in it.
    assert!(page.contains("data-label=\"Name\" class=\"\">"), "{page}");
    assert!(
        !page.contains("data-label=\"Name\" class=\"\"><a"),
        "{page}"
    );

    let (demo_cookie, _) = app.demo().await;
    let (_, page) = ask(&app, &demo_cookie, None, "show my 5 longest runs").await;
    assert!(page.contains("<table"), "{page}");
    assert!(!page.contains("View on Strava"), "made-up ids link nowhere");
}
