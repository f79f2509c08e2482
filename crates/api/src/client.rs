//! Who is on the other end of a connection, for per-address limits (login): the peer address,
//! or, when the peer is a configured trusted proxy (`ALPHAPULSE_TRUSTED_PROXIES`), the
//! nearest address in `X-Forwarded-For` that is not itself a trusted proxy. A client cannot
//! choose its own key by sending the header: it is believed only from a trusted peer. IPv6
//! clients are keyed by their /64 (one customer line holds a whole /64, so rotating the low
//! bits must not buy more attempts).

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The key of per-address limits for `req`.
pub fn client_key(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    key_of(client_ip(peer, forwarded(req).as_deref(), trusted))
}

fn forwarded(req: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client address: the peer unless it is trusted; then the rightmost address of the
/// `X-Forwarded-For` chain that is not trusted (proxies append, so the rightmost entries are
/// the ones our own proxies wrote).
fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in chain.split(',').rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip, trusted) => client = ip,
            Ok(ip) => return ip,
            // Garbage from further out: stop at the last address we could read.
            Err(_) => return client,
        }
    }
    client
}

/// IPv4 as is; IPv6 reduced to its /64 (IPv4-mapped IPv6 to the IPv4 address).
fn key_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_peer() {
        let trusted = nets(&["10.0.0.0/8"]);
        // An untrusted peer cannot pick its key.
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        // A trusted proxy: the rightmost untrusted hop.
        assert_eq!(
            client_ip(
                ip("10.0.0.5"),
                Some("1.2.3.4, 198.51.100.7, 10.0.0.2"),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Only proxies in the chain: the leftmost one.
        assert_eq!(
            client_ip(ip("10.0.0.5"), Some("10.0.0.9"), &trusted),
            ip("10.0.0.9")
        );
        // No header, or garbage in it.
        assert_eq!(client_ip(ip("10.0.0.5"), None, &trusted), ip("10.0.0.5"));
        assert_eq!(
            client_ip(ip("10.0.0.5"), Some("nonsense, 10.0.0.2"), &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted: the peer, always.
        assert_eq!(
            client_ip(ip("10.0.0.5"), Some("1.2.3.4"), &[]),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        assert_eq!(
            key_of(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            key_of(ip("2001:db8:1:2::1"))
        );
        assert_ne!(key_of(ip("2001:db8:1:2::1")), key_of(ip("2001:db8:1:3::1")));
        assert_eq!(key_of(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(key_of(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
