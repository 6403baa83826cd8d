//! `POST /api/ask`: JSON in, the answer contract out, for a signed-in browser session
//! or a personal API token (`Authorization: Bearer …`).
//!
//! The per-athlete rate limit is a fixed one-minute window counted in Postgres
//! (`api_rate_limits`), so every replica enforces one budget and a restart does not
//! reset it; one upsert per request is cheap next to answering the question.
//! Cookie-authenticated calls are safe from cross-site forms because the body must be
//! `application/json`, which a form cannot send without a CORS preflight we never grant.

use crate::ask::AskError;
use crate::session::Visitor;
use crate::settings::WebSettings;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DurationRound as _, Utc};
use domain::AthleteId;
use serde::Deserialize;
use uuid::Uuid;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Header carrying the conversation id, so the body stays exactly the contract.
pub const CONVERSATION_HEADER: &str = "x-conversation-id";

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    /// The question.
    pub question: String,
    /// Continue this conversation (created with that id if new).
    #[serde(default)]
    pub conversation: Option<Uuid>,
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": message }))
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Who is calling: a token wins over a cookie; `None` when neither is valid.
async fn caller(
    req: &HttpRequest,
    visitor: Visitor,
    conn: &mut db::AsyncPgConnection,
) -> Result<Option<AthleteId>, db::DbError> {
    if let Some(token) = bearer(req) {
        return db::api_tokens::authenticate(conn, token, Utc::now()).await;
    }
    Ok(match visitor {
        Visitor::SignedIn(s) => Some(s.athlete),
        _ => None,
    })
}

/// `POST /api/ask`.
pub async fn ask(
    req: HttpRequest,
    visitor: Visitor,
    body: web::Json<AskRequest>,
    pool: web::Data<db::Pool>,
    web: web::Data<WebSettings>,
    llm: web::Data<Option<crate::llm::LlmClient>>,
) -> HttpResponse {
    let unavailable = || error(StatusCode::SERVICE_UNAVAILABLE, "try again in a moment");
    let Ok(mut conn) = pool.get().await else {
        return unavailable();
    };
    let now = Utc::now();
    let athlete = match caller(&req, visitor, &mut conn).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(serde_json::json!({
                    "error": "sign in, or send a personal API token as `Authorization: Bearer <token>`"
                }));
        }
        Err(e) => {
            tracing::error!(error = %e, "api authentication failed");
            return unavailable();
        }
    };
    let window = chrono::Duration::minutes(1);
    match db::api_tokens::hit_rate_limit(
        &mut conn,
        athlete,
        now,
        window,
        web.api_rate_limit_per_minute,
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => {
            let reset = now.duration_trunc(window).unwrap_or(now) + window;
            let wait = (reset - now).num_seconds().max(1);
            return HttpResponse::TooManyRequests()
                .insert_header((header::RETRY_AFTER, wait.to_string()))
                .json(serde_json::json!({
                    "error": format!("too many questions; try again in {wait} s")
                }));
        }
        Err(e) => {
            tracing::error!(error = %e, "rate limit check failed");
            return unavailable();
        }
    }
    // The engine takes its own connection from the pool.
    drop(conn);
    let AskRequest {
        question,
        conversation,
    } = body.into_inner();
    match crate::ask::ask(
        &pool,
        llm.get_ref().as_ref(),
        athlete,
        conversation,
        &question,
        now,
    )
    .await
    {
        Ok((id, answer)) => HttpResponse::Ok()
            .insert_header((CONVERSATION_HEADER, id.to_string()))
            .insert_header(("Cache-Control", "no-store"))
            .json(answer),
        Err(AskError::ConversationNotFound(_)) => {
            error(StatusCode::NOT_FOUND, "no such conversation")
        }
        Err(e) if e.is_bad_request() => error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => {
            tracing::error!(error = %crate::error::chain(&e), "api ask failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the question could not be answered; please try again",
            )
        }
    }
}

/// JSON body limits and errors that speak JSON.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|err, _| {
            let message = match &err {
                actix_web::error::JsonPayloadError::ContentType => {
                    "send the body as application/json"
                }
                actix_web::error::JsonPayloadError::Overflow { .. }
                | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                    "the request body is too large"
                }
                _ => "the body must be JSON like {\"question\": \"…\"}",
            };
            let response = error(StatusCode::BAD_REQUEST, message);
            actix_web::error::InternalError::from_response(err, response).into()
        })
}
