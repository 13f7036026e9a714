//! The chain of trust (RFC 4035 §5.1, §5.2): whether a zone's DNSKEY RRset
//! is trusted, reached from a trust anchor one delegation at a time, and
//! cached for as long as its TTL allows.
//!
//! ```text
//! zone_keys(Z) ── cached? ──▶ Secure(keys) | Insecure(why) | Bogus(why)
//!   ├─ a negative trust anchor at or above Z, or no anchor above it ─▶ Insecure
//!   ├─ a trust anchor for Z ─▶ Z DNSKEY ─▶ trust_dnskeys(anchor)
//!   └─ Z DS (asked of the parent) ─▶ answer: signer P, zone_keys(P), verify DS ─▶ Z DNSKEY ─▶ trust_dnskeys(DS)
//!                                 └─ NODATA: zone_keys(SOA owner P), its NSEC/NSEC3 prove no DS ─▶ Insecure
//! ```
//!
//! DS and DNSKEY RRsets are fetched by the walk itself (iterate.rs), with
//! the question's budget, so a chain costs upstream queries like any other
//! lookup and is bounded the same way.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use hickory_proto::dnssec::PublicKey as _;
use hickory_proto::dnssec::rdata::DS;
use hickory_proto::rr::{Name, Record, RecordData, RecordType};
use tokio::time::Instant;

use super::cache::Beside;
use super::proof::{Denial, signatures_over, signer, verified_denial};
use super::{Budget, Outcome, Resolver};
use crate::clock;
use crate::validator::{
    Anchor, Bogus, Insecure, Security, TrustAnchor, TrustedKeys, nsec, nsec3, trust_dnskeys,
    verify_rrset,
};

/// How long a bogus zone or answer is remembered (Unbound's `val-bogus-ttl`).
pub const BOGUS_TTL: u32 = 60;

/// How long a zone outside every trust anchor is remembered as such (the
/// configuration does not change while the process runs).
const UNANCHORED_TTL: u32 = 86_400;

/// The bytes the zones' key states may hold (each weighed by its keys).
const KEY_CACHE_BYTES: u64 = 16 << 20;

/// The security state of a zone's DNSKEY RRset.
pub type ZoneKeys = Security<Arc<TrustedKeys>>;

/// What validation starts from: `[dnssec]` made ready (RFC 4033 §5).
#[derive(Debug, Clone, Default)]
pub struct TrustPoints {
    /// Trust anchors (RFC 4035 §4.4).
    pub anchors: Vec<TrustAnchor>,
    /// Zones never validated (RFC 7646).
    pub negative: Vec<Name>,
    /// The time signatures are checked at, instead of the clock's.
    pub date: Option<u32>,
}

impl TrustPoints {
    /// Now, for signature validity (RFC 4034 §3.1.5): the configured date
    /// or the system's clock, plus any shift of the clock (clock.rs).
    pub fn now(&self) -> u32 {
        let shift = clock::now().saturating_duration_since(Instant::now());
        let base = match self.date {
            Some(date) => Duration::from_secs(date.into()),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        };
        u32::try_from((base + shift).as_secs()).unwrap_or(u32::MAX)
    }

    /// True when `name` is at or below a negative trust anchor.
    pub fn negative_at(&self, name: &Name) -> bool {
        self.negative.iter().any(|zone| zone.zone_of(name))
    }

    /// True when a trust anchor is at or above `name`.
    fn anchored(&self, name: &Name) -> bool {
        self.anchors.iter().any(|anchor| anchor.zone.zone_of(name))
    }

    /// The anchors configured for `zone` itself.
    pub(super) fn anchors_for(&self, zone: &Name) -> Vec<Anchor> {
        self.anchors
            .iter()
            .filter(|anchor| anchor.zone == *zone)
            .map(|anchor| anchor.anchor.clone())
            .collect()
    }
}

/// The key states of zones, each until it expires.
pub struct KeyCache {
    /// Each zone's state, when it expires, and the cache's generation then.
    entries: moka::sync::Cache<Name, (ZoneKeys, Instant, u64), ahash::RandomState>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(KEY_CACHE_BYTES)
                .weigher(|zone: &Name, (keys, _, _): &(ZoneKeys, Instant, u64)| {
                    let key_bytes = match keys {
                        Security::Secure(keys) => keys
                            .keys()
                            .iter()
                            .map(|key| key.public_key().public_bytes().len() + 16)
                            .sum(),
                        _ => 0,
                    };
                    u32::try_from(64 + zone.len() + key_bytes).unwrap_or(u32::MAX)
                })
                .build_with_hasher(ahash::RandomState::new()),
        }
    }
}

impl KeyCache {
    /// The state of `zone`, unless it expired or the cache was flushed since.
    pub(super) fn peek(&self, zone: &Name, now: Instant, generation: u64) -> Option<ZoneKeys> {
        let (keys, expires, stored) = self.entries.get(zone)?;
        (now < expires && stored == generation).then_some(keys)
    }

    fn insert(&self, zone: &Name, keys: ZoneKeys, ttl: u32, now: Instant, generation: u64) {
        let expires = now + Duration::from_secs(ttl.into());
        self.entries
            .insert(zone.clone(), (keys, expires, generation));
    }
}

impl Resolver {
    /// The RRSIGs kept beside the RRset `name`/`record_type` (signatures.rs).
    pub(super) fn kept_signatures(&self, name: &Name, record_type: RecordType) -> Vec<Record> {
        let kept = self
            .cache
            .beside(Beside::Signatures, name, record_type, clock::now());
        signatures_over(&kept.authority, record_type)
    }

    /// The security state of `zone`'s DNSKEY RRset (RFC 4035 §5.2), from the
    /// key cache or walked from the nearest trust anchor above it.
    pub(super) fn zone_keys<'a>(
        &'a self,
        zone: &'a Name,
        budget: &'a mut Budget,
    ) -> BoxFuture<'a, ZoneKeys> {
        Box::pin(async move {
            let zone = zone.to_lowercase();
            let now = clock::now();
            let generation = self.cache.generation();
            if let Some(keys) = self.keys.peek(&zone, now, generation) {
                return keys;
            }
            let (keys, ttl) = self.establish_keys(&zone, budget).await;
            let ttl = match &keys {
                Security::Bogus(_) => ttl.min(BOGUS_TTL),
                _ => ttl,
            };
            // A state reached without the network it needed is no state.
            if !budget.wanted_network {
                self.keys.insert(&zone, keys.clone(), ttl, now, generation);
            }
            keys
        })
    }

    /// Walks to `zone`'s keys: from its anchor, or from its parent's keys
    /// through its DS RRset; with the TTL the result may be kept for.
    async fn establish_keys(&self, zone: &Name, budget: &mut Budget) -> (ZoneKeys, u32) {
        let trust = &self.trust_points;
        if trust.negative_at(zone) {
            return (
                Security::Insecure(Insecure::NegativeTrustAnchor),
                UNANCHORED_TTL,
            );
        }
        if !trust.anchored(zone) {
            return (Security::Insecure(Insecure::NoTrustAnchor), UNANCHORED_TTL);
        }
        let anchors = trust.anchors_for(zone);
        if !anchors.is_empty() {
            return self.trust_keys(zone, &anchors, budget).await;
        }
        // A referral that proved the zone has no DS (signatures.rs) answers
        // the question before it is asked.
        let now = clock::now();
        let asked = self.cache.lookup(zone, RecordType::DS, now).is_some();
        let proof = self.cache.beside(Beside::Denial, zone, RecordType::DS, now);
        if !asked && !proof.authority.is_empty() {
            return self.unsigned_delegation(zone, None, budget).await;
        }
        let Ok(resolution) = self.resolve(zone, RecordType::DS, budget).await else {
            return (Security::Bogus(Bogus::DnskeyMissing), BOGUS_TTL);
        };
        if !resolution.chain.is_empty() {
            return (Security::Bogus(Bogus::NotOneRrset), BOGUS_TTL);
        }
        match resolution.outcome {
            Outcome::Answer(ds) => self.keys_through_ds(zone, &ds, budget).await,
            Outcome::NoData(soa) => self.unsigned_delegation(zone, soa, budget).await,
            Outcome::NxDomain(_) | Outcome::YxDomain => {
                (Security::Bogus(Bogus::NsecMissing), BOGUS_TTL)
            }
        }
    }

    /// The zone's keys from a DS RRset its parent signed (RFC 4035 §5.2);
    /// a DS RRset that does not verify is fetched again from another of
    /// the parent's servers first (bogus.rs).
    async fn keys_through_ds(
        &self,
        zone: &Name,
        ds: &[Record],
        budget: &mut Budget,
    ) -> (ZoneKeys, u32) {
        let mut ds = ds.to_vec();
        let mut retries = 0;
        let mut first_failure = None;
        loop {
            let rrsigs = self.kept_signatures(zone, RecordType::DS);
            let parent = match signer(&rrsigs) {
                Some(parent) if parent.zone_of(zone) && parent != *zone => parent,
                Some(_) => return (Security::Bogus(Bogus::SignerNameMismatch), BOGUS_TTL),
                None => self.enclosing_zone(&zone.base_name()),
            };
            let parent_keys = match self.zone_keys(&parent, budget).await {
                Security::Secure(keys) => keys,
                Security::Insecure(why) => return (Security::Insecure(why), ttl_of(&ds)),
                Security::Bogus(why) => return (Security::Bogus(why), BOGUS_TTL),
            };
            let now = self.trust_points.now();
            let validation = &mut budget.validation;
            let why = match verify_rrset(&ds, &rrsigs, &parent_keys, now, validation) {
                Ok(_) => break,
                // Failed again: the first failure says best what was wrong.
                Err(why) => *first_failure.get_or_insert(why),
            };
            if !self.retry_bogus(zone, RecordType::DS, &why, retries, budget) {
                return (Security::Bogus(why), BOGUS_TTL);
            }
            retries += 1;
            ds = match self.resolve(zone, RecordType::DS, budget).await {
                Ok(resolution) if resolution.chain.is_empty() => match resolution.outcome {
                    Outcome::Answer(records) => records,
                    _ => return (Security::Bogus(why), BOGUS_TTL),
                },
                _ => return (Security::Bogus(why), BOGUS_TTL),
            };
        }
        let anchors: Vec<Anchor> = ds
            .iter()
            .filter_map(|record| DS::try_borrow(&record.data).cloned())
            .map(Anchor::Ds)
            .collect();
        self.trust_keys(zone, &anchors, budget).await
    }

    /// Fetches `zone`'s DNSKEY RRset and trusts it from `anchors`.
    async fn trust_keys(
        &self,
        zone: &Name,
        anchors: &[Anchor],
        budget: &mut Budget,
    ) -> (ZoneKeys, u32) {
        let mut retries = 0;
        let mut first_failure = None;
        let (dnskeys, trusted) = loop {
            let dnskeys = match self.resolve(zone, RecordType::DNSKEY, budget).await {
                Ok(resolution) if resolution.chain.is_empty() => match resolution.outcome {
                    Outcome::Answer(records) => records,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let rrsigs = self.kept_signatures(zone, RecordType::DNSKEY);
            let now = self.trust_points.now();
            let validation = &mut budget.validation;
            let trusted = trust_dnskeys(zone, &dnskeys, &rrsigs, anchors, now, validation);
            // A key set one server broke may be sound at another (bogus.rs).
            let again = match &trusted {
                Security::Bogus(why) => {
                    self.retry_bogus(zone, RecordType::DNSKEY, why, retries, budget)
                }
                _ => false,
            };
            if !again {
                // Failed again: the first failure says best what was wrong.
                let trusted = match (trusted, first_failure) {
                    (Security::Bogus(_), Some(first)) => Security::Bogus(first),
                    (trusted, _) => trusted,
                };
                break (dnskeys, trusted);
            }
            if let Security::Bogus(why) = trusted {
                first_failure.get_or_insert(why);
            }
            retries += 1;
        };
        match trusted {
            Security::Secure(keys) => {
                let ttl = keys.ttl();
                (Security::Secure(Arc::new(keys)), ttl)
            }
            Security::Insecure(why) => (Security::Insecure(why), ttl_of(&dnskeys)),
            Security::Bogus(why) => (Security::Bogus(why), BOGUS_TTL),
        }
    }

    /// A delegation without DS: insecure if its parent is, or if the
    /// parent's signed NSEC/NSEC3 proves that no DS exists (RFC 4035 §5.2).
    async fn unsigned_delegation(
        &self,
        zone: &Name,
        soa: Option<Record>,
        budget: &mut Budget,
    ) -> (ZoneKeys, u32) {
        let proof = self
            .cache
            .beside(Beside::Denial, zone, RecordType::DS, clock::now())
            .authority;
        // The parent: the signer of the SOA (a DS question's NODATA) or of
        // the NSEC/NSEC3 records (a referral's proof).
        let parent = [RecordType::SOA, RecordType::NSEC, RecordType::NSEC3]
            .into_iter()
            .find_map(|record_type| signer(&signatures_over(&proof, record_type)))
            .or_else(|| soa.as_ref().map(|soa| soa.name.to_lowercase()))
            .unwrap_or_else(|| self.enclosing_zone(&zone.base_name()));
        if !parent.zone_of(zone) || parent == *zone {
            return (Security::Bogus(Bogus::NsecMissing), BOGUS_TTL);
        }
        let ttl = match &soa {
            Some(soa) => self.cache.negative_ttl(soa),
            None => ttl_of(&proof),
        };
        let parent_keys = match self.zone_keys(&parent, budget).await {
            Security::Secure(keys) => keys,
            Security::Insecure(why) => return (Security::Insecure(why), ttl),
            Security::Bogus(why) => return (Security::Bogus(why), BOGUS_TTL),
        };
        let now = self.trust_points.now();
        let validation = &mut budget.validation;
        let denial = match verified_denial(&proof, &parent_keys, now, validation) {
            Ok(denial) => denial,
            Err(why) => return (Security::Bogus(why), BOGUS_TTL),
        };
        let proven = match denial {
            Denial::Nsec(nsecs) => nsec::prove_insecure_delegation(zone, &parent, &nsecs),
            Denial::Nsec3(nsec3s) => {
                nsec3::prove_insecure_delegation(zone, &parent, &nsec3s, validation)
            }
        };
        if let Security::Insecure(_) = proven {
            self.remember_denial(&parent, &proof, &[]); // proven: RFC 8198 §4
        }
        match proven {
            Security::Insecure(why) => (Security::Insecure(why), ttl),
            // A proof that DS is absent and the zone signed cannot be.
            Security::Secure(()) => (Security::Bogus(Bogus::NsecMissing), BOGUS_TTL),
            Security::Bogus(why) => (Security::Bogus(why), BOGUS_TTL),
        }
    }
}

/// The least TTL of `records` (0 for none).
pub(super) fn ttl_of(records: &[Record]) -> u32 {
    records.iter().map(|record| record.ttl).min().unwrap_or(0)
}
