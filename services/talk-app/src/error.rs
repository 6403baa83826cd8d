//! talk-app's one error type for pages: it maps to a status and a page in plain words,
//! logs the cause once, and never shows internals.

use crate::app::{Layout, document};
use crate::session::COOKIE;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use leptos::prelude::*;

/// Why a page could not be served.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The page needs a session and there is none.
    #[error("sign-in needed")]
    SignInNeeded,
    /// The cookie was tampered with, expired or revoked.
    #[error("session ended")]
    SessionEnded,
    /// Nothing here (or not this athlete's).
    #[error("not found")]
    NotFound,
    /// The request was wrong; the message is for the person.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// No database connection.
    #[error("database unavailable")]
    Pool(#[from] db::pool::PoolError),
    /// A query failed.
    #[error("database error")]
    Db(#[from] db::DbError),
    /// Answering failed on our side.
    #[error("ask failed")]
    Ask(#[source] crate::ask::AskError),
    /// A bug: something the app set up is missing.
    #[error("internal: {0}")]
    Internal(&'static str),
}

impl AppError {
    fn words(&self) -> (&'static str, &'static str) {
        match self {
            Self::NotFound => (
                "Page not found",
                "There is nothing at this address. It may have been deleted, or the link is mistyped.",
            ),
            Self::BadRequest(msg) => ("That did not work", msg),
            _ => (
                "Something went wrong",
                "StravaTalk could not finish that just now. Please try again in a moment.",
            ),
        }
    }
}

/// Removes the session cookie (attributes must match the ones it was set with).
fn cookie_removal() -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "").path("/").http_only(true).finish();
    c.make_removal();
    c
}

/// A 303 to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInNeeded | Self::SessionEnded => StatusCode::SEE_OTHER,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Pool(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Db(_) | Self::Ask(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignInNeeded => return see_other("/?notice=sign-in"),
            Self::SessionEnded => {
                let mut res = see_other("/?notice=session-ended");
                let _ = res.add_cookie(&cookie_removal());
                return res;
            }
            Self::NotFound | Self::BadRequest(_) => {}
            other => tracing::error!(error = %chain(other), "request failed"),
        }
        let (title, text) = self.words();
        page(self.status_code(), title, text)
    }
}

/// An error and its causes on one line, for the log.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

/// A whole page with a heading, a sentence and a way back.
pub fn page(status: StatusCode, title: &'static str, text: &'static str) -> HttpResponse {
    let body = document(title, None, move || {
        view! {
            <Layout signed_in=false>
                <section class="message">
                    <h1>{title}</h1>
                    <p>{text}</p>
                    <p><a href="/">"Back to StravaTalk"</a></p>
                </section>
            </Layout>
        }
    });
    crate::app::html(status, body)
}
