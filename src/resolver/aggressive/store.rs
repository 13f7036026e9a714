//! The validated denials and wildcards held for aggressive use (RFC 8198
//! §4), per signed zone: NSEC records by owner in canonical order, NSEC3
//! records by owner hash, the zone's SOA and its wildcard RRsets, each with
//! its RRSIGs until it expires; bounded in bytes, emptied with the cache.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC3};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use tokio::time::Instant;

use crate::clock;
use crate::names::label_count;
use crate::resolver::proof::signatures_over;
use crate::validator::MAX_NSEC3_ITERATIONS;

/// The bytes the validated NSEC/NSEC3 records and SOAs may hold.
pub const DENIAL_BYTES: usize = 4 << 20;

/// An RRset kept with its RRSIGs, until it expires.
#[derive(Debug, Clone)]
pub(super) struct Held {
    /// The record, then the RRSIGs over it.
    pub(super) records: Vec<Record>,
    pub(super) expires: Instant,
    pub(super) bytes: usize,
}

impl Held {
    pub(super) fn new(records: Vec<Record>, now: Instant) -> Self {
        let ttl = records.iter().map(|record| record.ttl).min().unwrap_or(0);
        let bytes = records
            .iter()
            .map(|record| 64 + record.to_bytes().map_or(0, |bytes| bytes.len()))
            .sum();
        Held {
            records,
            expires: now + Duration::from_secs(ttl.into()),
            bytes,
        }
    }

    /// The records, their TTLs counted down to `now`; `None` once expired.
    pub(super) fn live(&self, now: Instant) -> Option<Vec<Record>> {
        let left = self.expires.checked_duration_since(now)?.as_secs();
        let left = u32::try_from(left).ok().filter(|left| *left > 0)?;
        Some(
            self.records
                .iter()
                .map(|record| {
                    let mut record = record.clone();
                    record.ttl = record.ttl.min(left);
                    record
                })
                .collect(),
        )
    }
}

/// A zone's NSEC3 records by owner hash, all with one salt and iteration
/// count (RFC 5155 §8.2).
#[derive(Debug, Default)]
pub(super) struct Hashed {
    pub(super) salt: Vec<u8>,
    pub(super) iterations: u16,
    pub(super) records: BTreeMap<Vec<u8>, Held>,
}

impl Hashed {
    /// `name`'s owner hash with this chain's salt and iterations (RFC 5155 §5).
    pub(super) fn hash(&self, name: &Name) -> Option<Vec<u8>> {
        let digest = Nsec3HashAlgorithm::SHA1.hash(&self.salt, name, self.iterations);
        Some(digest.ok()?.as_ref().to_vec())
    }
}

/// What one signed zone has proven: NSEC records by owner, NSEC3 records
/// by hash, its SOA, and its wildcard RRsets that validated (by the
/// wildcard's name and type, records owned by it).
#[derive(Debug, Default)]
pub(super) struct Zone {
    pub(super) nsecs: BTreeMap<Name, Held>,
    pub(super) nsec3s: Hashed,
    pub(super) soa: Option<Held>,
    pub(super) wildcards: BTreeMap<(Name, RecordType), Held>,
}

/// Where a held RRset goes in its zone.
pub(super) enum Slot {
    Nsec(Name),
    Nsec3 {
        hash: Vec<u8>,
        salt: Vec<u8>,
        iterations: u16,
    },
    Soa,
    Wildcard(Name, RecordType),
}

/// The validated denials of every zone (RFC 8198 §4).
#[derive(Debug, Default)]
pub struct Denials {
    pub(super) inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) zones: BTreeMap<Name, Zone>,
    pub(super) bytes: usize,
    pub(super) generation: u64,
    /// The earliest expiry of what is held (nothing to purge before it).
    next_expiry: Option<Instant>,
}

impl Inner {
    /// Forgets everything if the cache was emptied since it was filled.
    pub(super) fn follow(&mut self, generation: u64) {
        if self.generation != generation {
            *self = Inner {
                generation,
                ..Inner::default()
            };
        }
    }

    /// Makes room for `bytes` more: the expired records go (when one may
    /// have expired), and when that is not enough, everything goes. One
    /// pass over the store per filling of it, not one per record kept.
    fn make_room(&mut self, bytes: usize, now: Instant) {
        if self.bytes + bytes <= DENIAL_BYTES {
            return;
        }
        if self.next_expiry.is_some_and(|next| next <= now) {
            let mut left = Vec::new();
            let mut keep = |held: &Held| {
                let live = held.expires > now;
                if live {
                    left.push((held.expires, held.bytes));
                }
                live
            };
            for zone in self.zones.values_mut() {
                zone.nsecs.retain(|_, held| keep(held));
                zone.nsec3s.records.retain(|_, held| keep(held));
                zone.wildcards.retain(|_, held| keep(held));
                zone.soa = zone.soa.take().filter(|held| keep(held));
            }
            self.zones.retain(|_, zone| {
                !zone.nsecs.is_empty()
                    || !zone.nsec3s.records.is_empty()
                    || !zone.wildcards.is_empty()
                    || zone.soa.is_some()
            });
            self.bytes = left.iter().map(|(_, bytes)| bytes).sum();
            self.next_expiry = left.iter().map(|(expires, _)| *expires).min();
        }
        if self.bytes + bytes > DENIAL_BYTES {
            self.zones.clear();
            self.bytes = 0;
            self.next_expiry = None;
        }
    }

    pub(super) fn keep(&mut self, zone: &Name, slot: Slot, held: Held, now: Instant) {
        if held.bytes > DENIAL_BYTES {
            return;
        }
        self.make_room(held.bytes, now);
        let expires = held.expires;
        self.next_expiry = Some(self.next_expiry.map_or(expires, |next| next.min(expires)));
        let entry = self.zones.entry(zone.clone()).or_default();
        let bytes = held.bytes;
        let old = match slot {
            Slot::Nsec(owner) => entry.nsecs.insert(owner, held),
            Slot::Soa => entry.soa.replace(held),
            Slot::Wildcard(name, record_type) => entry.wildcards.insert((name, record_type), held),
            Slot::Nsec3 {
                hash,
                salt,
                iterations,
            } => {
                let chain = &mut entry.nsec3s;
                if chain.salt != salt || chain.iterations != iterations {
                    // A zone signed again with new parameters: the old chain goes.
                    let dropped: usize = chain.records.values().map(|held| held.bytes).sum();
                    self.bytes -= dropped.min(self.bytes);
                    *chain = Hashed {
                        salt,
                        iterations,
                        records: BTreeMap::new(),
                    };
                }
                chain.records.insert(hash, held)
            }
        };
        self.bytes += bytes;
        self.bytes -= old.map_or(0, |old| old.bytes).min(self.bytes);
    }
}

impl Denials {
    /// Keeps the NSEC and NSEC3 RRsets of `proof` (with their RRSIGs),
    /// verified with `zone`'s trusted keys, and the zone's SOA if given.
    pub(super) fn remember(&self, zone: &Name, proof: &[Record], soa: &[Record], generation: u64) {
        let now = clock::now();
        let zone = zone.to_lowercase();
        let slot = |record: &Record| match &record.data {
            RData::DNSSEC(DNSSECRData::NSEC(_)) => Some(Slot::Nsec(record.name.to_lowercase())),
            RData::DNSSEC(DNSSECRData::NSEC3(nsec3)) => nsec3_slot(&zone, record, nsec3),
            _ => None,
        };
        let held: Vec<(Slot, Vec<Record>)> = proof
            .iter()
            .filter(|record| zone.zone_of(&record.name))
            .filter_map(|record| {
                let slot = slot(record)?;
                let mut rrset = vec![record.clone()];
                let rrsigs = signatures_over(proof, record.record_type());
                rrset.extend(rrsigs.into_iter().filter(|rrsig| rrsig.name == record.name));
                Some((slot, rrset))
            })
            .collect();
        let soa_given = soa
            .iter()
            .any(|record| record.record_type() == RecordType::SOA && record.name == zone);
        if held.is_empty() && !soa_given {
            return;
        }
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        inner.follow(generation);
        for (slot, rrset) in held {
            inner.keep(&zone, slot, Held::new(rrset, now), now);
        }
        if soa_given {
            inner.keep(&zone, Slot::Soa, Held::new(soa.to_vec(), now), now);
        }
    }

    /// Keeps a wildcard RRset that validated (`rrset` expanded at some
    /// name, with its RRSIGs), owned by the wildcard `source` of `zone`.
    pub(super) fn remember_wildcard(
        &self,
        zone: &Name,
        source: &Name,
        rrset: &[Record],
        generation: u64,
    ) {
        let Some(record_type) = rrset.first().map(Record::record_type) else {
            return;
        };
        let now = clock::now();
        let records = rrset
            .iter()
            .map(|record| {
                let mut record = record.clone();
                record.name = source.to_lowercase();
                record
            })
            .collect();
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        inner.follow(generation);
        let slot = Slot::Wildcard(source.to_lowercase(), record_type);
        inner.keep(&zone.to_lowercase(), slot, Held::new(records, now), now);
    }
}

/// Where an NSEC3 record of `zone` goes: its owner hash (RFC 5155 §3.3),
/// with the chain's parameters; `None` for one no proof may use.
fn nsec3_slot(zone: &Name, record: &Record, nsec3: &NSEC3) -> Option<Slot> {
    if label_count(&record.name) != label_count(zone) + 1
        || nsec3.iterations() > MAX_NSEC3_ITERATIONS
    {
        return None;
    }
    let label = record.name.iter().next()?.to_ascii_uppercase();
    let hash = data_encoding::BASE32HEX_NOPAD.decode(&label).ok()?;
    Some(Slot::Nsec3 {
        hash,
        salt: nsec3.salt().to_vec(),
        iterations: nsec3.iterations(),
    })
}

/// The live records of each RRset `wanted` found, each RRset once.
pub(super) fn gather<'a>(
    wanted: impl IntoIterator<Item = Option<&'a Held>>,
    now: Instant,
) -> Vec<Vec<Record>> {
    let mut gathered: Vec<Vec<Record>> = Vec::new();
    for found in wanted.into_iter().flatten() {
        if let Some(records) = found.live(now)
            && !gathered.iter().any(|kept| kept[0].name == records[0].name)
        {
            gathered.push(records);
        }
    }
    gathered
}

/// The first record of each RRset: the NSEC or NSEC3 itself.
pub(super) fn firsts(rrsets: &[Vec<Record>]) -> Vec<Record> {
    rrsets.iter().map(|rrset| rrset[0].clone()).collect()
}
