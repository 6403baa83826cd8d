//! A fake Strava API on 127.0.0.1, for StravaTalk's tests and local development.
//!
//! It serves, over real HTTP, what StravaTalk uses of Strava: OAuth (authorize,
//! token, deauthorize), the athlete, activity listing and detail, push subscriptions
//! with the callback handshake, webhook delivery with retries, rate limits with
//! Strava's headers, and injectable faults. JSON follows Strava's API reference.
//! What it emulates of Strava's documented behaviour, and what it leaves out, is
//! tabled in the crate's `README.md` (`crates/strava-fake/README.md`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use strava_fake::{FakeConfig, FakeStrava, NewAthlete};
//! let fake = FakeStrava::start(FakeConfig::default()).await?;
//! let athlete = fake.add_athlete(NewAthlete::default()).expect("athlete");
//! fake.generate_activities(athlete, 500).expect("activities");
//! let api = format!("{}/api/v3", fake.base_url());
//! # let _ = api; Ok(()) }
//! ```
//!
//! The server runs on its own thread with its own actix `System`, so a
//! `#[tokio::test]` of either flavour (or a plain `#[test]`, via
//! [`FakeStrava::start_blocking`]) can start it. The handle changes state directly;
//! the same operations are available over HTTP under `/_fake` for the binary.
//!
//! Control endpoints (JSON bodies; answers are JSON or 204):
//! `GET /_fake/state`, `GET|POST /_fake/athletes`, `POST /_fake/athletes/{id}/generate`
//! `{"count"}`, `POST /_fake/athletes/{id}/activities` (upload, [`NewActivity`]),
//! `POST /_fake/athletes/{id}/deauthorize`, `POST /_fake/athletes/{id}/tokens`
//! `{"scope"}`, `PATCH|DELETE /_fake/activities/{id}` ([`ActivityUpdate`]),
//! `PUT /_fake/authorize` ([`AuthorizeMode`]), `PUT /_fake/login` `{"athlete_id"}`,
//! `PUT /_fake/short_pages` `{"max"}`, `GET|PUT /_fake/rate_limits` ([`RateLimits`] or
//! `null`), `POST /_fake/rate_limits/reset`, `GET|POST|DELETE /_fake/faults`
//! `{"kind": "fail"|"delay", "count", "status", "millis", "path_prefix"}`,
//! `GET|PUT /_fake/clock` `{"now": date|null, "advance_secs"}`,
//! `POST /_fake/tokens/expire` `{"athlete_id"}`, `PUT /_fake/token_ttl` `{"secs"}`,
//! `PUT /_fake/webhook` `{"attempts", "timeout_ms", "retry_delay_ms"}`,
//! `GET /_fake/requests`, `GET /_fake/deliveries`, `POST /_fake/seed` ([`SeedFile`]).

// serde_json::json! of a full activity nests deeper than the default allows.
#![recursion_limit = "256"]

mod api;
mod config;
mod control;
mod gate;
pub mod json;
mod limits;
mod model;
mod oauth;
mod ops;
mod params;
pub mod seed;
mod server;
mod state;
mod subscriptions;
mod webhooks;

pub use config::{FakeConfig, RateLimits, WebhookConfig};
pub use domain::{Activity, ActivityId, AthleteId, Units};
pub use gate::FaultKind;
pub use limits::RateUsage;
pub use model::{
    ActivityUpdate, Athlete, AuthorizeMode, FakeError, NewActivity, NewAthlete, RecordedRequest,
    TokenPair,
};
pub use seed::{SeedActivity, SeedAthlete, SeedFile};
pub use state::Subscription;
pub use webhooks::{Attempt, Delivery, DeliveryOutcome, WebhookEvent};

use chrono::{DateTime, TimeDelta, Utc};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running fake. Dropping it stops the server.
pub struct FakeStrava {
    shared: Arc<state::Shared>,
    running: Option<server::Running>,
    addr: SocketAddr,
}

impl FakeStrava {
    /// Binds `config.host:config.port` (port 0: any free port) and starts serving.
    /// Returns once the server accepts connections.
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        Self::start_blocking(config)
    }

    /// Same as [`FakeStrava::start`] for code without an async runtime.
    pub fn start_blocking(config: FakeConfig) -> std::io::Result<Self> {
        let (shared, running) = server::spawn(&config)?;
        Ok(Self {
            shared,
            addr: running.addr,
            running: Some(running),
        })
    }

    /// Stops the server and waits for its thread to end.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.handle.stop(false).await;
            // The thread ends right after the server future; join off the runtime.
            let _ = tokio::task::spawn_blocking(move || running.thread.join()).await;
        }
    }

    /// `http://127.0.0.1:PORT` — Strava's `https://www.strava.com` equivalent.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()/api/v3`.
    pub fn api_url(&self) -> String {
        format!("{}/api/v3", self.base_url())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The application's client id.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The application's client secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
    }

    // --- seeding -----------------------------------------------------------------

    /// Adds an athlete and returns its id.
    pub fn add_athlete(&self, athlete: NewAthlete) -> Result<AthleteId, FakeError> {
        self.shared.add_athlete(athlete).map(|a| a.id)
    }

    /// All athletes.
    pub fn athletes(&self) -> Vec<Athlete> {
        self.shared.lock().athletes.values().cloned().collect()
    }

    /// Adds `count` generated activities (newest ending today; again → further back).
    pub fn generate_activities(
        &self,
        athlete: AthleteId,
        count: usize,
    ) -> Result<Vec<ActivityId>, FakeError> {
        self.shared.generate_activities(athlete, count)
    }

    /// Adds activities as they are, without webhook events.
    pub fn add_activities(&self, activities: Vec<Activity>) -> Result<(), FakeError> {
        self.shared.add_activities(activities)
    }

    /// Loads a seed file's content.
    pub fn seed(&self, file: SeedFile) -> Result<Vec<AthleteId>, FakeError> {
        self.shared.seed(file)
    }

    /// An athlete's activities, oldest first.
    pub fn activities(&self, athlete: AthleteId) -> Vec<Activity> {
        let st = self.shared.lock();
        let mut v: Vec<Activity> = st
            .activities
            .values()
            .filter(|s| s.activity.athlete_id == athlete)
            .map(|s| s.activity.clone())
            .collect();
        v.sort_by_key(|a| (a.start_date, a.id));
        v
    }

    /// One activity.
    pub fn activity(&self, id: ActivityId) -> Option<Activity> {
        let st = self.shared.lock();
        st.activities.get(&id.get()).map(|s| s.activity.clone())
    }

    // --- uploads and webhook events ---------------------------------------------

    /// Creates an activity and pushes a `create` event to the subscription.
    pub fn upload_activity(
        &self,
        athlete: AthleteId,
        activity: NewActivity,
    ) -> Result<ActivityId, FakeError> {
        self.shared.upload_activity(athlete, activity)
    }

    /// Changes an activity and pushes an `update` event (title/type/private).
    pub fn update_activity(&self, id: ActivityId, change: ActivityUpdate) -> Result<(), FakeError> {
        self.shared.update_activity(id, change)
    }

    /// Deletes an activity and pushes a `delete` event.
    pub fn delete_activity(&self, id: ActivityId) -> Result<(), FakeError> {
        self.shared.delete_activity(id)
    }

    /// Revokes the athlete's tokens and pushes `{"authorized": "false"}`.
    pub fn deauthorize_athlete(&self, athlete: AthleteId) -> Result<(), FakeError> {
        self.shared.deauthorize_athlete(athlete)
    }

    /// The subscription, if one was created.
    pub fn subscription(&self) -> Option<Subscription> {
        self.shared.lock().subscription.clone()
    }

    /// Every event so far with its delivery record.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// Waits until at least `count` deliveries have finished (delivered, failed or
    /// had no subscription) or `timeout` passes; returns all deliveries either way.
    pub async fn wait_for_deliveries(&self, count: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + timeout;
        loop {
            let all = self.deliveries();
            let done = all
                .iter()
                .filter(|d| d.outcome != DeliveryOutcome::Pending)
                .count();
            if done >= count || Instant::now() >= deadline {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Webhook attempts, per-attempt timeout and pause between attempts.
    pub fn set_webhook(&self, webhook: WebhookConfig) {
        self.shared.lock().webhook = webhook;
    }

    // --- OAuth behaviour ---------------------------------------------------------

    /// How `/oauth/authorize` answers from now on.
    pub fn set_authorize_mode(&self, mode: AuthorizeMode) {
        self.shared.lock().authorize = mode;
    }

    /// Which athlete "logs in" at `/oauth/authorize` (`None`: the first one).
    pub fn set_login_athlete(&self, athlete: Option<AthleteId>) {
        self.shared.lock().login_athlete = athlete;
    }

    /// Issues a token pair directly, e.g. `"read,activity:read_all"`.
    pub fn issue_tokens(&self, athlete: AthleteId, scope: &str) -> Result<TokenPair, FakeError> {
        self.shared
            .issue_tokens_for(athlete, scope)
            .map_err(FakeError::Invalid)
    }

    /// Lifetime of tokens issued from now on (Strava: 6 hours).
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.shared.lock().token_ttl = ttl;
    }

    /// Expires the access tokens of one athlete (or everyone's) now.
    pub fn expire_access_tokens(&self, athlete: Option<AthleteId>) {
        self.shared.expire_access_tokens(athlete);
    }

    // --- clock -------------------------------------------------------------------

    /// The fake's now (drives token expiry, rate-limit windows, event times).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().now()
    }

    /// Freezes the clock at `now`, or (`None`) follows real time again.
    /// Times outside years 1970..=9999 are refused.
    pub fn set_now(&self, now: Option<DateTime<Utc>>) -> Result<(), FakeError> {
        self.shared.set_clock(Some(now), TimeDelta::zero())
    }

    /// Moves the clock forward (tokens expire, rate windows roll over).
    pub fn advance_clock(&self, by: Duration) -> Result<(), FakeError> {
        let by =
            TimeDelta::from_std(by).map_err(|_| FakeError::Invalid("clock out of range".into()))?;
        self.shared.set_clock(None, by)
    }

    // --- listing, limits, faults -------------------------------------------------

    /// Whether a listing with only `after` comes oldest first, as on Strava (the
    /// default); `false` lists newest first whatever the parameters.
    pub fn set_ascending_with_after(&self, on: bool) {
        self.shared.lock().ascending_with_after = on;
    }

    /// Pages of `/athlete/activities` hold at most `max` items whatever `per_page`
    /// asks (the effective page size shrinks, so reading to an empty page still
    /// sees everything). `None` turns this off.
    pub fn set_short_pages(&self, max: Option<usize>) {
        self.shared.lock().short_pages = max;
    }

    /// New limits, or `None` for no limits and no rate-limit headers.
    pub fn set_rate_limits(&self, limits: Option<RateLimits>) {
        self.shared.lock().rate.limits = limits;
    }

    /// Zeroes usage, as a new day would.
    pub fn reset_rate_usage(&self) {
        self.shared.lock().rate.reset();
    }

    /// Usage in the current windows.
    pub fn rate_usage(&self) -> RateUsage {
        let mut st = self.shared.lock();
        let now = st.now();
        st.rate.usage(now)
    }

    /// The next `n` requests answer 500.
    pub fn fail_next(&self, n: u32) {
        self.fail_next_matching(n, None, 500);
    }

    /// The next `n` requests whose path starts with `prefix` answer `status`.
    pub fn fail_next_matching(&self, n: u32, prefix: Option<&str>, status: u16) {
        self.shared
            .add_fault(FaultKind::Fail { status }, n, prefix.map(str::to_string));
    }

    /// The next `n` requests (under `prefix`, if given) wait `delay` first.
    pub fn delay_next(&self, n: u32, delay: Duration, prefix: Option<&str>) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared
            .add_fault(FaultKind::Delay { millis }, n, prefix.map(str::to_string));
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Requests served so far (control calls excluded).
    pub fn request_count(&self) -> u64 {
        self.shared.lock().request_count
    }

    /// The recent requests (the log keeps the latest tens of thousands).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }
}

impl Drop for FakeStrava {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // The stop command is sent at once; nothing needs awaiting here, and the
            // thread is left to finish on its own so drop never blocks a runtime.
            drop(running.handle.stop(false));
        }
    }
}
