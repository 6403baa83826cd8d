//! Starting the HTTP server. actix-web runs on its own thread with its own actix
//! `System`, so the fake works the same under any caller: a multi-thread or
//! current-thread `#[tokio::test]`, plain `#[test]`, or the binary. The listener is
//! bound before the thread starts, so the port is known at once (port 0 works).

use crate::config::FakeConfig;
use crate::gate::gate;
use crate::json::ApiError;
use crate::params::MAX_BODY;
use crate::state::Shared;
use crate::webhooks::run_worker;
use crate::{api, control, oauth, subscriptions};
use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpServer};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub thread: JoinHandle<io::Result<()>>,
}

async fn unknown_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("resource", "path"))
}

/// Binds, starts the server thread and waits until it is accepting.
pub fn spawn(config: &FakeConfig) -> io::Result<(Arc<Shared>, Running)> {
    let listener = std::net::TcpListener::bind((config.host.as_str(), config.port))?;
    let addr = listener.local_addr()?;
    let (jobs_tx, jobs_rx) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(Shared::new(config, jobs_tx)?);
    let data = Data::from(shared.clone());
    let worker_state = shared.clone();
    let workers = config.workers.max(1);
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("strava-fake".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .app_data(web::PayloadConfig::new(MAX_BODY))
                        .wrap(from_fn(gate))
                        .service(control::scope())
                        .route("/oauth/authorize", web::get().to(oauth::authorize))
                        .route("/oauth/mobile/authorize", web::get().to(oauth::authorize))
                        .route("/oauth/token", web::post().to(oauth::token))
                        .route("/oauth/deauthorize", web::post().to(oauth::deauthorize))
                        // Strava documents the token endpoint under /api/v3 as well.
                        .route("/api/v3/oauth/token", web::post().to(oauth::token))
                        .route(
                            "/api/v3/oauth/deauthorize",
                            web::post().to(oauth::deauthorize),
                        )
                        .route("/api/v3/athlete", web::get().to(api::athlete))
                        .route(
                            "/api/v3/athlete/activities",
                            web::get().to(api::list_activities),
                        )
                        .route("/api/v3/activities/{id}", web::get().to(api::get_activity))
                        .route("/api/v3/gear/{id}", web::get().to(api::gear))
                        .route(
                            "/api/v3/push_subscriptions",
                            web::post().to(subscriptions::create),
                        )
                        .route(
                            "/api/v3/push_subscriptions",
                            web::get().to(subscriptions::view),
                        )
                        .route(
                            "/api/v3/push_subscriptions/{id}",
                            web::delete().to(subscriptions::delete),
                        )
                        .default_service(web::to(unknown_route))
                })
                .workers(workers)
                .disable_signals()
                .shutdown_timeout(1)
                .listen(listener)?
                .run();
                // The receiver only disappears if start() gave up; nothing to do then.
                let _ = handle_tx.send(server.handle());
                actix_web::rt::spawn(run_worker(worker_state, jobs_rx));
                server.await
            })
        })?;
    match handle_rx.recv() {
        Ok(handle) => Ok((
            shared,
            Running {
                addr,
                handle,
                thread,
            },
        )),
        // The thread ended before it could serve: report its error.
        Err(_) => Err(match thread.join() {
            Ok(Err(e)) => e,
            _ => io::Error::other("strava-fake server thread failed to start"),
        }),
    }
}
