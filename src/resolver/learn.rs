//! What a reply teaches, and what of it is cached with which credibility
//! (RFC 2181 §5.4.1): scrub, classify, then cache answers, negative answers
//! and delegations; and priming the root (RFC 8109).

use std::net::SocketAddr;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Resolver;
use super::budget::Budget;
use super::cache::{Credibility, Origin, Provenance, Sections};
use super::delegation::Delegation;
use super::error::{Failure, ResolveError};
use super::iterate::{Analysis, LAME_PENALTY, Outcome, Step, chain_end};
use super::proof::signs;
use super::reply::{Classified, Lameness, classify, delegation_of, scrub};
use crate::clock;

impl Resolver {
    /// Primes the root (RFC 8109): asks the root hints for ". NS" and caches
    /// the root delegation the answer gives (the names and their addresses),
    /// which every resolution then starts from. Returns its TTL in seconds.
    pub async fn prime(&self) -> Result<u32, ResolveError> {
        let mut budget = Budget::new(&self.settings.limits);
        let mut point = self.starting_point(&Name::root());
        let root = Name::root();
        let mut last = (None, Failure::NoAddress);
        while let Some(server) = point.next(&self.stats) {
            let mut reply = match self
                .exchange(&server, &root, &root, RecordType::NS, false, &mut budget)
                .await?
            {
                Ok(reply) => reply,
                Err(failure) => {
                    last = (Some(server.address), failure);
                    continue;
                }
            };
            scrub(&mut reply, &root);
            if let Some((delegation, ttl)) = root_delegation(&reply) {
                let ttl = self.cache.clamp_ttl(ttl);
                tracing::info!(
                    "primed the root from {}: {} servers, for {ttl} s",
                    server.address,
                    delegation.name_servers.len()
                );
                self.cache.insert_delegation(
                    delegation,
                    ttl,
                    Credibility::AuthoritativeAnswer,
                    clock::now(),
                );
                return Ok(ttl);
            }
            self.stats.record_lame(server.address, LAME_PENALTY);
            last = (
                Some(server.address),
                Failure::Lame(Lameness::NotAuthoritative),
            );
        }
        Err(ResolveError::ServersFailed {
            zone: root,
            server: last.0,
            failure: last.1,
        })
    }

    /// Analyses one reply of a server for `zone` to `name`/`qtype` (RFC
    /// 1034 §5.3.3 step 4): scrubs it, classifies it and caches what it teaches (answers,
    /// negative answers, delegations). The walk's handling of every reply,
    /// and the entry point of the upstream-reply fuzz target.
    pub fn analyse(
        &self,
        reply: &mut Message,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        server: Option<(SocketAddr, Option<Name>)>,
    ) -> Analysis {
        let provenance = server.map(|(server, server_name)| Provenance {
            server,
            server_name,
            question: name.clone(),
            question_type: qtype,
        });
        let from = |credibility| Origin {
            credibility,
            provenance: provenance.clone(),
        };
        let scrubbed = scrub(reply, zone);
        if scrubbed.out_of_bailiwick > 0 {
            let count = scrubbed.out_of_bailiwick;
            tracing::debug!(zone = %zone, "dropped {count} out-of-bailiwick records");
        }
        if scrubbed.wrong_class > 0 {
            // Dropped like out-of-zone data, the rest used (as Unbound does;
            // iter_class_mixreferral): a class other than IN is never ours.
            let count = scrubbed.wrong_class;
            tracing::debug!(zone = %zone, "dropped {count} records of a class other than IN");
        }
        let says_nothing = reply.answers.is_empty()
            && !reply
                .authorities
                .iter()
                .any(|r| r.record_type() == RecordType::SOA);
        if scrubbed.upward_ns > 0 && says_nothing {
            return Analysis::Failed(Failure::Lame(Lameness::UpwardReferral));
        }
        match classify(reply, name, qtype, zone) {
            Classified::Referral { delegation, ttl } => {
                self.cache.insert_delegation(
                    delegation.clone(),
                    ttl,
                    from(Credibility::Referral),
                    clock::now(),
                );
                self.keep_referral_signatures(reply, &delegation.zone, from(Credibility::Referral));
                Analysis::Referral(delegation)
            }
            Classified::Lame(Lameness::NotAuthoritative) => recursion_lame(
                reply,
                zone,
                name,
                qtype,
                from(Credibility::NonAuthoritativeAnswer),
            ),
            Classified::Lame(lameness) => Analysis::Failed(Failure::Lame(lameness)),
            Classified::NoData { chain, soa: None } if chain.is_empty() => {
                Analysis::LastResort(Box::new(LastResort {
                    failure: Failure::Lame(Lameness::EmptyWithoutSoa),
                    reply: reply.clone(),
                    classified: Classified::NoData { chain, soa: None },
                    origin: from(Credibility::of_answer(reply.authoritative)),
                }))
            }
            other => {
                let origin = from(Credibility::of_answer(reply.authoritative));
                let step = self.learn(name, qtype, other, origin);
                self.keep_sections(reply, &step, name, qtype);
                Analysis::Step(step)
            }
        }
    }

    /// Caches what an answer taught, ranked by its origin's credibility (RFC 2181
    /// §5.4.1: with or without AA), and turns it into a step.
    pub(super) fn learn(
        &self,
        name: &Name,
        qtype: RecordType,
        classified: Classified,
        origin: Origin,
    ) -> Step {
        let now = clock::now();
        let (chain, end) = match &classified {
            Classified::Answer { chain, .. }
            | Classified::Alias { chain, .. }
            | Classified::NxDomain { chain, .. }
            | Classified::NoData { chain, .. }
            | Classified::YxDomain { chain } => (self.clamped(chain), chain_end(chain, name)),
            _ => (Vec::new(), name.clone()),
        };
        for link in super::dname::cacheable(&chain) {
            self.cache
                .insert_rrset(std::slice::from_ref(link), origin.clone(), now);
        }
        match classified {
            Classified::Answer { records, .. } => {
                let records = self.clamped(&records);
                // A CNAME a DNAME synthesised is made again from the DNAME, not cached.
                let synthesised = records.iter().any(|r| super::dname::synthesised(&chain, r));
                if qtype != RecordType::ANY && !synthesised {
                    self.cache.insert_rrset(&records, origin, now);
                }
                Step::Done(chain, Outcome::Answer(records))
            }
            Classified::Alias { target, .. } => Step::Alias(chain, target),
            Classified::YxDomain { .. } => Step::Done(chain, Outcome::YxDomain),
            Classified::NxDomain { soa, .. } => {
                if let Some(soa) = &soa {
                    self.cache.insert_nx_domain(&end, soa, origin, now);
                }
                Step::Done(chain, Outcome::NxDomain(soa.map(|s| self.negative(&s))))
            }
            Classified::NoData { soa, .. } => {
                if let Some(soa) = &soa {
                    self.cache.insert_no_data(&end, qtype, soa, origin, now);
                }
                Step::Done(chain, Outcome::NoData(soa.map(|s| self.negative(&s))))
            }
            Classified::Referral { .. } | Classified::Lame(_) => {
                unreachable!("walk handles referrals and lame replies itself")
            }
        }
    }

    /// Believes a reply kept as a last resort: caches what it says, ranked
    /// as it deserves, and turns it into a step.
    pub(super) fn settle(&self, kept: LastResort, name: &Name, qtype: RecordType) -> Step {
        let step = self.learn(name, qtype, kept.classified, kept.origin);
        self.keep_sections(&kept.reply, &step, name, qtype);
        step
    }

    /// Keeps the NS set and addresses that came with a final answer, under
    /// its name and type, as long as it is cached: for responses that are
    /// not minimal, and, whatever the setting, for a negative answer, whose
    /// authority section is part of it (Unbound's and Knot Resolver's
    /// minimal responses leave only positive answers bare). The reply's
    /// DNSSEC records are kept too (signatures.rs).
    pub(super) fn keep_sections(
        &self,
        reply: &Message,
        step: &Step,
        name: &Name,
        qtype: RecordType,
    ) {
        self.keep_signatures(reply, step, name, qtype);
        let Step::Done(chain, outcome) = step else {
            return; // the answer is at the alias's target, from another reply
        };
        if self.settings.minimal_responses && matches!(outcome, Outcome::Answer(_)) {
            return;
        }
        let end = chain_end(chain, name);
        // An answer that is not cached (TTL 0, or negative without an SOA,
        // RFC 2308 §5) keeps them for the second in which its response is built.
        let ttl = match outcome {
            Outcome::Answer(records) => records.iter().map(|r| r.ttl).min(),
            Outcome::NoData(soa) | Outcome::NxDomain(soa) => soa.as_ref().map(|soa| soa.ttl),
            Outcome::YxDomain => None,
        }
        .unwrap_or(0)
        .max(1);
        let sections = sections_of(reply, &end);
        self.cache
            .insert_sections(&end, qtype, &sections, ttl, clock::now());
    }

    /// Records with their TTLs within the cache's bounds, as the cache will serve them.
    pub(super) fn clamped(&self, records: &[Record]) -> Vec<Record> {
        records
            .iter()
            .map(|record| {
                let mut record = record.clone();
                record.ttl = self.cache.clamp_ttl(record.ttl);
                record
            })
            .collect()
    }

    /// The SOA as a negative answer carries it: TTL = the negative TTL (RFC 2308 §3).
    fn negative(&self, soa: &Record) -> Record {
        let mut soa = soa.clone();
        soa.ttl = self.cache.negative_ttl(&soa);
        soa
    }
}

/// A reply believed only when no other server of the zone says better
/// (Unbound keeps such servers as a last resort rather than failing).
#[derive(Debug, Clone, PartialEq)]
pub struct LastResort {
    /// What is wrong with the server that gave it.
    pub failure: Failure,
    /// The reply, scrubbed.
    reply: Message,
    /// What it says.
    classified: Classified,
    /// The rank it is cached with, if believed, and the server that gave it.
    origin: Origin,
}

impl LastResort {
    /// Every record of the kept reply (what would be cached if believed).
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        let reply = &self.reply;
        reply
            .answers
            .iter()
            .chain(&reply.authorities)
            .chain(&reply.additionals)
    }

    /// True when this one says more than `other`: data beats an empty answer.
    pub fn better_than(&self, other: &LastResort) -> bool {
        let data = |kept: &LastResort| matches!(kept.classified, Classified::Answer { .. });
        data(self) && !data(other)
    }
}

/// A reply with RA set and AA clear carrying data: a cache talking, not the
/// authority ("recursion lame", RFC 1034 §5.3.3 wants AA). Its data is
/// kept as a last resort, as Unbound does with such servers when they are
/// all a zone has; ranked as a non-authoritative answer if believed.
fn recursion_lame(
    reply: &Message,
    zone: &Name,
    name: &Name,
    qtype: RecordType,
    origin: Origin,
) -> Analysis {
    let failure = Failure::Lame(Lameness::NotAuthoritative);
    let mut trusting = reply.clone();
    trusting.metadata.recursion_available = false;
    match classify(&trusting, name, qtype, zone) {
        classified @ (Classified::Answer { .. }
        | Classified::Alias { .. }
        | Classified::NxDomain { .. }
        | Classified::NoData { .. }
        | Classified::YxDomain { .. }) => Analysis::LastResort(Box::new(LastResort {
            failure,
            reply: trusting,
            classified,
            origin,
        })),
        Classified::Referral { .. } | Classified::Lame(_) => Analysis::Failed(failure),
    }
}

/// The NS records in the authority section of a (scrubbed) reply for a
/// zone that holds `name` (the zone that answered, not others the server
/// slipped in), and the addresses in its additional section of the names
/// those NS records (and any in the answer) point to: what Unbound passes
/// on with `minimal-responses: no`. An RRset already in the answer is not
/// repeated.
fn sections_of(reply: &Message, name: &Name) -> Sections {
    let answered = |record: &Record| {
        reply
            .answers
            .iter()
            .any(|a| a.name == record.name && a.record_type() == record.record_type())
    };
    // The NS set's RRSIGs come too, for DO clients (RFC 4035 §3.1.1).
    let signs_ns = |r: &Record| signs(r, RecordType::NS);
    let authority: Vec<Record> = reply
        .authorities
        .iter()
        .filter(|r| (r.record_type() == RecordType::NS || signs_ns(r)) && r.name.zone_of(name))
        .filter(|r| !answered(r))
        .cloned()
        .collect();
    let servers: Vec<&Name> = authority
        .iter()
        .chain(reply.answers.iter())
        .filter_map(|record| match &record.data {
            RData::NS(ns) => Some(&ns.0),
            _ => None,
        })
        .collect();
    let additional = reply
        .additionals
        .iter()
        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
        .filter(|r| servers.contains(&&r.name) && !answered(r))
        .cloned()
        .collect();
    Sections {
        authority,
        additional,
    }
}

/// The root delegation in a priming reply: an authoritative NS set for the
/// root in the answer, and the addresses of those names in the additional section.
fn root_delegation(reply: &Message) -> Option<(Delegation, u32)> {
    if !reply.authoritative || reply.response_code != hickory_proto::op::ResponseCode::NoError {
        return None;
    }
    let ns: Vec<&Record> = reply
        .answers
        .iter()
        .filter(|r| r.name.is_root() && r.record_type() == RecordType::NS)
        .collect();
    let (delegation, ttl) = delegation_of(reply, &Name::root(), &ns);
    (!delegation.name_servers.is_empty()).then_some((delegation, ttl))
}
