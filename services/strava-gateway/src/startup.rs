//! Builds the HTTP application on a bound listener, so tests can use port 0.

use crate::Settings;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

/// A bound, not yet running gateway.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener and prepares the server.
    pub fn build(settings: &Settings, pool: db::Pool) -> anyhow::Result<Self> {
        let listener = settings.http.bind()?;
        let port = listener.local_addr()?.port();
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
        let pool = web::Data::new(pool);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pool.clone())
                .app_data(webhook.clone())
                .app_data(inbox.clone())
                .wrap(service::access_log::access_log())
                .wrap(actix_web::middleware::from_fn(
                    service::access_log::echo_request_id,
                ))
                .wrap(service::access_log::request_tracing())
                .configure(service::health::configure)
                .configure(crate::webhook::configure)
                .app_data(oauth.clone())
                .configure(crate::oauth::configure)
        })
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
