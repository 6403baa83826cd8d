//! The gateway's hand-off (`/auth/complete?ticket=…`) and signing out.

use crate::error::{AppError, page, see_other};
use crate::session::{SessionKeys, Visitor};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// `?ticket=` from the gateway's redirect.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    ticket: Option<String>,
}

/// Longest ticket worth looking up; real ones are 43 characters.
const MAX_TICKET_LEN: usize = 256;

/// `GET /auth/complete`: redeems the ticket once and starts a session.
pub async fn complete(
    query: web::Query<TicketQuery>,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
) -> Result<HttpResponse, AppError> {
    let ticket = query
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TICKET_LEN);
    let mut conn = pool.get().await?;
    let athlete = match ticket {
        Some(t) => db::tickets::redeem(&mut conn, t).await?,
        None => None,
    };
    let Some(athlete) = athlete else {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "Sign-in links work once and only for a few minutes. Please connect with Strava again from the home page.",
        ));
    };
    let cookie = crate::session::start(&mut conn, &keys, athlete, None).await?;
    let mut res = see_other("/chat");
    res.add_cookie(&cookie)
        .map_err(|_| AppError::Internal("cookie"))?;
    Ok(res)
}

/// `POST /logout`: revokes the session and forgets the cookie.
pub async fn logout(
    visitor: Visitor,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
) -> Result<HttpResponse, AppError> {
    if let Visitor::SignedIn(session) = visitor {
        let mut conn = pool.get().await?;
        db::sessions::revoke(&mut conn, session.id).await?;
    }
    let mut res = see_other("/?notice=signed-out");
    res.add_cookie(&keys.removal())
        .map_err(|_| AppError::Internal("cookie"))?;
    Ok(res)
}
