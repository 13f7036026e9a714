//! Which nameserver addresses the resolver may send to.
//!
//! On the Internet a referral must not be able to make the resolver query
//! its own network: loopback, private, link-local and other special-purpose
//! addresses (RFC 6890) are refused unless configured otherwise (the lab
//! lives on loopback). IPv6 addresses are used only when the host can reach
//! IPv6 at all, so that an IPv4-only host skips them at once.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::LazyLock;

use ipnet::IpNet;

/// Special-purpose networks no public nameserver lives in (RFC 6890 and successors).
const SPECIAL: [&str; 17] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// The networks of [`SPECIAL`], parsed once.
static SPECIAL_NETWORKS: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    SPECIAL
        .iter()
        // The table above is constant and valid.
        .map(|net| net.parse().expect("a valid prefix"))
        .collect()
});

/// True for an address in a special-purpose network: loopback, private,
/// link-local, multicast, unspecified and the like.
pub fn is_special(address: &IpAddr) -> bool {
    SPECIAL_NETWORKS.iter().any(|net| net.contains(address))
}

/// True when the host has a route to the IPv6 Internet. Connecting a UDP
/// socket only looks the route up: nothing is sent.
pub fn host_has_ipv6() -> bool {
    let Ok(socket) = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)) else {
        return false;
    };
    // 2001:db8::/32 is the documentation prefix: any global route covers it.
    let probe = SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 53)),
        53,
    );
    socket.connect(probe).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("valid")
    }

    #[test]
    fn special_addresses_are_recognised() {
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.20.0.1",
            "169.254.9.9",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_special(&ip(special)), "{special}");
        }
        for public in [
            "198.41.0.4",
            "193.0.14.129",
            "203.0.113.53",
            "2001:503:ba3e::2:30",
        ] {
            assert!(!is_special(&ip(public)), "{public}");
        }
    }
}
