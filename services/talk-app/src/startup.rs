//! Builds the HTTP application on a bound listener, so tests can use port 0.

use crate::Settings;
use crate::session::SessionKeys;
use actix_web::dev::Server;
use actix_web::{HttpResponse, HttpServer, middleware, web};

/// Content-Security-Policy for every response: no inline script, no third parties.
/// Pages need only their own stylesheet and script; charts are inline SVG elements.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// Largest accepted form body.
const MAX_FORM_BYTES: usize = 16 * 1024;

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
        let pool = web::Data::new(pool);
        let keys = web::Data::new(SessionKeys::new(&settings.web)?);
        let web_settings = web::Data::new(settings.web.clone());
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(pool.clone())
                .app_data(keys.clone())
                .app_data(web_settings.clone())
                .app_data(crate::api::json_config())
                .app_data(web::FormConfig::default().limit(MAX_FORM_BYTES))
                .wrap(
                    middleware::DefaultHeaders::new()
                        .add(("Content-Security-Policy", CSP))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "same-origin")),
                )
                .wrap(middleware::Logger::new("%r %s %Dms").exclude("/healthz"))
                .wrap(middleware::Compress::default())
                .configure(service::health::configure)
                .route("/static/app.css", web::get().to(stylesheet))
                .route("/static/app.js", web::get().to(script))
                .route("/api/ask", web::post().to(crate::api::ask))
                .configure(crate::pages::configure)
                .default_service(web::to(crate::app::not_found))
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

/// Static files are compiled into the binary so the image needs no asset folder; the
/// `?v=` in their URLs changes with them, so they may be cached for long.
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=604800"))
        .body(body)
}

/// The one stylesheet.
async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", include_str!("../static/app.css"))
}

/// The optional enhancement script.
async fn script() -> HttpResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    )
}
