//! `POST /api/ask`: JSON in, the answer contract out, for a signed-in browser session
//! or a personal API token (`Authorization: Bearer …`).
//!
//! The per-athlete limits (questions a minute, questions in flight) are the ones the
//! chat form obeys too (`ask_limits`): beyond them, 429 with `Retry-After`.
//! Every failure under `/api` answers JSON, including a database that is down and
//! errors actix itself produces ([`json_errors`]).
//! Cookie-authenticated calls are safe from cross-site forms because the body must be
//! `application/json`, which a form cannot send without a CORS preflight we never grant.

use crate::ask_limits::{self, Admission, AskLimits};
use crate::error::{ApiError, AppError};
use crate::session::Visitor;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use db::api_tokens::ApiTokenRow;
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

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// Who is calling: a token wins over a cookie (the cookie is then not looked at);
/// `None` when neither is valid. With a token, its row comes too.
async fn caller(
    req: &HttpRequest,
    pool: &db::Pool,
) -> Result<Option<(AthleteId, Option<ApiTokenRow>)>, AppError> {
    if let Some(token) = bearer(req) {
        let mut conn = pool.get().await?;
        let row = db::api_tokens::authenticate(&mut conn, token, Utc::now()).await?;
        return Ok(row.map(|r| (AthleteId(r.athlete_id), Some(r))));
    }
    Ok(match crate::session::visitor(req.clone()).await? {
        Visitor::SignedIn(s) => Some((s.athlete, None)),
        _ => None,
    })
}

/// Questions a token sends without a conversation id go to the token's conversation
/// of the day (UTC), "API: <token name>": one per token and day, so a conversation
/// stays as small as a day's questions, however long the token is used.
fn token_conversation_id(token: Uuid, now: DateTime<Utc>) -> Uuid {
    let day = now.timestamp().div_euclid(86_400).unsigned_abs();
    // Only the low bits change, so the id keeps the token id's version and variant.
    Uuid::from_u128(token.as_u128() ^ u128::from(day))
}

/// The token's conversation of the day, created titled "API: <token name>" if new. Its
/// owner is checked when the question opens it.
async fn token_conversation(
    pool: &db::Pool,
    athlete: AthleteId,
    t: &ApiTokenRow,
    now: DateTime<Utc>,
) -> Result<Uuid, AppError> {
    let mut conn = pool.get().await?;
    let id = token_conversation_id(t.id, now);
    db::chats::create(&mut conn, id, athlete, &format!("API: {}", t.name)).await?;
    Ok(id)
}

/// `POST /api/ask`.
pub async fn ask(
    req: HttpRequest,
    body: web::Json<AskRequest>,
    pool: web::Data<db::Pool>,
    limits: web::Data<AskLimits>,
    llm: web::Data<Option<crate::llm::LlmClient>>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let (athlete, token) = caller(&req, &pool).await?.ok_or(AppError::SignInNeeded)?;
    if crate::question::has_control_characters(&body.question) {
        return Err(AppError::BadRequest(
            "the question contains control characters; send plain text",
        )
        .into());
    }
    let permit = match ask_limits::admit(&pool, &limits, athlete, now).await? {
        Admission::Granted(permit) => permit,
        Admission::TooMany { retry_after } => {
            return Err(AppError::TooMany {
                retry_after,
                message: format!(
                    "too many questions: at most {} a minute; try again in {retry_after} s",
                    limits.per_minute
                ),
            }
            .into());
        }
        Admission::Busy { retry_after } => {
            return Err(AppError::TooMany {
                retry_after,
                message: format!(
                    "{} questions of yours are being answered already; ask again when one is done",
                    limits.in_flight
                ),
            }
            .into());
        }
    };
    let AskRequest {
        question,
        conversation,
    } = body.into_inner();
    // A token's questions without a conversation id go to the token's conversation of
    // the day, instead of one conversation per question.
    let conversation = match (conversation, token) {
        (Some(c), _) => Some(c),
        (None, Some(t)) => match token_conversation(&pool, athlete, &t, now).await {
            Ok(id) => Some(id),
            Err(e) => {
                permit.release().await;
                return Err(e.into());
            }
        },
        (None, None) => None,
    };
    let result = crate::ask::ask(
        &pool,
        llm.get_ref().as_ref(),
        athlete,
        conversation,
        &question,
        now,
    )
    .await;
    permit.release().await;
    let (id, answer) = result?;
    Ok(HttpResponse::Ok()
        .insert_header((CONVERSATION_HEADER, id.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}

/// Anything under `/api` that is not an endpoint.
pub async fn not_found() -> HttpResponse {
    crate::error::json(
        StatusCode::NOT_FOUND,
        "no such endpoint; questions go to POST /api/ask",
    )
}

/// Gives every error response under `/api` a JSON body, whichever part of actix or of
/// the app made it (extractors, a wrong method, a failed session lookup), keeping its
/// status and headers.
pub fn json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = match status {
        StatusCode::NOT_FOUND => "no such endpoint; questions go to POST /api/ask",
        StatusCode::METHOD_NOT_ALLOWED => "this endpoint takes POST",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        StatusCode::SERVICE_UNAVAILABLE => {
            "the service is busy or its database is unreachable; try again in a moment"
        }
        s if s.is_server_error() => "the request could not be handled; please try again",
        _ => status
            .canonical_reason()
            .unwrap_or("the request was refused"),
    };
    let (req, mut res) = res.into_parts();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::json!({ "error": message }).to_string();
    let res = res.set_body(body).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}

/// JSON body limits and errors that speak JSON.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|err, _| {
            use actix_web::error::JsonPayloadError as E;
            let (status, message) = match &err {
                E::ContentType => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "send the body as application/json",
                ),
                E::Overflow { .. } | E::OverflowKnownLength { .. } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large (16 KB at most)",
                ),
                _ => (
                    StatusCode::BAD_REQUEST,
                    "the body must be JSON like {\"question\": \"…\"}",
                ),
            };
            let response = crate::error::json(status, message);
            actix_web::error::InternalError::from_response(err, response).into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_a_conversation_a_day() {
        let token = Uuid::new_v4();
        let at = |t: &str| token_conversation_id(token, t.parse().unwrap());
        let monday = at("2026-12-07T00:00:00Z");
        assert_eq!(monday, at("2026-12-07T23:59:59Z"));
        assert_ne!(monday, at("2026-12-08T00:00:00Z"));
        assert_ne!(
            monday,
            token_conversation_id(Uuid::new_v4(), "2026-12-07T12:00:00Z".parse().unwrap())
        );
        assert_eq!(monday.get_version(), token.get_version());
        assert_eq!(monday.get_variant(), token.get_variant());
    }
}
