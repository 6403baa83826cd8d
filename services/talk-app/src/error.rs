//! talk-app's one error type. [`AppError`] decides the status and logs the cause once;
//! it renders as a page in plain words, and wrapped in [`ApiError`] (what `/api/*`
//! handlers return) as `{"error": message}`. Neither shows internals.

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
    /// Too many questions; the message says which limit, `retry_after` when to retry.
    #[error("too many requests: {message}")]
    TooMany { retry_after: u64, message: String },
    /// No database connection.
    #[error("database unavailable")]
    Pool(#[from] db::pool::PoolError),
    /// The database did not answer in time (a lock held, the server frozen).
    #[error("database too slow")]
    Unavailable,
    /// A query failed.
    #[error("database error")]
    Db(#[from] db::DbError),
    /// Answering failed: the asker's mistake (a 4xx) or ours.
    #[error("ask failed")]
    Ask(#[from] crate::ask::AskError),
    /// A bug: something the app set up is missing.
    #[error("internal: {0}")]
    Internal(&'static str),
}

/// Seconds a client should wait when the database is unreachable or the pool is full.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl AppError {
    /// Logs the cause of a failure on our side, once, whichever way it is rendered.
    fn log(&self) {
        if self.status_code().is_server_error() {
            tracing::error!(error = %chain(self), "request failed");
        }
    }

    /// The `Retry-After` seconds this error carries, if any.
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooMany { retry_after, .. } => Some(*retry_after),
            _ if self.status_code() == StatusCode::SERVICE_UNAVAILABLE => {
                Some(UNAVAILABLE_RETRY_SECS)
            }
            _ => None,
        }
    }

    /// A heading and a sentence for the error page.
    fn words(&self) -> (&'static str, String) {
        match self {
            _ if self.status_code() == StatusCode::NOT_FOUND => (
                "Page not found",
                "There is nothing at this address. It may have been deleted, or the link is mistyped."
                    .into(),
            ),
            Self::BadRequest(msg) => ("That did not work", (*msg).into()),
            Self::TooMany { message, .. } => ("Please wait a moment", message.clone()),
            _ => (
                "Something went wrong",
                "StravaTalk could not finish that just now. Please try again in a moment.".into(),
            ),
        }
    }

    /// The message of the JSON body: the asker's own mistake in words, ours in general.
    fn message(&self) -> String {
        use crate::ask::AskError;
        match self {
            Self::SignInNeeded | Self::SessionEnded => {
                "sign in, or send a personal API token as `Authorization: Bearer <token>`".into()
            }
            Self::NotFound => "not found".into(),
            Self::Ask(AskError::ConversationNotFound(_)) => "no such conversation".into(),
            Self::Ask(e) if e.is_bad_request() => e.to_string(),
            Self::BadRequest(msg) => (*msg).into(),
            Self::TooMany { message, .. } => message.clone(),
            Self::Pool(_) | Self::Unavailable | Self::Ask(AskError::Pool(_)) => {
                "the service is busy or its database is unreachable; try again in a moment".into()
            }
            Self::Ask(_) => "the question could not be answered; please try again".into(),
            Self::Db(_) | Self::Internal(_) => {
                "the request could not be handled; please try again".into()
            }
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
        use crate::ask::AskError;
        match self {
            Self::SignInNeeded | Self::SessionEnded => StatusCode::SEE_OTHER,
            Self::NotFound | Self::Ask(AskError::ConversationNotFound(_)) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Ask(e) if e.is_bad_request() => StatusCode::BAD_REQUEST,
            Self::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Pool(_) | Self::Unavailable | Self::Ask(AskError::Pool(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
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
            _ => self.log(),
        }
        let (title, text) = self.words();
        let mut res = page(self.status_code(), title, text);
        if let Some(secs) = self.retry_after() {
            res.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        res
    }
}

/// An [`AppError`] under `/api`: the same status, cause and log line, rendered as JSON.
/// A missing or bad credential is a 401 asking for a bearer token, not a redirect.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

impl From<db::pool::PoolError> for ApiError {
    fn from(e: db::pool::PoolError) -> Self {
        Self(e.into())
    }
}

impl From<db::DbError> for ApiError {
    fn from(e: db::DbError) -> Self {
        Self(e.into())
    }
}

impl From<crate::ask::AskError> for ApiError {
    fn from(e: crate::ask::AskError) -> Self {
        Self(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            AppError::SignInNeeded | AppError::SessionEnded => StatusCode::UNAUTHORIZED,
            ref e => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let mut res = json(self.status_code(), &self.0.message());
        let headers = res.headers_mut();
        if self.status_code() == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(secs) = self.0.retry_after() {
            headers.insert(header::RETRY_AFTER, secs.into());
        }
        res
    }
}

/// A JSON error body `{"error": message}`: every `/api/*` failure answers this way.
pub fn json(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": message }))
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
pub fn page(status: StatusCode, title: &'static str, text: impl Into<String>) -> HttpResponse {
    let text = text.into();
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
