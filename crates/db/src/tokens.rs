//! Strava OAuth tokens, stored encrypted; only the gateway reads them.

use crate::crypto::{CryptoError, TokenCipher};
use crate::schema::strava_tokens;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{AthleteId, Secret};

/// A decrypted token pair, as the Strava client needs it.
#[derive(Debug, Clone)]
pub struct StravaTokens {
    pub access_token: Secret<String>,
    pub refresh_token: Secret<String>,
    pub expires_at: DateTime<Utc>,
    pub scopes: String,
}

/// Failure to read tokens: the database, or decryption.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The stored columns: sealed access token, sealed refresh token, expiry, scopes.
type StoredTokens = (Vec<u8>, Vec<u8>, DateTime<Utc>, String);

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = strava_tokens)]
struct TokenWrite {
    athlete_id: i64,
    access_token_enc: Vec<u8>,
    refresh_token_enc: Vec<u8>,
    expires_at: DateTime<Utc>,
    scopes: String,
}

/// Encrypts and stores the athlete's tokens, replacing older ones.
pub async fn save(
    conn: &mut AsyncPgConnection,
    cipher: &TokenCipher,
    athlete: AthleteId,
    tokens: &StravaTokens,
) -> Result<(), TokenError> {
    use strava_tokens::dsl as t;
    let row = TokenWrite {
        athlete_id: athlete.get(),
        access_token_enc: cipher.seal(athlete, "access", tokens.access_token.expose())?,
        refresh_token_enc: cipher.seal(athlete, "refresh", tokens.refresh_token.expose())?,
        expires_at: tokens.expires_at,
        scopes: tokens.scopes.clone(),
    };
    diesel::insert_into(t::strava_tokens)
        .values(&row)
        .on_conflict(t::athlete_id)
        .do_update()
        .set((&row, t::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Loads and decrypts the athlete's tokens. With `for_update`, the row stays locked
/// until the surrounding transaction ends, which serialises refreshes per athlete.
pub async fn load(
    conn: &mut AsyncPgConnection,
    cipher: &TokenCipher,
    athlete: AthleteId,
    for_update: bool,
) -> Result<Option<StravaTokens>, TokenError> {
    use strava_tokens::dsl as t;
    let query = t::strava_tokens.find(athlete.get()).select((
        t::access_token_enc,
        t::refresh_token_enc,
        t::expires_at,
        t::scopes,
    ));
    let row: Option<StoredTokens> = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    row.map(|(access, refresh, expires_at, scopes)| {
        Ok(StravaTokens {
            access_token: cipher.open(athlete, "access", &access)?,
            refresh_token: cipher.open(athlete, "refresh", &refresh)?,
            expires_at,
            scopes,
        })
    })
    .transpose()
}
