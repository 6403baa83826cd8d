//! The session cookie: a signed JWT (HS256) carrying only the session's id. Every
//! request checks that id against `app_sessions`, so logout, erasure and Strava
//! deauthorization end a session at once, on every replica.

use crate::error::AppError;
use crate::settings::WebSettings;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{DateTime, Utc};
use demo::DEMO_ATHLETE_ID;
use domain::AthleteId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

/// The cookie's name.
pub const COOKIE: &str = "stravatalk_session";

/// Signs and checks session tokens.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: chrono::Duration,
    secure: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The `app_sessions` row id.
    sid: Uuid,
    /// Expiry (seconds since the epoch), the same as the row's.
    exp: i64,
}

impl SessionKeys {
    /// Keys from the settings.
    pub fn new(web: &WebSettings) -> Result<Self, jsonwebtoken::errors::Error> {
        let secret = web.session_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            ttl: web.session_ttl,
            secure: web.cookie_secure,
        })
    }

    /// When a session started at `now` ends.
    pub fn expiry(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.ttl
    }

    /// The cookie for a new session row.
    pub fn cookie(&self, id: Uuid, expires_at: DateTime<Utc>) -> Cookie<'static> {
        let claims = Claims {
            sid: id,
            exp: expires_at.timestamp(),
        };
        // HS256 over a fixed struct cannot fail; an empty value would just sign out.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default();
        let max_age = (expires_at - Utc::now()).num_seconds().max(0);
        self.base(token)
            .max_age(CookieDuration::seconds(max_age))
            .finish()
    }

    /// A cookie that makes the browser forget the session.
    pub fn removal(&self) -> Cookie<'static> {
        let mut c = self.base(String::new()).finish();
        c.make_removal();
        c
    }

    fn base(&self, value: String) -> actix_web::cookie::CookieBuilder<'static> {
        Cookie::build(COOKIE, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
    }

    /// The session id inside a cookie value when the signature and expiry hold.
    pub fn session_id(&self, token: &str) -> Option<Uuid> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims.sid)
    }
}

/// A signed-in athlete.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// The session row.
    pub id: Uuid,
    /// Who is signed in.
    pub athlete: AthleteId,
}

/// What the request's cookie says.
#[derive(Debug, Clone, Copy)]
pub enum Visitor {
    /// No session cookie.
    Anonymous,
    /// A cookie that is tampered with, expired or revoked.
    Stale,
    /// A valid session.
    SignedIn(Session),
}

impl Visitor {
    /// The session, or the redirect to `/` that a stale or missing one gets.
    pub fn require(self) -> Result<Session, AppError> {
        match self {
            Self::SignedIn(s) => Ok(s),
            Self::Stale => Err(AppError::SessionEnded),
            Self::Anonymous => Err(AppError::SignInNeeded),
        }
    }
}

/// Reads the cookie and checks the session row; a database failure is an error, not
/// a sign-out. A session of the demo template (from before visitors got copies) is
/// treated as ended.
pub(crate) async fn visitor(req: HttpRequest) -> Result<Visitor, AppError> {
    let Some(cookie) = req.cookie(COOKIE).filter(|c| !c.value().is_empty()) else {
        return Ok(Visitor::Anonymous);
    };
    let keys = req
        .app_data::<web::Data<SessionKeys>>()
        .ok_or(AppError::Internal("session keys missing"))?;
    let Some(id) = keys.session_id(cookie.value()) else {
        return Ok(Visitor::Stale);
    };
    let pool = req
        .app_data::<web::Data<db::Pool>>()
        .ok_or(AppError::Internal("pool missing"))?;
    let mut conn = pool.get().await?;
    let now = Utc::now();
    match db::sessions::find_valid(&mut conn, id, now).await? {
        Some(row) if row.athlete() != DEMO_ATHLETE_ID => {
            db::sessions::touch(&mut conn, id, now).await?;
            Ok(Visitor::SignedIn(Session {
                id,
                athlete: row.athlete(),
            }))
        }
        _ => Ok(Visitor::Stale),
    }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(visitor(req.clone()))
    }
}

impl FromRequest for Session {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { visitor(req).await?.require() })
    }
}

/// Starts a session for `athlete`, ending at `not_after` at the latest (a demo copy's
/// expiry), and returns the cookie to set. The demo template is never signed into:
/// visitors get copies of it.
pub async fn start(
    conn: &mut db::AsyncPgConnection,
    keys: &SessionKeys,
    athlete: AthleteId,
    not_after: Option<DateTime<Utc>>,
) -> Result<Cookie<'static>, AppError> {
    if athlete == DEMO_ATHLETE_ID {
        return Err(AppError::BadRequest(
            "The demo opens with \"Try the demo\" on the home page.",
        ));
    }
    let expires_at = keys.expiry(Utc::now());
    let expires_at = not_after.map_or(expires_at, |t| t.min(expires_at));
    let row = db::sessions::create(conn, athlete, expires_at).await?;
    Ok(keys.cookie(row.id, row.expires_at))
}
