//! What the gateway's HTTP application is made of: its app data (the Strava client,
//! the webhook inbox, OAuth) and routes; `service::Application` does the rest.

use crate::Settings;
use actix_web::{App, web};
pub use service::Application;

/// Binds the listener and prepares the gateway; port 0 picks a free port (tests).
pub fn build(settings: &Settings, pool: db::Pool) -> anyhow::Result<Application> {
    let strava = crate::strava::StravaClient::new(&settings.strava, pool.clone());
    let subscription = match settings.strava.subscription_id {
        Some(id) => crate::webhook::SubscriptionGate::pinned(id),
        None => crate::webhook::SubscriptionGate::learned(strava.clone()),
    };
    let subscription = std::sync::Arc::new(subscription);
    // Ask Strava now rather than on the first event, so that event is not delayed.
    subscription.current();
    let webhook = web::Data::new(crate::webhook::WebhookSettings {
        verify_token: settings.webhook_verify_token.clone(),
        subscription,
    });
    let inbox = web::Data::new(crate::webhook::InboxWriter::start(pool.clone(), 4));
    let oauth = web::Data::new(crate::oauth::OAuth::new(
        &settings.oauth,
        strava,
        pool.clone(),
        settings.token_cipher.clone(),
    )?);
    Application::build(&settings.http, pool, move || {
        App::new()
            .app_data(webhook.clone())
            .app_data(inbox.clone())
            .app_data(oauth.clone())
            .configure(crate::webhook::configure)
            .configure(crate::oauth::configure)
    })
}
