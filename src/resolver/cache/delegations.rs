//! The delegations the cache keeps (RFC 1034 §5.3.3 step 2): a zone's NS
//! names and the glue its parent's referral gave, one entry per zone, and
//! the deepest of them above a name, where a walk starts.

use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::rdata::{A, AAAA, NS};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use quick_cache::Weighter;
use tokio::time::Instant;

use super::Cache;
use super::entry::{Content, KeyBuf, Kind, Origin, Value, unpack};
use crate::resolver::delegation::Delegation;
use crate::store::{ARC_COUNTS, Store, entry_weight, store};

/// The bytes of delegations kept decoded, with the entries they came from,
/// beside `[cache] size`: a few thousand zones of a few NS names each; a
/// referral to hundreds of names weighs what it holds.
pub const DECODED_BYTES: u64 = 1 << 20;

/// Delegations decoded, by entry key: the entry's value they came from, and
/// the delegation. Used only while the cache holds that very value.
pub(super) type Decoded = Store<(Arc<[u8]>, Arc<Delegation>), WeighDecoded>;

/// Weighs a decoded delegation: the entry it holds on to, and the names
/// and addresses decoded from it (each name its inline size and its wire length).
#[derive(Clone, Copy)]
pub(super) struct WeighDecoded;

impl Weighter<Box<[u8]>, (Arc<[u8]>, Arc<Delegation>)> for WeighDecoded {
    fn weight(&self, key: &Box<[u8]>, (from, delegation): &(Arc<[u8]>, Arc<Delegation>)) -> u64 {
        let name = |name: &Name| size_of::<Name>() + name.len();
        let names: usize = std::iter::once(&delegation.zone)
            .chain(&delegation.name_servers)
            .map(name)
            .sum();
        let glue: usize = delegation
            .glue
            .iter()
            .map(|(owner, _)| name(owner) + size_of::<IpAddr>())
            .sum();
        let decoded = ARC_COUNTS + size_of::<Delegation>() + names + glue;
        entry_weight(&[key.len(), ARC_COUNTS + from.len(), decoded])
    }
}

/// An empty store of decoded delegations.
pub(super) fn decoded() -> Decoded {
    store(DECODED_BYTES, WeighDecoded)
}

impl Cache {
    /// Caches a zone's delegation for `ttl` seconds: its NS records and glue,
    /// from a referral or (authoritative) from priming the root.
    pub fn insert_delegation(
        &self,
        delegation: Delegation,
        ttl: u32,
        origin: impl Into<Origin>,
        now: Instant,
    ) {
        let ttl = self.clamp_ttl(ttl);
        let key = KeyBuf::new(Kind::Delegation, RecordType::NS, &delegation.zone);
        let ns = delegation.name_servers.iter().map(|name| {
            Record::from_rdata(delegation.zone.clone(), 0, RData::NS(NS(name.clone())))
        });
        let glue = delegation.glue.iter().map(|(name, address)| {
            let data = match address {
                IpAddr::V4(v4) => RData::A(A(*v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
            };
            Record::from_rdata(name.clone(), 0, data)
        });
        let records: Vec<Record> = ns.chain(glue).collect();
        self.insert(&key, ttl, Content::Delegation, origin.into(), &records, now);
    }

    /// The delegation of exactly this zone, if cached.
    pub fn delegation(&self, zone: &Name, now: Instant) -> Option<Delegation> {
        let key = KeyBuf::new(Kind::Delegation, RecordType::NS, zone);
        let (Content::Delegation, records) = self.live(&key, now)? else {
            return None;
        };
        Some(delegation_of(|| zone.clone(), records))
    }

    /// The deepest cached delegation at or above `name` (RFC 1034 §5.3.3
    /// step 2): each level's key a suffix of one encoding of the name.
    /// Decoded once per cached entry: while the cache holds the same value
    /// for the zone, the decoded delegation is shared.
    pub fn deepest_delegation(&self, name: &Name, now: Instant) -> Option<Arc<Delegation>> {
        KeyBuf::find_in_ancestors(Kind::Delegation, RecordType::NS, name, |labels, key| {
            let entry = self.entries.get(key)?;
            let value = Value::split(&entry)?;
            let seconds = self.seconds_left(&value, now);
            if seconds == 0 || value.content != Some(Content::Delegation) {
                return None;
            }
            if let Some((from, decoded)) = self.decoded.get(key)
                && Arc::ptr_eq(&from, &entry)
            {
                return Some(decoded);
            }
            let records = unpack(value.records, seconds);
            let decoded = Arc::new(delegation_of(|| name.trim_to(labels), records));
            self.decoded
                .insert(key.into(), (entry.clone(), decoded.clone()));
            Some(decoded)
        })
    }
}

/// A delegation from its cached records: NS records, owned by the zone
/// (so its name needs no rebuilding from the question's), then glue.
fn delegation_of(zone: impl FnOnce() -> Name, records: Vec<Record>) -> Delegation {
    let zone = match records.first() {
        Some(ns) if ns.record_type() == RecordType::NS => ns.name.to_lowercase(),
        _ => zone().to_lowercase(),
    };
    let mut delegation = Delegation {
        zone,
        name_servers: Vec::with_capacity(records.len()),
        glue: Vec::new(),
    };
    for record in records {
        match record.data {
            RData::NS(ns) => delegation.name_servers.push(ns.0),
            RData::A(a) => delegation.glue.push((record.name, IpAddr::V4(a.0))),
            RData::AAAA(aaaa) => delegation.glue.push((record.name, IpAddr::V6(aaaa.0))),
            _ => {}
        }
    }
    delegation
}
