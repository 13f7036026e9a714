//! Entry points for fuzzers and property tests: arbitrary bytes in, and the
//! invariants that must hold whatever they are (besides never panicking).
//!
//! - [`ClientTarget`]: a client's datagram → the authoritative server's and
//!   the resolver's reply (the path of `server::decide`).
//! - [`ReplyTarget`]: an upstream server's reply → the resolver's
//!   verification, scrubbing, classification and caching of it.
//! - [`master_file`]: an RFC 1035 master file → a validated zone, and back.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::Name;

use crate::authority::{Authority, Catalog};
use crate::config::{Config, Roots};
use crate::names::{in_bailiwick, label_count};
use crate::resolver::iterate::{Analysis, Outcome, Step};
use crate::resolver::{Resolver, Service};
use crate::server::{self, AnswerCache, Decision, Handler, Protocol, RateDecision};
use crate::transport::{Ask, Verdict, query_message, verify};
use crate::zone::ZoneSet;

/// A client's bytes against the lab's authoritative data and a resolver.
pub struct ClientTarget {
    authority: Authority,
    service: Service,
    /// Each handler's remembered answers (a server keeps its own).
    answers: [AnswerCache; 2],
}

impl ClientTarget {
    /// Serves every zone of `zones_dir` from one catalog, and a resolver
    /// (which will not be asked to resolve: pending answers are dropped).
    pub fn new(zones_dir: &Path) -> Self {
        let zones = ZoneSet::load_dir(zones_dir).expect("the fuzzing zones load");
        let authority = Authority::new(Catalog::new(zones.zones().cloned()));
        let config = Config::parse("").expect("the defaults parse");
        let roots = Roots::Addresses(vec!["127.0.0.1".parse().expect("an address")]);
        let resolver = Arc::new(Resolver::new(&config, &roots, None));
        let service = Service::new(resolver, config.server.allow.clone(), false);
        ClientTarget {
            authority,
            service,
            answers: [AnswerCache::new(1 << 20), AnswerCache::new(1 << 20)],
        }
    }

    /// Feeds one datagram to both handlers, over UDP and TCP, twice: the
    /// second answer may be the first one remembered and replayed.
    pub fn run(&self, bytes: &[u8]) {
        let source: SocketAddr = "127.0.0.1:5353".parse().expect("an address");
        for protocol in [Protocol::Udp, Protocol::Tcp, Protocol::Udp, Protocol::Tcp] {
            check_reply(bytes, &self.authority, &self.answers[0], source, protocol);
            check_reply(bytes, &self.service, &self.answers[1], source, protocol);
        }
    }
}

/// The idle timeout told to a TCP query that asks for it.
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(10);

/// The reply (if any) decodes, answers the query's ID, is a response, and
/// fits the transport.
fn check_reply<H: Handler>(
    bytes: &[u8],
    handler: &H,
    answers: &AnswerCache,
    source: SocketAddr,
    protocol: Protocol,
) {
    let Decision::Now(reply) = server::decide(
        handler,
        Some(answers),
        bytes,
        source,
        protocol,
        RateDecision::Answer,
        Some(KEEPALIVE), // told over TCP if asked, ignored over UDP
    ) else {
        return;
    };
    let message = Message::from_vec(&reply).expect("every reply decodes");
    assert_eq!(&reply[..2], &bytes[..2], "the reply carries the query's ID");
    assert_eq!(
        message.message_type,
        hickory_proto::op::MessageType::Response
    );
    if protocol == Protocol::Udp {
        let limit = crate::server::request::UDP_PAYLOAD as usize;
        assert!(
            reply.len() <= limit,
            "a UDP reply of {} octets",
            reply.len()
        );
    }
    assert!(reply.len() <= usize::from(u16::MAX), "fits a TCP message");
}

/// Upstream replies against a resolver's processing of them.
pub struct ReplyTarget {
    resolver: Resolver,
}

impl Default for ReplyTarget {
    fn default() -> Self {
        let config = Config::parse("").expect("the defaults parse");
        let roots = Roots::Addresses(vec!["127.0.0.1".parse().expect("an address")]);
        ReplyTarget {
            resolver: Resolver::new(&config, &roots, None),
        }
    }
}

impl ReplyTarget {
    /// Treats `bytes` as the reply to the question it carries, asked of a
    /// server for one of the question's ancestors (chosen by the last byte),
    /// with the ID it carries: verified, then analysed.
    pub fn run(&self, bytes: &[u8]) {
        let Ok(parsed) = Message::from_vec(bytes) else {
            return;
        };
        let Some(question) = parsed.queries.first() else {
            return;
        };
        let labels = label_count(&question.name);
        let cut = usize::from(bytes[bytes.len() - 1]) % (labels + 1);
        let zone = question.name.trim_to(cut);
        let mut query = query_message(&Ask {
            query: Query::query(question.name.clone(), question.query_type),
            recursion_desired: false,
            edns: true,
            randomize_case: false,
        });
        query.metadata.id = parsed.id;
        let Verdict::Accept(mut reply) = verify(&query, bytes) else {
            return;
        };
        let name = question.name.clone();
        let analysis = self
            .resolver
            .analyse(&mut reply, &zone, &name, question.query_type, None);
        check_analysis(&analysis, &zone);
    }
}

/// Whatever the reply said, nothing learned lies outside the zone asked.
fn check_analysis(analysis: &Analysis, zone: &Name) {
    let records = match analysis {
        Analysis::Step(Step::Done(chain, Outcome::Answer(records))) => {
            chain.iter().chain(records).collect::<Vec<_>>()
        }
        Analysis::Step(Step::Done(chain, _)) | Analysis::Step(Step::Alias(chain, _)) => {
            chain.iter().collect()
        }
        Analysis::Referral(delegation) => {
            assert!(
                in_bailiwick(&delegation.zone, zone),
                "a referral out of the zone"
            );
            for (name, _) in &delegation.glue {
                assert!(in_bailiwick(name, zone), "glue out of the zone");
            }
            Vec::new()
        }
        Analysis::LastResort(kept) => kept.records().collect(),
        Analysis::Failed(_) => Vec::new(),
    };
    for record in records {
        assert!(
            in_bailiwick(&record.name, zone),
            "{} learned from {zone}",
            record.name
        );
    }
}

/// Bytes as a master file (`fuzz.zone`): loading never panics, and a zone
/// that loads, written out again (`resolver zone export`), loads back with
/// the same records.
pub fn master_file(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let load = |text: String| ZoneSet::load_texts([(Path::new("fuzz.zone").to_path_buf(), text)]);
    let Ok(zones) = load(text) else {
        return;
    };
    for zone in zones.zones() {
        let again = load(crate::zone::present::to_master(zone))
            .unwrap_or_else(|errors| panic!("an exported zone does not load: {errors}"));
        let records = |set: &ZoneSet| {
            let mut all: Vec<String> = set
                .zones()
                .flat_map(|zone| zone.nodes().flat_map(|(_, node)| node.rrsets().to_vec()))
                .flat_map(|rrset| rrset.records)
                .map(|r| format!("{} {} {:?}", r.name, r.ttl, r.data))
                .collect();
            all.sort();
            all
        };
        assert_eq!(
            records(&zones),
            records(&again),
            "the round trip changed the records"
        );
    }
}
