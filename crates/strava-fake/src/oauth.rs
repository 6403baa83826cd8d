//! `/oauth/authorize`, `/oauth/token` and `/oauth/deauthorize`.
//!
//! Authorization auto-approves (or denies, or grants fewer scopes, as told). Codes are
//! single use. A refresh while the access token has more than an hour left returns
//! the same tokens and expiry; otherwise it issues new ones and the old refresh
//! token dies at once.

use crate::json::{ApiError, summary_athlete};
use crate::model::{AuthorizeMode, TokenPair};
use crate::params::{Params, with_query};
use crate::state::{AuthCode, KNOWN_SCOPES, Scopes, Shared, random_token};
use actix_web::http::header;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use domain::AthleteId;
use serde_json::json;

/// A refresh returns the current access token while it has more than this left.
const REUSE_ABOVE_SECS: i64 = 3600;

/// `GET /oauth/authorize`: redirects straight back, as if the athlete clicked "Authorize".
pub async fn authorize(req: HttpRequest, shared: Data<Shared>) -> Result<HttpResponse, ApiError> {
    let p = Params::query(&req)?;
    let client_id = p.require("Application", "client_id")?;
    if client_id != shared.client_id {
        return Err(ApiError::bad_request("Application", "client_id", "invalid"));
    }
    let redirect = p.require("Application", "redirect_uri")?;
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return Err(ApiError::bad_request(
            "Application",
            "redirect_uri",
            "invalid",
        ));
    }
    if p.get("response_type") != Some("code") {
        return Err(ApiError::bad_request(
            "Application",
            "response_type",
            "invalid",
        ));
    }
    let requested = parse_scopes(p.get("scope").unwrap_or("read"))?;
    let state = p.get("state").unwrap_or("");

    let mut st = shared.lock();
    let granted = match &st.authorize {
        AuthorizeMode::Deny => {
            let to = with_query(redirect, &[("state", state), ("error", "access_denied")]);
            return Ok(found(&to));
        }
        AuthorizeMode::Approve => requested,
        AuthorizeMode::Without { scopes } => Scopes(
            requested
                .0
                .into_iter()
                .filter(|s| s == "read" || !scopes.contains(s))
                .collect(),
        ),
    };
    let athlete = match st.login_athlete {
        Some(a) => st.athlete(a).map(|a| a.id).ok(),
        None => st.athletes.values().next().map(|a| a.id),
    }
    .ok_or_else(|| ApiError::bad_request("Athlete", "login", "no athlete to log in"))?;
    let code = random_token();
    let scope_text = granted.to_strava();
    st.codes.insert(
        code.clone(),
        AuthCode {
            athlete,
            scopes: granted,
        },
    );
    drop(st);
    let to = with_query(
        redirect,
        &[("state", state), ("code", &code), ("scope", &scope_text)],
    );
    Ok(found(&to))
}

/// Parses `scope=` ("read,activity:read_all"); `read` is always included.
pub fn parse_scopes(text: &str) -> Result<Scopes, ApiError> {
    let mut scopes = Scopes::default();
    scopes.0.insert("read".into());
    for s in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !KNOWN_SCOPES.contains(&s) {
            return Err(ApiError::bad_request("Authorize", "scope", "invalid"));
        }
        scopes.0.insert(s.to_string());
    }
    Ok(scopes)
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `POST /oauth/token`: the authorization_code and refresh_token grants.
pub async fn token(
    req: HttpRequest,
    body: Bytes,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::read(&req, &body)?;
    let client_id = p.get("client_id").unwrap_or("");
    let client_secret = p.get("client_secret").unwrap_or("");
    if !shared.app_matches(client_id, client_secret) {
        let field = if client_id == shared.client_id {
            "client_secret"
        } else {
            "client_id"
        };
        return Err(ApiError::unauthorized("Application", field, "invalid"));
    }
    let mut st = shared.lock();
    match p.get("grant_type") {
        Some("authorization_code") => {
            let code = p.require("AuthorizationCode", "code")?;
            // Removing it is what makes it single use.
            let grant = st
                .codes
                .remove(code)
                .ok_or_else(|| ApiError::bad_request("AuthorizationCode", "code", "invalid"))?;
            let athlete = st
                .athlete(grant.athlete)
                .map(summary_athlete)
                .map_err(|_| ApiError::bad_request("AuthorizationCode", "code", "invalid"))?;
            let (access, refresh, expires_at) = st.issue_tokens(grant.athlete, grant.scopes);
            let ttl = expires_at - st.now().timestamp();
            Ok(HttpResponse::Ok().json(json!({
                "token_type": "Bearer",
                "expires_at": expires_at,
                "expires_in": ttl,
                "refresh_token": refresh,
                "access_token": access,
                "athlete": athlete,
            })))
        }
        Some("refresh_token") => {
            let old = p.require("RefreshToken", "refresh_token")?;
            let grant =
                st.refresh_tokens.get(old).cloned().ok_or_else(|| {
                    ApiError::bad_request("RefreshToken", "refresh_token", "invalid")
                })?;
            let now = st.now().timestamp();
            let live = st
                .access_tokens
                .get(&grant.access_token)
                .map(|g| g.expires_at)
                .filter(|expires_at| expires_at - now > REUSE_ABOVE_SECS);
            let (access, refresh, expires_at) = match live {
                // Strava answers an early refresh with the tokens already held.
                Some(expires_at) => (grant.access_token, old.to_string(), expires_at),
                None => st.issue_tokens(grant.athlete, grant.scopes),
            };
            let ttl = expires_at - st.now().timestamp();
            Ok(HttpResponse::Ok().json(json!({
                "token_type": "Bearer",
                "access_token": access,
                "expires_at": expires_at,
                "expires_in": ttl,
                "refresh_token": refresh,
            })))
        }
        _ => Err(ApiError::bad_request(
            "Application",
            "grant_type",
            "invalid",
        )),
    }
}

/// `POST /oauth/deauthorize`: revokes every token of the athlete and, like Strava,
/// pushes the athlete deauthorization event.
pub async fn deauthorize(
    req: HttpRequest,
    body: Bytes,
    shared: Data<Shared>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::read(&req, &body)?;
    let token = match p.get("access_token") {
        Some(t) => t.to_string(),
        None => bearer(&req).ok_or_else(ApiError::bad_token)?,
    };
    let athlete = {
        let st = shared.lock();
        let now = st.now().timestamp();
        match st.access_tokens.get(&token) {
            Some(g) if g.expires_at > now => g.athlete,
            _ => return Err(ApiError::bad_token()),
        }
    };
    shared
        .deauthorize_athlete(athlete)
        .map_err(|_| ApiError::bad_token())?;
    Ok(HttpResponse::Ok().json(json!({"access_token": token})))
}

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl Shared {
    /// Issues tokens directly, skipping the browser dance (for tests).
    pub fn issue_tokens_for(&self, athlete: AthleteId, scope: &str) -> Result<TokenPair, String> {
        let scopes = parse_scopes(scope).map_err(|e| e.to_string())?;
        let mut st = self.lock();
        st.athlete(athlete).map_err(|e| e.to_string())?;
        let (access_token, refresh_token, expires_at) = st.issue_tokens(athlete, scopes);
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_at,
        })
    }
}
