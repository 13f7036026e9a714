//! The TTL cache (RFC 1035 §7.4, RFC 2181 §5.2, RFC 2308 §5): RRsets learned
//! from authoritative answers, delegations learned from referrals, and
//! negative answers, each kept for its own TTL.
//!
//! Time is a parameter: every call takes `now`, so tests run on tokio's
//! paused clock; a read checks the entry's own expiry against `now`, so no
//! expired record is served, except as a stale answer when `[cache]
//! serve_stale` asks for one (RFC 8767, stale.rs). The store (quick_cache)
//! keeps no timers: an expired entry stays, weighed against the size,
//! until it is replaced or evicted, so it is there for serve-stale.
//! (Why quick_cache and not moka: store.rs.)
//!
//! Entries are compact: a key of a few dozen octets (kind, type, the name
//! in wire form) and records in wire form, decoded when read.
//!
//! Each entry carries the [`Credibility`] of its source (RFC 2181 §5.4.1): an
//! entry is never replaced, before it expires, by data of a lower rank, so
//! a non-authoritative answer cannot overwrite what an authority said.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use quick_cache::Weighter;
use tokio::time::Instant;

use crate::config::CacheConfig;
use crate::names::label_count;
use crate::store::{ARC_COUNTS, Store, entry_weight, store};
use entry::{Content, HEADER, KeyBuf, Kind, Value, pack, unpack, write_header};
pub use entry::{Credibility, Origin, Provenance};

mod delegations;
mod entry;
mod info;
mod listing;
mod prefetch;
mod sections;
mod stale;

pub use info::EntryInfo;
pub use listing::{EntryKind, Listed, MAX_LISTED};
pub use sections::{Beside, Sections};
pub use stale::STALE_TTL;

/// A cached answer for one name and type.
#[derive(Debug, Clone)]
pub enum Cached {
    /// The RRset, TTLs counting down.
    Records(Vec<Record>),
    /// The name has no data of this type; the SOA that says so.
    NoData(Record),
    /// The name does not exist; the SOA that says so.
    NxDomain(Record),
}

/// Weighs the cache's entries: key, value and [`ENTRY_OVERHEAD`](crate::store::ENTRY_OVERHEAD).
#[derive(Clone, Copy)]
struct Weigh;

impl Weighter<Box<[u8]>, Arc<[u8]>> for Weigh {
    fn weight(&self, key: &Box<[u8]>, value: &Arc<[u8]>) -> u64 {
        // An Arc's value follows its two counts in one allocation.
        entry_weight(&[key.len(), ARC_COUNTS + value.len()])
    }
}

/// The resolver's cache; cheap to clone (shared).
///
/// Each entry is one allocation for the key and one for the value: the
/// expiry (milliseconds since the cache was made), what it holds, and the
/// records in wire form.
#[derive(Clone)]
pub struct Cache {
    entries: Store<Arc<[u8]>, Weigh>,
    /// Delegations as decoded from their entries, so that every new name
    /// in a zone does not decode its zone's NS set again (delegations.rs).
    decoded: delegations::Decoded,
    epoch: Instant,
    config: CacheConfig,
    generation: Arc<AtomicU64>,
    /// Whether a DNAME has been cached since the cache was last emptied:
    /// until one has, no question pays for looking for one above its name.
    dnames: Arc<AtomicBool>,
    /// Whether DNSSEC records have been kept beside an answer since the
    /// cache was last emptied: until then, no answer pays for their keeping.
    signed: Arc<AtomicBool>,
}

impl Cache {
    /// An empty cache holding at most `bytes` (keys, values and the
    /// bookkeeping of each entry, see
    /// [`ENTRY_OVERHEAD`](crate::store::ENTRY_OVERHEAD)); the store evicts
    /// the least useful entries past it. Every read checks the entry's own expiry.
    pub fn new(config: &CacheConfig, bytes: u64) -> Self {
        Cache {
            entries: store(bytes, Weigh),
            decoded: delegations::decoded(),
            epoch: Instant::now(),
            config: config.clone(),
            generation: Arc::new(AtomicU64::new(0)),
            dnames: Arc::new(AtomicBool::new(false)),
            signed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A TTL within the configured bounds; a TTL with the top bit set is
    /// treated as zero (RFC 2181 §8). Zero is not cached (RFC 1035 §3.2.1)
    /// unless `min_ttl` raises it, as Unbound's `cache-min-ttl` and Knot
    /// Resolver's `cache.min_ttl` do (Deckard's `iter_minmaxttl`).
    pub fn clamp_ttl(&self, ttl: u32) -> u32 {
        let ttl = if ttl > i32::MAX as u32 { 0 } else { ttl };
        ttl.clamp(self.config.min_ttl, self.config.max_ttl)
            .min(i32::MAX as u32)
    }

    /// The negative-caching TTL of an SOA: min(SOA TTL, MINIMUM) (RFC 2308
    /// §5), within `min_negative_ttl`..`max_negative_ttl`.
    pub fn negative_ttl(&self, soa: &Record) -> u32 {
        let minimum = match &soa.data {
            RData::SOA(data) => data.minimum,
            _ => soa.ttl,
        };
        // A top-bit TTL (or MINIMUM) counts as zero (RFC 2181 §8).
        let ttl = |value: u32| if value > i32::MAX as u32 { 0 } else { value };
        ttl(soa.ttl).min(ttl(minimum)).clamp(
            self.config.min_negative_ttl, // checked not above the maximum when loaded
            self.config.max_negative_ttl,
        )
    }

    /// Caches an RRset of the given credibility; all records share one
    /// owner and type, and the set gets the least of their TTLs (RFC 2181 §5.2).
    pub fn insert_rrset(&self, records: &[Record], origin: impl Into<Origin>, now: Instant) {
        let Some(first) = records.first() else {
            return;
        };
        let ttl = self.clamp_ttl(records.iter().map(|r| r.ttl).min().unwrap_or(0));
        let key = KeyBuf::new(Kind::RRset, first.record_type(), &first.name);
        if first.record_type() == RecordType::DNAME {
            self.dnames.store(true, Ordering::Relaxed);
        }
        // The owner is in the key: the packed records carry the root
        // instead, and the set's TTL as cached (for prefetch, prefetch.rs).
        let ownerless: Vec<Record> = records
            .iter()
            .map(|record| Record::from_rdata(Name::root(), ttl, record.data.clone()))
            .collect();
        self.insert(&key, ttl, Content::RRset, origin.into(), &ownerless, now);
    }

    /// Caches NODATA for `name`/`record_type` (RFC 2308 §5).
    pub fn insert_no_data(
        &self,
        name: &Name,
        record_type: RecordType,
        soa: &Record,
        origin: impl Into<Origin>,
        now: Instant,
    ) {
        let key = KeyBuf::new(Kind::RRset, record_type, name);
        self.insert(
            &key,
            self.negative_ttl(soa),
            Content::NoData,
            origin.into(),
            std::slice::from_ref(soa),
            now,
        );
    }

    /// Caches NXDOMAIN for `name`: it holds for every type (RFC 2308 §5).
    pub fn insert_nx_domain(
        &self,
        name: &Name,
        soa: &Record,
        origin: impl Into<Origin>,
        now: Instant,
    ) {
        let key = KeyBuf::new(Kind::NxDomain, RecordType::ANY, name);
        self.insert(
            &key,
            self.negative_ttl(soa),
            Content::NxDomain,
            origin.into(),
            std::slice::from_ref(soa),
            now,
        );
    }

    fn insert(
        &self,
        key: &KeyBuf,
        ttl: u32,
        content: Content,
        origin: Origin,
        records: &[Record],
        now: Instant,
    ) {
        if ttl == 0 {
            return; // zero TTL: for the transaction in progress only (RFC 1035 §3.2.1)
        }
        if self
            .credibility(key, now)
            .is_some_and(|held| held > origin.credibility)
        {
            return; // RFC 2181 §5.4.1: lower-ranked data never replaces higher
        }
        let mut value = self.header(ttl, content, &origin, now);
        if pack(records, &mut value).is_some() {
            self.entries.insert(key.as_slice().into(), value.into());
        }
    }

    /// The start of an entry's value: expiry (`ttl` seconds from `now`),
    /// content, origin and TTL (entry.rs); the records follow.
    fn header(&self, ttl: u32, content: Content, origin: &Origin, now: Instant) -> Vec<u8> {
        let expires = now + Duration::from_secs(u64::from(ttl));
        let millis = expires.saturating_duration_since(self.epoch).as_millis() as u64;
        let mut value = Vec::with_capacity(HEADER + 96);
        write_header(&mut value, millis, content, origin, ttl);
        value
    }

    /// When an entry's value expires.
    fn expiry(&self, value: &Value) -> Instant {
        self.epoch + Duration::from_millis(value.expires)
    }

    /// An entry's remaining TTL in whole seconds, rounded up (a record
    /// cached 1 ms ago still shows its full TTL); 0 once expired.
    fn seconds_left(&self, value: &Value, now: Instant) -> u32 {
        self.expiry(value)
            .checked_duration_since(now)
            .map_or(0, |remaining| remaining.as_millis().div_ceil(1000) as u32) // at most the entry's TTL
    }

    /// The content and records under `key` while they live, with their remaining TTL.
    fn live(&self, key: &[u8], now: Instant) -> Option<(Content, Vec<Record>)> {
        self.read(key, now, Duration::ZERO)
    }

    /// [`Self::live`], or, up to `stale` past its expiry, the entry with
    /// the TTL of a stale answer (RFC 8767 §4, stale.rs).
    fn read(&self, key: &[u8], now: Instant, stale: Duration) -> Option<(Content, Vec<Record>)> {
        let value = self.entries.get(key)?;
        let value = Value::split(&value)?;
        let expires = self.expiry(&value);
        let seconds = match self.seconds_left(&value, now) {
            0 if !stale.is_zero() && now < expires + stale => stale::STALE_TTL,
            0 => return None,
            live => live,
        };
        Some((value.content?, unpack(value.records, seconds)))
    }

    /// The credibility of the live entry under `key`, if any.
    fn credibility(&self, key: &[u8], now: Instant) -> Option<Credibility> {
        let value = self.entries.get(key)?;
        let value = Value::split(&value)?;
        (self.expiry(&value) > now).then_some(value.credibility)
    }

    /// What the cache knows about `name`/`record_type`, TTLs counting down.
    pub fn lookup(&self, name: &Name, record_type: RecordType, now: Instant) -> Option<Cached> {
        self.lookup_within(name, record_type, now, Duration::ZERO)
    }

    /// [`Self::lookup`], with entries up to `stale` past their expiry (stale.rs).
    fn lookup_within(
        &self,
        name: &Name,
        record_type: RecordType,
        now: Instant,
        stale: Duration,
    ) -> Option<Cached> {
        // One encoding of the name for both keys: the NXDOMAIN's, then the RRset's.
        let mut key = KeyBuf::new(Kind::NxDomain, RecordType::ANY, name);
        let nx_domain = self.read(&key, now, stale);
        let nx_rank = nx_domain.as_ref().and_then(|_| self.credibility(&key, now));
        key.retarget(Kind::RRset, record_type);
        if let Some((Content::NxDomain, records)) = nx_domain {
            // A lower-ranked NXDOMAIN does not hide higher-ranked data (RFC 2181 §5.4.1).
            let outranked = self
                .credibility(&key, now)
                .zip(nx_rank)
                .is_some_and(|(data, nx)| data > nx);
            if !outranked {
                return records.into_iter().next().map(Cached::NxDomain);
            }
        }
        let (content, records) = self.read(&key, now, stale)?;
        match content {
            Content::RRset => Some(Cached::Records(
                records
                    .into_iter()
                    .map(|mut record| {
                        record.name = name.clone();
                        record
                    })
                    .collect(),
            )),
            Content::NoData => records.into_iter().next().map(Cached::NoData),
            Content::NxDomain => records.into_iter().next().map(Cached::NxDomain),
            Content::Delegation | Content::Sections => None,
        }
    }

    /// The cached records of an RRset, if any.
    pub fn rrset(&self, name: &Name, record_type: RecordType, now: Instant) -> Option<Vec<Record>> {
        match self.lookup(name, record_type, now)? {
            Cached::Records(records) => Some(records),
            _ => None,
        }
    }

    /// The DNAME cached nearest the root strictly above `name`, if any
    /// (RFC 6672 §2.3: it redirects everything below its owner): one lookup
    /// per ancestor, and none at all while no DNAME has been cached.
    pub fn dname_above(&self, name: &Name, now: Instant) -> Option<Record> {
        if !self.dnames.load(Ordering::Relaxed) {
            return None; // before any allocation: this is every resolution's path
        }
        (1..label_count(name)).find_map(|labels| {
            let owner = name.trim_to(labels);
            let key = KeyBuf::new(Kind::RRset, RecordType::DNAME, &owner);
            let (Content::RRset, records) = self.live(&key, now)? else {
                return None;
            };
            records.into_iter().next().map(|mut record| {
                record.name = owner;
                record
            })
        })
    }

    /// The bytes the cache holds, as weighed against its size.
    pub fn weighted_size(&self) -> u64 {
        self.entries.weight()
    }

    /// How many entries the cache holds.
    pub fn entry_count(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Forgets everything; the generation changes, so that answers encoded
    /// from what was cached are not replayed either.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.dnames.store(false, Ordering::Relaxed);
        self.signed.store(false, Ordering::Relaxed);
        self.entries.clear();
        self.decoded.clear();
    }

    /// The number of times the cache was emptied.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests;
