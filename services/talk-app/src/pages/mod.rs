//! The pages and the form posts behind them. Each handler checks the session, does its
//! work, and either renders a page or redirects (post/redirect/get).

pub mod auth;
pub mod chat;
pub mod conversations;
pub mod home;
pub mod privacy;
pub mod settings;
pub mod sync;
pub mod upload;

use actix_web::web;

/// Registers every page route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::page))
        // Monitors and link checkers ask with HEAD; actix sends the headers alone.
        .route("/", web::head().to(home::page))
        .route("/demo", web::post().to(home::demo))
        .route("/upload", web::post().to(upload::upload))
        .route("/auth/connect", web::get().to(auth::connect))
        .route("/auth/complete", web::get().to(auth::complete))
        .route("/privacy", web::get().to(privacy::page))
        .route("/logout", web::post().to(auth::logout))
        .route("/chat", web::get().to(chat::index))
        .route("/chat/ask", web::post().to(chat::ask))
        .route("/chat/sync", web::get().to(sync::status))
        .route("/chat/{conversation}", web::get().to(chat::conversation))
        .route(
            "/chat/{conversation}/rename",
            web::post().to(conversations::rename),
        )
        .route(
            "/chat/{conversation}/delete",
            web::post().to(conversations::delete),
        )
        .route("/settings", web::get().to(settings::page))
        .route("/settings/units", web::post().to(settings::units))
        .route("/settings/timezone", web::post().to(settings::timezone))
        .route("/settings/tokens", web::post().to(settings::create_token))
        .route(
            "/settings/tokens/{id}/revoke",
            web::post().to(settings::revoke_token),
        )
        .route("/settings/export", web::get().to(settings::export))
        .route(
            "/settings/export/activities",
            web::get().to(settings::export_activities),
        )
        .route("/settings/delete", web::get().to(settings::confirm_delete))
        .route("/settings/delete", web::post().to(settings::delete));
}
