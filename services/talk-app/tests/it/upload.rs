//! `POST /upload`: a Strava export archive from the home page (a new local athlete,
//! signed in) or from settings; stored in pieces with an import job queued; refused
//! with nothing stored when over the limit, not a ZIP, or while an import runs. The
//! gateway's side (the job) is tested in strava-gateway's `upload` tests, on the same
//! file.

use crate::helpers::*;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};

/// A real-layout export: three rows of a real English export with two GPS files (see
/// strava-gateway's tests/it/upload.rs for where the rows come from).
const EXPORT: &[u8] = include_bytes!("../../../strava-gateway/tests/data/export_upload.zip");

/// A multipart body as a browser sends the upload form: the zone first (the home
/// page's picker), then the file.
fn multipart(zone: Option<&str>, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----stravatalk-test-7MA4YWxkTrZu0gW";
    let mut body = String::new();
    if let Some(zone) = zone {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"timezone\"\r\n\r\n{zone}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"export\"; filename=\"{filename}\"\r\n\
         Content-Type: application/zip\r\n\r\n"
    ));
    let mut body = body.into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn send(
    app: &TestApp,
    cookie: Option<&str>,
    filename: &str,
    bytes: &[u8],
) -> reqwest::Response {
    send_form(app, cookie, None, filename, bytes).await
}

async fn send_form(
    app: &TestApp,
    cookie: Option<&str>,
    zone: Option<&str>,
    filename: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let (content_type, body) = multipart(zone, filename, bytes);
    let mut req = app
        .http
        .post(app.url("/upload"))
        .header(CONTENT_TYPE, content_type)
        .body(body);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.conn().await;
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

/// Uploads, pieces, import jobs and athletes without a Strava id, in that order.
async fn stored(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        scalar(app, "SELECT count(*) AS n FROM uploads").await,
        scalar(app, "SELECT count(*) AS n FROM upload_chunks").await,
        scalar(app, "SELECT count(*) AS n FROM jobs WHERE kind = 'import'").await,
        scalar(app, "SELECT count(*) AS n FROM athletes WHERE id < 0").await,
    )
}

#[tokio::test]
async fn an_export_uploaded_from_the_home_page_makes_a_signed_in_athlete_and_queues_its_import() {
    let app = spawn().await;
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(
        home.contains(r#"action="/upload" enctype="multipart/form-data""#),
        "{home}"
    );

    assert!(
        home.contains(r#"<select id="upload-timezone" name="timezone" required"#),
        "the home page asks for the zone of activities without a GPS file"
    );

    let res = send_form(
        &app,
        None,
        Some("Asia/Shanghai"),
        "export_31337.zip",
        EXPORT,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/chat");
    let cookie = session_cookie(&res).expect("signed in");
    // Before the gateway's worker picks it up, the chat page already follows it,
    // refreshing itself without JavaScript.
    let chat = app.get("/chat", Some(&cookie)).await;
    assert_eq!(chat.status(), StatusCode::OK);
    let chat = chat.text().await.unwrap();
    assert!(
        chat.contains("export_31337.zip is waiting to be imported")
            && chat.contains("<progress")
            && chat.contains("http-equiv=\"refresh\""),
        "{chat}"
    );

    let mut conn = app.conn().await;
    let athlete = domain::AthleteId(scalar(&app, "SELECT min(id) AS n FROM athletes").await);
    assert!(
        athlete.get() < 0,
        "a local athlete, not the export's id 31337"
    );
    let upload = db::uploads::latest(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(upload.filename, "export_31337.zip");
    // The zone chosen with the file is the new athlete's.
    let row = db::athletes::find(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.timezone.as_deref(), Some("Asia/Shanghai"));
    assert_eq!(upload.size_bytes, EXPORT.len() as i64);
    assert_eq!(upload.state, db::uploads::UploadState::Queued);
    // The pieces put back together are the file.
    let mut file = Vec::new();
    let mut seq = 0;
    while let Some(piece) = db::uploads::chunk(&mut conn, upload.id, seq).await.unwrap() {
        file.extend(piece);
        seq += 1;
    }
    assert_eq!(file, EXPORT);
    // The one job path: a typed import job for this athlete, queued.
    let job = db::jobs::claim(
        &mut conn,
        &[db::jobs::JobKind::Import],
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap()
    .expect("an import job");
    assert_eq!(job.athlete().unwrap(), athlete);

    // While it runs, a second upload is refused and stores nothing.
    let before = stored(&app).await;
    let again = send(&app, Some(&cookie), "export_31337.zip", EXPORT).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let refused = again.text().await.unwrap();
    assert!(refused.contains("already under way"));
    // A way back to where the athlete was, signed in as they are.
    assert!(
        refused.contains("href=\"/settings\">Back to settings")
            && refused.contains("href=\"/chat\">Go to your chat")
            && refused.contains("Sign out"),
        "{refused}"
    );
    assert_eq!(stored(&app).await, before);

    // The gateway ends it (tested there); the athlete reads the summary.
    let summary = db::uploads::UploadSummary {
        imported: 2,
        skipped: 1,
        reasons: vec!["line 4: no GPS file in the export gives its time zone".into()],
        kept_from_strava: 0,
        error: None,
    };
    let now = chrono::Utc::now();
    let now = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap();
    db::uploads::finish(
        &mut conn,
        upload.id,
        db::uploads::UploadState::Done,
        &summary,
        now,
    )
    .await
    .unwrap();
    let mut status = db::sync::SyncStatus::starting(athlete);
    status.state = db::sync::SyncState::Done;
    status.activities_synced = 2;
    status.updated_at = now;
    db::sync::save(&mut conn, &status).await.unwrap();
    let progress: serde_json::Value = app
        .get("/chat/sync", Some(&cookie))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(progress["importing"], false);
    assert_eq!(
        progress["label"],
        "Imported 2 activities from export_31337.zip. Skipped 1 row: line 4: no GPS file in the export gives its time zone."
    );
    // The chat page shows the summary too (a page without JavaScript never saw the
    // import end), and stops refreshing.
    let chat = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(
        chat.contains(r#"<p role="status" class="sync done">Imported 2 activities from export_31337.zip. Skipped 1 row"#)
            && !chat.contains("<progress")
            && !chat.contains("http-equiv"),
        "{chat}"
    );
    // A day later the chat page is quiet again; settings keeps the summary.
    for table in [
        "uploads SET finished_at = finished_at",
        "sync_status SET updated_at = updated_at",
    ] {
        diesel::sql_query(format!("UPDATE {table} - interval '25 hours'"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let chat = app.get("/chat", Some(&cookie)).await.text().await.unwrap();
    assert!(!chat.contains("export_31337.zip"), "{chat}");
    let settings = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains("Imported 2 activities from export_31337.zip. Skipped 1 row"),
        "{settings}"
    );
    // The account says what it is and how long it lasts.
    assert!(
        settings.contains("Your uploaded export (no Strava connection)")
            && settings.contains("lasts while you stay signed in on this browser"),
        "{settings}"
    );
    // Signing out asks first, and changes nothing until confirmed.
    let out = app.post_form("/logout", Some(&cookie), &[]).await;
    assert_eq!(out.status(), StatusCode::OK);
    let text = out.text().await.unwrap();
    assert!(text.contains("Sign out and delete this account?"), "{text}");
    assert_eq!(
        app.get("/chat", Some(&cookie)).await.status(),
        StatusCode::OK
    );
    let out = app
        .post_form("/logout", Some(&cookie), &[("confirm", "1")])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/?notice=signed-out");
    assert_eq!(
        app.get("/chat", Some(&cookie)).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_upload_from_settings_goes_to_the_signed_in_athlete() {
    let app = spawn().await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let page = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Import a Strava export"), "{page}");
    let res = send(&app, Some(&cookie), "export.zip", EXPORT).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        session_cookie(&res),
        None,
        "the athlete keeps their session"
    );
    let mut conn = app.conn().await;
    let upload = db::uploads::latest(&mut conn, OTHER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(upload.size_bytes, EXPORT.len() as i64);
    assert_eq!(stored(&app).await, (1, 1, 1, 0), "no new athlete");
    let page = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("export.zip is being imported"), "{page}");
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_nothing_is_stored() {
    let app = spawn_with(&[("UPLOAD_MAX_BYTES", "1000")]).await;
    // Declared too large by its Content-Length: refused before the body is read.
    let mut big = b"PK\x03\x04".to_vec();
    big.resize(100_000, 0);
    let res = send(&app, None, "export_1.zip", &big).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.text().await.unwrap().contains("larger than 1000 bytes"),
        "the limit is named"
    );
    assert_eq!(stored(&app).await, (0, 0, 0, 0));
    // Within the framing's margin, so found too large while it is being stored: the
    // transaction rolls back, the athlete it made included.
    let res = send(&app, None, "export_31337.zip", EXPORT).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(session_cookie(&res).is_none());
    assert_eq!(stored(&app).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn a_file_that_is_not_a_zip_is_refused_and_nothing_is_stored() {
    let app = spawn().await;
    app.seed().await;
    let csv = b"Activity ID,Activity Date,Activity Name\n1,\"Jul 14, 2020, 10:36:55 PM\",Run\n";
    let res = send(&app, None, "activities.csv", csv).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&res).is_none());
    let text = res.text().await.unwrap();
    assert!(text.contains("not a ZIP archive"), "{text}");
    let cookie = app.sign_in(OTHER).await;
    let res = send(&app, Some(&cookie), "activities.csv", csv).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A zone that is not one is refused before anything is stored.
    let res = send_form(
        &app,
        None,
        Some("Mars/Olympus_Mons"),
        "export_31337.zip",
        EXPORT,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("not a time zone"));
    // An empty file and a form without the file say what to do.
    let res = send(&app, Some(&cookie), "export.zip", b"").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose your Strava export")
    );
    assert_eq!(stored(&app).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn slow_uploads_take_at_most_a_quarter_of_the_pool() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Four connections: one upload at a time.
    let spool = std::env::temp_dir().join(format!("stravatalk-spool-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&spool).unwrap();
    let app = spawn_with_pool(&[("UPLOAD_SPOOL_DIR", spool.to_str().unwrap())], Some(4)).await;
    let (content_type, body) = multipart(None, "export_31337.zip", EXPORT);
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    slow.write_all(first).await.unwrap();
    slow.flush().await.unwrap();
    // Once the server is receiving it (its file appears in the spool), the slow sender
    // holds the only slot: another upload is turned away at once.
    let mut waited = 0;
    while std::fs::read_dir(&app.settings.web.upload_spool_dir)
        .unwrap()
        .next()
        .is_none()
    {
        assert!(waited < 500, "the slow upload never started to be received");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
    }
    let crowded = send(&app, None, "export_2.zip", EXPORT).await;
    assert_eq!(crowded.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(crowded.headers()["retry-after"], "60");
    assert!(session_cookie(&crowded).is_none());
    assert!(
        crowded
            .text()
            .await
            .unwrap()
            .contains("Several exports are being uploaded right now")
    );
    // Received to disk first: the slow sender holds no database connection.
    assert_eq!(idle_in_transaction(&app).await, 0);
    // The slow one finishes and is stored; then the slot is free again.
    slow.write_all(rest).await.unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    let res = send(&app, None, "export_3.zip", EXPORT).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&app).await.0,
        2,
        "two uploads stored, none for the refused one"
    );
    // Nothing is left in the spool once the uploads are stored.
    assert!(std::fs::read_dir(&spool).unwrap().next().is_none());
    std::fs::remove_dir(&spool).unwrap();
}

#[tokio::test]
async fn accounts_made_from_uploads_are_capped() {
    let app = spawn_with(&[("UPLOAD_MAX_ACCOUNTS", "1")]).await;
    let res = send(&app, None, "export_31337.zip", EXPORT).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&res).is_some(), "signed in");
    assert_eq!(stored(&app).await.3, 1);
    // A second visitor is told to come back later, and nothing of theirs is stored.
    let res = send(&app, None, "export_31337.zip", EXPORT).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("3600")
    );
    assert!(session_cookie(&res).is_none());
    assert!(res.text().await.unwrap().contains("Nothing was stored"));
    assert_eq!(stored(&app).await, (1, 1, 1, 1));
}

/// The number of this database's connections idle inside a transaction.
async fn idle_in_transaction(app: &TestApp) -> i64 {
    scalar(
        app,
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND state = 'idle in transaction'",
    )
    .await
}

/// Sends the upload form's head and the file's first bytes over a raw connection,
/// then the rest of the file a byte every `gap` for as long as the server reads;
/// returns the status line the server answered with.
async fn dribble(app: &TestApp, gap: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut file = b"PK\x03\x04".to_vec();
    file.resize(4000, 0);
    let (content_type, body) = multipart(None, "export_1.zip", &file);
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The form's head and the archive's signature at once, the rest a byte at a time.
    let signature = body.windows(4).position(|w| w == b"PK\x03\x04").unwrap() + 4;
    stream.write_all(&body[..signature]).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let sender = tokio::spawn(async move {
        for &byte in &body[signature..] {
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(gap).await;
        }
    });
    let mut answer = vec![0; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(20), read.read(&mut answer))
        .await
        .expect("the server answers a slow sender")
        .unwrap();
    sender.abort();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_slow_sender_is_stopped_and_never_holds_a_connection() {
    let app = spawn_with(&[("UPLOAD_IDLE_SECS", "1"), ("UPLOAD_RATE_GRACE_SECS", "2")]).await;
    // A byte every 100 ms: never idle, far below any real connection's rate.
    let watch = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        idle_in_transaction(&app).await
    };
    let (status, held) = tokio::join!(dribble(&app, std::time::Duration::from_millis(100)), watch);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert_eq!(held, 0, "the file is received before a connection is taken");
    // A sender that stops: stopped after the idle time.
    let status = dribble(&app, std::time::Duration::from_secs(30)).await;
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert_eq!(stored(&app).await, (0, 0, 0, 0));
}
