//! Webhook events and their delivery: POST to the subscription's callback, 200
//! within the timeout counts as delivered, otherwise retry until the attempts are
//! used up (Strava: 3 attempts, 2 seconds each). Every attempt is recorded.

use crate::config::WebhookConfig;
use crate::state::{Shared, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedReceiver;

/// The body Strava POSTs to a subscription's callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// "create", "update" or "delete".
    pub aspect_type: String,
    /// Unix seconds.
    pub event_time: i64,
    /// Activity id, or athlete id for athlete events.
    pub object_id: i64,
    /// "activity" or "athlete".
    pub object_type: String,
    /// Athlete id.
    pub owner_id: i64,
    /// The subscription this event belongs to.
    pub subscription_id: i64,
    /// Changed fields; values are strings (`{"private": "true"}`).
    pub updates: BTreeMap<String, String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Attempts remain.
    Pending,
    /// An attempt got 200.
    Delivered,
    /// Every attempt failed; Strava drops the event at this point.
    Failed,
    /// There was no subscription, so nothing was sent (as on Strava).
    NoSubscription,
}

/// One POST to the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// HTTP status, if a response came back in time.
    pub status: Option<u16>,
    /// Transport error or timeout.
    pub error: Option<String>,
    /// How long it took.
    pub millis: u64,
}

/// An event and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Position in the delivery log.
    pub id: usize,
    /// Callback it went to.
    pub callback_url: Option<String>,
    /// The event.
    pub event: WebhookEvent,
    /// Attempts so far.
    pub attempts: Vec<Attempt>,
    /// Outcome so far.
    pub outcome: DeliveryOutcome,
}

/// Work for the delivery worker.
#[derive(Debug)]
pub struct Job {
    delivery: usize,
    url: String,
    event: WebhookEvent,
    config: WebhookConfig,
}

impl Shared {
    /// Records an event and queues it for delivery. Takes the locked state because
    /// every caller has just changed it; the delivery itself runs elsewhere.
    pub fn emit(
        &self,
        st: &mut State,
        aspect_type: &str,
        object_type: &str,
        object_id: i64,
        owner_id: i64,
        updates: BTreeMap<String, String>,
    ) {
        let event = WebhookEvent {
            aspect_type: aspect_type.into(),
            event_time: st.now().timestamp(),
            object_id,
            object_type: object_type.into(),
            owner_id,
            subscription_id: st.subscription.as_ref().map_or(0, |s| s.id),
            updates,
        };
        let id = st.deliveries.len();
        let url = st.subscription.as_ref().map(|s| s.callback_url.clone());
        st.deliveries.push(Delivery {
            id,
            callback_url: url.clone(),
            event: event.clone(),
            attempts: Vec::new(),
            outcome: if url.is_some() {
                DeliveryOutcome::Pending
            } else {
                DeliveryOutcome::NoSubscription
            },
        });
        if let Some(url) = url {
            let job = Job {
                delivery: id,
                url,
                event,
                config: st.webhook,
            };
            if self.jobs.send(job).is_err() {
                // The server is shutting down; nobody will deliver it.
                if let Some(d) = st.deliveries.get_mut(id) {
                    d.outcome = DeliveryOutcome::Failed;
                }
            }
        }
    }
}

/// Runs on the fake's own thread: each job gets its own task so a slow callback does
/// not hold up the next event (Strava does not order deliveries either).
pub async fn run_worker(shared: Arc<Shared>, mut jobs: UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        actix_web::rt::spawn(deliver(shared.clone(), job));
    }
}

async fn deliver(shared: Arc<Shared>, job: Job) {
    let attempts = job.config.attempts.max(1);
    for n in 1..=attempts {
        let started = Instant::now();
        let result = shared
            .http
            .post(&job.url)
            .json(&job.event)
            .timeout(job.config.timeout)
            .send()
            .await;
        let (status, error) = match result {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) if e.is_timeout() => (None, Some("timed out".to_string())),
            Err(e) => (None, Some(e.to_string())),
        };
        let ok = status == Some(200);
        {
            let mut st = shared.lock();
            if let Some(d) = st.deliveries.get_mut(job.delivery) {
                d.attempts.push(Attempt {
                    status,
                    error,
                    millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                });
                if ok {
                    d.outcome = DeliveryOutcome::Delivered;
                } else if n == attempts {
                    d.outcome = DeliveryOutcome::Failed;
                }
            }
        }
        if ok {
            return;
        }
        if n < attempts {
            actix_web::rt::time::sleep(job.config.retry_delay).await;
        }
    }
}
