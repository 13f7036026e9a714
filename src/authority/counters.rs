//! What the lab's authoritative servers answered, by zone and RCODE, for
//! `/metrics` (`resolver_authoritative_queries_total{zone,rcode}`). Kept only
//! when the control endpoint runs; `resolver auth` and the benchmark pay nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use super::Catalog;

/// The label of answers for names in no zone served (REFUSED).
pub const NO_ZONE: &str = "none";

/// Answers by (zone, RCODE): at most (zones + 1) × 16 keys.
#[derive(Debug, Default)]
pub struct AuthorityCounters {
    answers: Mutex<HashMap<(String, u8), u64>>,
}

impl AuthorityCounters {
    /// Counts one answer, read from its bytes: the zone of `catalog` that
    /// holds its question's name, and its RCODE.
    pub fn count(&self, catalog: &Catalog, reply: &[u8]) {
        let rcode = reply.get(3).map_or(0, |flags| flags & 0x0f);
        let zone = reply
            .get(12..)
            .and_then(|question| Name::read(&mut BinDecoder::new(question)).ok())
            .and_then(|name| {
                catalog
                    .zone_for(&name)
                    .map(|zone| zone.origin().to_string())
            })
            .unwrap_or_else(|| NO_ZONE.to_string());
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        *answers.entry((zone, rcode)).or_default() += 1;
    }

    /// Every (zone, RCODE mnemonic, count), sorted.
    pub fn snapshot(&self) -> Vec<(String, String, u64)> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let mut counts: Vec<(String, String, u64)> = answers
            .iter()
            .map(|((zone, rcode), count)| {
                (
                    zone.clone(),
                    crate::trace::rcode_name(ResponseCode::from_low(*rcode)),
                    *count,
                )
            })
            .collect();
        counts.sort();
        counts
    }
}
