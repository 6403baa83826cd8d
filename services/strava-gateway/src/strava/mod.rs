//! The Strava HTTP client: OAuth token grants, the athlete and activity reads, push
//! subscriptions and deauthorization, each mapped to a [`StravaError`] the callers can
//! act on (postpone, reconnect, retry). API calls pass the shared rate-limit
//! [`Governor`]; OAuth calls do not count against Strava's API budget.
//!
//! Base URLs come from configuration, so tests point the client at the fake Strava.
//! Tokens are only ever sent in headers or form bodies, and errors carry no token,
//! secret or URL.

pub mod governor;

pub use governor::{Clock, Governor};

pub use crate::convert::{Listed, StravaActivity};
use crate::settings::StravaSettings;
use chrono::{DateTime, Utc};
use domain::{ActivityId, Secret};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// Why a Strava call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StravaError {
    /// The rate-limit budget is spent (ours or Strava's 429); try again at `until`.
    #[error("Strava's rate limit is reached until {until}")]
    RateLimited { until: DateTime<Utc> },
    /// The token (or grant) was refused: expired, revoked or lacking a scope.
    #[error("Strava refused the athlete's authorization")]
    Unauthorized,
    /// No such resource (or not visible to this athlete).
    #[error("not found at Strava")]
    NotFound,
    /// Strava failed (5xx); worth retrying later.
    #[error("Strava answered {0}")]
    Server(u16),
    /// The request did not complete (connection, timeout).
    #[error("cannot reach Strava: {0}")]
    Transport(String),
    /// The response was not what Strava documents.
    #[error("unexpected answer from Strava: {0}")]
    Decode(String),
    /// Strava refused the request itself (4xx other than 401/404/429).
    #[error("Strava refused the request: {0}")]
    Rejected(String),
}

/// What the token endpoint grants.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: Secret<String>,
    pub refresh_token: Secret<String>,
    pub expires_at: DateTime<Utc>,
    /// The SummaryAthlete, sent with a code exchange (not with a refresh); `None`
    /// when absent or without a usable id.
    pub athlete: Option<StravaAthlete>,
}

/// The athlete as Strava sends it (SummaryAthlete with a code exchange,
/// DetailedAthlete from `/athlete`): the fields we read. Any others Strava sends, now
/// or later, are ignored; missing or null names read as absent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StravaAthlete {
    pub id: i64,
    #[serde(default)]
    pub firstname: Option<String>,
    #[serde(default)]
    pub lastname: Option<String>,
    /// "meters" or "feet"; sent only with the `profile:read_all` scope.
    #[serde(default)]
    pub measurement_preference: Option<String>,
    /// SummaryGear of the athlete's bikes (DetailedAthlete), read by
    /// [`crate::convert::gear_from_strava`].
    #[serde(default)]
    pub bikes: Option<Vec<serde_json::Value>>,
    /// SummaryGear of the athlete's shoes (DetailedAthlete).
    #[serde(default)]
    pub shoes: Option<Vec<serde_json::Value>>,
}

/// Our push subscription, as Strava lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: i64,
    pub callback_url: String,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    refresh_token: String,
    expires_at: i64,
    athlete: Option<serde_json::Value>,
}

/// A Strava client for this application; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct StravaClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    oauth_base: String,
    authorize_base: String,
    api_base: String,
    client_id: String,
    client_secret: Secret<String>,
    governor: Governor,
}

impl std::fmt::Debug for StravaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StravaClient")
            .field("oauth_base", &self.inner.oauth_base)
            .field("api_base", &self.inner.api_base)
            .field("client_id", &self.inner.client_id)
            .field("governor", &self.inner.governor)
            .finish_non_exhaustive()
    }
}

impl StravaClient {
    /// A client for `cfg`, spending the rate-limit budget kept in `pool`.
    pub fn new(cfg: &StravaSettings, pool: db::Pool) -> Self {
        let governor = Governor::new(pool, cfg.rate_limits, cfg.rate_limit_max_wait);
        Self::with_governor(cfg, governor)
    }

    /// A client that keeps no shared budget (CLI commands run without a database).
    pub fn without_budget(cfg: &StravaSettings) -> Self {
        Self::with_governor(cfg, Governor::unbudgeted())
    }

    /// A client with a governor of the caller's making (tests: a fixed clock).
    pub fn with_governor(cfg: &StravaSettings, governor: Governor) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("StravaTalk-gateway/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            // Strava's API does not redirect; following one could carry a token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // Only fails when the TLS backend cannot initialise: a broken build.
            .expect("the HTTP client can be built");
        Self {
            inner: Arc::new(Inner {
                http,
                oauth_base: cfg.oauth_base_url.trim_end_matches('/').to_owned(),
                authorize_base: cfg.authorize_base_url.trim_end_matches('/').to_owned(),
                api_base: cfg.api_base_url.trim_end_matches('/').to_owned(),
                client_id: cfg.client_id.clone(),
                client_secret: cfg.client_secret.clone(),
                governor,
            }),
        }
    }

    /// The rate-limit governor this client obeys.
    pub fn governor(&self) -> &Governor {
        &self.inner.governor
    }

    /// The application's client id (public: it appears in the authorize URL).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// `{STRAVA_OAUTH_BASE_URL}/authorize`, where browsers are sent to approve.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.inner.authorize_base)
    }

    // --- OAuth ---------------------------------------------------------------------

    /// Exchanges an authorization code for tokens and the athlete's summary.
    pub async fn exchange_code(&self, code: &str) -> Result<TokenGrant, StravaError> {
        self.token_grant(&[("grant_type", "authorization_code"), ("code", code)])
            .await
    }

    /// Swaps a refresh token for a new access token (and, possibly, a new refresh
    /// token: the old one then stops working). An invalid or revoked refresh token is
    /// `Unauthorized`.
    pub async fn refresh(&self, refresh_token: &Secret<String>) -> Result<TokenGrant, StravaError> {
        self.token_grant(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    async fn token_grant(&self, grant: &[(&str, &str)]) -> Result<TokenGrant, StravaError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.inner.client_id),
            ("client_secret", self.inner.client_secret.expose()),
        ];
        form.extend_from_slice(grant);
        let res = self
            .inner
            .http
            .post(format!("{}/token", self.inner.oauth_base))
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let status = res.status();
        if status.is_success() {
            let body: TokenBody = decode(res).await?;
            let expires_at = DateTime::from_timestamp(body.expires_at, 0)
                .ok_or_else(|| StravaError::Decode("expires_at out of range".into()))?;
            return Ok(TokenGrant {
                access_token: Secret::new(body.access_token),
                refresh_token: Secret::new(body.refresh_token),
                expires_at,
                // The tokens are good even when the athlete is not: the caller says
                // what it needed from it.
                athlete: body
                    .athlete
                    .and_then(|a| serde_json::from_value::<StravaAthlete>(a).ok())
                    .filter(|a| a.id > 0),
            });
        }
        let summary = error_summary(res).await;
        // A refused grant (bad code, dead refresh token) is the athlete's authorization
        // failing; a refused application is our configuration.
        if let Some(e) = application_refused(status, &summary) {
            return Err(e);
        }
        match status {
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => Err(StravaError::Unauthorized),
            other => Err(status_error(other, &summary)),
        }
    }

    /// Revokes the application's access for the athlete owning `access`.
    pub async fn deauthorize(&self, access: &Secret<String>) -> Result<(), StravaError> {
        let res = self
            .inner
            .http
            .post(format!("{}/deauthorize", self.inner.oauth_base))
            .form(&[("access_token", access.expose())])
            .send()
            .await
            .map_err(transport)?;
        if res.status().is_success() {
            return Ok(());
        }
        let status = res.status();
        let summary = error_summary(res).await;
        Err(status_error(status, &summary))
    }

    // --- API -----------------------------------------------------------------------

    /// The authenticated athlete (DetailedAthlete with `profile:read_all`).
    pub async fn athlete(&self, access: &Secret<String>) -> Result<StravaAthlete, StravaError> {
        let res = self
            .api(Method::GET, "/athlete", |r| r.bearer_auth(access.expose()))
            .await?;
        decode(res).await
    }

    /// One page of the athlete's activities (SummaryActivity), newest first; each item
    /// read on its own, so one that does not read does not lose the page.
    pub async fn list_activities(
        &self,
        access: &Secret<String>,
        page: u32,
        per_page: u32,
        before: Option<i64>,
        after: Option<i64>,
    ) -> Result<Vec<Listed>, StravaError> {
        let mut query: Vec<(&str, String)> = vec![
            ("page", page.max(1).to_string()),
            ("per_page", per_page.clamp(1, 200).to_string()),
        ];
        if let Some(b) = before {
            query.push(("before", b.to_string()));
        }
        if let Some(a) = after {
            query.push(("after", a.to_string()));
        }
        let res = self
            .api(Method::GET, "/athlete/activities", |r| {
                r.bearer_auth(access.expose()).query(&query)
            })
            .await?;
        decode(res).await
    }

    /// One activity (DetailedActivity); `None` when Strava no longer has it. One that
    /// does not read is [`StravaError::Decode`], naming the field.
    pub async fn get_activity(
        &self,
        access: &Secret<String>,
        id: ActivityId,
    ) -> Result<Option<StravaActivity>, StravaError> {
        let path = format!("/activities/{id}");
        match self
            .api(Method::GET, &path, |r| r.bearer_auth(access.expose()))
            .await
        {
            Ok(res) => decode(res).await.map(Some),
            Err(StravaError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One piece of gear (DetailedGear); `None` when Strava does not have it.
    pub async fn gear(
        &self,
        access: &Secret<String>,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StravaError> {
        // Gear ids are letters and digits; anything else is not asked for in a URL.
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let path = format!("/gear/{id}");
        match self
            .api(Method::GET, &path, |r| r.bearer_auth(access.expose()))
            .await
        {
            Ok(res) => decode(res).await.map(Some),
            Err(StravaError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    // --- push subscriptions ----------------------------------------------------------

    /// Creates the application's push subscription; Strava first checks the callback
    /// with a GET handshake. Returns the subscription id.
    pub async fn create_subscription(
        &self,
        callback_url: &str,
        verify_token: &Secret<String>,
    ) -> Result<i64, StravaError> {
        #[derive(Deserialize)]
        struct Created {
            id: i64,
        }
        let form = [
            ("client_id", self.inner.client_id.as_str()),
            ("client_secret", self.inner.client_secret.expose()),
            ("callback_url", callback_url),
            ("verify_token", verify_token.expose()),
        ];
        let res = self
            .api(Method::POST, "/push_subscriptions", |r| r.form(&form))
            .await?;
        Ok(decode::<Created>(res).await?.id)
    }

    /// The application's push subscription, if it has one.
    pub async fn view_subscription(&self) -> Result<Option<Subscription>, StravaError> {
        #[derive(Deserialize)]
        struct Listed {
            id: i64,
            callback_url: String,
        }
        let query = self.app_query();
        let res = self
            .api(Method::GET, "/push_subscriptions", |r| r.query(&query))
            .await?;
        let listed: Vec<Listed> = decode(res).await?;
        Ok(listed.into_iter().next().map(|s| Subscription {
            id: s.id,
            callback_url: s.callback_url,
        }))
    }

    /// Deletes the push subscription `id`.
    pub async fn delete_subscription(&self, id: i64) -> Result<(), StravaError> {
        let query = self.app_query();
        self.api(Method::DELETE, &format!("/push_subscriptions/{id}"), |r| {
            r.query(&query)
        })
        .await
        .map(drop)
    }

    fn app_query(&self) -> [(&'static str, String); 2] {
        [
            ("client_id", self.inner.client_id.clone()),
            ("client_secret", self.inner.client_secret.expose().clone()),
        ]
    }

    /// Sends one API request through the governor and maps failures; the response
    /// returned is a success.
    async fn api(
        &self,
        method: Method,
        path: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, StravaError> {
        let governor = &self.inner.governor;
        let is_read = method == Method::GET;
        let sent_at = governor.admit(is_read).await?;
        let url = format!("{}{path}", self.inner.api_base);
        let res = build(self.inner.http.request(method, url))
            .send()
            .await
            .map_err(transport)?;
        let status = res.status();
        let retry_at = governor
            .observe(
                sent_at,
                res.headers(),
                status == StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        if let Some(until) = retry_at {
            return Err(StravaError::RateLimited { until });
        }
        if status.is_success() {
            return Ok(res);
        }
        let summary = error_summary(res).await;
        Err(application_refused(status, &summary).unwrap_or_else(|| status_error(status, &summary)))
    }
}

/// A 400/401 about the application (wrong client id or secret) is our configuration,
/// not the athlete's authorization: it must not make every athlete look disconnected.
fn application_refused(status: StatusCode, summary: &ErrorSummary) -> Option<StravaError> {
    let refused = matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED);
    (refused && summary.resources.iter().any(|r| r == "Application"))
        .then(|| {
            StravaError::Rejected(
                "Strava refused the application's credentials: check STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET"
                    .into(),
            )
        })
}

/// The parts of Strava's `{"message", "errors": [{resource, field, code}]}` body that
/// are safe to repeat in logs.
#[derive(Debug, Default)]
struct ErrorSummary {
    message: String,
    resources: Vec<String>,
    details: Vec<String>,
}

/// Strava's error body (`Fault`): a message and a list of errors; each string is cut
/// to 80 characters before it goes anywhere.
#[derive(Debug, Default, Deserialize)]
struct Fault {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Vec<FaultError>,
}

#[derive(Debug, Default, Deserialize)]
struct FaultError {
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

async fn error_summary(res: Response) -> ErrorSummary {
    let Ok(body) = res.json::<Fault>().await else {
        return ErrorSummary::default();
    };
    let text = |v: &Option<String>| {
        v.as_deref()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect::<String>()
    };
    ErrorSummary {
        message: text(&body.message),
        resources: body.errors.iter().map(|e| text(&e.resource)).collect(),
        details: body
            .errors
            .iter()
            .map(|e| format!("{}.{} {}", text(&e.resource), text(&e.field), text(&e.code)))
            .collect(),
    }
}

fn status_error(status: StatusCode, summary: &ErrorSummary) -> StravaError {
    match status.as_u16() {
        401 => StravaError::Unauthorized,
        404 => StravaError::NotFound,
        429 => StravaError::RateLimited {
            until: db::ratelimit::next_quarter(Utc::now()),
        },
        s if s >= 500 => StravaError::Server(s),
        s => {
            let mut text = format!("{s} {}", summary.message);
            if !summary.details.is_empty() {
                text.push_str(&format!(" ({})", summary.details.join("; ")));
            }
            StravaError::Rejected(text.trim().to_owned())
        }
    }
}

/// A transport error without its URL (which may carry the client secret in a query).
fn transport(e: reqwest::Error) -> StravaError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    StravaError::Transport(format!("{kind}: {}", e.without_url()))
}

async fn decode<T: serde::de::DeserializeOwned>(res: Response) -> Result<T, StravaError> {
    let bytes = res.bytes().await.map_err(transport)?;
    serde_json::from_slice(&bytes).map_err(|e| StravaError::Decode(e.to_string()))
}
