//! `subscription ensure|show|delete` against the fake Strava, whose create performs
//! the callback handshake with a running gateway; and the settings each command needs.

use super::sync_support::{Harness, VERIFY};
use service::Env;
use strava_gateway::admin::{self, SubscriptionCommand};

fn env(h: &Harness, public_url: &str) -> Env {
    let oauth = format!("{}/oauth", h.fake.base_url());
    let api = h.fake.api_url();
    // Deliberately no DATABASE_URL or TOKEN_ENCRYPTION_KEY: the command needs neither.
    Env::from_pairs(
        None,
        strava_gateway::settings::DEFAULTS,
        &[
            ("STRAVA_CLIENT_ID", h.fake.client_id()),
            ("STRAVA_CLIENT_SECRET", h.fake.client_secret()),
            ("STRAVA_OAUTH_BASE_URL", &oauth),
            ("STRAVA_API_BASE_URL", &api),
            ("STRAVA_WEBHOOK_VERIFY_TOKEN", VERIFY),
            ("GATEWAY_PUBLIC_URL", public_url),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn ensure_is_idempotent_and_replaces_a_moved_callback() {
    let h = Harness::plain(&[]).await;
    let first = h.start_app();
    let second = h.start_app();

    admin::subscription(&env(&h, &first), SubscriptionCommand::Show)
        .await
        .unwrap();
    admin::subscription(&env(&h, &first), SubscriptionCommand::Ensure)
        .await
        .unwrap();
    let created = h.fake.subscription().expect("created");
    assert_eq!(created.callback_url, format!("{first}/webhook"));

    // Again: kept as it is.
    admin::subscription(&env(&h, &format!("{first}/")), SubscriptionCommand::Ensure)
        .await
        .unwrap();
    assert_eq!(h.fake.subscription().unwrap().id, created.id);

    // The gateway moved: Strava cannot update, so it is replaced.
    admin::subscription(&env(&h, &second), SubscriptionCommand::Ensure)
        .await
        .unwrap();
    let moved = h.fake.subscription().unwrap();
    assert_ne!(moved.id, created.id);
    assert_eq!(moved.callback_url, format!("{second}/webhook"));

    admin::subscription(&env(&h, &second), SubscriptionCommand::Delete)
        .await
        .unwrap();
    assert!(h.fake.subscription().is_none());
    admin::subscription(&env(&h, &second), SubscriptionCommand::Delete)
        .await
        .unwrap();

    // A callback that fails the handshake is reported, not half-created.
    let err = admin::subscription(&env(&h, "http://127.0.0.1:9"), SubscriptionCommand::Ensure)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Strava refused"), "{err:#}");
    assert!(h.fake.subscription().is_none());
    assert!(!format!("{err:#}").contains(h.fake.client_secret()));
}

#[test]
fn each_command_names_the_strava_setting_it_lacks() {
    let only = |vars: &[(&str, &str)]| Env::from_pairs(None, &[], vars).unwrap();
    let err = strava_gateway::settings::StravaSettings::from_env(&only(&[]))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "STRAVA_CLIENT_ID is not set");
    let err =
        strava_gateway::settings::StravaSettings::from_env(&only(&[("STRAVA_CLIENT_ID", "12")]))
            .unwrap_err()
            .to_string();
    assert_eq!(err, "STRAVA_CLIENT_SECRET is not set");
    let s = strava_gateway::settings::StravaSettings::from_env(&only(&[
        ("STRAVA_CLIENT_ID", "12"),
        ("STRAVA_CLIENT_SECRET", "hush-hush"),
    ]))
    .unwrap();
    assert_eq!(s.oauth_base_url, "https://www.strava.com/oauth");
    assert_eq!(s.api_base_url, "https://www.strava.com/api/v3");
    assert!(s.rate_limits && s.subscription_id.is_none());
    assert!(!format!("{s:?}").contains("hush-hush"));
    let err = strava_gateway::settings::StravaSettings::from_env(&only(&[
        ("STRAVA_CLIENT_ID", "12"),
        ("STRAVA_CLIENT_SECRET", "x"),
        ("STRAVA_API_BASE_URL", "ftp://strava"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("STRAVA_API_BASE_URL is invalid"), "{err}");

    let err = strava_gateway::settings::OAuthSettings::from_env(&only(&[(
        "OAUTH_STATE_SECRET",
        "short",
    )]))
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("OAUTH_STATE_SECRET is invalid"), "{err}");
    assert!(!err.contains("short\""), "{err}");
    let err = strava_gateway::settings::OAuthSettings::from_env(&only(&[(
        "OAUTH_STATE_SECRET",
        "0123456789abcdef0123456789abcdef",
    )]))
    .unwrap_err()
    .to_string();
    assert_eq!(err, "GATEWAY_PUBLIC_URL is not set");
}
