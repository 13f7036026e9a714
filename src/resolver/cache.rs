//! The TTL cache (RFC 1035 §7.4, RFC 2181 §5.2, RFC 2308 §5): RRsets learned
//! from authoritative answers, delegations learned from referrals, and
//! negative answers, each kept for its own TTL.
//!
//! Time is a parameter: every call takes `now`, so tests run on tokio's
//! paused clock. moka evicts expired entries on its own clock; a read checks
//! the entry's own expiry against `now` as well, so neither clock can serve
//! a stale record.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use moka::Expiry;
use moka::sync::Cache as MokaCache;
use tokio::time::Instant;

use super::delegation::Delegation;
use crate::config::CacheConfig;
use crate::names::{canonical, label_count};

/// What an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// The RRset (or NODATA) of one name and type.
    RRset(Name, RecordType),
    /// The name does not exist, whatever the type (RFC 2308 §5).
    NxDomain(Name),
    /// The delegation (NS names and glue) of a zone, from its parent's referral.
    Delegation(Name),
}

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

#[derive(Debug)]
enum Content {
    RRset(Vec<Record>),
    NoData(Record),
    NxDomain(Record),
    Delegation(Delegation),
}

#[derive(Debug)]
struct Entry {
    expires: Instant,
    lifetime: Duration,
    content: Content,
}

/// Tells moka each entry's own lifetime, on insert and on replacement.
struct EntryExpiry;

impl Expiry<Key, Arc<Entry>> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &Key,
        entry: &Arc<Entry>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.lifetime)
    }

    fn expire_after_update(
        &self,
        _key: &Key,
        entry: &Arc<Entry>,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

/// The resolver's cache; cheap to clone (shared).
#[derive(Clone)]
pub struct Cache {
    entries: MokaCache<Key, Arc<Entry>>,
    config: CacheConfig,
}

impl Cache {
    /// An empty cache holding at most `config.capacity` entries.
    pub fn new(config: &CacheConfig) -> Self {
        let entries = MokaCache::builder()
            .max_capacity(config.capacity)
            .expire_after(EntryExpiry)
            .build();
        Cache {
            entries,
            config: config.clone(),
        }
    }

    /// A TTL within the configured bounds (RFC 2181 §8 keeps it below 2^31).
    pub fn clamp_ttl(&self, ttl: u32) -> u32 {
        ttl.clamp(self.config.min_ttl, self.config.max_ttl)
            .min(i32::MAX as u32)
    }

    /// The negative-caching TTL of an SOA: min(SOA TTL, MINIMUM) (RFC 2308 §5), capped.
    pub fn negative_ttl(&self, soa: &Record) -> u32 {
        let minimum = match &soa.data {
            RData::SOA(data) => data.minimum,
            _ => soa.ttl,
        };
        soa.ttl.min(minimum).min(self.config.max_negative_ttl)
    }

    /// Caches an RRset from an authoritative answer; all records share one
    /// owner and type, and the set gets the least of their TTLs (RFC 2181 §5.2).
    pub fn insert_rrset(&self, records: &[Record], now: Instant) {
        let Some(first) = records.first() else {
            return;
        };
        let ttl = self.clamp_ttl(records.iter().map(|r| r.ttl).min().unwrap_or(0));
        let key = Key::RRset(canonical(&first.name), first.record_type());
        let records = records
            .iter()
            .map(|record| {
                let mut record = record.clone();
                record.ttl = ttl;
                record
            })
            .collect();
        self.insert(key, ttl, Content::RRset(records), now);
    }

    /// Caches NODATA for `name`/`record_type` (RFC 2308 §5).
    pub fn insert_no_data(&self, name: &Name, record_type: RecordType, soa: &Record, now: Instant) {
        let ttl = self.negative_ttl(soa);
        let key = Key::RRset(canonical(name), record_type);
        self.insert(key, ttl, Content::NoData(with_ttl(soa, ttl)), now);
    }

    /// Caches NXDOMAIN for `name`: it holds for every type (RFC 2308 §5).
    pub fn insert_nx_domain(&self, name: &Name, soa: &Record, now: Instant) {
        let ttl = self.negative_ttl(soa);
        let key = Key::NxDomain(canonical(name));
        self.insert(key, ttl, Content::NxDomain(with_ttl(soa, ttl)), now);
    }

    /// Caches a zone's delegation for `ttl` seconds.
    pub fn insert_delegation(&self, delegation: Delegation, ttl: u32, now: Instant) {
        let ttl = self.clamp_ttl(ttl);
        let key = Key::Delegation(canonical(&delegation.zone));
        self.insert(key, ttl, Content::Delegation(delegation), now);
    }

    fn insert(&self, key: Key, ttl: u32, content: Content, now: Instant) {
        if ttl == 0 {
            return; // zero TTL: for the transaction in progress only (RFC 1035 §3.2.1)
        }
        let lifetime = Duration::from_secs(u64::from(ttl));
        let entry = Entry {
            expires: now + lifetime,
            lifetime,
            content,
        };
        self.entries.insert(key, Arc::new(entry));
    }

    fn live(&self, key: &Key, now: Instant) -> Option<(Arc<Entry>, u32)> {
        let entry = self.entries.get(key)?;
        let remaining = entry.expires.checked_duration_since(now)?;
        // Whole seconds, rounded up: a record cached 1 ms ago still shows its full TTL.
        let seconds = remaining.as_millis().div_ceil(1000) as u32; // at most the entry's TTL
        (seconds > 0).then_some((entry, seconds))
    }

    /// What the cache knows about `name`/`record_type`, TTLs counting down.
    pub fn lookup(&self, name: &Name, record_type: RecordType, now: Instant) -> Option<Cached> {
        let name = canonical(name);
        if let Some((entry, remaining)) = self.live(&Key::NxDomain(name.clone()), now)
            && let Content::NxDomain(soa) = &entry.content
        {
            return Some(Cached::NxDomain(with_ttl(soa, remaining)));
        }
        let (entry, remaining) = self.live(&Key::RRset(name, record_type), now)?;
        Some(match &entry.content {
            Content::RRset(records) => Cached::Records(
                records
                    .iter()
                    .map(|record| with_ttl(record, remaining))
                    .collect(),
            ),
            Content::NoData(soa) => Cached::NoData(with_ttl(soa, remaining)),
            Content::NxDomain(soa) => Cached::NxDomain(with_ttl(soa, remaining)),
            Content::Delegation(_) => return None,
        })
    }

    /// The cached records of an RRset, if any.
    pub fn rrset(&self, name: &Name, record_type: RecordType, now: Instant) -> Option<Vec<Record>> {
        match self.lookup(name, record_type, now)? {
            Cached::Records(records) => Some(records),
            _ => None,
        }
    }

    /// The delegation of exactly this zone, if cached.
    pub fn delegation(&self, zone: &Name, now: Instant) -> Option<Delegation> {
        let (entry, _) = self.live(&Key::Delegation(canonical(zone)), now)?;
        match &entry.content {
            Content::Delegation(delegation) => Some(delegation.clone()),
            _ => None,
        }
    }

    /// The deepest cached delegation at or above `name` (RFC 1034 §5.3.3 step 2).
    pub fn deepest_delegation(&self, name: &Name, now: Instant) -> Option<Delegation> {
        let name = canonical(name);
        (0..=label_count(&name))
            .rev()
            .find_map(|labels| self.delegation(&name.trim_to(labels), now))
    }

    /// How many entries the cache holds (approximate while moka catches up).
    pub fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }
}

fn with_ttl(record: &Record, ttl: u32) -> Record {
    let mut record = record.clone();
    record.ttl = ttl;
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, SOA};
    use std::net::Ipv4Addr;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("valid")
    }

    fn a(owner: &str, ttl: u32) -> Record {
        Record::from_rdata(name(owner), ttl, RData::A(A(Ipv4Addr::new(192, 0, 2, 1))))
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        let data = SOA::new(name("ns.t."), name("h.t."), 1, 1, 1, 1, minimum);
        Record::from_rdata(name("t."), ttl, RData::SOA(data))
    }

    fn cache() -> Cache {
        Cache::new(&CacheConfig::default())
    }

    #[test]
    fn ttls_count_down_and_expire() {
        let cache = cache();
        let start = Instant::now();
        cache.insert_rrset(&[a("Host.T.", 600)], start);
        let later = start + Duration::from_secs(100);
        let records = cache
            .rrset(&name("host.t."), RecordType::A, later)
            .expect("cached");
        assert_eq!(records[0].ttl, 500);
        assert!(
            cache
                .rrset(
                    &name("host.t."),
                    RecordType::A,
                    start + Duration::from_secs(600)
                )
                .is_none()
        );
    }

    #[test]
    fn an_rrset_gets_its_least_ttl() {
        let cache = cache();
        let now = Instant::now();
        cache.insert_rrset(&[a("h.t.", 600), a("h.t.", 300)], now);
        let records = cache
            .rrset(&name("h.t."), RecordType::A, now)
            .expect("cached");
        assert!(records.iter().all(|r| r.ttl == 300));
    }

    #[test]
    fn zero_ttl_is_not_cached() {
        let cache = cache();
        let now = Instant::now();
        cache.insert_rrset(&[a("h.t.", 0)], now);
        assert!(cache.rrset(&name("h.t."), RecordType::A, now).is_none());
    }

    #[test]
    fn nxdomain_covers_every_type_for_the_negative_ttl() {
        let cache = cache();
        let now = Instant::now();
        cache.insert_nx_domain(&name("gone.t."), &soa(3600, 300), now);
        for record_type in [RecordType::A, RecordType::MX] {
            match cache.lookup(&name("gone.t."), record_type, now) {
                Some(Cached::NxDomain(soa)) => assert_eq!(soa.ttl, 300),
                other => panic!("expected NXDOMAIN, got {other:?}"),
            }
        }
        assert!(
            cache
                .lookup(
                    &name("gone.t."),
                    RecordType::A,
                    now + Duration::from_secs(300)
                )
                .is_none()
        );
    }

    #[test]
    fn ttls_are_capped() {
        let config = CacheConfig {
            max_ttl: 60,
            min_ttl: 10,
            ..CacheConfig::default()
        };
        let cache = Cache::new(&config);
        let now = Instant::now();
        cache.insert_rrset(&[a("big.t.", 86_400)], now);
        cache.insert_rrset(&[a("small.t.", 1)], now);
        assert_eq!(
            cache
                .rrset(&name("big.t."), RecordType::A, now)
                .expect("cached")[0]
                .ttl,
            60
        );
        assert_eq!(
            cache
                .rrset(&name("small.t."), RecordType::A, now)
                .expect("cached")[0]
                .ttl,
            10
        );
    }
}
