//! The fake's whole world behind one mutex: athletes, activities, tokens, the
//! subscription, settings and records. The lock is never held across an `.await`.

use crate::config::{FakeConfig, WebhookConfig};
use crate::gate::Fault;
use crate::limits::RateCounter;
use crate::model::{Athlete, AuthorizeMode, FakeError, RecordedRequest};
use crate::webhooks::{Delivery, Job};
use chrono::{DateTime, TimeDelta, Utc};
use domain::{Activity, AthleteId};
use rand::RngExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Scopes Strava knows; anything else in `scope=` is refused.
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "read_all",
    "profile:read_all",
    "profile:write",
    "activity:read",
    "activity:read_all",
    "activity:write",
];

/// Keep the request log bounded: benchmarks send hundreds of thousands of requests.
const MAX_LOGGED_REQUESTS: usize = 50_000;

/// A set of granted scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(pub BTreeSet<String>);

impl Scopes {
    /// Whether `scope` was granted.
    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Listing activities needs one of the activity read scopes.
    pub fn can_read_activities(&self) -> bool {
        self.has("activity:read") || self.has("activity:read_all")
    }

    /// Strava's comma-separated spelling, `read` first.
    pub fn to_strava(&self) -> String {
        let mut v: Vec<&str> = self.0.iter().map(String::as_str).collect();
        v.sort_by_key(|s| (*s != "read", *s));
        v.join(",")
    }
}

/// A clock that tests can freeze or move.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// Added to the base time.
    pub offset: TimeDelta,
    /// When set, the base time stands still here.
    pub frozen: Option<DateTime<Utc>>,
}

impl Clock {
    /// The fake's "now". [`Clock::checked`] keeps the offset in range, so the
    /// fallback to the base time is never expected to be taken.
    pub fn now(&self) -> DateTime<Utc> {
        let base = self.frozen.unwrap_or_else(Utc::now);
        base.checked_add_signed(self.offset).unwrap_or(base)
    }

    /// This clock with `frozen` and `offset`, if its time stays within years
    /// 1970..=9999 (so date arithmetic elsewhere cannot overflow).
    pub fn checked(frozen: Option<DateTime<Utc>>, offset: TimeDelta) -> Option<Self> {
        let base = frozen.unwrap_or_else(Utc::now);
        let now = base.checked_add_signed(offset)?;
        let ok = (1970..=9999).contains(&chrono::Datelike::year(&now));
        ok.then_some(Self { offset, frozen })
    }
}

/// An issued authorization code (single use).
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub athlete: AthleteId,
    pub scopes: Scopes,
}

/// What a token stands for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub athlete: AthleteId,
    pub scopes: Scopes,
    /// Unix seconds; only meaningful for access tokens.
    pub expires_at: i64,
    /// The access token issued together with this grant: a refresh hands it back
    /// while it still has more than an hour to live.
    pub access_token: String,
}

/// The push subscription (at most one per application, as on Strava).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subscription {
    /// Subscription id; webhook events carry it.
    pub id: i64,
    /// Where events are POSTed.
    pub callback_url: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// An activity with the few fields the domain type lacks.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub activity: Activity,
    pub description: Option<String>,
}

/// Everything mutable.
pub struct State {
    pub clock: Clock,
    pub athletes: BTreeMap<i64, Athlete>,
    pub activities: BTreeMap<i64, Stored>,
    pub codes: HashMap<String, AuthCode>,
    pub access_tokens: HashMap<String, Grant>,
    pub refresh_tokens: HashMap<String, Grant>,
    pub subscription: Option<Subscription>,
    pub next_subscription_id: i64,
    pub next_activity_id: i64,
    pub next_athlete_id: i64,
    pub authorize: AuthorizeMode,
    pub login_athlete: Option<AthleteId>,
    pub short_pages: Option<usize>,
    pub token_ttl: Duration,
    pub ascending_with_after: bool,
    pub rate: RateCounter,
    pub faults: Vec<Fault>,
    pub request_count: u64,
    pub requests: Vec<RecordedRequest>,
    pub webhook: WebhookConfig,
    pub deliveries: Vec<Delivery>,
}

impl State {
    fn new(config: &FakeConfig) -> Self {
        Self {
            clock: Clock::default(),
            athletes: BTreeMap::new(),
            activities: BTreeMap::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            subscription: None,
            next_subscription_id: 120_000,
            // Ids in the range real Strava hands out today, below 2^53.
            next_activity_id: 12_000_000_001,
            next_athlete_id: 30_000_001,
            authorize: AuthorizeMode::Approve,
            login_athlete: None,
            short_pages: None,
            token_ttl: config.token_ttl,
            ascending_with_after: config.ascending_with_after,
            rate: RateCounter::new(config.rate_limits),
            faults: Vec::new(),
            request_count: 0,
            requests: Vec::new(),
            webhook: config.webhook,
            deliveries: Vec::new(),
        }
    }

    /// The fake's now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The athlete, or an error naming the id.
    pub fn athlete(&self, id: AthleteId) -> Result<&Athlete, FakeError> {
        self.athletes
            .get(&id.get())
            .ok_or(FakeError::UnknownAthlete(id.get()))
    }

    /// A fresh activity id above every id in use.
    pub fn take_activity_id(&mut self) -> i64 {
        let top = self.activities.keys().next_back().copied().unwrap_or(0);
        let id = self.next_activity_id.max(top + 1);
        self.next_activity_id = id + 1;
        id
    }

    /// Issues an access token (and, when `with_refresh`, a refresh token that
    /// replaces any earlier one of this athlete: one live refresh token per athlete).
    pub fn issue_tokens(&mut self, athlete: AthleteId, scopes: Scopes) -> (String, String, i64) {
        let ttl = i64::try_from(self.token_ttl.as_secs()).unwrap_or(i64::MAX / 4);
        let expires_at = self.now().timestamp().saturating_add(ttl);
        let access = random_token();
        let grant = Grant {
            athlete,
            scopes,
            expires_at,
            access_token: access.clone(),
        };
        let refresh = random_token();
        self.refresh_tokens.retain(|_, g| g.athlete != athlete);
        self.access_tokens.insert(access.clone(), grant.clone());
        self.refresh_tokens.insert(refresh.clone(), grant);
        (access, refresh, expires_at)
    }

    /// Appends to the request log, dropping the oldest half when it is full.
    pub fn log_request(&mut self, r: RecordedRequest) {
        if self.requests.len() >= MAX_LOGGED_REQUESTS {
            self.requests.drain(..MAX_LOGGED_REQUESTS / 2);
        }
        self.requests.push(r);
    }
}

/// State plus the immutable settings and the channel to the delivery worker.
pub struct Shared {
    pub client_id: String,
    pub client_secret: String,
    pub handshake_timeout: Duration,
    state: Mutex<State>,
    pub jobs: UnboundedSender<Job>,
    /// Client for the handshake and webhooks. Pooling is off because requests come
    /// from several runtimes (actix workers and the delivery thread).
    pub http: reqwest::Client,
}

impl Shared {
    /// Builds the shared state; `jobs` feeds the webhook delivery worker.
    pub fn new(config: &FakeConfig, jobs: UnboundedSender<Job>) -> std::io::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            handshake_timeout: config.handshake_timeout,
            state: Mutex::new(State::new(config)),
            jobs,
            http,
        })
    }

    /// Locks the state. A panic elsewhere must not wedge the fake, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks the application's credentials (constant-time, as a real server should).
    pub fn app_matches(&self, client_id: &str, client_secret: &str) -> bool {
        ct_eq(client_id.trim(), &self.client_id) & ct_eq(client_secret, &self.client_secret)
    }
}

/// Constant-time string comparison.
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    diff == 0
}

/// 40 hex characters, like Strava's tokens.
pub fn random_token() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
