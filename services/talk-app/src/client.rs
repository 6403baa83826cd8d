//! The address a request came from. Behind a proxy the connection's peer is the
//! proxy, and the client is named in `X-Forwarded-For`; anyone can write that header,
//! so it is believed only when the peer is a proxy the operator named
//! (`TRUSTED_PROXIES`), and only for the hops those proxies added.

use actix_web::HttpRequest;
use std::net::IpAddr;

/// Networks whose connections are proxies of ours, as address and prefix length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Reads a comma-separated list of addresses and networks ("10.0.0.0/8,
    /// 192.168.1.5"); an empty text trusts no proxy.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = item.split_once('/').unwrap_or((item, ""));
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or network"))?;
            let bits = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = if prefix.is_empty() {
                bits
            } else {
                prefix
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= bits)
                    .ok_or_else(|| format!("{item:?} has a prefix length that is not 0-{bits}"))?
            };
            nets.push((addr, prefix));
        }
        Ok(Self(nets))
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|&(net, prefix)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// Whether the request came through a trusted proxy, whose forwarding headers
    /// may then be believed.
    pub fn is_peer(&self, req: &HttpRequest) -> bool {
        req.peer_addr()
            .is_some_and(|peer| self.contains(peer.ip().to_canonical()))
    }

    /// The client's address: the peer, or when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one. `None` when the peer is
    /// unknown (a request made in-process).
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.contains(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address ends what can be believed.
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn client(proxies: &str, peer: &str, forwarded: &[&str]) -> Option<IpAddr> {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for f in forwarded {
            req = req.append_header(("X-Forwarded-For", *f));
        }
        TrustedProxies::parse(proxies)
            .unwrap()
            .client(&req.to_http_request())
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        // No proxy trusted: the header is anyone's to write.
        assert_eq!(
            client("", "203.0.113.7:5000", &["198.51.100.1"]),
            ip("203.0.113.7")
        );
        // Behind a trusted proxy: the hop it added.
        assert_eq!(
            client("10.0.0.0/8", "10.1.2.3:5000", &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        // A forged first entry is passed over: the proxy appended the real one.
        assert_eq!(
            client("10.0.0.0/8", "10.1.2.3:5000", &["1.2.3.4, 198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Chains of trusted proxies, over several headers; IPv6 and mapped IPv4.
        assert_eq!(
            client(
                "10.0.0.0/8, fd00::/8",
                "[fd00::1]:5000",
                &["2001:db8::5", "10.9.9.9"]
            ),
            ip("2001:db8::5")
        );
        assert_eq!(
            client("10.0.0.0/8", "[::ffff:10.0.0.1]:5000", &["198.51.100.9"]),
            ip("198.51.100.9")
        );
        // A trusted proxy with no header, or an unreadable hop: the nearest known.
        assert_eq!(client("10.0.0.0/8", "10.1.2.3:5000", &[]), ip("10.1.2.3"));
        assert_eq!(
            client("10.0.0.0/8", "10.1.2.3:5000", &["198.51.100.1, junk"]),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn bad_lists_are_named() {
        assert!(
            TrustedProxies::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("0-32")
        );
        assert!(
            TrustedProxies::parse("proxy.local")
                .unwrap_err()
                .contains("proxy.local")
        );
        assert_eq!(
            TrustedProxies::parse(" ").unwrap(),
            TrustedProxies::default()
        );
    }
}
