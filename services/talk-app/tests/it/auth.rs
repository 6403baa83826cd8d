//! Login tickets and sessions: redemption (valid, expired, reused, unknown, another
//! browser's), the pre-login cookie, logout,
//! revoked, expired and tampered cookies.

use crate::helpers::*;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reqwest::StatusCode;

#[tokio::test]
async fn a_ticket_signs_in_once() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    let (ticket, browser) = app.ticket(OTHER).await;
    let first = app
        .get(&format!("/auth/complete?ticket={ticket}"), Some(&browser))
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&first), "/chat");
    let cookie = session_cookie(&first).unwrap();
    assert_eq!(app.get("/chat", Some(&cookie)).await.status(), 200);
    assert_eq!(count(&mut conn, "app_sessions", OTHER).await, 1);

    // The same ticket again: a friendly page, no session.
    let again = app
        .get(&format!("/auth/complete?ticket={ticket}"), Some(&browser))
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(&again).is_none());
    let html = again.text().await.unwrap();
    assert!(
        html.contains("expired") && html.contains("href=\"/\""),
        "{html}"
    );
    assert_eq!(count(&mut conn, "app_sessions", OTHER).await, 1);
}

#[tokio::test]
async fn expired_and_unknown_tickets_are_refused() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    let (ticket, browser) = app.ticket(OTHER).await;
    let nonce = browser.split_once('=').unwrap().1.to_owned();
    {
        use db::schema::login_tickets::dsl as t;
        diesel::update(t::login_tickets)
            .set(t::expires_at.eq(Utc::now() - chrono::Duration::seconds(1)))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    for path in [
        format!("/auth/complete?ticket={ticket}"),
        "/auth/complete?ticket=not-a-ticket".to_owned(),
        "/auth/complete".to_owned(),
    ] {
        let res = app.get(&path, Some(&browser)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(session_cookie(&res).is_none(), "{path}");
    }
    assert_eq!(count(&mut conn, "app_sessions", OTHER).await, 0);
    // The repository agrees: an expired ticket stays unredeemable.
    assert_eq!(
        db::tickets::redeem(&mut conn, &ticket, Some(&nonce))
            .await
            .unwrap(),
        db::tickets::Redeemed::Invalid
    );
}

#[tokio::test]
async fn pages_need_a_session() {
    let app = spawn().await;
    for path in ["/chat", "/settings", "/settings/export"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), "/?notice=sign-in", "{path}");
    }
    let home = app
        .get("/?notice=sign-in", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("Please sign in first."));
}

#[tokio::test]
async fn logout_revokes_the_session_and_the_old_cookie_goes_home() {
    let app = spawn().await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let out = app.post_form("/logout", Some(&cookie), &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/?notice=signed-out");
    let removal = set_cookie_header(&out).unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");

    // A copy of the cookie kept by someone is worthless now.
    let res = app.get("/chat", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/?notice=session-ended");
    let home = app
        .get("/?notice=session-ended", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("Your session has ended"));

    let mut conn = app.conn().await;
    let live = {
        use db::schema::app_sessions::dsl as s;
        s::app_sessions
            .filter(s::revoked_at.is_null())
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(live, 0);
}

#[tokio::test]
async fn tampered_expired_and_foreign_cookies_are_refused() {
    let app = spawn().await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let (name, token) = cookie.split_once('=').unwrap();

    // Flip one character of the signature.
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
    // A token signed with another secret for a real session id.
    let mut conn = app.conn().await;
    let row = db::sessions::create(&mut conn, OTHER, Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    let other_secret = {
        let env = service::Env::from_pairs(
            None,
            talk_app::settings::DEFAULTS,
            &[
                ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
                (
                    "SESSION_SECRET",
                    "another-secret-that-is-also-32-bytes-long",
                ),
                ("SUPPORT_EMAIL", SUPPORT),
            ],
        )
        .unwrap();
        let s = talk_app::Settings::from_env(&env).unwrap();
        talk_app::session::SessionKeys::new(&s.web).unwrap()
    };
    let foreign = other_secret.cookie(row.id, row.expires_at);
    // Properly signed, but the session row has expired.
    let old = db::sessions::create(&mut conn, OTHER, Utc::now() - chrono::Duration::minutes(1))
        .await
        .unwrap();
    let expired_row = app
        .keys
        .cookie(old.id, Utc::now() + chrono::Duration::hours(1));

    for bad in [
        tampered,
        format!("{}={}", foreign.name(), foreign.value()),
        format!("{}={}", expired_row.name(), expired_row.value()),
        format!("{name}=garbage"),
    ] {
        let res = app.get("/chat", Some(&bad)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{bad}");
        assert_eq!(location(&res), "/?notice=session-ended", "{bad}");
        assert!(set_cookie_header(&res).unwrap().contains("Max-Age=0"));
    }
    // The genuine cookie still works.
    assert_eq!(app.get("/chat", Some(&cookie)).await.status(), 200);
}

#[tokio::test]
async fn concurrent_redemptions_of_one_ticket_succeed_once() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    let (ticket, browser) = app.ticket(OTHER).await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let url = app.url(&format!("/auth/complete?ticket={ticket}"));
        let http = app.http.clone();
        let browser = browser.clone();
        tasks.push(tokio::spawn(async move {
            let req = http.get(url).header(reqwest::header::COOKIE, browser);
            req.send().await.unwrap().status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::SEE_OTHER {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(count(&mut conn, "app_sessions", OTHER).await, 1);
    // Only the hash is stored.
    let stored: Vec<Vec<u8>> = {
        use db::schema::login_tickets::dsl as t;
        t::login_tickets
            .select(t::ticket_hash)
            .load(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(stored, vec![db::tickets::hash(&ticket)]);
}

#[tokio::test]
async fn revoking_all_sessions_signs_out_every_browser() {
    let app = spawn().await;
    app.seed().await;
    let a = app.sign_in(OTHER).await;
    let b = app.sign_in(OTHER).await;
    let mut conn = app.conn().await;
    assert_eq!(db::sessions::revoke_all(&mut conn, OTHER).await.unwrap(), 2);
    for cookie in [a, b] {
        assert_eq!(
            location(&app.get("/settings", Some(&cookie)).await),
            "/?notice=session-ended"
        );
    }
}

/// The `Set-Cookie` header for the pre-login cookie, if the response sets one.
fn login_set_cookie(res: &reqwest::Response) -> Option<String> {
    let prefix = format!("{}=", talk_app::pages::auth::LOGIN_COOKIE);
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .map(str::to_owned)
}

#[tokio::test]
async fn connecting_starts_with_a_pre_login_cookie_bound_into_the_gateway_link() {
    let app = spawn_with(&[("GATEWAY_PUBLIC_URL", "https://gw.example.com")]).await;
    let start = app.get("/auth/connect", None).await;
    assert_eq!(start.status(), StatusCode::FOUND);
    let set = login_set_cookie(&start).expect("a pre-login cookie");
    for attribute in ["HttpOnly", "Path=/auth", "SameSite=Lax", "Max-Age="] {
        assert!(set.contains(attribute), "{set}");
    }
    let nonce = set.split(';').next().unwrap().split_once('=').unwrap().1;
    assert!(db::tickets::is_binding(nonce), "{nonce}");
    assert_eq!(
        location(&start),
        format!(
            "https://gw.example.com/oauth/authorize?login={}",
            db::tickets::binding_of(nonce)
        )
    );
    // The nonce itself never leaves the browser's cookie.
    assert!(!location(&start).contains(nonce));
    // A second tab keeps the browser's nonce, so both flows can finish.
    let cookie = format!("{}={nonce}", talk_app::pages::auth::LOGIN_COOKIE);
    let again = app.get("/auth/connect?scope=read", Some(&cookie)).await;
    assert_eq!(
        location(&again),
        format!(
            "https://gw.example.com/oauth/authorize?login={}&scope=read",
            db::tickets::binding_of(nonce)
        )
    );

    // Without a gateway there is nothing to connect to.
    let bare = spawn().await;
    let res = bare.get("/auth/connect", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(login_set_cookie(&res).is_none());
}

#[tokio::test]
async fn a_ticket_redeemed_by_another_browser_is_refused_and_changes_nothing() {
    let app = spawn().await;
    app.seed().await;
    let mut conn = app.conn().await;
    // The attacker connected their own account and kept the ticket link.
    let (ticket, attacker_browser) = app.ticket(OTHER).await;
    // The victim is signed into an account of their own.
    let (victim, victim_athlete) = app.demo().await;
    let stranger = format!(
        "{}={}",
        talk_app::pages::auth::LOGIN_COOKIE,
        db::tickets::random_secret()
    );
    let url = format!("/auth/complete?ticket={ticket}");
    for cookie in [
        None,
        Some(stranger.clone()),
        Some(victim.clone()),
        Some(format!("{victim}; {stranger}")),
    ] {
        let res = app.get(&url, cookie.as_deref()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{cookie:?}");
        assert!(session_cookie(&res).is_none(), "{cookie:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("belongs to another browser") && html.contains("Nothing was changed"),
            "{html}"
        );
    }
    assert_eq!(count(&mut conn, "app_sessions", OTHER).await, 0);
    // The victim is still signed into their own account.
    assert_eq!(app.get("/settings", Some(&victim)).await.status(), 200);
    assert_eq!(app.athlete_of(&victim).await, victim_athlete);

    // The ticket was left as it was: the browser that started can still use it, once,
    // and its pre-login cookie is then cleared.
    let res = app.get(&url, Some(&attacker_browser)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cleared = login_set_cookie(&res).expect("the pre-login cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let cookie = session_cookie(&res).unwrap();
    assert_eq!(app.athlete_of(&cookie).await, OTHER);
    assert_eq!(count(&mut conn, "app_sessions", OTHER).await, 1);
}
