//! The one rule for when a service's cookies carry `Secure`, so the gateway's OAuth
//! cookie and talk-app's session cookie cannot disagree about the same deployment.

use std::net::IpAddr;

/// Whether cookies carry `Secure`. An explicit setting wins. Else the service's public
/// URL decides: only plain `http` on a loopback host (local development) goes without,
/// since a browser would not send a `Secure` cookie back there. With no public URL,
/// only a service listening on a loopback address goes without.
pub fn secure(explicit: Option<bool>, public_url: Option<&str>, bind: IpAddr) -> bool {
    if let Some(v) = explicit {
        return v;
    }
    match public_url {
        Some(url) => !is_local_http(url),
        None => !bind.is_loopback(),
    }
}

fn is_local_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_development_goes_without_secure() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert!(!secure(None, Some("http://127.0.0.1:8081"), any));
        assert!(!secure(None, Some("http://localhost:8080"), any));
        assert!(!secure(None, Some("http://[::1]:8080"), any));
        assert!(secure(None, Some("https://localhost:8081"), loopback));
        assert!(secure(None, Some("http://gateway.example.com"), loopback));
        assert!(secure(None, Some("https://talk.example.com"), loopback));
        assert!(!secure(None, None, loopback));
        assert!(secure(None, None, any));
        assert!(!secure(Some(false), Some("https://talk.example.com"), any));
        assert!(secure(Some(true), None, loopback));
    }
}
