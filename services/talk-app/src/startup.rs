//! What talk-app's HTTP application is made of: its app data, security headers,
//! static files, the JSON API and the pages; `service::Application` does the rest.

use crate::Settings;
use crate::session::SessionKeys;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, middleware, web};
pub use service::Application;

/// Content-Security-Policy for every response: no inline script, no third parties.
/// Pages need only their own stylesheet and script; charts are inline SVG elements.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// Largest accepted form body.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Binds the listener and prepares talk-app; port 0 picks a free port (tests).
pub fn build(settings: &Settings, pool: db::Pool) -> anyhow::Result<Application> {
    let llm = web::Data::new(settings.llm.clone().map(crate::llm::LlmClient::new));
    let keys = web::Data::new(SessionKeys::new(&settings.web)?);
    let web_settings = web::Data::new(settings.web.clone());
    let limits = web::Data::new(crate::ask_limits::AskLimits::new(settings));
    let upload_slots = web::Data::new(crate::pages::upload::UploadSlots::for_pool(&pool));
    Application::build(&settings.http, pool, move || {
        actix_web::App::new()
            .app_data(llm.clone())
            .app_data(keys.clone())
            .app_data(web_settings.clone())
            .app_data(limits.clone())
            .app_data(upload_slots.clone())
            .app_data(crate::api::json_config())
            .app_data(
                web::FormConfig::default()
                    .limit(MAX_FORM_BYTES)
                    .error_handler(bad_form),
            )
            .app_data(web::QueryConfig::default().error_handler(bad_query))
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("Content-Security-Policy", CSP))
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "same-origin")),
            )
            .wrap(middleware::from_fn(same_origin_posts))
            .wrap(middleware::Compress::default())
            .wrap(middleware::from_fn(with_support))
            .route("/static/app.css", web::get().to(stylesheet))
            .route("/static/app.js", web::get().to(script))
            .route("/static/strava/{file}", web::get().to(strava_asset))
            .service(
                web::scope("/api")
                    .wrap(middleware::ErrorHandlers::new().default_handler(crate::api::json_errors))
                    // A resource, so another method on it is a 405, not a 404.
                    .service(web::resource("/ask").route(web::post().to(crate::api::ask)))
                    .default_service(web::to(crate::api::not_found)),
            )
            .configure(crate::pages::configure)
            .default_service(web::to(crate::app::not_found))
    })
}

/// Runs the request with the support contact in reach of every page it may render
/// (`app::SUPPORT`).
async fn with_support(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let support = req
        .app_data::<web::Data<crate::settings::WebSettings>>()
        .map(|web| web.support.clone());
    crate::app::SUPPORT.scope(support, next.call(req)).await
}

/// Refuses a POST whose `Origin` names another site, or is `null` (what browsers send
/// from sandboxed frames, `data:` pages and cross-site redirects: never our own forms).
/// `SameSite=Lax` already keeps the session cookie off cross-site posts; this is the
/// second lock on the same door, for browsers that do not honour it. No `Origin` at
/// all (older browsers, scripts) passes: a script sends no cookie it does not own.
async fn same_origin_posts(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.method() == Method::POST
        && let Some(origin) = req.headers().get(header::ORIGIN)
    {
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map_or("", |(_, h)| h);
        if origin_host != own_host(&req) {
            let res = if req.path().starts_with("/api/") {
                crate::error::json(StatusCode::FORBIDDEN, "cross-site requests are refused")
            } else {
                crate::error::page(
                    StatusCode::FORBIDDEN,
                    "Cross-site form posts are refused",
                    "This form was sent from another site. Open StravaTalk itself and try again.",
                )
            };
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The host the request was sent to. `X-Forwarded-Host` (and `Forwarded`) are read
/// only from a trusted proxy: from anyone else they would let a cross-site post name
/// its own origin as ours.
fn own_host(req: &ServiceRequest) -> String {
    let proxied = req
        .app_data::<web::Data<crate::settings::WebSettings>>()
        .is_some_and(|web| web.trusted_proxies.is_peer(req.request()));
    if proxied {
        return req.connection_info().host().to_owned();
    }
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

/// A form body that cannot be read gets a page saying so, not actix's plain text.
fn bad_form(err: actix_web::error::UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    let res = match err {
        actix_web::error::UrlencodedError::Overflow { .. } => crate::error::page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "That form is too large",
            "StravaTalk takes forms of up to 16 KB. Please shorten what you typed and send it again.",
        ),
        _ => crate::error::page(
            StatusCode::BAD_REQUEST,
            "That form could not be read",
            "Something in the form was missing or malformed. Go back, reload the page and try again.",
        ),
    };
    actix_web::error::InternalError::from_response(err, res).into()
}

/// A query string that does not fit the page gets a page saying so.
fn bad_query(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let res = crate::error::page(
        StatusCode::BAD_REQUEST,
        "That address could not be read",
        "The part after the ? in the address is malformed. Check the link, or start from the home page.",
    );
    actix_web::error::InternalError::from_response(err, res).into()
}

/// Static files are compiled into the binary so the image needs no asset folder; the
/// `?v=` in their URLs changes with them, so they may be cached for long.
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=604800"))
        .body(body)
}

/// Strava's brand files, byte for byte as published (`static/strava/SOURCE.md`).
async fn strava_asset(file: web::Path<String>) -> HttpResponse {
    let body: &'static [u8] = match file.as_str() {
        "btn_strava_connectwith_orange.svg" => {
            include_bytes!("../static/strava/btn_strava_connectwith_orange.svg")
        }
        "api_logo_pwrdBy_strava_horiz_orange.svg" => {
            include_bytes!("../static/strava/api_logo_pwrdBy_strava_horiz_orange.svg")
        }
        _ => return crate::app::not_found().await,
    };
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        // Their names change with their content: the pack names each version.
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
