//! The cached RRsets a resolution uses, reported as it uses them (for
//! `trace`: "why did the second lookup take only two messages?"). Nothing
//! is looked up or built unless a use tap is set.

use hickory_proto::rr::{Name, RecordType};

use super::Resolver;
use crate::capture::{CacheUse, UseTap, UsedFor};
use crate::clock;

impl Resolver {
    /// Reports to `tap` every cached RRset used instead of asking a server.
    pub fn with_cache_uses(mut self, tap: UseTap) -> Self {
        self.uses = Some(tap);
        self
    }

    /// Reports that the cached `name`/`record_type` (the delegation of zone
    /// `name`, for [`UsedFor::Delegation`]) was used, as it stands now.
    pub(super) fn report_use(&self, used_for: UsedFor, name: &Name, record_type: RecordType) {
        let Some(uses) = &self.uses else {
            return;
        };
        let now = clock::now();
        let info = match used_for {
            UsedFor::Delegation => self.cache.delegation_info(name, now),
            _ => self.cache.rrset_info(name, record_type, now),
        };
        let Some(info) = info else {
            return;
        };
        uses(CacheUse {
            used_for,
            name: name.clone(),
            record_type,
            records: info.records,
            negative: info.negative,
            credibility: info.credibility.words(),
            ttl_left: info.ttl_left,
            age: info.age,
            source: info.provenance.as_ref().map(|p| p.server),
            question: info.provenance.map(|p| (p.question, p.question_type)),
            at: tokio::time::Instant::now(),
        });
    }
}
