//! Settings: units, export, and erasure (everything of the athlete gone, another
//! athlete untouched).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn units_can_follow_strava_or_be_overridden() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    let page = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Europe/Paris"), "time zone shown: {page}");
    assert!(page.contains("Follow Strava"));

    let res = app
        .post_form("/settings/units", Some(&cookie), &[("units", "feet")])
        .await;
    assert_eq!(location(&res), "/settings?done=units");
    let mut conn = app.conn().await;
    let row = db::athletes::find(&mut conn, demo).await.unwrap().unwrap();
    assert_eq!(row.units_override, Some(domain::Units::Imperial));
    app.post_form("/settings/units", Some(&cookie), &[("units", "strava")])
        .await;
    let row = db::athletes::find(&mut conn, demo).await.unwrap().unwrap();
    assert_eq!(row.units_override, None);
    let bad = app
        .post_form("/settings/units", Some(&cookie), &[("units", "cubits")])
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn time_zone_can_be_chosen_and_answers_follow_it() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, demo) = app.demo().await;
    let page = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<option value="Europe/Paris" selected"#),
        "the current zone is chosen in the list"
    );
    // Two zones 25 hours apart are never on the same date: "yesterday" differs.
    let mut yesterdays = Vec::new();
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let res = app
            .post_form("/settings/timezone", Some(&cookie), &[("timezone", zone)])
            .await;
        assert_eq!(location(&res), "/settings?done=timezone");
        let mut conn = app.conn().await;
        let row = db::athletes::find(&mut conn, demo).await.unwrap().unwrap();
        assert_eq!(row.timezone.as_deref(), Some(zone));
        let res = app
            .http
            .post(app.url("/api/ask"))
            .header(reqwest::header::COOKIE, &cookie)
            .json(&serde_json::json!({ "question": "how many runs yesterday" }))
            .send()
            .await
            .unwrap();
        let answer: Value = res.json().await.unwrap();
        yesterdays.push(answer["read_as"].as_str().unwrap().to_owned());
    }
    assert_ne!(yesterdays[0], yesterdays[1], "{yesterdays:?}");
    for bad in ["Mars/Olympus_Mons", "", "Europe/Paris; DROP TABLE athletes"] {
        let res = app
            .post_form("/settings/timezone", Some(&cookie), &[("timezone", bad)])
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(res.text().await.unwrap().contains("not a time zone"));
    }
    let mut conn = app.conn().await;
    let row = db::athletes::find(&mut conn, demo).await.unwrap().unwrap();
    assert_eq!(row.timezone.as_deref(), Some("Pacific/Pago_Pago"));
}

#[tokio::test]
async fn chat_history_exports_as_json() {
    let app = spawn().await;
    app.seed().await;
    let (cookie, _) = app.demo().await;
    app.post_form(
        "/chat/ask",
        Some(&cookie),
        &[("question", "how many runs this year")],
    )
    .await;
    let res = app.get("/settings/export", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let doc: Value = res.json().await.unwrap();
    let conversations = doc["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    let messages = conversations[0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["content"], "how many runs this year");
    assert!(messages[1]["answer"]["kind"].is_string());
}

#[tokio::test]
async fn erasure_removes_everything_of_the_athlete_and_nothing_else() {
    let app = spawn().await;
    app.seed().await;
    // A demo visitor erases their own copy; the demo itself and others stay.
    let (demo, copy) = app.demo().await;
    let other = app.sign_in(OTHER).await;
    for cookie in [&demo, &other] {
        app.post_form(
            "/chat/ask",
            Some(cookie),
            &[("question", "how many runs this year")],
        )
        .await;
        app.post_form("/settings/tokens", Some(cookie), &[("name", "script")])
            .await;
    }
    let mut conn = app.conn().await;
    let tables = [
        "activities",
        "app_sessions",
        "conversations",
        "messages",
        "api_tokens",
        "api_rate_limits",
        "login_tickets",
        "sync_status",
        "strava_tokens",
    ];
    let mut other_before = Vec::new();
    for t in tables {
        other_before.push(count(&mut conn, t, OTHER).await);
    }
    let template_before = count(&mut conn, "activities", DEMO).await;
    assert!(count(&mut conn, "activities", copy).await > 0);

    // The confirm step comes first; without the box ticked nothing happens.
    let confirm = app.get("/settings/delete", Some(&demo)).await;
    assert_eq!(confirm.status(), 200);
    assert!(confirm.text().await.unwrap().contains("cannot be undone"));
    let res = app.post_form("/settings/delete", Some(&demo), &[]).await;
    assert_eq!(location(&res), "/settings/delete");
    assert!(count(&mut conn, "activities", copy).await > 0);

    let res = app
        .post_form("/settings/delete", Some(&demo), &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/?notice=erased");
    assert!(set_cookie_header(&res).unwrap().contains("Max-Age=0"));

    assert!(db::athletes::find(&mut conn, copy).await.unwrap().is_none());
    for t in tables {
        assert_eq!(count(&mut conn, t, copy).await, 0, "{t}");
    }
    assert!(db::athletes::find(&mut conn, DEMO).await.unwrap().is_some());
    assert_eq!(count(&mut conn, "activities", DEMO).await, template_before);
    let mut other_after = Vec::new();
    for t in tables {
        other_after.push(count(&mut conn, t, OTHER).await);
    }
    assert_eq!(other_before, other_after);
    // The erased athlete's cookie is dead; the other athlete carries on.
    assert_eq!(
        location(&app.get("/chat", Some(&demo)).await),
        "/?notice=session-ended"
    );
    assert_eq!(app.get("/chat", Some(&other)).await.status(), 200);
}

#[tokio::test]
async fn a_broken_strava_link_offers_to_reconnect() {
    let app = spawn_with(&[("GATEWAY_PUBLIC_URL", "http://127.0.0.1:9")]).await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let page = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("connect-strava"));
    let mut conn = app.conn().await;
    db::athletes::mark_needs_reconnect(&mut conn, OTHER)
        .await
        .unwrap();
    let page = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("can no longer read your Strava account")
            && page.contains(&format!(
                "<a href=\"/auth/connect\" class=\"connect-strava\"><img src=\"{}\"",
                talk_app::app::CONNECT_BUTTON
            )),
        "{page}"
    );
}

#[tokio::test]
async fn activities_export_as_csv_that_no_spreadsheet_runs_as_formulas() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    let names = [
        "=HYPERLINK(\"http://evil.example\",\"open\")",
        "-5",
        "Tempo, \"fast\"",
        "@SUM(A1)",
    ];
    let rows: Vec<_> = demo::demo_activities_with_seed(chrono::Utc::now().date_naive(), 1, 7)
        .into_iter()
        .take(names.len())
        .zip(names)
        .enumerate()
        .map(|(i, (mut a, name))| {
            a.athlete_id = OTHER;
            a.id = domain::ActivityId(7_000_000 + i as i64);
            a.name = name.into();
            db::activities::ActivityRow::new(&a, None, chrono::Utc::now())
        })
        .collect();
    db::activities::upsert_many(&mut conn, &rows).await.unwrap();

    assert_eq!(
        location(&app.get("/settings/export/activities", None).await),
        "/?notice=sign-in"
    );
    let cookie = app.sign_in(OTHER).await;
    let res = app.get("/settings/export/activities", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("stravatalk-activities.csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("id,name,sport_type,start_date_utc"),
        "{}",
        lines[0]
    );
    // Only this athlete's activities: the demo's are not theirs.
    assert_eq!(lines.len(), 1 + names.len(), "{csv}");
    let by_id = |id: i64| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("{id} not in {csv}"))
            .to_string()
    };
    // A formula becomes text; a number stays a number; quotes and commas are quoted.
    assert!(
        by_id(7_000_000)
            .starts_with("7000000,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"open\"\")\","),
        "{}",
        by_id(7_000_000)
    );
    assert!(
        by_id(7_000_001).starts_with("7000001,-5,"),
        "{}",
        by_id(7_000_001)
    );
    assert!(
        by_id(7_000_002).starts_with("7000002,\"Tempo, \"\"fast\"\"\","),
        "{}",
        by_id(7_000_002)
    );
    assert!(
        by_id(7_000_003).starts_with("7000003,'@SUM(A1),"),
        "{}",
        by_id(7_000_003)
    );
    // Numbers are written as numbers, never neutralised.
    let first = by_id(7_000_001);
    let distance = first.split(',').nth(6).unwrap();
    assert!(distance.parse::<f64>().is_ok(), "{first}");
    // The stored data is untouched: only the export is neutralised.
    let stored = db::activities::find(&mut conn, OTHER, domain::ActivityId(7_000_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, names[0]);
}
