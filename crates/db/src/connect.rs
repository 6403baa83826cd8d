//! Opening a connection from a `postgres://` URL, honouring libpq's `sslmode` and
//! `sslrootcert`. Every connection the product makes (the pool, and through it the
//! workers' listener and the readiness check; migrations; the test harness) is opened
//! here, so TLS behaves the same everywhere.
//!
//! | `sslmode` | TLS | server certificate |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers it, else plain | not checked |
//! | `require` | always | not checked; with `sslrootcert`, the chain is (as libpq) |
//! | `verify-ca` | always | chain to `sslrootcert`, else to the machine's CA bundle |
//! | `verify-full` | always | as `verify-ca`, and issued for the host connected to |
//!
//! `prefer` follows libpq in asking for TLS first and taking a plain session only when
//! the server declines; unlike libpq, a TLS handshake that fails is an error rather
//! than a silent retry in plain text. `sslrootcert=system` means the machine's bundle.

use crate::tls::{self, Check, Roots, TlsSetupError};
use diesel::ConnectionResult;
use diesel::result::ConnectionError;
use diesel_async::AsyncPgConnection;
use tokio_postgres::config::SslMode as WireSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How much TLS a URL asks for; libpq's names and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, UrlError> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            // libpq's `allow` (plain first, TLS if refused) is left out: nothing here
            // wants it, and reading it as another mode would be a silent surprise.
            other => return Err(UrlError::SslMode(other.to_owned())),
        })
    }
}

/// A database URL that cannot be used. The text never repeats the URL, which may
/// carry a password.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("must start with postgres:// or postgresql://")]
    Scheme,
    #[error(
        "sslmode {0:?} is not supported: use disable, prefer, require, verify-ca or verify-full"
    )]
    SslMode(String),
    #[error("{0}")]
    Tls(#[from] TlsSetupError),
    /// tokio-postgres's own reading of the rest; its messages name options, not values.
    #[error("{0}")]
    Syntax(String),
}

/// A parsed database URL, ready to open connections; cheap to clone.
#[derive(Clone)]
pub struct ConnectOptions {
    config: tokio_postgres::Config,
    mode: SslMode,
    tls: Option<MakeRustlsConnect>,
    /// Whether certificates are checked against an `sslrootcert` file (for messages).
    root_file: bool,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password; only the TLS mode is worth showing.
        f.debug_struct("ConnectOptions")
            .field("sslmode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ConnectOptions {
    /// Reads a `postgres://` URL. `sslmode` and `sslrootcert` are taken out and handled
    /// here; every other parameter goes to tokio-postgres unchanged.
    pub fn from_url(url: &str) -> Result<Self, UrlError> {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(UrlError::Scheme);
        }
        let (rest, ssl) = take_ssl_params(url)?;
        let mut config: tokio_postgres::Config = rest
            .parse()
            .map_err(|e: tokio_postgres::Error| UrlError::Syntax(with_causes(&e)))?;
        let mode = ssl.mode.unwrap_or(SslMode::Prefer);
        let check = match (mode, &ssl.root_cert) {
            (SslMode::Disable, _) => None,
            (SslMode::Prefer, _) | (SslMode::Require, None) => Some(Check::Nothing),
            // libpq's long-standing rule: a root file given with `require` is used.
            (SslMode::Require, Some(_)) | (SslMode::VerifyCa, _) => Some(Check::Chain),
            (SslMode::VerifyFull, _) => Some(Check::ChainAndName),
        };
        config.ssl_mode(match mode {
            SslMode::Disable => WireSslMode::Disable,
            SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        });
        let roots = ssl.root_cert.unwrap_or(Roots::Platform);
        let tls = match check {
            None => None,
            Some(check) => Some(MakeRustlsConnect::new(tls::client_config(check, &roots)?)),
        };
        Ok(Self {
            config,
            mode,
            tls,
            root_file: matches!(roots, Roots::File(_)),
        })
    }

    /// Sets `lock_timeout` on every connection opened, after any options the URL gives.
    pub fn with_lock_timeout(mut self, lock_timeout: std::time::Duration) -> Self {
        let options = format!(
            "{} -c lock_timeout={}",
            self.config.get_options().unwrap_or_default(),
            lock_timeout.as_millis().max(1)
        );
        self.config.options(options.trim_start());
        self
    }

    /// The `sslmode` in force (`prefer` when the URL names none).
    pub fn ssl_mode(&self) -> SslMode {
        self.mode
    }

    /// Opens one connection.
    pub async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        let failed = |e: tokio_postgres::Error| {
            let mut text = with_causes(&e);
            // rustls names the failure ("UnknownIssuer") but not where the roots came from.
            if has_unknown_issuer(&e) {
                text.push_str(if self.root_file {
                    " (the server's certificate is not signed by a CA in sslrootcert)"
                } else {
                    " (the server's certificate is not signed by a CA in the machine's CA \
                     bundle; set sslrootcert to its CA file)"
                });
            }
            ConnectionError::BadConnection(text)
        };
        match &self.tls {
            None => {
                let (client, conn) = self
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, conn).await
            }
            Some(tls) => {
                let (client, conn) = self.config.connect(tls.clone()).await.map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, conn).await
            }
        }
    }
}

/// Opens one connection to `url`; a URL that cannot be used is an
/// [`ConnectionError::InvalidConnectionUrl`] saying why.
pub async fn connect(url: &str) -> ConnectionResult<AsyncPgConnection> {
    ConnectOptions::from_url(url)
        .map_err(|e| ConnectionError::InvalidConnectionUrl(e.to_string()))?
        .connect()
        .await
}

/// tokio-postgres shows only the kind of an error ("error performing TLS handshake");
/// the reason is in its sources.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether the handshake failed because no trusted root signed the server's chain.
/// The rustls error sits inside an `io::Error` somewhere in the source chain.
fn has_unknown_issuer(e: &tokio_postgres::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        let rustls_error = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if matches!(
            rustls_error,
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ) {
            return true;
        }
        source = err.source();
    }
    false
}

#[derive(Debug, Default)]
struct SslParams {
    mode: Option<SslMode>,
    root_cert: Option<Roots>,
}

/// Splits `sslmode` and `sslrootcert` off the URL's query (tokio-postgres knows
/// neither `verify-*` nor `sslrootcert`) and returns the URL without them.
fn take_ssl_params(url: &str) -> Result<(String, SslParams), UrlError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SslParams::default()));
    };
    let mut ssl = SslParams::default();
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => ssl.mode = Some(SslMode::parse(&percent_decode(value, key)?)?),
            "sslrootcert" => {
                let path = percent_decode(value, key)?;
                ssl.root_cert = Some(match path.as_str() {
                    "system" => Roots::Platform,
                    _ => Roots::File(path),
                });
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, ssl))
}

fn percent_decode(value: &str, key: &str) -> Result<String, UrlError> {
    let bad = || UrlError::Syntax(format!("{key}: bad percent-encoding"));
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_libpq_sslmode_and_defaults_to_prefer() {
        let mode = |url: &str| ConnectOptions::from_url(url).unwrap().ssl_mode();
        assert_eq!(mode("postgres://u@h/db"), SslMode::Prefer);
        assert_eq!(mode("postgres://u@h/db?sslmode=disable"), SslMode::Disable);
        assert_eq!(mode("postgres://u@h/db?sslmode=prefer"), SslMode::Prefer);
        assert_eq!(
            mode("postgresql://u@h/db?sslmode=require"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@h/db?application_name=x&sslmode=verify-full&sslrootcert=system"),
            SslMode::VerifyFull
        );
    }

    #[test]
    fn an_unknown_sslmode_is_named_without_the_password() {
        let err = ConnectOptions::from_url("postgres://u:hunter2@h/db?sslmode=verify-all")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sslmode \"verify-all\""), "{err}");
        assert!(err.contains("verify-full"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let err = ConnectOptions::from_url(
            "postgres://u:hunter2@h/db?sslmode=verify-full&sslrootcert=%2Fnowhere%2Fca.pem",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("sslrootcert /nowhere/ca.pem: "), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn other_parameters_still_reach_tokio_postgres() {
        let (rest, ssl) = take_ssl_params(
            "postgres://u@h/db?connect_timeout=5&sslmode=require&sslrootcert=a%20b.pem&application_name=t",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u@h/db?connect_timeout=5&application_name=t"
        );
        assert_eq!(ssl.mode, Some(SslMode::Require));
        assert_eq!(ssl.root_cert, Some(Roots::File("a b.pem".into())));
        let err = ConnectOptions::from_url("postgres://u:hunter2@h/db?sslcert=x.pem")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sslcert") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn only_postgres_urls_are_taken() {
        assert!(matches!(
            ConnectOptions::from_url("mysql://u:pw@h/db"),
            Err(UrlError::Scheme)
        ));
    }
}
