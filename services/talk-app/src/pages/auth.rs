//! Signing in with Strava: `/auth/connect` starts it, the gateway's hand-off
//! (`/auth/complete?ticket=…`) ends it; and signing out.
//!
//! Login CSRF: a ticket is only good in the browser that started connecting. `/connect`
//! puts a random nonce in a pre-login cookie of that browser and passes its binding to
//! the gateway, which stores it with the ticket (`db::tickets`); `/auth/complete` needs
//! the same cookie (its path is `/auth`, so it goes nowhere else). So nobody can send a victim a fresh ticket link of their own
//! account and have the victim's browser signed into it.

use crate::app::{Layout, document, html};
use crate::error::{AppError, page, see_other};
use crate::session::{SessionKeys, Visitor};
use crate::settings::WebSettings;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use leptos::prelude::*;
use serde::Deserialize;

/// The pre-login cookie: the nonce of the browser that started connecting.
pub const LOGIN_COOKIE: &str = "stravatalk_login";
/// How long the pre-login cookie lives: the gateway's state (10 minutes) and the
/// ticket (5 minutes) end within it.
const LOGIN_COOKIE_SECS: i64 = 20 * 60;

/// `?scope=` for `/auth/connect`, passed on to the gateway, which checks it.
#[derive(Debug, Deserialize)]
pub struct ConnectQuery {
    scope: Option<String>,
}

/// `GET /auth/connect`, what "Connect with Strava" links to: sets the pre-login cookie (or
/// keeps this browser's, so two tabs can both connect) and sends the browser to the
/// gateway's `/oauth/authorize` with the cookie's binding.
pub async fn connect(
    req: HttpRequest,
    query: web::Query<ConnectQuery>,
    web: web::Data<WebSettings>,
) -> Result<HttpResponse, AppError> {
    let Some(gateway) = web.gateway_public_url.as_deref() else {
        return Ok(page(
            StatusCode::NOT_FOUND,
            "Connecting Strava is not available",
            "Connecting a Strava account is not configured on this server. You can try the demo or upload your Strava export from the home page.",
        ));
    };
    let nonce = req
        .cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        // A nonce has a binding's shape; anything else was not set by us.
        .filter(|n| db::tickets::is_binding(n))
        .unwrap_or_else(db::tickets::random_secret);
    let mut to = reqwest::Url::parse(&format!("{gateway}/oauth/authorize"))
        .map_err(|_| AppError::Internal("GATEWAY_PUBLIC_URL"))?;
    to.query_pairs_mut()
        .append_pair("login", &db::tickets::binding_of(&nonce));
    if let Some(scope) = query.scope.as_deref().filter(|s| !s.is_empty()) {
        to.query_pairs_mut().append_pair("scope", scope);
    }
    let cookie = Cookie::build(LOGIN_COOKIE, nonce)
        .path("/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(web.cookie_secure)
        .max_age(CookieDuration::seconds(LOGIN_COOKIE_SECS))
        .finish();
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, to.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish())
}

/// `?ticket=` from the gateway's redirect.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    ticket: Option<String>,
}

/// Longest ticket worth looking up; real ones are 43 characters.
const MAX_TICKET_LEN: usize = 256;

/// `GET /auth/complete`: redeems the ticket once, in the browser that started
/// connecting, and starts a session. Any other browser is refused and nothing changes:
/// neither its own session nor the ticket.
pub async fn complete(
    req: HttpRequest,
    query: web::Query<TicketQuery>,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
    web: web::Data<WebSettings>,
) -> Result<HttpResponse, AppError> {
    let ticket = query
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TICKET_LEN);
    let nonce = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    let mut conn = pool.get().await?;
    let redeemed = match ticket {
        Some(t) => db::tickets::redeem(&mut conn, t, nonce.as_deref()).await?,
        None => db::tickets::Redeemed::Invalid,
    };
    let athlete = match redeemed {
        db::tickets::Redeemed::Athlete(athlete) => athlete,
        db::tickets::Redeemed::OtherBrowser => {
            tracing::warn!(
                "a login ticket was presented by another browser than the one that started connecting"
            );
            return Ok(page(
                StatusCode::FORBIDDEN,
                "This sign-in link belongs to another browser",
                "Signing in must finish in the browser where “Connect with Strava” was clicked. Nothing was changed. If you did not start connecting yourself, ignore the link; otherwise connect with Strava again from the home page.",
            ));
        }
        db::tickets::Redeemed::Invalid => {
            return Ok(page(
                StatusCode::BAD_REQUEST,
                "This sign-in link has expired",
                "Sign-in links work once and only for a few minutes. Please connect with Strava again from the home page.",
            ));
        }
    };
    let cookie = crate::session::start(&mut conn, &keys, athlete, None).await?;
    let mut res = see_other("/chat");
    res.add_cookie(&cookie)
        .map_err(|_| AppError::Internal("cookie"))?;
    // The nonce is spent: the next connection starts with a fresh one.
    let mut gone = Cookie::build(LOGIN_COOKIE, "")
        .path("/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(web.cookie_secure)
        .finish();
    gone.make_removal();
    res.add_cookie(&gone)
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
