//! The delegations the cache keeps (RFC 1034 §5.3.3 step 2): a zone's NS
//! names and the glue its parent's referral gave, one entry per zone, and
//! the deepest of them above a name, where a walk starts.

use std::net::IpAddr;

use hickory_proto::rr::rdata::{A, AAAA, NS};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::Instant;

use super::Cache;
use super::entry::{Content, KeyBuf, Kind, Origin};
use crate::resolver::delegation::Delegation;

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
    pub fn deepest_delegation(&self, name: &Name, now: Instant) -> Option<Delegation> {
        KeyBuf::find_in_ancestors(Kind::Delegation, RecordType::NS, name, |labels, key| {
            let (Content::Delegation, records) = self.live(key, now)? else {
                return None;
            };
            Some(delegation_of(|| name.trim_to(labels), records))
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
