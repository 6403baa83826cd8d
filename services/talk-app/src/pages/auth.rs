//! The gateway's hand-off (`/auth/complete?ticket=…`) and signing out.

use crate::app::{Layout, document, html};
use crate::error::{AppError, page, see_other};
use crate::session::{SessionKeys, Visitor};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use leptos::prelude::*;
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

/// The sign-out form: `confirm=1` once the athlete has read what signing out of an
/// upload account means.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    confirm: Option<String>,
}

/// `POST /logout`: revokes the session and forgets the cookie. An account made from
/// an uploaded export cannot be signed into again, and upkeep deletes it once it is
/// unreachable, so signing out of one asks first.
pub async fn logout(
    visitor: Visitor,
    form: Option<web::Form<LogoutForm>>,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
) -> Result<HttpResponse, AppError> {
    if let Visitor::SignedIn(session) = visitor {
        let mut conn = pool.get().await?;
        let confirmed = form.is_some_and(|f| f.confirm.as_deref() == Some("1"));
        if !confirmed && session.athlete.get() < 0 {
            let athlete = db::athletes::find(&mut conn, session.athlete).await?;
            if athlete.is_some_and(|a| !a.is_demo) {
                return Ok(confirm_page());
            }
        }
        db::sessions::revoke(&mut conn, session.id).await?;
    }
    let mut res = see_other("/?notice=signed-out");
    res.add_cookie(&keys.removal())
        .map_err(|_| AppError::Internal("cookie"))?;
    Ok(res)
}

fn confirm_page() -> HttpResponse {
    let body = document("Sign out and delete?", None, || {
        view! {
            <Layout signed_in=true>
                <section class="message">
                    <h1>"Sign out and delete this account?"</h1>
                    <p>"This account was made from your uploaded export and has no Strava connection, so nothing can sign you into it again. After you sign out it is deleted, with your activities and questions."</p>
                    <form method="post" action="/logout">
                        <input type="hidden" name="confirm" value="1"/>
                        <button type="submit" class="button">"Sign out and delete"</button>
                    </form>
                    <p><a href="/chat">"Stay signed in"</a></p>
                </section>
            </Layout>
        }
    });
    html(StatusCode::OK, body)
}
