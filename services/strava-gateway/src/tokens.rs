//! Access tokens for Strava calls on an athlete's behalf.
//!
//! Strava access tokens live six hours, and a refresh may rotate the refresh token (the
//! old one dies at once). So refreshing is serialised per athlete: the token row is
//! locked (`SELECT … FOR UPDATE`) for the refresh, the new pair is saved in that same
//! transaction, and whoever waited on the lock finds a fresh token and uses it instead
//! of spending the now-dead refresh token. A refused refresh means the athlete revoked
//! access (or must re-consent): they are marked `needs_reconnect`.

use crate::strava::{StravaClient, StravaError};
use chrono::{Duration, Utc};
use db::crypto::TokenCipher;
use db::tokens::StravaTokens;
use diesel_async::AsyncConnection;
use domain::{AthleteId, Secret};
use std::future::Future;

/// Tokens expiring sooner than this are refreshed before use, so a request started
/// with one does not fail halfway through a long backfill page.
pub const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// Why no usable access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// We hold no tokens for the athlete (never connected, or erased).
    #[error("no Strava tokens are stored for athlete {0}")]
    NotConnected(AthleteId),
    /// Strava refused the athlete's authorization; they were marked `needs_reconnect`.
    #[error("the athlete's Strava authorization was refused; they must reconnect")]
    Reconnect,
    /// Strava could not be asked (rate limit, outage, transport).
    #[error(transparent)]
    Strava(#[from] StravaError),
    /// Stored tokens could not be read or written (database or decryption).
    #[error("token storage: {0}")]
    Storage(#[from] db::tokens::TokenError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    /// No database connection could be had.
    #[error("database pool: {0}")]
    Pool(#[from] db::pool::PoolError),
}

/// A valid access token for `athlete`, refreshed first when it expires within
/// [`REFRESH_MARGIN`].
pub async fn access_token(
    pool: &db::Pool,
    client: &StravaClient,
    cipher: &TokenCipher,
    athlete: AthleteId,
) -> Result<Secret<String>, TokenError> {
    fresh_token(pool, client, cipher, athlete, None).await
}

/// After Strava answered 401 to `rejected`: refreshes at once (unless another worker
/// already replaced that token) and returns the new access token.
pub async fn refresh_after_unauthorized(
    pool: &db::Pool,
    client: &StravaClient,
    cipher: &TokenCipher,
    athlete: AthleteId,
    rejected: &Secret<String>,
) -> Result<Secret<String>, TokenError> {
    fresh_token(pool, client, cipher, athlete, Some(rejected)).await
}

/// Runs `call` with a valid access token. On a 401 it refreshes once and tries again;
/// a second 401 (or a refused refresh) marks the athlete `needs_reconnect` and answers
/// [`TokenError::Reconnect`]. Other Strava errors come back as [`TokenError::Strava`].
pub async fn with_token<T, F, Fut>(
    pool: &db::Pool,
    client: &StravaClient,
    cipher: &TokenCipher,
    athlete: AthleteId,
    mut call: F,
) -> Result<T, TokenError>
where
    F: FnMut(Secret<String>) -> Fut,
    Fut: Future<Output = Result<T, StravaError>>,
{
    let token = access_token(pool, client, cipher, athlete).await?;
    match call(token.clone()).await {
        Err(StravaError::Unauthorized) => {}
        other => return other.map_err(TokenError::from),
    }
    let token = refresh_after_unauthorized(pool, client, cipher, athlete, &token).await?;
    match call(token).await {
        Err(StravaError::Unauthorized) => {
            mark_reconnect(pool, athlete).await?;
            Err(TokenError::Reconnect)
        }
        other => other.map_err(TokenError::from),
    }
}

/// Flags the athlete as needing to reconnect Strava (talk-app shows it).
pub async fn mark_reconnect(pool: &db::Pool, athlete: AthleteId) -> Result<(), TokenError> {
    let mut conn = pool.get().await?;
    db::athletes::mark_needs_reconnect(&mut conn, athlete).await?;
    tracing::info!(athlete = %athlete, "Strava refused the athlete's tokens; marked needs_reconnect");
    Ok(())
}

/// The stored token when it is fresh and not `rejected`; else a refresh under the row
/// lock.
async fn fresh_token(
    pool: &db::Pool,
    client: &StravaClient,
    cipher: &TokenCipher,
    athlete: AthleteId,
    rejected: Option<&Secret<String>>,
) -> Result<Secret<String>, TokenError> {
    let usable = |t: &StravaTokens| {
        t.expires_at > Utc::now() + REFRESH_MARGIN
            && rejected.is_none_or(|r| r.expose() != t.access_token.expose())
    };
    let mut conn = pool.get().await?;
    // Most calls find a fresh token: no lock, no transaction.
    match db::tokens::load(&mut conn, cipher, athlete, false).await? {
        None => return Err(TokenError::NotConnected(athlete)),
        Some(t) if usable(&t) => return Ok(t.access_token),
        Some(_) => {}
    }
    let outcome = conn
        .transaction(async |conn| {
            // Whoever held the lock before us may have refreshed already.
            let Some(current) = db::tokens::load(conn, cipher, athlete, true).await? else {
                return Err(TokenError::NotConnected(athlete));
            };
            if usable(&current) {
                return Ok(current.access_token);
            }
            let grant = match client.refresh(&current.refresh_token).await {
                Ok(grant) => grant,
                Err(StravaError::Unauthorized) => return Err(TokenError::Reconnect),
                Err(e) => return Err(e.into()),
            };
            let renewed = StravaTokens {
                access_token: grant.access_token,
                refresh_token: grant.refresh_token,
                expires_at: grant.expires_at,
                scopes: current.scopes,
            };
            db::tokens::save(conn, cipher, athlete, &renewed).await?;
            tracing::debug!(athlete = %athlete, "refreshed the Strava access token");
            Ok(renewed.access_token)
        })
        .await;
    if matches!(outcome, Err(TokenError::Reconnect)) {
        // Outside the rolled-back transaction, so the flag sticks.
        db::athletes::mark_needs_reconnect(&mut conn, athlete).await?;
        tracing::info!(athlete = %athlete, "Strava refused the refresh token; marked needs_reconnect");
    }
    outcome
}
