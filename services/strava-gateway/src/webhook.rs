//! Strava's webhook endpoint.
//!
//! `GET /webhook` answers the subscription handshake. `POST /webhook` checks an event's
//! shape and subscription id, stores it in the inbox and answers 200 at once: Strava
//! allows two seconds and gives up after three attempts, so nothing slow (no Strava
//! call, no processing) happens on the request path. Workers apply events later.
//!
//! Strava does not sign its events, so anyone can post one. Three things keep a forged
//! event harmless: an event is only a hint (workers confirm with Strava before they
//! delete or erase anything), events for athletes we hold no tokens for are not even
//! stored, and an event for another subscription is answered exactly like one for ours
//! (200, nothing stored), so posting guesses teaches an attacker nothing about our
//! subscription id.
//!
//! Events go to the database through an [`InboxWriter`]: a few tasks that gather the
//! events of concurrent requests into one multi-row insert. A request still gets its
//! 200 only after its row is committed, but a burst of events costs one round trip and
//! one commit per batch instead of one per event.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use db::inbox::NewEvent;
use domain::Secret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::strava::StravaClient;

/// Largest event body accepted; Strava's events are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Events gathered into one insert at most.
const MAX_BATCH: usize = 512;

/// Events waiting for a writer before requests start to queue.
const QUEUE_DEPTH: usize = 8192;

/// How long a request waits for its event to be committed. Strava gives up on a
/// delivery after two seconds; a 503 well before that makes it retry, where a hung
/// database would otherwise make it count a silent failure.
const STORE_TIMEOUT: Duration = Duration::from_millis(1500);

/// While the subscription id is unknown, Strava is asked for it at most this often.
const LOOKUP_INTERVAL: Duration = Duration::from_secs(10);

/// After a handshake, the new subscription is looked up this much later: Strava
/// creates it once our handshake answer reaches it.
const HANDSHAKE_LOOKUP_DELAY: Duration = Duration::from_millis(500);

/// Once learned from Strava, the id is checked again this often (a re-subscription
/// gets a new id).
const RELOOKUP_INTERVAL: Duration = Duration::from_secs(3600);

/// What the webhook endpoint checks events against.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The token we gave Strava when subscribing; the handshake must echo it.
    pub verify_token: Secret<String>,
    /// Which subscription's events are ours.
    pub subscription: Arc<SubscriptionGate>,
}

/// Knows our push subscription's id: pinned by `STRAVA_SUBSCRIPTION_ID`, or learned
/// from Strava (`GET /push_subscriptions`) when not pinned. Until it is known, events
/// are answered 503 so that Strava delivers them again later; the gateway never
/// accepts an event whose subscription it cannot check.
#[derive(Debug)]
pub struct SubscriptionGate {
    pinned: Option<i64>,
    /// The learned id; 0 while unknown (Strava's ids are positive).
    learned: AtomicI64,
    /// Milliseconds since `epoch` of the last look-up started; `u64::MAX`: never.
    last_lookup: AtomicU64,
    /// Events refused for carrying another id since the last warning (logged in
    /// batches, so a flood of guesses cannot flood the log).
    refused: AtomicU64,
    epoch: std::time::Instant,
    strava: Option<StravaClient>,
}

impl SubscriptionGate {
    /// A gate for a known id (`STRAVA_SUBSCRIPTION_ID`, or tests).
    pub fn pinned(id: i64) -> Self {
        Self::new(Some(id), None)
    }

    /// A gate that learns the id from Strava with `strava` (the application's
    /// credentials), first at once, then as described on the type.
    pub fn learned(strava: StravaClient) -> Self {
        Self::new(None, Some(strava))
    }

    fn new(pinned: Option<i64>, strava: Option<StravaClient>) -> Self {
        Self {
            pinned,
            learned: AtomicI64::new(0),
            last_lookup: AtomicU64::new(u64::MAX),
            refused: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            strava,
        }
    }

    /// Our subscription id, when known. Starts a look-up in the background when one is
    /// due (it never delays the request).
    pub fn current(self: &Arc<Self>) -> Option<i64> {
        if let Some(id) = self.pinned {
            return Some(id);
        }
        let learned = self.learned.load(Ordering::Relaxed);
        let every = if learned > 0 {
            RELOOKUP_INTERVAL
        } else {
            LOOKUP_INTERVAL
        };
        self.look_up_if_due(every);
        (learned > 0).then_some(learned)
    }

    fn look_up_if_due(self: &Arc<Self>, every: Duration) {
        let Some(strava) = self.strava.clone() else {
            return;
        };
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_lookup.load(Ordering::Relaxed);
        let due = last == u64::MAX || now.saturating_sub(last) >= every.as_millis() as u64;
        // One caller wins the exchange; the others go on without looking up.
        if !due
            || self
                .last_lookup
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let gate = self.clone();
        tokio::spawn(async move {
            match strava.view_subscription().await {
                Ok(Some(s)) => {
                    let before = gate.learned.swap(s.id, Ordering::Relaxed);
                    if before != s.id {
                        tracing::info!(
                            subscription = s.id,
                            "webhook subscription id learned from Strava"
                        );
                    }
                }
                Ok(None) => {
                    gate.learned.store(0, Ordering::Relaxed);
                    tracing::warn!(
                        "Strava lists no push subscription: run `strava-gateway subscription ensure`"
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not ask Strava for the subscription id")
                }
            }
        });
    }

    /// Strava just checked our callback, so a subscription is being created: learn
    /// its id shortly after, instead of refusing its first events until the next
    /// look-up is due.
    fn handshake_passed(self: &Arc<Self>) {
        if self.pinned.is_some() || self.strava.is_none() {
            return;
        }
        let gate = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(HANDSHAKE_LOOKUP_DELAY).await;
            gate.look_up_if_due(Duration::ZERO);
        });
    }

    /// Counts an event refused for carrying another subscription id; logs now and
    /// then, with how many were refused since the last line.
    fn note_refused(&self, got: i64) {
        let n = self.refused.fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(1000) {
            tracing::warn!(
                got,
                refused_since_last_warning = n + 1,
                "webhook events for another subscription dropped"
            );
        }
    }
}

/// Registers `GET` and `POST /webhook`. Needs [`WebhookSettings`] and an
/// [`InboxWriter`] in the app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhook")
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route(web::get().to(handshake))
            .route(web::post().to(receive)),
    );
}

/// `GET /webhook?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
async fn handshake(
    req: HttpRequest,
    settings: web::Data<WebhookSettings>,
) -> Result<HttpResponse, WebhookError> {
    let query = web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let mode_ok = query.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = query.get("hub.verify_token").is_some_and(|given| {
        bool::from(
            given
                .as_bytes()
                .ct_eq(settings.verify_token.expose().as_bytes()),
        )
    });
    match query.get("hub.challenge") {
        Some(challenge) if mode_ok && token_ok => {
            settings.subscription.handshake_passed();
            Ok(HttpResponse::Ok().json(serde_json::json!({ "hub.challenge": challenge })))
        }
        _ => Err(WebhookError::HandshakeRefused { mode_ok, token_ok }),
    }
}

// The closed sets are the inbox's own, so they are parsed once here and stored as is.
pub use db::inbox::{AspectType, ObjectType};

/// An event body as Strava posts it. Fields Strava may add later are ignored rather
/// than refused: refusing would make Strava drop every event after three attempts.
/// For the same reason the shapes Strava has documented over time are all accepted:
/// ids and times as numbers or as strings of digits (an older example sends
/// `"subscription_id": "120475"`), and `updates` left out when nothing changed.
#[derive(Debug, Clone, Deserialize)]
pub struct EventBody {
    pub object_type: ObjectType,
    #[serde(deserialize_with = "integer")]
    pub object_id: i64,
    pub aspect_type: AspectType,
    #[serde(deserialize_with = "integer")]
    pub owner_id: i64,
    #[serde(deserialize_with = "integer")]
    pub subscription_id: i64,
    #[serde(deserialize_with = "integer")]
    pub event_time: i64,
    #[serde(default)]
    pub updates: serde_json::Map<String, serde_json::Value>,
}

/// An integer sent as a JSON number or as a string of digits.
fn integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Integer {
        Number(i64),
        Digits(String),
    }
    match Integer::deserialize(d)? {
        Integer::Number(n) => Ok(n),
        Integer::Digits(s) => s.parse().map_err(|_| {
            serde::de::Error::custom(format!("invalid type: string {s:?}, expected an integer"))
        }),
    }
}

impl EventBody {
    /// Parses and checks a body; the error is short enough to send back.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let event: EventBody =
            serde_json::from_slice(body).map_err(|e| format!("malformed event: {e}"))?;
        if event.object_id <= 0 || event.owner_id <= 0 {
            return Err("malformed event: ids must be positive".into());
        }
        if event.event_time < 0 {
            return Err("malformed event: event_time must not be negative".into());
        }
        Ok(event)
    }

    /// Names one delivery of one event, so Strava's retries of it are stored once:
    /// the event's fields plus a hash of its `updates` (an object whose keys are
    /// sorted, so equal updates hash alike whatever order they came in).
    pub fn dedupe_key(&self) -> String {
        let sorted: BTreeMap<&String, &serde_json::Value> = self.updates.iter().collect();
        let canonical = serde_json::to_vec(&sorted).unwrap_or_default();
        let digest = Sha256::digest(&canonical);
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!(
            "{}:{}:{}:{}:{}:{hash}",
            self.object_type.as_str(),
            self.object_id,
            self.aspect_type.as_str(),
            self.owner_id,
            self.event_time
        )
    }

    /// The inbox row for this event.
    pub fn into_new_event(self) -> NewEvent {
        NewEvent {
            dedupe_key: self.dedupe_key(),
            subscription_id: self.subscription_id,
            object_type: self.object_type,
            object_id: self.object_id,
            aspect_type: self.aspect_type,
            owner_id: self.owner_id,
            event_time: self.event_time,
            updates: serde_json::Value::Object(self.updates),
        }
    }
}

/// `POST /webhook`.
async fn receive(
    req: actix_web::HttpRequest,
    body: web::Bytes,
    settings: web::Data<WebhookSettings>,
    inbox: web::Data<InboxWriter>,
) -> Result<HttpResponse, WebhookError> {
    // Strava posts JSON; anything else is not Strava.
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(WebhookError::NotJson);
    }
    let event = EventBody::parse(&body).map_err(WebhookError::Malformed)?;
    // Strava delivers again later, by when the id is known.
    let ours = settings
        .subscription
        .current()
        .ok_or(WebhookError::NotReady)?;
    if event.subscription_id != ours {
        // Answered as if accepted: a different answer would let anyone find our id
        // by posting guesses.
        settings.subscription.note_refused(event.subscription_id);
        return Ok(HttpResponse::Ok().finish());
    }
    match tokio::time::timeout(STORE_TIMEOUT, inbox.store(event.into_new_event())).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().finish()),
        Ok(Err(StoreError)) => Err(WebhookError::NotStored),
        Err(_) => Err(WebhookError::StoreTimedOut),
    }
}

/// Why `/webhook` refused a handshake or an event. Each renders as `{"error": …}`
/// (Strava retries a non-200 event) and logs its cause once, when it renders.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("handshake refused")]
    HandshakeRefused { mode_ok: bool, token_ok: bool },
    /// The body is not an event; the reason is short enough to send back.
    #[error("{0}")]
    Malformed(String),
    /// The body is not sent as JSON.
    #[error("events are JSON (Content-Type: application/json)")]
    NotJson,
    /// Our subscription id is not known yet.
    #[error("try again")]
    NotReady,
    /// The database failed; the writer logged the cause.
    #[error("try again")]
    NotStored,
    #[error("try again")]
    StoreTimedOut,
}

impl actix_web::ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::HandshakeRefused { .. } => StatusCode::FORBIDDEN,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotReady | Self::NotStored | Self::StoreTimedOut => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::HandshakeRefused { mode_ok, token_ok } => {
                tracing::warn!(mode_ok, token_ok, "webhook handshake refused");
            }
            Self::Malformed(reason) => tracing::info!(%reason, "webhook event refused"),
            Self::NotJson => tracing::info!("webhook event refused: not sent as JSON"),
            Self::StoreTimedOut => {
                tracing::warn!("webhook event not stored in time; asking Strava to retry");
            }
            Self::NotReady | Self::NotStored => {}
        }
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": self.to_string() }))
    }
}

/// The event could not be stored (the database failed); the cause is logged once,
/// by the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the inbox could not store the event")]
pub struct StoreError;

struct Pending {
    event: NewEvent,
    stored: oneshot::Sender<Result<(), StoreError>>,
}

/// Stores events in the inbox in batches; cheap to share between requests.
#[derive(Debug, Clone)]
pub struct InboxWriter {
    tx: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("dedupe_key", &self.event.dedupe_key)
            .finish()
    }
}

impl InboxWriter {
    /// Starts `writers` batching tasks on the current Tokio runtime. They end once
    /// every clone of the returned writer is dropped.
    pub fn start(pool: db::Pool, writers: usize) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(rx.clone(), pool.clone()));
        }
        Self { tx }
    }

    /// Stores one event (a duplicate counts as stored); returns once it is committed.
    pub async fn store(&self, event: NewEvent) -> Result<(), StoreError> {
        let (stored, done) = oneshot::channel();
        self.tx
            .send(Pending { event, stored })
            .await
            .map_err(|_| StoreError)?;
        done.await.unwrap_or(Err(StoreError))
    }
}

/// One writer: takes whatever has queued up (at least one event, at most
/// `MAX_BATCH`), inserts it in one statement, answers each waiting request. While one
/// writer is in the database the next gathers its batch, so writes overlap.
async fn write_batches(rx: Arc<Mutex<mpsc::Receiver<Pending>>>, pool: db::Pool) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        let events: Vec<NewEvent> = batch.iter().map(|p| p.event.clone()).collect();
        let result = async {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            db::inbox::insert_many(&mut conn, &events)
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        let answer = match result {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, events = events.len(), "storing webhook events failed");
                Err(StoreError)
            }
        };
        for pending in batch.drain(..) {
            // The request may have gone (client hung up); its row is stored anyway.
            let _ = pending.stored.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(updates: &str) -> String {
        format!(
            r#"{{"object_type":"activity","object_id":7,"aspect_type":"update","owner_id":3,
                "subscription_id":1,"event_time":1700000000,"updates":{updates}}}"#
        )
    }

    #[test]
    fn dedupe_key_ignores_key_order_in_updates() {
        let a = EventBody::parse(body(r#"{"title":"x","type":"Run"}"#).as_bytes()).unwrap();
        let b = EventBody::parse(body(r#"{"type":"Run","title":"x"}"#).as_bytes()).unwrap();
        let c = EventBody::parse(body(r#"{"title":"y","type":"Run"}"#).as_bytes()).unwrap();
        assert_eq!(a.dedupe_key(), b.dedupe_key());
        assert_ne!(a.dedupe_key(), c.dedupe_key());
        assert!(
            a.dedupe_key()
                .starts_with("activity:7:update:3:1700000000:")
        );
    }

    #[test]
    fn every_documented_shape_is_accepted() {
        // Strava's older example: the subscription id as a string.
        let older = body("{}").replace("\"subscription_id\":1", "\"subscription_id\":\"120475\"");
        assert_eq!(
            EventBody::parse(older.as_bytes()).unwrap().subscription_id,
            120_475
        );
        // A create or delete without `updates`.
        let bare = r#"{"object_type":"activity","object_id":7,"aspect_type":"delete",
                       "owner_id":3,"subscription_id":1,"event_time":1700000000}"#;
        let event = EventBody::parse(bare.as_bytes()).unwrap();
        assert!(event.updates.is_empty());
        // A sport change sends `sport_type` in today's events; kept as sent.
        let sport = EventBody::parse(body(r#"{"sport_type":"TrailRun"}"#).as_bytes()).unwrap();
        assert_eq!(sport.updates["sport_type"], "TrailRun");
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        for (bad, why) in [
            ("{", "malformed"),
            (r#"{"object_type":"activity"}"#, "missing field"),
            (&body(r#""not an object""#), "invalid type"),
            (
                &body("{}").replace("\"activity\"", "\"club\""),
                "unknown variant",
            ),
            (
                &body("{}").replace("\"object_id\":7", "\"object_id\":\"seven\""),
                "expected an integer",
            ),
            (
                &body("{}").replace("\"object_id\":7", "\"object_id\":7.5"),
                "did not match any variant",
            ),
            (
                &body("{}").replace("\"object_id\":7", "\"object_id\":-7"),
                "positive",
            ),
        ] {
            let err = EventBody::parse(bad.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
