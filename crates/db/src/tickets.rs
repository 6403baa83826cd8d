//! Single-use login tickets: the gateway's hand-off to talk-app after OAuth.
//!
//! The gateway creates a ticket and redirects the browser to talk-app with it; talk-app
//! redeems it once, before it expires, and starts its own session. Only the SHA-256 of
//! a ticket is stored, so a leaked table row cannot be replayed.
//!
//! A ticket is bound to the browser that started connecting: talk-app keeps a random
//! nonce in that browser's pre-login cookie, the gateway stores the nonce's binding
//! ([`binding_of`]) with the ticket, and [`redeem`] needs the same nonce. A ticket
//! link sent to someone else therefore cannot sign them into the sender's account.

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

/// The binding of a pre-login nonce: its SHA-256, URL-safe base64 without padding. It
/// travels in URLs and is stored; the nonce itself stays in the browser's cookie.
pub fn binding_of(nonce: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash(nonce))
}

/// Whether `text` has a binding's shape (43 URL-safe base64 characters).
pub fn is_binding(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Creates a ticket for `athlete`, valid for `ttl` and redeemable only with the nonce
/// whose [`binding_of`] is `binding`; returns its plaintext (stored nowhere).
pub async fn create(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    ttl: std::time::Duration,
    binding: &str,
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
            t::browser_binding.eq(binding),
        ))
        .execute(conn)
        .await?;
    Ok(ticket)
}

/// What redeeming a ticket came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// The ticket was live and this browser's: it is used now, for this athlete.
    Athlete(AthleteId),
    /// The ticket is live but another browser started it (or none did): it is left
    /// as it was.
    OtherBrowser,
    /// No such ticket, or it was used or has expired.
    Invalid,
}

/// Redeems a ticket with the redeeming browser's pre-login nonce (`None` when it has
/// no cookie). One `UPDATE … RETURNING` marks a matching ticket used, so two
/// concurrent redemptions cannot both succeed; a ticket bound to another browser is
/// not touched.
pub async fn redeem(
    conn: &mut AsyncPgConnection,
    ticket: &str,
    nonce: Option<&str>,
) -> QueryResult<Redeemed> {
    use login_tickets::dsl as t;
    let now = Utc::now();
    let ticket_hash = hash(ticket);
    let live = || {
        t::login_tickets
            .filter(t::ticket_hash.eq(ticket_hash.clone()))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(now))
    };
    if let Some(nonce) = nonce {
        let athlete: Option<i64> =
            diesel::update(live().filter(t::browser_binding.eq(binding_of(nonce))))
                .set(t::used_at.eq(now))
                .returning(t::athlete_id)
                .get_result(conn)
                .await
                .optional()?;
        if let Some(id) = athlete {
            return Ok(Redeemed::Athlete(AthleteId(id)));
        }
    }
    let exists: bool = diesel::select(diesel::dsl::exists(live()))
        .get_result(conn)
        .await?;
    Ok(if exists {
        Redeemed::OtherBrowser
    } else {
        Redeemed::Invalid
    })
}

/// Deletes tickets that expired or were used more than a day ago (housekeeping).
pub async fn purge_stale(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    use login_tickets::dsl as t;
    let cutoff = Utc::now() - chrono::Duration::days(1);
    diesel::delete(t::login_tickets.filter(t::expires_at.lt(cutoff)))
        .execute(conn)
        .await
}
