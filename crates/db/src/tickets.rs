//! Single-use login tickets: the gateway's hand-off to talk-app after OAuth.
//!
//! The gateway creates a ticket and redirects the browser to talk-app with it; talk-app
//! redeems it once, before it expires, and starts its own session. Only the SHA-256 of
//! a ticket is stored, so a leaked table row cannot be replayed.

use crate::QueryResult;
use crate::schema::login_tickets;
use base64::Engine as _;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use sha2::{Digest, Sha256};

/// SHA-256 of a ticket (or any bearer secret): what the tables store.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A fresh random secret: 32 bytes, URL-safe base64 without padding (43 characters).
pub fn random_secret() -> String {
    let bytes: [u8; 32] = crate::crypto::random_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates a ticket for `athlete`, valid for `ttl`, and returns its plaintext (which is
/// not stored anywhere).
pub async fn create(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    ttl: std::time::Duration,
) -> QueryResult<String> {
    use login_tickets::dsl as t;
    let ticket = random_secret();
    let now = Utc::now();
    // A TTL too large for chrono is a caller bug; clamp rather than fail a login.
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
    diesel::insert_into(t::login_tickets)
        .values((
            t::ticket_hash.eq(hash(&ticket)),
            t::athlete_id.eq(athlete.get()),
            t::created_at.eq(now),
            t::expires_at.eq(now + ttl),
        ))
        .execute(conn)
        .await?;
    Ok(ticket)
}

/// Redeems a ticket: the athlete it was made for when it exists, is unused and has not
/// expired; `None` otherwise. One `UPDATE … RETURNING` marks it used, so two concurrent
/// redemptions cannot both succeed.
pub async fn redeem(conn: &mut AsyncPgConnection, ticket: &str) -> QueryResult<Option<AthleteId>> {
    use login_tickets::dsl as t;
    let now = Utc::now();
    let athlete: Option<i64> = diesel::update(
        t::login_tickets
            .filter(t::ticket_hash.eq(hash(ticket)))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(now)),
    )
    .set(t::used_at.eq(now))
    .returning(t::athlete_id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(athlete.map(AthleteId))
}

/// Deletes tickets that expired or were used more than a day ago (housekeeping).
pub async fn purge_stale(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    use login_tickets::dsl as t;
    let cutoff = Utc::now() - chrono::Duration::days(1);
    diesel::delete(t::login_tickets.filter(t::expires_at.lt(cutoff)))
        .execute(conn)
        .await
}
