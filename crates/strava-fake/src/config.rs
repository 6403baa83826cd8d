//! Settings a fake is started with. Everything here can also be changed while the
//! fake runs (through [`crate::FakeStrava`] or the `/_fake` control API).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Strava's published default application limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// All requests per 15-minute window (Strava: 200).
    pub overall_15min: u32,
    /// All requests per UTC day (Strava: 2,000).
    pub overall_daily: u32,
    /// Read (GET) requests per 15-minute window (Strava: 100).
    pub read_15min: u32,
    /// Read (GET) requests per UTC day (Strava: 1,000).
    pub read_daily: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            overall_15min: 200,
            overall_daily: 2000,
            read_15min: 100,
            read_daily: 1000,
        }
    }
}

/// How webhook events are pushed to the subscription's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Attempts per event, the first included (Strava: 3).
    pub attempts: u32,
    /// How long an attempt may take before it counts as failed (Strava: 2 s).
    pub timeout: Duration,
    /// Pause between attempts. Strava waits much longer; tests want this short.
    pub retry_delay: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            attempts: 3,
            timeout: Duration::from_secs(2),
            retry_delay: Duration::from_millis(200),
        }
    }
}

/// Everything [`crate::FakeStrava::start`] needs.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Address to bind; tests keep 127.0.0.1.
    pub host: String,
    /// Port to bind; 0 picks a free one (see [`crate::FakeStrava::port`]).
    pub port: u16,
    /// The one application this fake knows.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// Access token lifetime (Strava: 6 hours).
    pub token_ttl: Duration,
    /// `None` turns limits (and their headers) off.
    pub rate_limits: Option<RateLimits>,
    /// Webhook delivery behaviour.
    pub webhook: WebhookConfig,
    /// How long the subscription handshake may take (Strava: 2 s).
    pub handshake_timeout: Duration,
    /// actix worker threads serving requests.
    pub workers: usize,
    /// When only `after` is given, list oldest first, as Strava does (on by
    /// default); off lists newest first whatever the parameters.
    pub ascending_with_after: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            client_id: "1234".into(),
            client_secret: "fake-client-secret".into(),
            token_ttl: Duration::from_secs(6 * 3600),
            rate_limits: Some(RateLimits::default()),
            webhook: WebhookConfig::default(),
            handshake_timeout: Duration::from_secs(2),
            workers: 2,
            ascending_with_after: true,
        }
    }
}
