//! Which cached RRsets are due for a prefetch (Unbound's `prefetch: yes`):
//! those in the last tenth of the TTL they were cached with, which the
//! value's header keeps beside the expiry.

use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

use super::Cache;
use super::entry::{Content, KeyBuf, Kind, Value};

/// The part of its TTL an RRset has left when it is due: one tenth (Unbound's).
pub const PREFETCH_DIVISOR: u32 = 10;

impl Cache {
    /// Whether `[cache] prefetch` is on.
    pub fn prefetches(&self) -> bool {
        self.config.prefetch
    }

    /// True when `[cache] prefetch` is on and the RRset of `name`/`record_type`
    /// lives, with at most a tenth of its TTL left, at `now`.
    pub fn due_for_prefetch(&self, name: &Name, record_type: RecordType, now: Instant) -> bool {
        if !self.config.prefetch {
            return false;
        }
        let key = KeyBuf::new(Kind::RRset, record_type, name);
        let Some(value) = self.entries.get(key.as_slice()) else {
            return false;
        };
        let Some(value) = Value::split(&value) else {
            return false;
        };
        if value.content != Some(Content::RRset) {
            return false;
        }
        let Some(left) = self
            .expiry(&value)
            .checked_duration_since(now)
            .filter(|left| !left.is_zero())
        else {
            return false; // expired: a refresh, not a prefetch
        };
        left * PREFETCH_DIVISOR <= Duration::from_secs(u64::from(value.ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CacheConfig;
    use crate::resolver::cache::Credibility;
    use hickory_proto::rr::RData;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::A;

    #[tokio::test(start_paused = true)]
    async fn an_rrset_is_due_in_the_last_tenth_of_its_ttl_when_prefetch_is_on() {
        let name = Name::from_ascii("www.test.").expect("valid");
        let record = Record::from_rdata(name.clone(), 100, RData::A(A::new(192, 0, 2, 1)));
        let now = Instant::now();
        let at = |seconds| now + Duration::from_secs(seconds);
        let config = CacheConfig {
            prefetch: true,
            ..CacheConfig::default()
        };
        let cache = Cache::new(&config, 1 << 20);
        cache.insert_rrset(
            std::slice::from_ref(&record),
            Credibility::AuthoritativeAnswer,
            now,
        );
        assert!(!cache.due_for_prefetch(&name, RecordType::A, at(89)));
        assert!(cache.due_for_prefetch(&name, RecordType::A, at(90)));
        assert!(cache.due_for_prefetch(&name, RecordType::A, at(99)));
        assert!(
            !cache.due_for_prefetch(&name, RecordType::A, at(100)),
            "expired"
        );
        assert!(
            !cache.due_for_prefetch(&name, RecordType::AAAA, at(95)),
            "not cached"
        );
        assert_eq!(
            cache.rrset(&name, RecordType::A, at(95)).expect("live")[0].ttl,
            5,
            "the TTL a client sees is still the remaining one"
        );

        let off = Cache::new(&CacheConfig::default(), 1 << 20);
        off.insert_rrset(
            std::slice::from_ref(&record),
            Credibility::AuthoritativeAnswer,
            now,
        );
        assert!(
            !off.due_for_prefetch(&name, RecordType::A, at(95)),
            "prefetch off"
        );
    }
}
