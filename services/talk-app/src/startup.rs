//! Builds the HTTP application on a bound listener, so tests can use port 0.

use crate::Settings;
use crate::app::{App, shell};
use actix_web::dev::Server;
use actix_web::{HttpServer, middleware, web};
use leptos::prelude::LeptosOptions;
use leptos_actix::{LeptosRoutes, generate_route_list};

/// A bound, not yet running talk-app.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener and prepares the server.
    pub fn build(settings: &Settings, pool: db::Pool) -> anyhow::Result<Self> {
        let listener = settings.http.bind()?;
        let addr = listener.local_addr()?;
        let leptos_options = LeptosOptions::builder()
            .output_name("talk-app")
            .site_addr(addr)
            .build();
        let pool = web::Data::new(pool);
        let server = HttpServer::new(move || {
            let routes = generate_route_list(App);
            let options = leptos_options.clone();
            actix_web::App::new()
                .app_data(pool.clone())
                .app_data(web::Data::new(leptos_options.clone()))
                .wrap(middleware::Logger::new("%r %s %Dms").exclude("/healthz"))
                .wrap(middleware::Compress::default())
                .configure(service::health::configure)
                .route("/static/app.css", web::get().to(stylesheet))
                .leptos_routes(routes, move || shell(options.clone()))
        })
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self {
            port: addr.port(),
            server,
        })
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

/// The one stylesheet, compiled into the binary so the image needs no asset folder.
async fn stylesheet() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../static/app.css"))
}
