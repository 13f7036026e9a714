//! Validation of an answer (RFC 4035 §5): each RRset of the chain and the
//! answer verified with its zone's trusted keys (trust.rs), a wildcard
//! answer's no-closer-name proof, a negative answer's NSEC/NSEC3 proof; the
//! verdict remembered with the data for as long as it lives.
//!
//! ```text
//! Resolution ─▶ per RRset: RRSIG signer Z (unsigned: its zone by its cuts, zone_cut.rs) ─▶ zone_keys(Z)
//!              Secure(keys) ─▶ verify_rrset ─▶ wildcard? ─▶ prove_no_closer_match
//!              Insecure ─▶ the answer is insecure      Bogus ─▶ SERVFAIL + EDE (RFC 8914)
//!            └ NODATA / NXDOMAIN ─▶ the SOA's zone ─▶ verify SOA, NSEC/NSEC3 ─▶ prove_nodata / prove_nxdomain
//! ```
//!
//! A synthesised CNAME is not signed: its DNAME is (RFC 6672 §5.3.1).

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::Instant;

use super::cache::Beside;
use super::iterate::chain_end;
use super::proof::{Denial, signatures_over, signer, verified_denial};
use super::signatures::denial_type;
use super::trust::{BOGUS_TTL, ttl_of};
use super::{Budget, Outcome, Resolution, Resolver};
use crate::clock;
use crate::validator::{Bogus, Insecure, Security, TrustedKeys, nsec, nsec3, verify_rrset};

/// The security status of an answer (RFC 4035 §4.3).
pub type Verdict = Security<()>;

/// The bytes the answers' verdicts may hold (each weighed by its name).
const VERDICT_BYTES: u64 = 16 << 20;

/// The verdicts of answers, each until its data expires or the cache is flushed.
pub struct Verdicts {
    entries: moka::sync::Cache<(Name, RecordType), (Verdict, Instant, u64), ahash::RandomState>,
}

impl Default for Verdicts {
    fn default() -> Self {
        Verdicts {
            entries: moka::sync::Cache::builder()
                .max_capacity(VERDICT_BYTES)
                .weigher(
                    |(name, _): &(Name, RecordType), _: &(Verdict, Instant, u64)| {
                        u32::try_from(64 + name.len()).unwrap_or(u32::MAX)
                    },
                )
                .build_with_hasher(ahash::RandomState::new()),
        }
    }
}

/// The worse of two verdicts: bogus over insecure over secure.
fn worse(verdict: Verdict, other: Verdict) -> Verdict {
    match (&verdict, &other) {
        (Security::Bogus(_), _) => verdict,
        (_, Security::Bogus(_)) => other,
        (Security::Insecure(_), _) => verdict,
        _ => other,
    }
}

/// The RRsets of `records`, in order of first appearance.
pub(super) fn rrsets(records: &[Record]) -> Vec<Vec<Record>> {
    let mut sets: Vec<Vec<Record>> = Vec::new();
    for record in records {
        let same = |set: &&mut Vec<Record>| {
            set[0].name == record.name && set[0].record_type() == record.record_type()
        };
        match sets.iter_mut().find(same) {
            Some(set) => set.push(record.clone()),
            None => sets.push(vec![record.clone()]),
        }
    }
    sets
}

impl Resolver {
    /// The verdict remembered for `name`/`qtype`, if it still holds.
    pub fn cached_verdict(&self, name: &Name, qtype: RecordType) -> Option<Verdict> {
        let key = (name.to_lowercase(), qtype);
        let (verdict, expires, generation) = self.verdicts.entries.get(&key)?;
        (clock::now() < expires && generation == self.cache.generation()).then_some(verdict)
    }

    /// Forgets the verdict on `name`/`qtype` (its data was fetched again).
    pub(super) fn forget_verdict(&self, name: &Name, qtype: RecordType) {
        self.verdicts
            .entries
            .invalidate(&(name.to_lowercase(), qtype));
    }

    /// The verdict on `resolution`, the answer to `qname`/`qtype`:
    /// remembered, or validated now with `budget` and remembered.
    pub(super) async fn validated(
        &self,
        qname: &Name,
        qtype: RecordType,
        resolution: &Resolution,
        budget: &mut Budget,
    ) -> Verdict {
        if let Some(verdict) = self.cached_verdict(qname, qtype) {
            return verdict;
        }
        let generation = self.cache.generation();
        let verdict = self.validate(qname, qtype, resolution, budget).await;
        let chain_ttl = resolution.chain.iter().map(|record| record.ttl).min();
        let mut ttl = chain_ttl.unwrap_or(u32::MAX);
        ttl = match &resolution.outcome {
            Outcome::Answer(records) => ttl.min(ttl_of(records)),
            Outcome::NoData(Some(soa)) | Outcome::NxDomain(Some(soa)) => {
                ttl.min(self.cache.negative_ttl(soa))
            }
            _ => ttl.min(BOGUS_TTL),
        };
        if verdict.is_bogus() {
            ttl = ttl.min(BOGUS_TTL);
        }
        if budget.wanted_network {
            return verdict; // reached from the cache alone, and partial: not kept
        }
        let expires = clock::now() + Duration::from_secs(ttl.into());
        let key = (qname.to_lowercase(), qtype);
        self.verdicts
            .entries
            .insert(key, (verdict.clone(), expires, generation));
        verdict
    }

    /// The verdict on `resolution`, the cached answer to `qname`/`qtype`,
    /// reached from the cache alone: the keys, DS and proofs it needs all
    /// cached, no upstream query sent. `None` when it would need one: data
    /// not validated is not handed out as if it were (RFC 4035 §4.3).
    pub async fn verdict_from_cache(
        &self,
        qname: &Name,
        qtype: RecordType,
        resolution: &Resolution,
    ) -> Option<Verdict> {
        let mut budget = Budget::cache_only(&self.settings.limits);
        let verdict = self.validated(qname, qtype, resolution, &mut budget).await;
        (!budget.wanted_network()).then_some(verdict)
    }

    /// Validates every RRset of `resolution` and its denial proof.
    async fn validate(
        &self,
        qname: &Name,
        qtype: RecordType,
        resolution: &Resolution,
        budget: &mut Budget,
    ) -> Verdict {
        let end = chain_end(&resolution.chain, qname);
        let dnames: Vec<Name> = resolution
            .chain
            .iter()
            .filter(|record| record.record_type() == RecordType::DNAME)
            .map(|record| record.name.clone())
            .collect();
        let mut sets = rrsets(&resolution.chain);
        if let Outcome::Answer(records) = &resolution.outcome {
            sets.extend(rrsets(records));
        }
        let mut verdict = Verdict::Secure(());
        for set in sets {
            let (owner, record_type) = (set[0].name.clone(), set[0].record_type());
            let synthesised = record_type == RecordType::CNAME
                && dnames
                    .iter()
                    .any(|dname| dname.zone_of(&owner) && *dname != owner);
            if synthesised {
                continue; // its DNAME was validated before it (RFC 6672 §5.3.1)
            }
            let checked = match self.validate_rrset(&set, budget).await {
                Security::Secure((keys, Some(source))) => {
                    let proven = self.prove_wildcard(&end, qtype, &owner, &source, &keys, budget);
                    if proven == Verdict::Secure(()) {
                        self.remember_wildcard(keys.zone(), &source, &set); // RFC 8198 §5.3
                    }
                    proven
                }
                Security::Secure((_, None)) => Verdict::Secure(()),
                Security::Insecure(why) => Verdict::Insecure(why),
                Security::Bogus(why) => Verdict::Bogus(why),
            };
            verdict = worse(verdict, checked);
            if verdict.is_bogus() {
                return verdict;
            }
        }
        match &resolution.outcome {
            Outcome::NoData(soa) | Outcome::NxDomain(soa) => {
                let denial = self.validate_denial(&end, qtype, resolution, soa, budget);
                worse(verdict, denial.await)
            }
            Outcome::Answer(_) | Outcome::YxDomain => verdict,
        }
    }

    /// One RRset verified with its zone's keys: secure with the keys and
    /// the wildcard it was expanded from, if any.
    pub(super) async fn validate_rrset(
        &self,
        set: &[Record],
        budget: &mut Budget,
    ) -> Security<(Arc<TrustedKeys>, Option<Name>)> {
        let (owner, record_type) = (&set[0].name, set[0].record_type());
        if self.trust_points.negative_at(owner) {
            return Security::Insecure(Insecure::NegativeTrustAnchor);
        }
        let rrsigs = self.kept_signatures(owner, record_type);
        let Some(zone) = signer(&rrsigs) else {
            // Unsigned: bogus if its zone is secure, found by its cuts
            // (zone_cut.rs). A DS RRset is the parent's (RFC 4035 §5.2).
            let name = match record_type {
                RecordType::DS => owner.base_name(),
                _ => owner.clone(),
            };
            return match self.zone_of_unsigned(&name, budget).await {
                Security::Secure(_) => Security::Bogus(Bogus::RrsigsMissing(record_type)),
                Security::Insecure(why) => Security::Insecure(why),
                Security::Bogus(why) => Security::Bogus(why),
            };
        };
        let keys = match self.zone_keys(&zone, budget).await {
            Security::Secure(keys) => keys,
            Security::Insecure(why) => return Security::Insecure(why),
            Security::Bogus(why) => return Security::Bogus(why),
        };
        let now = self.trust_points.now();
        match verify_rrset(set, &rrsigs, &keys, now, &mut budget.validation) {
            Ok(verified) => Security::Secure((keys, verified.wildcard)),
            Err(why) => Security::Bogus(why),
        }
    }

    /// A wildcard answer at `owner`, expanded from `source`, is secure once
    /// its NSEC/NSEC3 proves no closer name exists (RFC 4035 §5.3.4).
    fn prove_wildcard(
        &self,
        end: &Name,
        qtype: RecordType,
        owner: &Name,
        source: &Name,
        keys: &TrustedKeys,
        budget: &mut Budget,
    ) -> Verdict {
        // Kept with the answer it came in; a CNAME made from a held
        // wildcard (aggressive.rs) keeps its own.
        let now = clock::now();
        let mut proof = self.cache.beside(Beside::Denial, end, qtype, now).authority;
        if proof.is_empty() {
            let alias = self
                .cache
                .beside(Beside::Denial, owner, RecordType::CNAME, now);
            proof = alias.authority;
        }
        let now = self.trust_points.now();
        let zone = keys.zone();
        let proven = match verified_denial(&proof, keys, now, &mut budget.validation) {
            Ok(Denial::Nsec(nsecs)) => nsec::prove_no_closer_match(owner, source, zone, &nsecs),
            Ok(Denial::Nsec3(nsec3s)) => {
                nsec3::prove_no_closer_match(owner, source, zone, &nsec3s, &mut budget.validation)
            }
            Err(why) => Verdict::Bogus(why),
        };
        if proven == Verdict::Secure(()) {
            self.remember_denial(zone, &proof, &[]); // proven: RFC 8198 §4
        }
        proven
    }

    /// A negative answer is secure when its SOA and NSEC/NSEC3 records
    /// verify and prove it (RFC 4035 §5.4, RFC 5155 §8).
    async fn validate_denial(
        &self,
        end: &Name,
        qtype: RecordType,
        resolution: &Resolution,
        soa: &Option<Record>,
        budget: &mut Budget,
    ) -> Verdict {
        if self.trust_points.negative_at(end) {
            return Verdict::Insecure(Insecure::NegativeTrustAnchor);
        }
        let record_type = denial_type(&resolution.outcome, qtype);
        let proof = self
            .cache
            .beside(Beside::Denial, end, record_type, clock::now())
            .authority;
        let soa_signatures = signatures_over(&proof, RecordType::SOA);
        let zone = signer(&soa_signatures)
            .or_else(|| soa.as_ref().map(|soa| soa.name.to_lowercase()))
            .unwrap_or_else(|| self.enclosing_zone(end));
        let keys = match self.zone_keys(&zone, budget).await {
            Security::Secure(keys) => keys,
            Security::Insecure(why) => return Verdict::Insecure(why),
            Security::Bogus(why) => return Verdict::Bogus(why),
        };
        let now = self.trust_points.now();
        let validation = &mut budget.validation;
        if let Some(soa) = soa {
            let soa = std::slice::from_ref(soa);
            if let Err(why) = verify_rrset(soa, &soa_signatures, &keys, now, validation) {
                return Verdict::Bogus(why);
            }
        }
        let denial = match verified_denial(&proof, &keys, now, validation) {
            Ok(denial) => denial,
            Err(why) => return Verdict::Bogus(why),
        };
        let zone = keys.zone();
        let proven = match (&resolution.outcome, denial) {
            (Outcome::NxDomain(_), Denial::Nsec(nsecs)) => nsec::prove_nxdomain(end, zone, &nsecs),
            (Outcome::NxDomain(_), Denial::Nsec3(nsec3s)) => {
                nsec3::prove_nxdomain(end, zone, &nsec3s, validation)
            }
            (_, Denial::Nsec(nsecs)) => nsec::prove_nodata(end, qtype, zone, &nsecs),
            (_, Denial::Nsec3(nsec3s)) => {
                nsec3::prove_nodata(end, qtype, zone, &nsec3s, validation)
            }
        };
        // Only a denial that proved what it says is used again (RFC 8198 §4).
        if proven == Verdict::Secure(()) {
            let mut soa_rrset: Vec<Record> = soa.iter().cloned().collect();
            soa_rrset.extend(soa_signatures);
            self.remember_denial(zone, &proof, &soa_rrset);
        }
        proven
    }
}
