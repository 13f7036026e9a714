//! What the cache holds about an entry besides its records: its rank, the
//! TTL it was cached with, its age and its provenance (who said it, in
//! answer to what). Read by `trace` and the control endpoint, never on the
//! path of an answer.

use std::time::Duration;

use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::Instant;

use super::Cache;
use super::entry::{
    Content, Credibility, KeyBuf, Kind, Provenance, Value, decode_provenance, unpack,
};

/// One cached entry, explained.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    /// Its records, TTLs counting down: the RRset; the SOA of a negative
    /// answer; a delegation's NS records and then its glue.
    pub records: Vec<Record>,
    /// True for a cached NXDOMAIN or NODATA.
    pub negative: bool,
    /// Its rank (RFC 2181 §5.4.1).
    pub credibility: Credibility,
    /// The TTL it was cached with.
    pub ttl: u32,
    /// The seconds it has left.
    pub ttl_left: u32,
    /// How long ago it was cached.
    pub age: Duration,
    /// Who gave it, in answer to which question (none for configured data).
    pub provenance: Option<Provenance>,
}

impl Cache {
    /// The live entry that answers `name`/`record_type` (a cached NXDOMAIN
    /// for the name, else the RRset or NODATA), explained.
    pub fn rrset_info(
        &self,
        name: &Name,
        record_type: RecordType,
        now: Instant,
    ) -> Option<EntryInfo> {
        let nx_domain = KeyBuf::new(Kind::NxDomain, RecordType::ANY, name);
        self.info(&nx_domain, now)
            .or_else(|| self.rrset_only_info(name, record_type, now))
    }

    /// The live delegation of exactly `zone`, explained.
    pub fn delegation_info(&self, zone: &Name, now: Instant) -> Option<EntryInfo> {
        self.info(&KeyBuf::new(Kind::Delegation, RecordType::NS, zone), now)
    }

    /// The live RRset (or NODATA) entry of `name`/`record_type` alone,
    /// explained; RRsets are stored without their owner (the key has it).
    pub(super) fn rrset_only_info(
        &self,
        name: &Name,
        record_type: RecordType,
        now: Instant,
    ) -> Option<EntryInfo> {
        let mut info = self.info(&KeyBuf::new(Kind::RRset, record_type, name), now)?;
        if !info.negative {
            info.records
                .iter_mut()
                .for_each(|record| record.name = name.clone());
        }
        Some(info)
    }

    pub(super) fn info(&self, key: &KeyBuf, now: Instant) -> Option<EntryInfo> {
        let value = self.entries.get(key.as_slice())?;
        let value = Value::split(&value)?;
        let expires = self.expiry(&value);
        let left = expires
            .checked_duration_since(now)
            .filter(|left| !left.is_zero())?;
        let ttl_left = u32::try_from(left.as_millis().div_ceil(1000)).unwrap_or(u32::MAX);
        let cached_at = expires.checked_sub(Duration::from_secs(u64::from(value.ttl)));
        let content = value.content?;
        Some(EntryInfo {
            records: unpack(value.records, ttl_left),
            negative: matches!(content, Content::NoData | Content::NxDomain),
            credibility: value.credibility,
            ttl: value.ttl,
            ttl_left,
            age: cached_at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at)),
            provenance: decode_provenance(value.provenance),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::A;

    use super::*;
    use crate::config::CacheConfig;
    use crate::resolver::cache::Origin;
    use crate::resolver::delegation::Delegation;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("a valid name")
    }

    #[tokio::test(start_paused = true)]
    async fn an_entry_says_who_gave_it_for_which_question_and_how_long_ago() {
        let cache = Cache::new(&CacheConfig::default(), 1 << 20);
        let server: SocketAddr = "127.0.3.1:5300".parse().expect("an address");
        let origin = Origin {
            credibility: Credibility::AuthoritativeAnswer,
            provenance: Some(Provenance {
                server,
                server_name: Some(name("dns.umass.edu.")),
                question: name("gaia.cs.umass.edu."),
                question_type: RecordType::A,
            }),
        };
        let gaia = name("gaia.cs.umass.edu.");
        let record = Record::from_rdata(gaia.clone(), 600, RData::A(A::new(128, 119, 245, 12)));
        let now = Instant::now();
        cache.insert_rrset(&[record], origin.clone(), now);
        let later = now + Duration::from_secs(100);
        let info = cache
            .rrset_info(&gaia, RecordType::A, later)
            .expect("cached");
        assert_eq!(info.provenance, origin.provenance);
        assert_eq!(info.credibility, Credibility::AuthoritativeAnswer);
        assert_eq!((info.ttl, info.ttl_left), (600, 500));
        assert_eq!(info.age, Duration::from_secs(100));
        assert_eq!(info.records[0].name, gaia);
        assert!(!info.negative);
        // The answer itself reads as before.
        let records = cache.rrset(&gaia, RecordType::A, later).expect("cached");
        assert_eq!(records[0].ttl, 500);
    }

    #[tokio::test(start_paused = true)]
    async fn a_delegation_from_a_referral_names_the_server_that_referred() {
        let cache = Cache::new(&CacheConfig::default(), 1 << 20);
        let server: SocketAddr = "[::1]:53".parse().expect("an address");
        let delegation = Delegation {
            zone: name("umass.edu."),
            name_servers: vec![name("dns.umass.edu.")],
            glue: vec![(
                name("dns.umass.edu."),
                "127.0.3.1".parse().expect("an address"),
            )],
        };
        let origin = Origin {
            credibility: Credibility::Referral,
            provenance: Some(Provenance {
                server,
                server_name: None,
                question: name("gaia.cs.umass.edu."),
                question_type: RecordType::A,
            }),
        };
        let now = Instant::now();
        cache.insert_delegation(delegation, 172_800, origin, now);
        let info = cache
            .delegation_info(&name("umass.edu."), now)
            .expect("cached");
        assert_eq!(info.provenance.expect("a provenance").server, server);
        assert_eq!(info.records.len(), 2, "the NS record and its glue");
        // Without a provenance (configured data), there is none to say.
        cache.insert_delegation(
            Delegation {
                zone: name("poly.edu."),
                name_servers: vec![name("dns.poly.edu.")],
                glue: vec![],
            },
            3600,
            Credibility::Referral,
            now,
        );
        let info = cache
            .delegation_info(&name("poly.edu."), now)
            .expect("cached");
        assert_eq!(info.provenance, None);
    }
}
