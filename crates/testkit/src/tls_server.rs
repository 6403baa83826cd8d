//! A throwaway PostgreSQL that speaks TLS with a certificate from a CA made on the
//! spot, for tests and measurements of `sslmode`.

use pg_cluster::{Cluster, Options};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::PathBuf;

/// Which connections the server's `pg_hba.conf` lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// `hostssl` lines only: a plain session is refused.
    TlsOnly,
    /// `host` lines: TLS or plain, as the client asks.
    TlsOrPlain,
}

/// A running cluster with `ssl=on` and a certificate for `localhost` only, signed by a
/// test CA; stopped and removed, with its CA files, on drop.
pub struct TlsServer {
    cluster: Cluster,
    files: PathBuf,
}

impl TlsServer {
    /// Starts one. `name` keeps clusters of concurrent tests apart. Panics with one
    /// line when the server binaries are missing or the server does not start.
    pub fn start(name: &str, accepts: Accepts) -> TlsServer {
        let name = format!("stravatalk-tls-{name}-{}", std::process::id());
        let files = std::env::temp_dir().join(format!("{name}-ca"));
        std::fs::create_dir_all(&files).expect("a folder for the test CA files");
        let ca = test_ca("StravaTalk test CA");
        let server_key = KeyPair::generate().expect("a server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned()]).expect("server cert params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = params
            .signed_by(&server_key, &ca)
            .expect("a server certificate");
        std::fs::write(files.join("ca.pem"), ca.pem()).expect("ca.pem");
        std::fs::write(
            files.join("other-ca.pem"),
            test_ca("Someone else's CA").pem(),
        )
        .expect("other-ca.pem");
        let host = match accepts {
            Accepts::TlsOnly => "hostssl",
            Accepts::TlsOrPlain => "host",
        };
        let options = Options::default()
            .setting("ssl", "on")
            .setting("ssl_cert_file", "server.crt")
            .setting("ssl_key_file", "server.key")
            .file("server.crt", server_cert.pem())
            .file("server.key", server_key.serialize_pem())
            .hba(&format!(
                "{host} all all 127.0.0.1/32 trust\n{host} all all ::1/128 trust\n"
            ));
        let cluster = Cluster::start(&std::env::temp_dir(), &name, &options)
            .unwrap_or_else(|e| panic!("cannot start the TLS PostgreSQL this test needs: {e}"));
        TlsServer { cluster, files }
    }

    /// The superuser's URL for `host` (the certificate names `localhost` only, so
    /// `127.0.0.1` is the wrong name) with the query `params`.
    pub fn url(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/postgres?{params}",
            self.cluster.port()
        )
    }

    /// Path of the CA file that signed the server's certificate.
    pub fn ca_file(&self) -> String {
        self.files.join("ca.pem").display().to_string()
    }

    /// Path of a CA file that did not.
    pub fn other_ca_file(&self) -> String {
        self.files.join("other-ca.pem").display().to_string()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.files);
    }
}

fn test_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key"))
        .expect("a CA certificate")
}
