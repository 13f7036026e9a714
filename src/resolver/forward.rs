//! Forward and stub zones (Unbound's `forward-zone` and `stub-zone`): zones
//! whose servers come from `resolver.toml` instead of from the walk down
//! from the root.
//!
//! ```text
//! walk(name):  deepest configured zone at or above name
//!   [[forward]] zone → recursive queries (RD=1) to its resolvers, in turn:
//!                      the answer (RA, no AA) is accepted, cached as a
//!                      non-authoritative answer; a CNAME leaving the zone
//!                      is resolved again from the top
//!   [[stub]] zone    → the walk starts at its servers (RD=0), not at the
//!                      parent's delegation; referrals below it are followed
//!                      (and cached, so a later walk starts below the stub)
//!   neither          → the deepest cached delegation, else the root hints
//! ```
//!
//! `dig @127.0.0.1 -p 5353 www.umass.edu` with `[[forward]] zone = "."`
//! shows one recursive query upstream in `resolver trace`.

use std::net::SocketAddr;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};

use super::Resolver;
use super::budget::Budget;
use super::cache::{Credibility, Origin, Provenance};
use super::delegation::{DelegationPoint, Endpoint};
use super::error::{Failure, ResolveError};
use super::iterate::{LAME_PENALTY, Step};
use super::reply::{Classified, classify, scrub};
use crate::config::{Config, ZoneServers};

/// The configured zones: `[[forward]]` and `[[stub]]` of `resolver.toml`.
#[derive(Debug, Clone, Default)]
pub struct ConfiguredZones {
    forward: Vec<ZoneServers>,
    stub: Vec<ZoneServers>,
}

/// How a configured zone is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Recursive queries to resolvers (Unbound's `forward-zone`).
    Forward,
    /// Iterative queries to the zone's own servers (Unbound's `stub-zone`).
    Stub,
}

/// Where the walk for a name starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// Ask these resolvers recursively; the walk does not run.
    Forward(DelegationPoint),
    /// Walk from these servers (a stub zone, a cached delegation or the roots).
    Walk(DelegationPoint),
}

impl ConfiguredZones {
    /// The `[[forward]]` and `[[stub]]` zones of a configuration.
    pub fn new(config: &Config) -> Self {
        ConfiguredZones {
            forward: config.forward.clone(),
            stub: config.stub.clone(),
        }
    }

    /// The deepest configured zone at or above `name`, and how it is asked:
    /// the deepest match wins, whichever list it is in (as in Unbound).
    pub fn deepest(&self, name: &Name) -> Option<(Mode, &ZoneServers)> {
        let forward = self.forward.iter().map(|zone| (Mode::Forward, zone));
        let stub = self.stub.iter().map(|zone| (Mode::Stub, zone));
        forward
            .chain(stub)
            .filter(|(_, servers)| servers.zone.zone_of(name))
            .max_by_key(|(_, servers)| servers.zone.num_labels())
    }

    /// True when the root itself is configured: then the root hints are
    /// never asked, so the root is not primed (RFC 8109 does not apply).
    pub fn covers_root(&self) -> bool {
        self.deepest(&Name::root()).is_some()
    }
}

/// Every `[[forward]]` server's socket address (`[resolver] port` unless
/// it has its own), for `resolver trace` to name them.
pub fn forwarders(config: &Config) -> Vec<SocketAddr> {
    let port = config.upstream_port();
    config
        .forward
        .iter()
        .flat_map(|zone| &zone.addresses)
        .map(|server| Endpoint::new(server.ip, server.port).socket(port))
        .collect()
}

impl Resolver {
    /// Where the walk for `name` starts (RFC 1034 §5.3.3 step 2, with the
    /// configured zones first): a `[[forward]]` zone's resolvers; a
    /// `[[stub]]` zone's servers, unless a delegation below the stub zone is
    /// cached (learnt from those servers); else the deepest cached
    /// delegation or the root hints.
    pub(super) fn start_for(&self, name: &Name) -> Start {
        let Some((mode, servers)) = self.configured.deepest(name) else {
            return Start::Walk(self.starting_point(name));
        };
        let mut configured =
            DelegationPoint::from_servers(servers.zone.clone(), &servers.addresses);
        // Trusted as given, like the roots: only the IPv6 setting applies
        // (with Unbound's do-ip6: no, no IPv6 server is asked either).
        configured.retain_addresses(|address| address.is_ipv4() || self.settings.ipv6);
        if mode == Mode::Forward {
            return Start::Forward(configured);
        }
        let cached = self.starting_point(name);
        // A parent's delegation of the stub zone (or of a zone above it) is
        // not used: the configured servers take its place.
        if cached.zone.num_labels() > servers.zone.num_labels()
            && servers.zone.zone_of(&cached.zone)
        {
            Start::Walk(cached)
        } else {
            Start::Walk(configured)
        }
    }

    /// Asks a forward zone's resolvers, each in turn until one answers
    /// usefully: a recursive query (RD=1), whose answer is accepted without
    /// AA (it comes from the resolver's cache), scrubbed to the forward
    /// zone (a forwarder may answer any name under its zone, nothing else)
    /// and cached no higher than a non-authoritative answer (RFC 2181 §5.4.1).
    pub(super) async fn forward(
        &self,
        mut point: DelegationPoint,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Step, ResolveError> {
        let zone = point.zone.clone();
        let mut last = (None, Failure::NoAddress);
        while let Some(server) = point.next(&self.stats) {
            last.0 = Some(server.address);
            let asked = self
                .exchange(&server, &zone, name, qtype, true, budget)
                .await?;
            let failure = match asked {
                Ok(mut reply) => match self.analyse_forwarded(
                    &mut reply,
                    &zone,
                    name,
                    qtype,
                    Some(server.endpoint().socket(self.settings.port)),
                ) {
                    Ok(step) => return Ok(step),
                    Err(failure) => {
                        self.stats.record_lame(server.endpoint(), LAME_PENALTY);
                        failure
                    }
                },
                Err(failure) => failure,
            };
            tracing::debug!(forwarder = %server.address, zone = %zone, "{failure}; the next forwarder");
            last.1 = failure;
        }
        Err(ResolveError::ServersFailed {
            zone,
            server: last.0,
            failure: last.1,
        })
    }

    /// Learns from a forwarder's reply: scrubs it to the forward zone,
    /// classifies it as the answer of a server that offers no recursion of
    /// its own (RA is how a forwarder answers, not a sign of lameness), and
    /// caches what it says as a non-authoritative answer (with its NS set
    /// and addresses when responses are not minimal); a referral or an
    /// error RCODE means this forwarder failed.
    fn analyse_forwarded(
        &self,
        reply: &mut Message,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        forwarder: Option<SocketAddr>,
    ) -> Result<Step, Failure> {
        scrub(reply, zone); // out-of-zone data and other classes dropped, as from any server
        reply.metadata.recursion_available = false;
        match classify(reply, name, qtype, zone) {
            Classified::Referral { .. } => Err(Failure::NotRecursive),
            Classified::Lame(lameness) => Err(Failure::Lame(lameness)),
            answer => {
                let origin = Origin {
                    credibility: Credibility::NonAuthoritativeAnswer,
                    provenance: forwarder.map(|server| Provenance {
                        server,
                        server_name: None,
                        question: name.clone(),
                        question_type: qtype,
                    }),
                };
                let step = self.learn(name, qtype, answer, origin);
                self.keep_sections(reply, &step, name, qtype); // as the forwarder sent them
                Ok(step)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(text: &str) -> ConfiguredZones {
        ConfiguredZones::new(&Config::parse(text).expect("valid"))
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("valid")
    }

    #[test]
    fn the_deepest_configured_zone_wins_whichever_list_it_is_in() {
        let zones = configured(
            "[[forward]]\nzone = \".\"\naddresses = [\"192.0.2.53\"]\n\
             [[stub]]\nzone = \"example.\"\naddresses = [\"192.0.2.1\"]\n\
             [[forward]]\nzone = \"corp.example.\"\naddresses = [\"192.0.2.2:5300\"]\n",
        );
        let found = |text: &str| {
            zones
                .deepest(&name(text))
                .map(|(mode, servers)| (mode, servers.zone.to_string()))
        };
        assert_eq!(found("www.umass.edu."), Some((Mode::Forward, ".".into())));
        assert_eq!(found("example."), Some((Mode::Stub, "example.".into())));
        assert_eq!(found("www.example."), Some((Mode::Stub, "example.".into())));
        assert_eq!(
            found("a.b.corp.example."),
            Some((Mode::Forward, "corp.example.".into()))
        );
        assert_eq!(
            found("xcorp.example."),
            Some((Mode::Stub, "example.".into())),
            "label by label, not by suffix"
        );
        assert!(zones.covers_root());
    }

    /// Where the walk for `name` starts: the zone and the first server, as `zone@address`.
    fn start(resolver: &Resolver, qname: &str) -> String {
        let stats = super::super::delegation::ServerStats::default();
        let (kind, mut point) = match resolver.start_for(&name(qname)) {
            Start::Forward(point) => ("forward", point),
            Start::Walk(point) => ("walk", point),
        };
        let first = point.next(&stats).expect("a server");
        format!("{kind} {}@{}", point.zone, first.endpoint().socket(53))
    }

    #[test]
    fn a_stub_zone_replaces_the_parents_delegation_but_not_those_below_it() {
        let config = Config::parse(
            "[resolver]\nroots = [\"192.0.2.1\"]\n\
             [[stub]]\nzone = \"corp.example.\"\naddresses = [\"192.0.2.10:5300\"]\n\
             [[forward]]\nzone = \"net.\"\naddresses = [\"192.0.2.53\"]\n",
        )
        .expect("valid");
        let roots = config.resolver.roots.clone().expect("given");
        let resolver = Resolver::new(&config, &roots, None);
        let delegation = |zone: &str, address: &str| super::super::delegation::Delegation {
            zone: name(zone),
            name_servers: vec![name(&format!("ns.{zone}"))],
            glue: vec![(name(&format!("ns.{zone}")), address.parse().expect("valid"))],
        };
        let now = crate::clock::now();
        for (zone, address) in [
            ("corp.example.", "192.0.2.66"),
            ("sub.corp.example.", "192.0.2.11"),
        ] {
            resolver.cache.insert_delegation(
                delegation(zone, address),
                3600,
                Credibility::Referral,
                now,
            );
        }
        assert_eq!(
            start(&resolver, "www.corp.example."),
            "walk corp.example.@192.0.2.10:5300"
        );
        assert_eq!(
            start(&resolver, "a.sub.corp.example."),
            "walk sub.corp.example.@192.0.2.11:53"
        );
        assert_eq!(start(&resolver, "www.example."), "walk .@192.0.2.1:53");
        assert_eq!(
            start(&resolver, "www.example.net."),
            "forward net.@192.0.2.53:53"
        );
    }

    #[test]
    fn a_forwarded_answer_is_cached_below_authoritative_data_even_with_aa() {
        use hickory_proto::op::{OpCode, Query};
        use hickory_proto::rr::rdata::A;
        use hickory_proto::rr::{RData, Record};
        let config = Config::parse("[resolver]\nroots = [\"192.0.2.1\"]\n").expect("valid");
        let roots = config.resolver.roots.clone().expect("given");
        let resolver = Resolver::new(&config, &roots, None);
        let www = name("www.example.");
        let a = |last: u8| Record::from_rdata(www.clone(), 300, RData::A(A::new(192, 0, 2, last)));
        let mut reply = Message::response(1, OpCode::Query);
        reply.add_query(Query::query(www.clone(), RecordType::A));
        reply.metadata.authoritative = true;
        reply.metadata.recursion_available = true;
        reply.answers.push(a(1));
        let step = resolver.analyse_forwarded(&mut reply, &Name::root(), &www, RecordType::A, None);
        assert!(matches!(step, Ok(Step::Done(..))), "{step:?}");
        // Data of a non-authoritative answer replaces it: it was not ranked higher.
        let now = crate::clock::now();
        resolver
            .cache
            .insert_rrset(&[a(2)], Credibility::NonAuthoritativeAnswer, now);
        let cached = resolver
            .cache
            .rrset(&www, RecordType::A, now)
            .expect("cached");
        assert_eq!(cached[0].data, a(2).data);
    }

    #[test]
    fn without_minimal_responses_a_forwarded_answer_keeps_its_ns_set() {
        use hickory_proto::op::{OpCode, Query};
        use hickory_proto::rr::rdata::{A, NS};
        use hickory_proto::rr::{RData, Record};
        let text = "[server]\nminimal_responses = false\n[resolver]\nroots = [\"192.0.2.1\"]\n";
        let config = Config::parse(text).expect("valid");
        let roots = config.resolver.roots.clone().expect("given");
        let resolver = Resolver::new(&config, &roots, None);
        let www = name("www.example.");
        let mut reply = Message::response(1, OpCode::Query);
        reply.add_query(Query::query(www.clone(), RecordType::A));
        reply.metadata.recursion_available = true;
        let a = |owner: &Name, last| {
            Record::from_rdata(owner.clone(), 300, RData::A(A::new(192, 0, 2, last)))
        };
        reply.answers.push(a(&www, 80));
        let ns = RData::NS(NS(name("ns.example.")));
        reply
            .authorities
            .push(Record::from_rdata(name("example."), 300, ns));
        reply.additionals.push(a(&name("ns.example."), 53));
        let step = resolver.analyse_forwarded(&mut reply, &Name::root(), &www, RecordType::A, None);
        assert!(matches!(step, Ok(Step::Done(..))), "{step:?}");
        let sections = resolver
            .cache
            .sections(&www, RecordType::A, crate::clock::now());
        assert_eq!(sections.authority.len(), 1, "{sections:?}");
        assert_eq!(sections.additional.len(), 1, "{sections:?}");
    }

    #[test]
    fn a_forwarder_that_refers_has_failed() {
        use hickory_proto::op::{OpCode, Query};
        use hickory_proto::rr::rdata::NS;
        use hickory_proto::rr::{RData, Record};
        let config = Config::parse("[resolver]\nroots = [\"192.0.2.1\"]\n").expect("valid");
        let roots = config.resolver.roots.clone().expect("given");
        let resolver = Resolver::new(&config, &roots, None);
        let www = name("www.example.");
        let mut reply = Message::response(1, OpCode::Query);
        reply.add_query(Query::query(www.clone(), RecordType::A));
        let ns = RData::NS(NS(name("ns.example.")));
        reply
            .authorities
            .push(Record::from_rdata(name("example."), 300, ns));
        let step = resolver.analyse_forwarded(&mut reply, &Name::root(), &www, RecordType::A, None);
        assert_eq!(step, Err(Failure::NotRecursive));
    }

    #[test]
    fn ipv6_forwarders_are_skipped_without_ipv6() {
        let config = Config::parse(
            "[resolver]\nroots = [\"192.0.2.1\"]\nipv6 = false\n\
             [[forward]]\nzone = \".\"\naddresses = [\"2001:db8::53\", \"192.0.2.53\"]\n",
        )
        .expect("valid");
        let roots = config.resolver.roots.clone().expect("given");
        let resolver = Resolver::new(&config, &roots, None);
        assert_eq!(start(&resolver, "www.example."), "forward .@192.0.2.53:53");
    }

    #[test]
    fn without_a_configured_root_the_root_is_primed() {
        let zones = configured("[[stub]]\nzone = \"corp.\"\naddresses = [\"192.0.2.1\"]\n");
        assert!(!zones.covers_root());
        assert!(zones.deepest(&name("www.umass.edu.")).is_none());
        assert!(ConfiguredZones::default().deepest(&Name::root()).is_none());
    }
}
