//! Reading the cache for serve-stale (RFC 8767): entries up to `[cache]
//! stale_max` past their expiry, answered with a TTL of 30 s (§4).
//!
//! Nothing is kept for it beyond what the cache keeps anyway: the store holds an
//! expired entry (weighed against `[cache] size`) until it is replaced or
//! evicted, and only these reads look past its expiry.

use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

use super::{Cache, Cached};

/// The TTL of a stale answer (RFC 8767 §4: 30 s is recommended).
pub const STALE_TTL: u32 = 30;

impl Cache {
    /// How long past its expiry data may be served stale: `[cache]
    /// stale_max` when `serve_stale` is on, else `None` (RFC 8767 §5).
    pub fn stale_window(&self) -> Option<Duration> {
        (self.config.serve_stale && self.config.stale_max > 0)
            .then(|| Duration::from_secs(u64::from(self.config.stale_max)))
    }

    /// `[cache] stale_client_timeout` (RFC 8767 §5, the client response timer).
    pub fn stale_client_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.config.stale_client_timeout)
    }

    /// What the cache knows about `name`/`record_type`, live or stale (the
    /// stale with TTL [`STALE_TTL`]); `None` when serve-stale is off.
    pub fn lookup_stale(
        &self,
        name: &Name,
        record_type: RecordType,
        now: Instant,
    ) -> Option<Cached> {
        let window = self.stale_window()?;
        // Live data first: a stale NXDOMAIN never hides records cached since.
        self.lookup(name, record_type, now)
            .or_else(|| self.lookup_within(name, record_type, now, window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CacheConfig;
    use crate::resolver::cache::Credibility;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record};

    fn cache(serve_stale: bool) -> Cache {
        let config = CacheConfig {
            serve_stale,
            stale_max: 100,
            ..CacheConfig::default()
        };
        Cache::new(&config, 1 << 20)
    }

    fn cached_ttl(cache: &Cache, name: &Name, now: Instant) -> Option<u32> {
        match cache.lookup_stale(name, RecordType::A, now)? {
            Cached::Records(records) => records.first().map(|record| record.ttl),
            _ => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn expired_records_are_served_stale_with_ttl_30_until_stale_max() {
        let name = Name::from_ascii("www.test.").expect("valid");
        let record = Record::from_rdata(name.clone(), 60, RData::A(A::new(192, 0, 2, 1)));
        let now = Instant::now();
        let stale = cache(true);
        stale.insert_rrset(
            std::slice::from_ref(&record),
            Credibility::AuthoritativeAnswer,
            now,
        );
        let at = |seconds| now + Duration::from_secs(seconds);
        assert_eq!(
            cached_ttl(&stale, &name, at(10)),
            Some(50),
            "live: its own TTL"
        );
        assert!(
            stale.lookup(&name, RecordType::A, at(60)).is_none(),
            "expired"
        );
        assert_eq!(cached_ttl(&stale, &name, at(60)), Some(STALE_TTL));
        assert_eq!(cached_ttl(&stale, &name, at(159)), Some(STALE_TTL));
        assert_eq!(cached_ttl(&stale, &name, at(160)), None, "past stale_max");

        let renamed = Name::from_ascii("new.test.").expect("valid");
        let soa = Record::from_rdata(
            Name::from_ascii("test.").expect("valid"),
            60,
            RData::SOA(hickory_proto::rr::rdata::SOA::new(
                Name::from_ascii("ns.test.").expect("valid"),
                Name::from_ascii("h.test.").expect("valid"),
                1,
                1,
                1,
                1,
                60,
            )),
        );
        stale.insert_nx_domain(&renamed, &soa, Credibility::AuthoritativeAnswer, now);
        let mut data = record.clone();
        data.name = renamed.clone();
        stale.insert_rrset(&[data], Credibility::AuthoritativeAnswer, at(70));
        assert_eq!(
            cached_ttl(&stale, &renamed, at(80)),
            Some(50),
            "the live records, not the stale NXDOMAIN"
        );

        let off = cache(false);
        off.insert_rrset(
            std::slice::from_ref(&record),
            Credibility::AuthoritativeAnswer,
            now,
        );
        assert_eq!(
            cached_ttl(&off, &name, at(10)),
            None,
            "serve-stale off: never"
        );
    }
}
