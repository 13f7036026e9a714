//! Aggressive use of the DNSSEC-validated cache (RFC 8198), as Unbound and
//! Knot Resolver do by default: the NSEC and NSEC3 records of denials that
//! validated, kept per signed zone in order, answer a later question they
//! prove has no name (NXDOMAIN) or no data of its type (NODATA) without
//! asking the zone's servers.
//!
//! ```text
//! validate.rs / trust.rs / zone_cut.rs: a denial proven ─▶ remember its NSEC / NSEC3 RRsets + RRSIGs, the zone's SOA + RRSIG
//! resolve(name, type), cache miss ─▶ deepest zone held at or above name
//!     ─▶ its NSECs around name (nsec.rs) or its NSEC3s around the hashes (nsec3.rs)
//!     ─▶ prove_nxdomain / prove_nodata (validator/) secure ─▶ cached as a negative answer with that proof
//!     ─▶ validated again like any negative answer (validate.rs) ─▶ NXDOMAIN / NODATA with AD, no upstream query
//! ```
//!
//! Only denials that proved what they said are kept (RFC 8198 §4; Unbound
//! keeps only secure replies too), each record for its own TTL. Bounded in
//! bytes ([`DENIAL_BYTES`]): when full, expired records go first, and
//! nothing new is kept while it is still full. Emptied with the cache (its
//! generation). A positive answer from a cached wildcard is not
//! synthesised (RFC 8198 §5.3 allows it).

mod nsec;
mod nsec3;
mod store;
mod wildcard;

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Resolver;
use super::cache::{Beside, Credibility, Sections};
use super::iterate::{Outcome, Step};
use super::proof::signatures_over;
use crate::clock;
use crate::names::label_count;
pub use store::Denials;
use store::{Hashed, Held, Zone, firsts, gather};

/// What held records prove absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Absent {
    /// The name: NXDOMAIN (RFC 8198 §5.1).
    Name,
    /// The type at the name: NODATA (RFC 8198 §5.2).
    Type,
}

/// What the held records prove of a question.
enum Proven {
    /// It has no such name or no such data.
    Denial {
        outcome: Absent,
        /// The NSEC or NSEC3 records used and their RRSIGs.
        proof: Vec<Record>,
        /// The zone's SOA and its RRSIGs.
        soa: Vec<Record>,
    },
    /// A held wildcard answers it (wildcard.rs).
    Wildcard(wildcard::Expanded),
}

impl Denials {
    /// The records held for the deepest zone at or above `qname` that
    /// prove it has no name, or no `qtype` (RFC 8198 §5.1, §5.2), with the
    /// zone's SOA.
    fn prove(&self, qname: &Name, qtype: RecordType, generation: u64) -> Option<Proven> {
        let now = clock::now();
        let qname = qname.to_lowercase();
        let inner = self.inner.read().ok()?;
        if inner.generation != generation || inner.zones.is_empty() {
            return None;
        }
        let (zone_name, zone) = (0..=label_count(&qname))
            .rev()
            .map(|labels| qname.trim_to(labels))
            .find_map(|name| inner.zones.get_key_value(&name))?;
        let denial = nsec::prove(zone_name, &zone.nsecs, &qname, qtype, now)
            .or_else(|| nsec3::prove(zone_name, &zone.nsec3s, &qname, qtype, now));
        if let Some((outcome, proof)) = denial {
            let soa = zone.soa.as_ref()?.live(now)?;
            return Some(Proven::Denial {
                outcome,
                proof,
                soa,
            });
        }
        wildcard::expand(zone_name, zone, &qname, qtype, now).map(Proven::Wildcard)
    }
}

impl Resolver {
    /// Keeps the NSEC/NSEC3 records of a proven denial in `zone` (and its
    /// SOA, from a negative answer), for aggressive use (RFC 8198).
    pub(super) fn remember_denial(&self, zone: &Name, proof: &[Record], soa: &[Record]) {
        self.denials
            .remember(zone, proof, soa, self.cache.generation());
    }

    /// Keeps a wildcard-expanded RRset that validated, and its RRSIGs, as
    /// the wildcard `source` of `zone` (RFC 8198 §5.3).
    pub(super) fn remember_wildcard(&self, zone: &Name, source: &Name, rrset: &[Record]) {
        let (owner, record_type) = (&rrset[0].name, rrset[0].record_type());
        let mut held = rrset.to_vec();
        held.extend(self.kept_signatures(owner, record_type));
        self.denials
            .remember_wildcard(zone, source, &held, self.cache.generation());
    }

    /// The answer to `name`/`qtype` that validated records held prove
    /// (RFC 8198 §5): a negative one, or one from a wildcard, cached as if
    /// a server had given it, its proof beside it, so that it is validated
    /// and given to DO clients like any other; `None` when they prove nothing.
    pub(super) fn synthesised(&self, name: &Name, qtype: RecordType) -> Option<Step> {
        if !self.validating || qtype == RecordType::ANY {
            return None;
        }
        let (outcome, proof, soa) =
            match self.denials.prove(name, qtype, self.cache.generation())? {
                Proven::Denial {
                    outcome,
                    proof,
                    soa,
                } => (outcome, proof, soa),
                Proven::Wildcard(expanded) => return self.expanded(name, qtype, expanded),
            };
        let soa_records = soa;
        let mut soa = soa_records
            .iter()
            .find(|record| record.record_type() == RecordType::SOA)?
            .clone();
        // The least TTL of what it is made of (RFC 8198 §5.4).
        let least = proof.iter().map(|record| record.ttl).min();
        soa.ttl = soa.ttl.min(least.unwrap_or(0));
        let mut authority: Vec<Record> = signatures_over(&soa_records, RecordType::SOA);
        authority.extend(proof);
        let kept = Sections {
            authority,
            additional: Vec::new(),
        };
        let now = clock::now();
        // Ranked below an authority's own answer, which replaces it.
        let rank = Credibility::NonAuthoritativeAnswer;
        let nx_domain = matches!(outcome, Absent::Name);
        let key_type = match nx_domain {
            true => {
                self.cache.insert_nx_domain(name, &soa, rank, now);
                RecordType::ANY
            }
            false => {
                self.cache.insert_no_data(name, qtype, &soa, rank, now);
                qtype
            }
        };
        let ttl = self.kept_ttl(soa.ttl);
        self.cache
            .insert_beside(Beside::Denial, (name, key_type), &kept, ttl, rank, now);
        tracing::debug!(%name, %qtype, "answered from validated denials (RFC 8198)");
        soa.ttl = self.cache.negative_ttl(&soa);
        let outcome = match outcome {
            Absent::Name => Outcome::NxDomain(Some(soa)),
            Absent::Type => Outcome::NoData(Some(soa)),
        };
        Some(Step::Done(Vec::new(), outcome))
    }

    /// A held wildcard's answer, cached as the answer to `name`/`qtype`
    /// with its RRSIGs and proof beside it: the data, or a CNAME to follow.
    fn expanded(
        &self,
        name: &Name,
        qtype: RecordType,
        expanded: wildcard::Expanded,
    ) -> Option<Step> {
        let (rrsigs, records): (Vec<Record>, Vec<Record>) = expanded
            .records
            .into_iter()
            .partition(|record| record.record_type() == RecordType::RRSIG);
        let record_type = records.first()?.record_type();
        let least = expanded
            .proof
            .iter()
            .chain(&records)
            .map(|record| record.ttl)
            .min();
        let ttl = least.unwrap_or(0);
        let records: Vec<Record> = records
            .into_iter()
            .map(|mut record| {
                record.ttl = ttl;
                record
            })
            .collect();
        let now = clock::now();
        let rank = Credibility::NonAuthoritativeAnswer;
        self.cache.insert_rrset(&records, rank, now);
        let kept_ttl = self.kept_ttl(ttl);
        let what = (name, record_type);
        let signatures = Sections {
            authority: rrsigs,
            additional: Vec::new(),
        };
        self.cache
            .insert_beside(Beside::Signatures, what, &signatures, kept_ttl, rank, now);
        let proof = Sections {
            authority: expanded.proof,
            additional: Vec::new(),
        };
        self.cache
            .insert_beside(Beside::Denial, what, &proof, kept_ttl, rank, now);
        tracing::debug!(%name, %qtype, "answered from a validated wildcard (RFC 8198)");
        match (record_type, &records[0].data) {
            (RecordType::CNAME, RData::CNAME(target)) if qtype != RecordType::CNAME => {
                Some(Step::Alias(records.clone(), target.0.clone()))
            }
            _ => Some(Step::Done(Vec::new(), Outcome::Answer(records))),
        }
    }
}

#[cfg(test)]
mod tests;
