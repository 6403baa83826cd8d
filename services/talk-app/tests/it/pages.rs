//! talk-app as a running service: the home page, health, static files, security
//! headers, the 404 page, start-up errors and graceful shutdown; Strava's brand and
//! agreement (its button and logo, the support contact, the privacy page).

use crate::helpers::*;
use reqwest::StatusCode;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::TestDb;

#[tokio::test]
async fn serves_the_home_page_health_and_a_real_404() {
    let app = spawn().await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
    let home = app.get("/", None).await;
    assert_eq!(home.status(), 200);
    let headers = home.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = home.text().await.unwrap();
    assert!(
        html.contains("<title>StravaTalk</title>") && html.contains("plain English"),
        "{html}"
    );
    assert!(!html.contains(".wasm"), "server-rendered only");
    // Strava is not configured in this test: no broken link, a sentence instead.
    assert!(html.contains("not configured") && !html.contains("/auth/connect"));
    assert!(html.contains("Try the demo"));
    // An inline icon (no extra request) and colours for both schemes.
    assert!(html.contains("rel=\"icon\" href=\"data:image/svg+xml,"));
    assert!(html.contains("name=\"color-scheme\" content=\"light dark\""));

    // HEAD answers like GET, headers only.
    let head = reqwest::Client::new()
        .head(app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(
        head.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(head.bytes().await.unwrap().is_empty());

    for asset in ["app.css", "app.js"] {
        let v = talk_app::app::ASSET_VERSION;
        let path = format!("/static/{asset}?v={v}");
        assert!(html.contains(&path), "{path}");
        assert_eq!(app.get(&path, None).await.status(), 200, "{path}");
    }

    let missing = app.get("/no/such/page", None).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn connect_is_strava_s_own_button_when_configured() {
    let app = spawn_with(&[("GATEWAY_PUBLIC_URL", "https://gw.example.com/")]).await;
    let html = app.get("/", None).await.text().await.unwrap();
    // talk-app starts the flow (the pre-login cookie), then the gateway.
    assert!(
        html.contains(&format!(
            "<a href=\"/auth/connect\" class=\"connect-strava\"><img src=\"{}\" alt=\"Connect with Strava\"",
            talk_app::app::CONNECT_BUTTON
        )),
        "{html}"
    );
    let start = app.get("/auth/connect", None).await;
    assert!(location(&start).starts_with("https://gw.example.com/oauth/authorize?login="));
}

#[tokio::test]
async fn the_demo_signs_in_only_when_the_demo_athlete_exists() {
    let app = spawn().await;
    let res = app.post_form("/demo", None, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/?notice=no-demo");
    assert!(session_cookie(&res).is_none());

    app.seed().await;
    let res = app.post_form("/demo", None, &[]).await;
    assert_eq!(location(&res), "/chat");
    let raw = set_cookie_header(&res).unwrap();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    // Bound to 127.0.0.1 without a public URL: local development, no `Secure`.
    assert!(!raw.contains("Secure"), "{raw}");
    let cookie = session_cookie(&res).unwrap();
    let chat = app.get("/chat", Some(&cookie)).await;
    assert_eq!(chat.status(), 200);
}

#[tokio::test]
async fn cookies_are_secure_behind_an_https_public_url() {
    let app = spawn_with(&[("TALK_APP_URL", "https://talk.example.com")]).await;
    app.seed().await;
    let res = app.post_form("/demo", None, &[]).await;
    assert!(set_cookie_header(&res).unwrap().contains("Secure"));
}

#[tokio::test]
async fn the_binary_serves_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("PORT", "0")
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("LOG_FORMAT", "json")
        .env("SESSION_SECRET", SECRET)
        .env("SUPPORT_EMAIL", SUPPORT)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let port = testkit::process::listening_port(child.stderr.take().unwrap());
    assert_eq!(
        reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let status = testkit::process::terminate(&mut child, Duration::from_secs(15))
        .expect("stops within 15 s of SIGTERM");
    assert!(status.success(), "{status}");
}

#[test]
fn start_up_names_the_missing_or_bad_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("serve")
        .env_clear()
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL is not set"));
    let out = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "postgres://x@127.0.0.1/x")
        .env("SESSION_SECRET", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SESSION_SECRET is invalid"));
    // Strava's agreement asks for a support contact on every page: no start without one.
    let with = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_talk-app"));
        cmd.arg("serve")
            .env_clear()
            .env("DATABASE_URL", "postgres://x@127.0.0.1/x")
            .env("SESSION_SECRET", SECRET);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stderr).into_owned()
    };
    assert!(with(&[]).contains("SUPPORT_EMAIL is not set"));
    for bad in ["nobody", "a@b", "two words@example.com", "@example.com"] {
        assert!(
            with(&[("SUPPORT_EMAIL", bad)]).contains("SUPPORT_EMAIL is invalid"),
            "{bad}"
        );
    }
    assert!(with(&[("SUPPORT_URL", "ftp://help.example.com")]).contains("SUPPORT_URL is invalid"));
    let help = Command::new(env!("CARGO_BIN_EXE_talk-app"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn().await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let post = |origin: String| {
        app.http
            .post(app.url("/logout"))
            .header("cookie", &cookie)
            .header("origin", origin)
            .send()
    };
    let res = post("https://evil.example".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Naming the other site as the host in a forwarding header changes nothing: no
    // proxy is trusted here.
    for header in ["x-forwarded-host", "forwarded"] {
        let value = if header == "forwarded" {
            "host=evil.example"
        } else {
            "evil.example"
        };
        let res = app
            .http
            .post(app.url("/logout"))
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{header}");
    }
    assert_eq!(
        app.get("/chat", Some(&cookie)).await.status(),
        200,
        "still signed in"
    );
    let res = post(format!("http://{host}")).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// Every page's footer: the support link, the privacy page, Strava's logo.
fn assert_footer(html: &str, support_href: &str, what: &str) {
    let footer = html
        .split("<footer class=\"foot\">")
        .nth(1)
        .unwrap_or_else(|| panic!("{what}: no footer in {html}"));
    assert!(
        footer.contains(&format!("<a href=\"{support_href}\" class=\"support\">")),
        "{what}: {footer}"
    );
    assert!(footer.contains("href=\"/privacy\""), "{what}");
    assert!(
        footer.contains(&format!(
            "<img src=\"{}\" alt=\"Powered by Strava\"",
            talk_app::app::POWERED_BY
        )),
        "{what}"
    );
    assert!(
        footer.contains("not made, sponsored or endorsed by Strava"),
        "{what}"
    );
}

#[tokio::test]
async fn every_page_has_the_support_contact_privacy_and_strava_s_logo() {
    let app = spawn_with(&[("GATEWAY_PUBLIC_URL", "https://gw.example.com")]).await;
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let mailto = format!("mailto:{SUPPORT}");
    for (path, signed_in) in [
        ("/", false),
        ("/privacy", false),
        ("/no/such/page", false),
        ("/auth/complete?ticket=nope", false),
        ("/chat", true),
        ("/settings", true),
        ("/settings/delete", true),
        ("/chat/not-a-uuid", true),
    ] {
        let res = app.get(path, signed_in.then_some(cookie.as_str())).await;
        let html = res.text().await.unwrap();
        assert_footer(&html, &mailto, path);
    }
    // Error pages rendered with no request at hand, and form errors, have it too.
    let res = app
        .http
        .post(app.url("/chat/ask"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("no-question-field=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_footer(&res.text().await.unwrap(), &mailto, "a malformed form");

    // A support page instead of an address.
    let app = spawn_with(&[("SUPPORT_URL", "https://help.example.com/stravatalk")]).await;
    let html = app.get("/", None).await.text().await.unwrap();
    assert_footer(&html, "https://help.example.com/stravatalk", "SUPPORT_URL");
}

#[tokio::test]
async fn strava_s_brand_files_are_served_unmodified_and_our_css_avoids_its_orange() {
    let app = spawn().await;
    for (url, file) in [
        (
            talk_app::app::CONNECT_BUTTON,
            include_bytes!("../../static/strava/btn_strava_connectwith_orange.svg").as_slice(),
        ),
        (
            talk_app::app::POWERED_BY,
            include_bytes!("../../static/strava/api_logo_pwrdBy_strava_horiz_orange.svg")
                .as_slice(),
        ),
    ] {
        let res = app.get(url, None).await;
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
        assert_eq!(res.bytes().await.unwrap().as_ref(), file, "{url}");
    }
    assert_eq!(
        app.get("/static/strava/other.svg", None).await.status(),
        404
    );
    // Strava's oranges (its current and its earlier one) only inside its own files.
    let css = app
        .get(
            &format!("/static/app.css?v={}", talk_app::app::ASSET_VERSION),
            None,
        )
        .await
        .text()
        .await
        .unwrap()
        .to_lowercase();
    let home = app
        .get("/", None)
        .await
        .text()
        .await
        .unwrap()
        .to_lowercase();
    for orange in ["fc4c02", "fc5200"] {
        assert!(!css.contains(orange), "{orange} in app.css");
        assert!(
            !home.contains(orange),
            "{orange} in the home page (favicon)"
        );
    }
}

#[tokio::test]
async fn the_privacy_page_states_what_the_code_does() {
    let app = spawn().await;
    let res = app.get("/privacy", None).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for fact in [
        "shown only to you",
        "never sent to a language model",
        "no language model configured",
        "Download my activities (CSV)",
        "Export chat history (JSON)",
        "Delete my data",
        "Revoke Access",
        "deletes everything it holds for you",
        &format!("mailto:{SUPPORT}"),
    ] {
        assert!(html.contains(fact), "{fact:?} not in {html}");
    }
    // With a model configured, the page says exactly what the model is sent.
    let app = spawn_with(&[
        ("LLM_BASE_URL", "http://127.0.0.1:9"),
        ("LLM_MODEL", "some-model"),
    ])
    .await;
    let html = app.get("/privacy", None).await.text().await.unwrap();
    assert!(html.contains("has a language model configured"), "{html}");
    assert!(html.contains("never an activity"), "{html}");
    // The settings it points to exist.
    app.seed().await;
    let cookie = app.sign_in(OTHER).await;
    let settings = app
        .get("/settings", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    for label in [
        "Download my activities (CSV)",
        "Export chat history (JSON)",
        "Delete my data",
    ] {
        assert!(settings.contains(label), "{label}");
    }
}
