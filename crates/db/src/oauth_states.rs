//! Single use of OAuth `state` values: the gateway records each state's nonce (its
//! SHA-256) when /oauth/callback accepts it, so a replayed callback is refused even
//! though its signed state has not expired yet.

use crate::QueryResult;
use crate::schema::oauth_states;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

/// Marks `nonce` as used; returns false when it had been used before. `expires_at` is
/// when the state carrying it stops being valid anyway, after which the row may go.
pub async fn consume(
    conn: &mut AsyncPgConnection,
    nonce: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    use oauth_states::dsl as o;
    let inserted = diesel::insert_into(o::oauth_states)
        .values((
            o::nonce_hash.eq(Sha256::digest(nonce.as_bytes()).to_vec()),
            o::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Forgets nonces whose states expired more than an hour before `now`; an expired
/// state is refused by its signature check, so its row no longer matters.
pub async fn purge_expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    use oauth_states::dsl as o;
    diesel::delete(o::oauth_states.filter(o::expires_at.lt(now - Duration::hours(1))))
        .execute(conn)
        .await
}
