//! Delegations and the servers of a zone: which nameserver to ask next.
//!
//! A [`Delegation`] is what a referral teaches (the child zone's NS names and
//! their glue); it is cached. A [`DelegationPoint`] is the walk's working copy
//! for one zone: the addresses still to try, and the NS names whose addresses
//! must be looked up first (glueless delegations). Servers are chosen by
//! smoothed round-trip time ([`ServerStats`]), so a dead one is soon avoided.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::Name;

pub use super::server_stats::{Health, MAX_PENALTY, MIN_TIMEOUT, ServerStats, UNKNOWN_RTT};
use crate::config::ServerAddress;

/// A zone's delegation: its nameservers and the addresses given with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The delegated zone.
    pub zone: Name,
    /// Its NS names.
    pub name_servers: Vec<Name>,
    /// Addresses of NS names that came in the referral (in-bailiwick glue only).
    pub glue: Vec<(Name, IpAddr)>,
}

/// One address to ask, and the NS name it belongs to (when known).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The server's address.
    pub address: IpAddr,
    /// Its own port, for a server configured with one (`[[forward]]`,
    /// `[[stub]]`); otherwise the upstream port.
    pub port: Option<u16>,
    /// The NS name of the server, when known (not for address-only root hints).
    pub name: Option<Name>,
    tried: bool,
}

/// The servers of the zone being asked, as the walk works through them.
#[derive(Debug, Clone)]
pub struct DelegationPoint {
    /// The zone these servers are authoritative for: the bailiwick of their replies.
    pub zone: Name,
    candidates: Vec<Candidate>,
    unresolved: Vec<Name>,
    /// The delegation's NS names, until the parent-side fallback takes them.
    parent_side: Vec<Name>,
    /// Ties broken in the order the servers were added, not at random.
    in_order: bool,
}

impl DelegationPoint {
    /// Starts from a delegation, with the addresses from its glue, else from
    /// `known` (found elsewhere, e.g. in the cache), that the resolver may use;
    /// NS names left without a usable address are to be looked up.
    pub fn new(
        delegation: &Delegation,
        known: impl Fn(&Name) -> Vec<IpAddr>,
        usable: impl Fn(&IpAddr) -> bool,
    ) -> Self {
        let mut point = DelegationPoint {
            zone: delegation.zone.clone(),
            candidates: Vec::new(),
            unresolved: Vec::new(),
            parent_side: delegation.name_servers.clone(),
            in_order: false,
        };
        for name in &delegation.name_servers {
            let mut addresses: Vec<IpAddr> = delegation
                .glue
                .iter()
                .filter(|(owner, address)| owner == name && usable(address))
                .map(|(_, address)| *address)
                .collect();
            if addresses.is_empty() {
                addresses = known(name).into_iter().filter(|a| usable(a)).collect();
            }
            if addresses.is_empty() {
                point.unresolved.push(name.clone());
            }
            for address in addresses {
                point.add(address, Some(name.clone()));
            }
        }
        point
    }

    /// Starts from bare addresses (root hints given as addresses).
    pub fn from_addresses(zone: Name, addresses: &[IpAddr]) -> Self {
        let mut point = DelegationPoint {
            zone,
            candidates: Vec::new(),
            unresolved: Vec::new(),
            parent_side: Vec::new(),
            in_order: false,
        };
        for address in addresses {
            point.add(*address, None);
        }
        point
    }

    /// Starts from configured servers, each with its own port if it has
    /// one (`[[forward]]` and `[[stub]]` addresses, trusted as given). Those
    /// never heard from are tried in the order written, so the first falls
    /// back to the next on failure; once timed, the fastest goes first, as
    /// Unbound chooses among its `forward-addr`s by round-trip time.
    pub fn from_servers(zone: Name, servers: &[ServerAddress]) -> Self {
        let mut point = Self::from_addresses(zone, &[]);
        point.in_order = true;
        for server in servers {
            point.add_endpoint(Endpoint::new(server.ip, server.port), None);
        }
        point
    }

    /// Adds an address on the upstream port (once).
    pub fn add(&mut self, address: IpAddr, name: Option<Name>) {
        self.add_endpoint(Endpoint::from(address), name);
    }

    /// Adds an address with its port (once).
    fn add_endpoint(&mut self, endpoint: Endpoint, name: Option<Name>) {
        if !self.candidates.iter().any(|c| c.endpoint() == endpoint) {
            self.candidates.push(Candidate {
                address: endpoint.address,
                port: endpoint.port,
                name,
                tried: false,
            });
        }
    }

    /// Drops addresses the resolver may not use (e.g. IPv6 on an IPv4-only host).
    pub fn retain_addresses(&mut self, usable: impl Fn(&IpAddr) -> bool) {
        self.candidates
            .retain(|candidate| usable(&candidate.address));
    }

    /// The untried address with the best score, ties broken at random (in
    /// order for configured servers); marked tried.
    ///
    /// Each candidate is scored once: other resolutions update the shared
    /// statistics meanwhile, so a second reading could disagree with the first.
    pub fn next(&mut self, stats: &ServerStats) -> Option<Candidate> {
        let scored: Vec<(usize, Duration)> = (0..self.candidates.len())
            .filter(|&i| !self.candidates[i].tried)
            .map(|i| (i, stats.score(self.candidates[i].endpoint())))
            .collect();
        let best = scored.iter().map(|&(_, score)| score).min()?;
        let ties: Vec<usize> = scored
            .iter()
            .filter(|&&(_, score)| score == best)
            .map(|&(i, _)| i)
            .collect();
        // `best` is one of the scores, so `ties` holds at least one candidate.
        let pick = if self.in_order {
            ties[0]
        } else {
            ties[rand::random_range(0..ties.len())]
        };
        self.candidates[pick].tried = true;
        Some(self.candidates[pick].clone())
    }

    /// Makes every address askable again (after a useful reply, the same
    /// servers are asked the next question).
    pub fn retry_all(&mut self) {
        for candidate in &mut self.candidates {
            candidate.tried = false;
        }
    }

    /// An NS name with no address yet, to be looked up (a glueless delegation); removed from the list.
    pub fn take_unresolved(&mut self) -> Option<Name> {
        if self.unresolved.is_empty() {
            None
        } else {
            Some(
                self.unresolved
                    .remove(rand::random_range(0..self.unresolved.len())),
            )
        }
    }

    /// The NS names, once, for the parent-side fallback (Unbound's): when
    /// every address has been tried and every NS name looked up, the glue
    /// the referral to each name's own zone gave is tried too, in case the
    /// child's view of its servers' addresses is what is broken. `None`
    /// after the first time, and for servers given as bare addresses.
    pub fn take_parent_side(&mut self) -> Option<Vec<Name>> {
        let names = std::mem::take(&mut self.parent_side);
        (!names.is_empty()).then_some(names)
    }

    /// True when nothing is left: every address tried and every NS name looked up.
    pub fn exhausted(&self) -> bool {
        self.unresolved.is_empty() && self.candidates.iter().all(|c| c.tried)
    }

    /// The NS names still without an address.
    pub fn unresolved(&self) -> &[Name] {
        &self.unresolved
    }

    /// The addresses to ask, tried or not.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }
}

impl Candidate {
    /// Whether it was asked already for this question.
    pub fn tried(&self) -> bool {
        self.tried
    }

    /// Where this candidate is reached, as the server statistics know it.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::new(self.address, self.port)
    }
}

/// A server as the statistics know it: its address, and its own port when
/// it has one, so that two configured servers on one address (`127.0.0.1`
/// and `127.0.0.1:5353`) are timed apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The server's address.
    pub address: IpAddr,
    /// Its own port; `None` for the upstream port.
    pub port: Option<u16>,
}

impl Endpoint {
    /// A server at `address`, on `port` or else the upstream port.
    pub fn new(address: IpAddr, port: Option<u16>) -> Self {
        Endpoint { address, port }
    }

    /// The socket address to send to, `upstream_port` unless it has its own.
    pub fn socket(&self, upstream_port: u16) -> SocketAddr {
        SocketAddr::new(self.address, self.port.unwrap_or(upstream_port))
    }
}

impl From<IpAddr> for Endpoint {
    fn from(address: IpAddr) -> Self {
        Endpoint::new(address, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("valid")
    }

    #[test]
    fn glue_first_then_known_then_unresolved() {
        let delegation = Delegation {
            zone: name("t."),
            name_servers: vec![name("a.t."), name("b.x."), name("c.y.")],
            glue: vec![(name("a.t."), "192.0.2.1".parse().expect("valid"))],
        };
        let known = |n: &Name| {
            if *n == name("b.x.") {
                vec!["192.0.2.2".parse().expect("valid")]
            } else {
                vec![]
            }
        };
        let mut point = DelegationPoint::new(&delegation, known, |_| true);
        assert_eq!(point.unresolved(), [name("c.y.")]);
        let stats = ServerStats::default();
        let mut seen: Vec<String> = std::iter::from_fn(|| point.next(&stats))
            .map(|c| c.address.to_string())
            .collect();
        seen.sort();
        assert_eq!(seen, ["192.0.2.1", "192.0.2.2"]);
        assert!(!point.exhausted());
        assert_eq!(point.take_unresolved(), Some(name("c.y.")));
        assert!(point.exhausted());
    }

    #[test]
    fn configured_servers_on_one_address_are_told_apart_by_port() {
        let server = |text: &str| ServerAddress::parse(text).expect("valid");
        let servers = [
            server("127.0.0.1"),
            server("127.0.0.1:5353"),
            server("127.0.0.1"),
        ];
        let mut point = DelegationPoint::from_servers(Name::root(), &servers);
        let stats = ServerStats::default();
        let silent = Endpoint::new("127.0.0.1".parse().expect("valid"), None);
        stats.record_failure(silent, Duration::from_millis(800));
        let first = point.next(&stats).expect("a server");
        assert_eq!(first.endpoint().socket(53).to_string(), "127.0.0.1:5353");
        assert_eq!(point.next(&stats).expect("a server").endpoint(), silent);
        assert!(point.next(&stats).is_none(), "the same server once");
    }

    #[test]
    fn a_failed_server_goes_behind_a_live_one() {
        let stats = ServerStats::default();
        let dead: IpAddr = "192.0.2.1".parse().expect("valid");
        let live: IpAddr = "192.0.2.2".parse().expect("valid");
        stats.record_failure(dead, Duration::from_millis(800));
        stats.record_rtt(live, Duration::from_millis(1));
        for _ in 0..20 {
            let mut point = DelegationPoint::from_addresses(Name::root(), &[dead, live]);
            assert_eq!(point.next(&stats).expect("a server").address, live);
        }
    }

    #[test]
    fn scores_changing_while_choosing_never_panic() {
        // Other threads smooth RTTs in while this one chooses (issue 9 §1:
        // reading a score twice found no tie and sampled an empty range).
        let stats = ServerStats::default();
        let addresses: Vec<IpAddr> = (1..=4).map(|i| IpAddr::from([192, 0, 2, i])).collect();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (stats, stop, addresses) = (stats.clone(), stop.clone(), addresses.clone());
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2_000_000 {
                        let address = addresses[(n as usize + w) % addresses.len()];
                        stats.record_rtt(address, Duration::from_micros(n % 7));
                        n += 1;
                    }
                })
            })
            .collect();
        for _ in 0..20_000 {
            let mut point = DelegationPoint::from_addresses(Name::root(), &addresses);
            let picked = std::iter::from_fn(|| point.next(&stats)).count();
            assert_eq!(picked, addresses.len());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for writer in writers {
            writer.join().expect("writer thread");
        }
    }
}
