//! `[[forward]]` and `[[stub]]`: zones whose servers are configured instead
//! of found by walking down from the root, as Unbound's `forward-zone` and
//! `stub-zone` are.
//!
//! ```toml
//! [[forward]]                 # recursive queries (RD=1) for this zone and below
//! zone = "."
//! addresses = ["192.0.2.53", "127.0.0.1:5353"]
//!
//! [[stub]]                    # iterative queries (RD=0) to this zone's own servers
//! zone = "corp.example."
//! addresses = ["192.0.2.1", "[2001:db8::1]:5300"]
//! ```
//!
//! Every value is checked as it is read, so a mistake is reported with the
//! line and the key: a zone that is not a domain name, an empty address
//! list, an address that is neither `IP` nor `IP:port`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use hickory_proto::rr::Name;
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// One `[[forward]]` or `[[stub]]` table: a zone and the servers to ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneServers {
    /// The zone, fully qualified (`"corp.example"` is read as `"corp.example."`).
    #[serde(deserialize_with = "deserialize_zone")]
    pub zone: Name,
    /// The servers, in the order written; at least one.
    #[serde(deserialize_with = "deserialize_addresses")]
    pub addresses: Vec<ServerAddress>,
}

/// One configured server: an address, and a port when one is written
/// (otherwise the upstream port, `[resolver] port`). Unbound writes
/// `192.0.2.1@5353`; we write socket addresses as Rust and TOML users do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerAddress {
    /// The server's IP address.
    pub ip: IpAddr,
    /// Its port, when written (`"127.0.0.1:5353"`, `"[::1]:5353"`).
    pub port: Option<u16>,
}

impl ServerAddress {
    /// Reads `IP` or `IP:port` (`[IPv6]:port` for IPv6).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(ServerAddress { ip, port: None });
        }
        let socket = text.parse::<SocketAddr>().ok()?;
        (socket.port() != 0).then_some(ServerAddress {
            ip: socket.ip(),
            port: Some(socket.port()),
        })
    }
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}", SocketAddr::new(self.ip, port)),
            None => write!(f, "{}", self.ip),
        }
    }
}

/// Refuses a zone given twice, in one list or in both: each zone has one
/// set of servers (Unbound refuses a duplicate `forward-zone` or `stub-zone` too).
pub(super) fn check(forward: &[ZoneServers], stub: &[ZoneServers]) -> Result<(), &'static str> {
    let zones: Vec<&Name> = forward
        .iter()
        .chain(stub)
        .map(|entry| &entry.zone)
        .collect();
    let twice = zones
        .iter()
        .enumerate()
        .any(|(index, zone)| zones[..index].contains(zone));
    if twice {
        return Err(
            "[[forward]] and [[stub]]: a zone is given twice (one list of servers per zone)",
        );
    }
    Ok(())
}

/// `zone = "corp.example."`: a domain name, made fully qualified, in lower case.
fn deserialize_zone<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
    let text = String::deserialize(deserializer)?;
    let invalid = || de::Error::custom(format!("zone {text:?} is not a domain name"));
    if text.trim().is_empty() {
        return Err(invalid());
    }
    let mut name = Name::from_ascii(text.trim()).map_err(|_| invalid())?;
    name.set_fqdn(true);
    Ok(name.to_lowercase())
}

/// `addresses = ["192.0.2.1", "127.0.0.1:5353"]`: at least one, each `IP` or `IP:port`.
fn deserialize_addresses<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ServerAddress>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    if texts.is_empty() {
        return Err(de::Error::custom(
            "addresses is an empty list: give at least one server",
        ));
    }
    texts
        .iter()
        .map(|text| {
            ServerAddress::parse(text).ok_or_else(|| {
                de::Error::custom(format!(
                    "addresses: {text:?} is not an IP address or IP:port (e.g. \"192.0.2.1\", \"127.0.0.1:5353\", \"[::1]:5353\")"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn server(text: &str) -> ServerAddress {
        ServerAddress::parse(text).expect("a valid server address")
    }

    #[test]
    fn forward_and_stub_zones_parse_with_optional_ports() {
        let config = Config::parse(
            "[[forward]]\nzone = \".\"\naddresses = [\"192.0.2.53\", \"127.0.0.1:5353\", \"[::1]:5300\", \"2001:db8::1\"]\n\
             [[stub]]\nzone = \"Corp.Example\"\naddresses = [\"192.0.2.1\"]\n",
        )
        .expect("valid");
        assert_eq!(config.forward.len(), 1);
        assert_eq!(config.forward[0].zone, Name::root());
        let written: Vec<String> = config.forward[0]
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            written,
            ["192.0.2.53", "127.0.0.1:5353", "[::1]:5300", "2001:db8::1"]
        );
        assert_eq!(config.forward[0].addresses[0].port, None);
        assert_eq!(config.forward[0].addresses[1].port, Some(5353));
        assert_eq!(
            config.stub[0].zone,
            Name::from_ascii("corp.example.").expect("valid"),
            "made fully qualified, in lower case"
        );
        assert_eq!(config.stub[0].addresses, [server("192.0.2.1")]);
    }

    #[test]
    fn the_shipped_examples_parse() {
        // resolver.toml shows both tables commented out; uncommented, they are valid.
        let shipped = include_str!("../../resolver.toml");
        let examples: String = shipped
            .lines()
            .filter_map(|line| line.strip_prefix("# "))
            .filter(|line| {
                ["[[", "zone =", "addresses ="]
                    .iter()
                    .any(|key| line.starts_with(key))
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config = Config::parse(&examples).expect("the examples are valid");
        assert_eq!(config.forward.len(), 1, "{examples}");
        assert_eq!(config.stub.len(), 1, "{examples}");
    }

    #[test]
    fn no_forward_or_stub_zones_by_default() {
        let config = Config::parse("").expect("valid");
        assert!(config.forward.is_empty() && config.stub.is_empty());
    }

    #[test]
    fn bad_forward_and_stub_tables_are_named() {
        let cases = [
            (
                "[[forward]]\nzone = \"a..b\"\naddresses = [\"192.0.2.1\"]\n",
                "not a domain name",
            ),
            (
                "[[forward]]\nzone = \"\"\naddresses = [\"192.0.2.1\"]\n",
                "not a domain name",
            ),
            ("[[stub]]\nzone = \"corp.\"\naddresses = []\n", "empty list"),
            (
                "[[stub]]\nzone = \"corp.\"\naddresses = [\"192.0.2.300\"]\n",
                "\"192.0.2.300\" is not an IP address",
            ),
            (
                "[[forward]]\nzone = \"corp.\"\naddresses = [\"192.0.2.1:0\"]\n",
                "is not an IP address",
            ),
            (
                "[[forward]]\nzone = \"corp.\"\naddresses = [\"ns.corp.\"]\n",
                "is not an IP address",
            ),
            ("[[stub]]\nzone = \"corp.\"\n", "addresses"),
            (
                "[[stub]]\nzone = \"corp.\"\naddresses = [\"192.0.2.1\"]\nadresses = []\n",
                "adresses",
            ),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_zone_given_twice_is_refused() {
        let twice = |text: &str| {
            let config = Config::parse(text).expect("parses");
            check(&config.forward, &config.stub).expect_err("a zone twice")
        };
        let entry = |table: &str, zone: &str| {
            format!("[[{table}]]\nzone = \"{zone}\"\naddresses = [\"192.0.2.1\"]\n")
        };
        let error = twice(&(entry("forward", "corp.") + &entry("forward", "CORP")));
        assert!(error.contains("twice"), "{error}");
        twice(&(entry("forward", "corp.") + &entry("stub", "corp.")));
        let config =
            Config::parse(&(entry("forward", ".") + &entry("stub", "corp."))).expect("valid");
        assert_eq!(check(&config.forward, &config.stub), Ok(()));
    }
}
