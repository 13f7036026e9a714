//! The DNSSEC records of an answer, kept for clients that set DO: what a
//! security-aware recursive name server returns (RFC 4035 §3.2.1).
//!
//! ```text
//! reply ──▶ RRSIGs over each RRset of the answer section ──▶ cache, beside the RRset (owner, type covered)
//!       └─▶ RRSIG(SOA), NSEC / NSEC3 and theirs (a negative or wildcard answer's proof) ──▶ cache, beside the answer
//! response to a client with DO ◀── both, each RRset with its RRSIGs (RFC 4035 §3.1.1, §3.1.3)
//! ```
//!
//! Upstream queries set DO (transport/verify.rs), so signed zones send
//! these. The validator reads them from here (validate.rs, trust.rs), and
//! DO clients get them to check for themselves, as `delv` does. They live
//! as long as what they sign or prove, and at least as long as the
//! question in progress, so that a TTL-0 answer is validated too.

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Resolver;
use super::cache::{Beside, Credibility, Sections};
use super::iterate::{Outcome, Resolution, Step, chain_end};
use crate::clock;

/// The type an RRSIG covers, or `None` for any other record.
fn covered(record: &Record) -> Option<RecordType> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => Some(rrsig.input().type_covered),
        _ => None,
    }
}

/// True for the records that prove a negative answer: NSEC, NSEC3 and the
/// RRSIGs over them and over the SOA (RFC 4035 §3.1.3, RFC 5155 §7.2).
fn proves_denial(record: &Record) -> bool {
    match record.record_type() {
        RecordType::NSEC | RecordType::NSEC3 => true,
        RecordType::RRSIG => matches!(
            covered(record),
            Some(RecordType::SOA | RecordType::NSEC | RecordType::NSEC3)
        ),
        _ => false,
    }
}

/// The key a negative answer's proof is kept under: NXDOMAIN holds for
/// every type, as the cache keeps it (RFC 2308 §5).
pub(super) fn denial_type(outcome: &Outcome, qtype: RecordType) -> RecordType {
    match outcome {
        Outcome::NxDomain(_) => RecordType::ANY,
        _ => qtype,
    }
}

impl Resolver {
    /// How long DNSSEC records are kept beside what they sign or prove:
    /// its TTL within the cache's bounds, and at least the question's
    /// lifetime, so that an answer with TTL 0 (cached for "the transaction
    /// in progress" only, RFC 1035 §3.2.1) is still validated and given to
    /// DO clients with its RRSIGs and proof.
    pub(super) fn kept_ttl(&self, ttl: u32) -> u32 {
        let question = self.settings.limits.resolution_timeout + super::service::DEADLINE_SLACK;
        let question = u32::try_from(question.as_secs_f64().ceil() as u64).unwrap_or(u32::MAX);
        self.cache.clamp_ttl(ttl).max(question)
    }

    /// Keeps what a referral to `child` says of its security (RFC 4035
    /// §3.1.4): its DS RRset with the RRSIGs over it, or the NSEC/NSEC3
    /// records (and theirs) proving it has none, as a DS question's answer
    /// would, so that the chain of trust need not ask for them.
    pub(super) fn keep_referral_signatures(
        &self,
        reply: &Message,
        child: &Name,
        origin: super::cache::Origin,
    ) {
        let at_cut = |record: &&Record| record.name == *child;
        let ds: Vec<Record> = reply
            .authorities
            .iter()
            .filter(at_cut)
            .filter(|record| record.record_type() == RecordType::DS)
            .cloned()
            .collect();
        let proof: Vec<Record> = reply
            .authorities
            .iter()
            .filter(|record| proves_denial(record))
            .cloned()
            .collect();
        if ds.is_empty() && proof.is_empty() {
            return; // an unsigned parent, or a server that sent neither
        }
        let now = clock::now();
        let rank = origin.credibility;
        if ds.is_empty() {
            let ttl = proof.iter().map(|record| record.ttl).min().unwrap_or(0);
            let kept = Sections {
                authority: proof,
                additional: Vec::new(),
            };
            let ttl = self.kept_ttl(ttl);
            let what = (child, RecordType::DS);
            self.cache
                .insert_beside(Beside::Denial, what, &kept, ttl, rank, now);
            return;
        }
        let ttl = self.kept_ttl(ds.iter().map(|record| record.ttl).min().unwrap_or(0));
        self.cache.insert_rrset(&ds, origin, now);
        let signatures = Sections {
            authority: reply
                .authorities
                .iter()
                .filter(at_cut)
                .filter(|record| covered(record) == Some(RecordType::DS))
                .cloned()
                .collect(),
            additional: Vec::new(),
        };
        let what = (child, RecordType::DS);
        self.cache
            .insert_beside(Beside::Signatures, what, &signatures, ttl, rank, now);
    }

    /// Keeps the DNSSEC records of `reply`, whose answer the walk made into
    /// `step`: the RRSIGs over each RRset it cached (the chain's links, the
    /// answer), and the NSEC/NSEC3 records of its authority section (a
    /// negative answer's proof, or a wildcard answer's, RFC 4035 §3.1.3.3),
    /// each for as long as what it signs or proves (RFC 4035 §2.2: an
    /// RRSIG's TTL is its RRset's).
    pub(super) fn keep_signatures(
        &self,
        reply: &Message,
        step: &Step,
        name: &Name,
        qtype: RecordType,
    ) {
        let carries = reply.answers.iter().chain(&reply.authorities).any(|r| {
            matches!(
                r.record_type(),
                RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
            )
        });
        if !carries && !self.cache.holds_dnssec() {
            return; // an unsigned world pays nothing
        }
        let now = clock::now();
        // Ranked as the answer they came with is (RFC 2181 §5.4.1).
        let rank = Credibility::of_answer(reply.authoritative);
        let (Step::Done(chain, _) | Step::Alias(chain, _)) = step;
        let answered: Vec<&Record> = match step {
            Step::Done(_, Outcome::Answer(records)) => chain.iter().chain(records).collect(),
            _ => chain.iter().collect(),
        };
        let mut rrsets: Vec<(&Name, RecordType, u32)> = Vec::new();
        for record in &answered {
            let rrset = (&record.name, record.record_type());
            match rrsets.iter_mut().find(|(n, t, _)| (*n, *t) == rrset) {
                Some(entry) => entry.2 = entry.2.min(record.ttl),
                None => rrsets.push((rrset.0, rrset.1, record.ttl)),
            }
        }
        for (owner, record_type, ttl) in rrsets {
            let signatures: Vec<Record> = reply
                .answers
                .iter()
                .filter(|r| r.name == *owner && covered(r) == Some(record_type))
                .cloned()
                .collect();
            let kept = Sections {
                authority: signatures,
                additional: Vec::new(),
            };
            let ttl = self.kept_ttl(ttl);
            let what = (owner, record_type);
            self.cache
                .insert_beside(Beside::Signatures, what, &kept, ttl, rank, now);
        }
        if let Step::Done(chain, outcome) = step {
            // A negative answer's proof lives as long as its SOA; a wildcard
            // answer's (that no closer name exists) as long as the answer.
            let ttl = match outcome {
                Outcome::NoData(soa) | Outcome::NxDomain(soa) => {
                    soa.as_ref().map_or(0, |soa| soa.ttl)
                }
                Outcome::Answer(records) => records.iter().map(|r| r.ttl).min().unwrap_or(0),
                Outcome::YxDomain => return,
            };
            let end = chain_end(chain, name);
            let proof = Sections {
                authority: reply
                    .authorities
                    .iter()
                    .filter(|r| proves_denial(r))
                    .cloned()
                    .collect(),
                additional: Vec::new(),
            };
            let ttl = self.kept_ttl(ttl);
            let what = (&end, denial_type(outcome, qtype));
            self.cache
                .insert_beside(Beside::Denial, what, &proof, ttl, rank, now);
        }
    }

    /// Adds to `response` (to a client that set DO) the RRSIGs over each
    /// RRset of its answer section and the NSEC/NSEC3 proof that came with
    /// it: a negative answer's, or a wildcard answer's that no closer name
    /// exists (RFC 4035 §3.1.1, §3.1.3), as cached.
    pub(super) fn add_signatures(
        &self,
        response: &mut Message,
        resolution: &Resolution,
        name: &Name,
        qtype: RecordType,
    ) {
        let now = clock::now();
        let mut rrsets: Vec<(Name, RecordType)> = Vec::new();
        for record in &response.answers {
            let rrset = (record.name.clone(), record.record_type());
            if rrset.1 != RecordType::RRSIG && !rrsets.contains(&rrset) {
                rrsets.push(rrset);
            }
        }
        for (owner, record_type) in rrsets {
            let kept = self
                .cache
                .beside(Beside::Signatures, &owner, record_type, now);
            response.answers.extend(kept.authority);
        }
        if !matches!(resolution.outcome, Outcome::YxDomain) {
            let end = chain_end(&resolution.chain, name);
            let record_type = denial_type(&resolution.outcome, qtype);
            let proof = self.cache.beside(Beside::Denial, &end, record_type, now);
            response.authorities.extend(proof.authority);
        }
    }
}
