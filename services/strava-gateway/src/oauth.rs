//! Connecting Strava: `GET /oauth/authorize` sends the browser to Strava, and
//! `GET /oauth/callback` takes it back, stores the athlete and their tokens, queues the
//! backfill and hands the browser to talk-app with a single-use login ticket.
//!
//! CSRF and replay: a random nonce goes into an HttpOnly cookie and its SHA-256 into
//! the `state`, an HS256 JWT valid 10 minutes, so a callback must come from the browser
//! that started the flow (and a state seen in a URL does not reveal the cookie); the
//! nonce is recorded in PostgreSQL when the callback uses it, so each state works once,
//! on any replica.
//!
//! Login CSRF: the flow starts at talk-app's `/auth/connect`, which keeps a nonce in a
//! cookie of its own and passes its binding as `?login=`. The binding travels in the
//! signed state and is stored with the login ticket, so talk-app redeems the ticket
//! only in the browser that started (`db::tickets`). Without `login=` the browser is
//! sent to talk-app's `/auth/connect` first.
//!
//! Every failure answers a short HTML page with a link back to talk-app and a 4xx
//! status (502 when Strava itself failed); nothing internal reaches the page.
//! Disconnecting ([`disconnect`]) revokes at Strava and erases, like a deauthorization.

use crate::settings::OAuthSettings;
use crate::strava::{StravaClient, StravaError};
use crate::tokens::{self, TokenError};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use db::crypto::TokenCipher;
use db::tokens::StravaTokens;
use diesel_async::AsyncConnection;
use domain::AthleteId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// How long a `state` (and its cookie) stays valid.
pub const STATE_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// How long talk-app has to redeem the login ticket.
pub const TICKET_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// Scopes asked for when `/oauth/authorize` is given none.
pub const DEFAULT_SCOPES: &str = "read,activity:read_all,profile:read_all";
/// Scopes `?scope=` may ask for: Strava's read scopes (StravaTalk never writes).
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "read_all",
    "profile:read_all",
    "activity:read",
    "activity:read_all",
];
/// The cookie holding the state's nonce.
pub const NONCE_COOKIE: &str = "stravatalk_oauth_nonce";
/// The JWT audience, so no other token signed with the same secret passes as a state.
const STATE_AUDIENCE: &str = "stravatalk:oauth-state";

/// What the OAuth routes need; registered as app data by [`configure`]'s caller.
pub struct OAuth {
    client: StravaClient,
    pool: db::Pool,
    cipher: TokenCipher,
    redirect_uri: String,
    talk_app_url: String,
    secure_cookie: bool,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl OAuth {
    /// Prepares the flow; fails only on an unusable state secret.
    pub fn new(
        settings: &OAuthSettings,
        client: StravaClient,
        pool: db::Pool,
        cipher: TokenCipher,
    ) -> anyhow::Result<Self> {
        let secret = settings.state_secret.expose().as_bytes();
        Ok(Self {
            client,
            pool,
            cipher,
            redirect_uri: format!("{}/oauth/callback", settings.gateway_public_url),
            talk_app_url: settings.talk_app_url.clone(),
            // The public URL is always set, so the listener's address never decides.
            secure_cookie: service::cookies::secure(
                None,
                Some(settings.gateway_public_url.as_str()),
                std::net::Ipv4Addr::UNSPECIFIED.into(),
            ),
            encoding: EncodingKey::from_secret(secret)
                .map_err(|_| anyhow::anyhow!("OAUTH_STATE_SECRET is unusable"))?,
            decoding: DecodingKey::from_secret(secret)
                .map_err(|_| anyhow::anyhow!("OAUTH_STATE_SECRET is unusable"))?,
        })
    }
}

/// Registers `GET /oauth/authorize` and `GET /oauth/callback`; needs `Data<OAuth>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/authorize", web::get().to(authorize))
        .route("/oauth/callback", web::get().to(callback));
}

#[derive(Debug, Serialize, Deserialize)]
struct StateClaims {
    /// SHA-256 (base64url) of the nonce in the cookie: binds the state to the browser.
    nonce_hash: String,
    /// talk-app's pre-login binding (`db::tickets::binding_of`), stored with the ticket.
    login: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// SHA-256 of a nonce, base64url: what the state carries.
fn nonce_hash(nonce: &str) -> String {
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(nonce.as_bytes()))
}

/// Validated `?scope=`: known read scopes, `read` always included, Strava's spelling.
fn requested_scopes(query: Option<&str>) -> Option<String> {
    let text = query
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_SCOPES);
    let mut scopes = vec!["read"];
    for s in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let known = KNOWN_SCOPES.iter().find(|k| **k == s)?;
        if !scopes.contains(known) {
            scopes.push(known);
        }
    }
    Some(scopes.join(","))
}

/// Whether the granted scopes let us read activities at all.
fn can_read_activities(granted: &str) -> bool {
    granted
        .split([',', ' '])
        .any(|s| s == "activity:read" || s == "activity:read_all")
}

async fn authorize(req: HttpRequest, oauth: web::Data<OAuth>) -> HttpResponse {
    start(&req, &oauth).unwrap_or_else(|e| e.page(&oauth))
}

/// Sends the browser to Strava's consent page with a signed state and its nonce cookie.
fn start(req: &HttpRequest, oauth: &OAuth) -> Result<HttpResponse, OAuthError> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let Some(login) = query
        .get("login")
        .filter(|l| db::tickets::is_binding(l))
        .cloned()
    else {
        // Started somewhere else than talk-app's button: start there, so the sign-in
        // can be bound to this browser.
        let mut to = reqwest::Url::parse(&format!("{}/auth/connect", oauth.talk_app_url))
            .map_err(|_| OAuthError::NotStarted("TALK_APP_URL does not make a valid URL"))?;
        if let Some(scope) = query.get("scope") {
            to.query_pairs_mut().append_pair("scope", scope);
        }
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, to.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    };
    let scope =
        requested_scopes(query.get("scope").map(String::as_str)).ok_or(OAuthError::UnknownScope)?;
    let nonce =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(db::crypto::random_bytes::<32>());
    let now = Utc::now();
    let claims = StateClaims {
        nonce_hash: nonce_hash(&nonce),
        login,
        aud: STATE_AUDIENCE.into(),
        iat: now.timestamp(),
        exp: (now + STATE_TTL).timestamp(),
    };
    let state = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &oauth.encoding)
        .map_err(|_| OAuthError::NotStarted("could not sign the OAuth state"))?;
    let params = [
        ("client_id", oauth.client.client_id()),
        ("redirect_uri", oauth.redirect_uri.as_str()),
        ("response_type", "code"),
        ("approval_prompt", "auto"),
        ("scope", scope.as_str()),
        ("state", state.as_str()),
    ];
    let location = reqwest::Url::parse_with_params(&oauth.client.authorize_url(), &params)
        .map_err(|_| {
            OAuthError::NotStarted("STRAVA_OAUTH_BASE_URL does not make a valid authorize URL")
        })?;
    let cookie = Cookie::build(NONCE_COOKIE, nonce)
        .path("/oauth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(oauth.secure_cookie)
        .max_age(CookieDuration::seconds(STATE_TTL.num_seconds()))
        .finish();
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish())
}

/// Checks the state's signature, expiry and audience; returns its claims.
fn verify_state(oauth: &OAuth, state: &str) -> Option<StateClaims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[STATE_AUDIENCE]);
    validation.leeway = 0;
    jsonwebtoken::decode::<StateClaims>(state, &oauth.decoding, &validation)
        .ok()
        .map(|t| t.claims)
}

async fn callback(req: HttpRequest, oauth: web::Data<OAuth>) -> HttpResponse {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let mut res = complete_callback(&req, &oauth, &query)
        .await
        .unwrap_or_else(|e| e.page(&oauth));
    // The nonce is spent (or useless) whatever happened: drop the cookie.
    let mut gone = Cookie::build(NONCE_COOKIE, "")
        .path("/oauth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(oauth.secure_cookie)
        .finish();
    gone.make_removal();
    let _ = res.add_cookie(&gone);
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    // The callback URL carries the code; the redirect target carries the ticket.
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The callback's checks in order; each failure is one `OAuthError`, which says
/// what the browser sees and logs its cause once.
async fn complete_callback(
    req: &HttpRequest,
    oauth: &OAuth,
    query: &HashMap<String, String>,
) -> Result<HttpResponse, OAuthError> {
    let claims = query
        .get("state")
        .and_then(|s| verify_state(oauth, s))
        .ok_or(OAuthError::Expired)?;
    let cookie_matches = req.cookie(NONCE_COOKIE).is_some_and(|c| {
        bool::from(
            nonce_hash(c.value())
                .as_bytes()
                .ct_eq(claims.nonce_hash.as_bytes()),
        )
    });
    if !cookie_matches {
        return Err(OAuthError::OtherBrowser);
    }
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    let mut conn = oauth.pool.get().await.map_err(|e| {
        OAuthError::Internal(format!(
            "no database connection for the OAuth callback: {e}"
        ))
    })?;
    let first_use = db::oauth_states::consume(&mut conn, &claims.nonce_hash, expires_at)
        .await
        .map_err(|e| OAuthError::Internal(format!("could not record the OAuth state: {e}")))?;
    drop(conn);
    if !first_use {
        return Err(OAuthError::AlreadyUsed);
    }
    match query.get("error").map(String::as_str) {
        Some("access_denied") => return Err(OAuthError::Denied),
        Some(_) => return Err(OAuthError::NotCompleted),
        None => {}
    }
    let code = query
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or(OAuthError::Incomplete)?;
    let granted = query.get("scope").map(String::as_str).unwrap_or("");
    if !can_read_activities(granted) {
        return Err(OAuthError::ScopeMissing);
    }
    let (athlete, ticket) =
        connect(oauth, code, granted, &claims.login)
            .await
            .map_err(|e| match e {
                ConnectError::Strava(e) => OAuthError::Strava(e),
                ConnectError::Internal(e) => {
                    OAuthError::Internal(format!("storing a new Strava connection failed: {e}"))
                }
            })?;
    tracing::info!(athlete = %athlete, "athlete connected Strava");
    let mut to = reqwest::Url::parse(&format!("{}/auth/complete", oauth.talk_app_url))
        .map_err(|_| OAuthError::Internal("TALK_APP_URL does not make a valid URL".into()))?;
    to.query_pairs_mut().append_pair("ticket", &ticket);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, to.as_str()))
        .finish())
}

/// Why connecting to Strava did not start (`/oauth/authorize`) or did not finish
/// (`/oauth/callback`). The gateway's pages are these two; every failure on them
/// becomes one page through [`OAuthError::page`], which logs the cause once.
#[derive(Debug)]
enum OAuthError {
    /// The link asked for a scope we do not use.
    UnknownScope,
    /// The consent link could not be made (a bug or bad configuration); for the log.
    NotStarted(&'static str),
    /// The signed state is missing, forged or expired.
    Expired,
    /// The nonce cookie is not this state's: another browser, or a forged link.
    OtherBrowser,
    /// The state was consumed already.
    AlreadyUsed,
    /// The athlete declined on Strava's page.
    Denied,
    /// Strava returned another error.
    NotCompleted,
    /// No code came back.
    Incomplete,
    /// The athlete unticked the activity permission.
    ScopeMissing,
    /// The code exchange failed at Strava.
    Strava(StravaError),
    /// Our side failed (database, configuration); the text is for the log only.
    Internal(String),
}

impl OAuthError {
    /// Status, title and sentence of the page; constant text only.
    fn words(&self) -> (StatusCode, &'static str, &'static str) {
        const AGAIN: StatusCode = StatusCode::BAD_REQUEST;
        match self {
            Self::UnknownScope => (
                AGAIN,
                "Unknown permission",
                "The link asked Strava for a permission StravaTalk does not use. Please start again from StravaTalk.",
            ),
            Self::NotStarted(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "StravaTalk could not start connecting to Strava just now.",
            ),
            Self::Expired => (
                AGAIN,
                "This link has expired",
                "Connecting to Strava took too long or the link is not valid. Please start again from StravaTalk.",
            ),
            Self::OtherBrowser => (
                AGAIN,
                "Please start again",
                "Connecting to Strava must finish in the browser where it started. Please start again from StravaTalk.",
            ),
            Self::AlreadyUsed => (
                AGAIN,
                "This link was already used",
                "This Strava connection link has been used already. Please start again from StravaTalk.",
            ),
            Self::Denied => (
                StatusCode::FORBIDDEN,
                "Strava was not connected",
                "You chose not to give StravaTalk access to Strava, so nothing was connected. You can connect any time from StravaTalk.",
            ),
            Self::NotCompleted => (
                AGAIN,
                "Strava was not connected",
                "Strava did not complete the connection. Please start again from StravaTalk.",
            ),
            Self::Incomplete => (
                AGAIN,
                "Strava was not connected",
                "Strava's answer was incomplete. Please start again from StravaTalk.",
            ),
            Self::ScopeMissing => (
                StatusCode::FORBIDDEN,
                "StravaTalk needs to read your activities",
                "StravaTalk answers questions about your activities, so it needs the permission to view data about your activities. Nothing was connected. Please connect again and leave that box ticked.",
            ),
            Self::Strava(_) => (
                StatusCode::BAD_GATEWAY,
                "Strava did not answer",
                "Strava could not complete the connection just now. Please try again in a few minutes.",
            ),
            Self::Internal(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "StravaTalk could not finish connecting to Strava just now. Please try again in a few minutes.",
            ),
        }
    }

    /// Logs the cause once: failures on Strava's or our side; a person's own
    /// refusal or a stale link is not worth a log line.
    fn log(&self) {
        match self {
            Self::Strava(e) => tracing::warn!(error = %e, "Strava did not complete the connection"),
            Self::Internal(e) => tracing::error!(error = %e, "the OAuth callback failed"),
            Self::NotStarted(e) => {
                tracing::error!(error = %e, "connecting to Strava did not start")
            }
            _ => {}
        }
    }

    /// Logs the cause and renders the page the browser sees.
    fn page(&self, oauth: &OAuth) -> HttpResponse {
        self.log();
        let (status, title, text) = self.words();
        page(oauth, status, title, text)
    }
}

enum ConnectError {
    Strava(StravaError),
    Internal(String),
}

/// Exchanges the code and stores everything in one transaction; returns the athlete
/// and the plaintext login ticket.
async fn connect(
    oauth: &OAuth,
    code: &str,
    granted: &str,
    login: &str,
) -> Result<(AthleteId, String), ConnectError> {
    let grant = oauth
        .client
        .exchange_code(code)
        .await
        .map_err(ConnectError::Strava)?;
    let summary = grant
        .athlete
        .clone()
        .ok_or_else(|| ConnectError::Strava(StravaError::Decode("no athlete id".into())))?;
    let id = AthleteId(summary.id);
    // Units are private to profile:read_all; without it (or if the call fails) the
    // athlete keeps what we knew, else Strava's default.
    let mut preference = None;
    if granted.split([',', ' ']).any(|s| s == "profile:read_all") {
        match oauth.client.athlete(&grant.access_token).await {
            Ok(me) => {
                preference = me
                    .measurement_preference
                    .as_deref()
                    .and_then(domain::Units::from_strava);
            }
            Err(e) => tracing::warn!(error = %e, "could not read the athlete's unit preference"),
        }
    }
    let tokens = StravaTokens {
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
        expires_at: grant.expires_at,
        scopes: granted.to_owned(),
    };
    let internal = |e: &dyn std::fmt::Display| ConnectError::Internal(e.to_string());
    let mut conn = oauth.pool.get().await.map_err(|e| internal(&e))?;
    let cipher = &oauth.cipher;
    let ticket = conn
        .transaction(async |conn| {
            let known = db::athletes::find(conn, id).await?;
            let upsert = db::athletes::AthleteUpsert {
                id: id.get(),
                firstname: summary.firstname.clone().unwrap_or_default(),
                lastname: summary.lastname.clone().unwrap_or_default(),
                measurement_preference: preference
                    .or_else(|| known.as_ref().map(|k| k.measurement_preference))
                    .unwrap_or_default(),
                // Learnt from activities later; a reconnect keeps what we had.
                timezone: known.as_ref().and_then(|k| k.timezone.clone()),
                is_demo: false,
            };
            db::athletes::upsert(conn, &upsert).await?;
            db::tokens::save(conn, cipher, id, &tokens).await?;
            db::jobs::enqueue(conn, &crate::worker::backfill_job(id)).await?;
            // A first connection's import is under way from now on, so talk-app's
            // first page already shows the box that follows it (and without
            // JavaScript, refreshes). A reconnect keeps the status it had: a backfill
            // resumes from it.
            if db::sync::find(conn, id).await?.is_none() {
                db::sync::save(conn, &db::sync::SyncStatus::starting(id)).await?;
            }
            let ticket = db::tickets::create(conn, id, TICKET_TTL, login).await?;
            Ok::<_, db::tokens::TokenError>(ticket)
        })
        .await
        .map_err(|e| internal(&e))?;
    // Housekeeping on a path that runs rarely: spent states no longer matter.
    let _ = db::oauth_states::purge_expired(&mut conn, Utc::now()).await;
    Ok((id, ticket))
}

/// A minimal page: a title, one sentence, a link back to talk-app. Only constant text
/// and the configured talk-app URL appear in it.
fn page(oauth: &OAuth, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let href = service::html::escape(&oauth.talk_app_url);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · StravaTalk</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem\">\
         <h1>{title}</h1><p>{text}</p><p><a href=\"{href}/\">Back to StravaTalk</a></p></body></html>\n",
        title = service::html::escape(title),
        text = service::html::escape(text),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// What [`disconnect`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected {
    /// Strava confirmed the revocation (false: the tokens were already dead or absent).
    pub revoked: bool,
    /// The athlete existed here and was erased.
    pub erased: bool,
}

/// Disconnects an athlete: revokes our access at Strava (a refused token means it is
/// already revoked), then erases the athlete and everything stored for them, the same
/// erasure a deauthorization webhook triggers. When Strava cannot be reached nothing
/// is erased, so the command can be repeated.
pub async fn disconnect(
    pool: &db::Pool,
    client: &StravaClient,
    cipher: &TokenCipher,
    athlete: AthleteId,
) -> Result<Disconnected, TokenError> {
    let revoked = match tokens::access_token(pool, client, cipher, athlete).await {
        Ok(access) => match client.deauthorize(&access).await {
            Ok(()) => true,
            Err(StravaError::Unauthorized) => false,
            Err(e) => return Err(e.into()),
        },
        Err(TokenError::NotConnected(_) | TokenError::Reconnect) => false,
        Err(e) => return Err(e),
    };
    let mut conn = pool.get().await?;
    let erased = db::athletes::erase(&mut conn, athlete).await?;
    Ok(Disconnected { revoked, erased })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_read_is_always_asked() {
        assert_eq!(requested_scopes(None).unwrap(), DEFAULT_SCOPES);
        assert_eq!(
            requested_scopes(Some("activity:read")).unwrap(),
            "read,activity:read"
        );
        assert_eq!(
            requested_scopes(Some("read,activity:read_all,read")).unwrap(),
            "read,activity:read_all"
        );
        assert!(requested_scopes(Some("activity:write")).is_none());
        assert!(requested_scopes(Some("read,<script>")).is_none());
    }

    #[test]
    fn activity_scope_is_required() {
        assert!(can_read_activities("read,activity:read_all"));
        assert!(can_read_activities("read,activity:read"));
        assert!(!can_read_activities("read,profile:read_all"));
        assert!(!can_read_activities(""));
    }
}
