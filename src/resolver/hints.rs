//! Where resolution starts: the root servers (RFC 1034 §5.3.2 SBELT).

use std::net::IpAddr;

use hickory_proto::rr::Name;

use super::delegation::{Delegation, DelegationPoint};
use crate::config::Roots;

/// The IANA root hints (named.root, 2024): the thirteen root servers, IPv4 and IPv6.
pub const IANA_ROOTS: [(&str, &str, &str); 13] = [
    ("a.root-servers.net.", "198.41.0.4", "2001:503:ba3e::2:30"),
    ("b.root-servers.net.", "170.247.170.2", "2801:1b8:10::b"),
    ("c.root-servers.net.", "192.33.4.12", "2001:500:2::c"),
    ("d.root-servers.net.", "199.7.91.13", "2001:500:2d::d"),
    ("e.root-servers.net.", "192.203.230.10", "2001:500:a8::e"),
    ("f.root-servers.net.", "192.5.5.241", "2001:500:2f::f"),
    ("g.root-servers.net.", "192.112.36.4", "2001:500:12::d0d"),
    ("h.root-servers.net.", "198.97.190.53", "2001:500:1::53"),
    ("i.root-servers.net.", "192.36.148.17", "2001:7fe::53"),
    ("j.root-servers.net.", "192.58.128.30", "2001:503:c27::2:30"),
    ("k.root-servers.net.", "193.0.14.129", "2001:7fd::1"),
    ("l.root-servers.net.", "199.7.83.42", "2001:500:9f::42"),
    ("m.root-servers.net.", "202.12.27.33", "2001:dc3::35"),
];

/// The servers to start from: the IANA roots (their addresses as glue), or
/// the configured addresses (with no names).
pub fn root_point(roots: &Roots) -> DelegationPoint {
    match roots {
        Roots::Iana => {
            let mut delegation = Delegation {
                zone: Name::root(),
                name_servers: Vec::new(),
                glue: Vec::new(),
            };
            for (name, v4, v6) in IANA_ROOTS {
                // The table above is constant and valid.
                let name = Name::from_ascii(name).expect("a valid root server name");
                for address in [v4, v6] {
                    let address: IpAddr = address.parse().expect("a valid root address");
                    delegation.glue.push((name.clone(), address));
                }
                delegation.name_servers.push(name);
            }
            DelegationPoint::new(&delegation, |_| Vec::new(), |_| true)
        }
        Roots::Addresses(addresses) => DelegationPoint::from_addresses(Name::root(), addresses),
    }
}
