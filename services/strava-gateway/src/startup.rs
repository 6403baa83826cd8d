//! Builds the HTTP application on a bound listener, so tests can use port 0.

use crate::Settings;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};

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
        let pool = web::Data::new(pool);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pool.clone())
                .wrap(middleware::Logger::new("%r %s %Dms").exclude("/healthz"))
                .configure(service::health::configure)
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
