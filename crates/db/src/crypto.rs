//! Encryption of Strava tokens at rest: AES-256-GCM with a fresh random nonce per
//! write. The stored form is `nonce (12 bytes) || ciphertext+tag`. The associated
//! data binds each ciphertext to its athlete and column, so a ciphertext copied to
//! another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use domain::{AthleteId, Secret};

const NONCE_LEN: usize = 12;

/// Why a key could not be loaded or a token not be decrypted. Messages never carry
/// key material or plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error(
        "TOKEN_ENCRYPTION_KEY must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)"
    )]
    BadKey,
    #[error(
        "a stored Strava token could not be decrypted: TOKEN_ENCRYPTION_KEY differs from the key it was written with, or the data is corrupt"
    )]
    Decrypt,
    #[error("token encryption failed")]
    Encrypt,
}

/// The key that seals and opens stored tokens.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

impl TokenCipher {
    /// Reads a base64-encoded 32-byte key (standard or URL-safe alphabet, padding optional).
    pub fn from_base64(key: &Secret<String>) -> Result<Self, CryptoError> {
        let text = key.expose().trim();
        let bytes = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or(CryptoError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    /// Uses 32 raw key bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| CryptoError::BadKey)?;
        Ok(Self { cipher })
    }

    /// Encrypts one token for one athlete and purpose ("access" or "refresh").
    pub fn seal(
        &self,
        athlete: AthleteId,
        purpose: &str,
        plaintext: &str,
    ) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes();
        let nonce = Nonce::from(nonce_bytes);
        let aad = associated_data(athlete, purpose);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`TokenCipher::seal`] wrote for the same athlete and purpose.
    pub fn open(
        &self,
        athlete: AthleteId,
        purpose: &str,
        stored: &[u8],
    ) -> Result<Secret<String>, CryptoError> {
        if stored.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce_bytes, sealed) = stored.split_at(NONCE_LEN);
        let nonce_bytes: [u8; NONCE_LEN] =
            nonce_bytes.try_into().map_err(|_| CryptoError::Decrypt)?;
        let aad = associated_data(athlete, purpose);
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| CryptoError::Decrypt)
    }
}

fn associated_data(athlete: AthleteId, purpose: &str) -> Vec<u8> {
    format!("stravatalk/strava_tokens/{athlete}/{purpose}").into_bytes()
}

/// Random bytes from the operating system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngExt as _;
    rand::rng().random::<[u8; N]>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> TokenCipher {
        TokenCipher::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let c = key(7);
        let a = c
            .seal(AthleteId(1), "access", "secret-token-value")
            .unwrap();
        let b = c
            .seal(AthleteId(1), "access", "secret-token-value")
            .unwrap();
        assert_ne!(a, b, "a fresh nonce per write");
        assert!(!a.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            c.open(AthleteId(1), "access", &a).unwrap().expose(),
            "secret-token-value"
        );
    }

    #[test]
    fn wrong_key_row_or_purpose_fails_clearly() {
        let sealed = key(7).seal(AthleteId(1), "access", "t").unwrap();
        let err = key(8).open(AthleteId(1), "access", &sealed).unwrap_err();
        assert_eq!(err, CryptoError::Decrypt);
        assert!(err.to_string().contains("TOKEN_ENCRYPTION_KEY"));
        assert_eq!(
            key(7).open(AthleteId(2), "access", &sealed).unwrap_err(),
            CryptoError::Decrypt
        );
        assert_eq!(
            key(7).open(AthleteId(1), "refresh", &sealed).unwrap_err(),
            CryptoError::Decrypt
        );
        assert_eq!(
            key(7)
                .open(AthleteId(1), "access", &sealed[..5])
                .unwrap_err(),
            CryptoError::Decrypt
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let good = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(TokenCipher::from_base64(&Secret::new(good)).is_ok());
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert_eq!(
            TokenCipher::from_base64(&Secret::new(short)).unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(
            TokenCipher::from_base64(&Secret::new("not base64!".into())).unwrap_err(),
            CryptoError::BadKey
        );
    }
}
