//! What the resolver counts as it works: plain relaxed atomics, cheap on
//! the cache-hit path, read by the control endpoint's `/metrics`
//! (control/metrics.rs) when scraped.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::rr::RecordType;

use super::error::Failure;
use super::iterate::{Analysis, Outcome, Step};
use crate::capture::Protocol;

/// The query types counted by name; every other type is counted as `OTHER`.
pub const QTYPES: [RecordType; 13] = [
    RecordType::A,
    RecordType::NS,
    RecordType::CNAME,
    RecordType::SOA,
    RecordType::PTR,
    RecordType::MX,
    RecordType::TXT,
    RecordType::AAAA,
    RecordType::SRV,
    RecordType::DS,
    RecordType::DNSKEY,
    RecordType::HTTPS,
    RecordType::ANY,
];

/// The RCODEs counted by number (RFC 1035 §4.1.1, RFC 2136 §2.2: 0 to 6);
/// others are counted together.
pub const RCODES: usize = 7;

/// What an upstream query came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamResult {
    /// The answer, or a CNAME to follow.
    Answer,
    /// A referral to a closer zone.
    Referral,
    /// NXDOMAIN or NODATA.
    Negative,
    /// A useless reply (lame, an error RCODE).
    Lame,
    /// No reply in time.
    Timeout,
    /// Unreachable, or a reply that is not DNS.
    Error,
}

impl UpstreamResult {
    /// Every result, in the order they are counted.
    pub const ALL: [UpstreamResult; 6] = [
        UpstreamResult::Answer,
        UpstreamResult::Referral,
        UpstreamResult::Negative,
        UpstreamResult::Lame,
        UpstreamResult::Timeout,
        UpstreamResult::Error,
    ];

    /// What an analysed reply came to.
    pub fn of(analysis: &Analysis) -> Self {
        match analysis {
            Analysis::Step(Step::Alias(..)) | Analysis::Step(Step::Done(_, Outcome::Answer(_))) => {
                UpstreamResult::Answer
            }
            Analysis::Step(Step::Done(..)) => UpstreamResult::Negative,
            Analysis::Referral(_) => UpstreamResult::Referral,
            Analysis::Failed(failure) => UpstreamResult::of_failure(failure),
            Analysis::LastResort(_) => UpstreamResult::Lame,
        }
    }

    /// What a failed exchange or a useless reply came to.
    pub fn of_failure(failure: &Failure) -> Self {
        match failure {
            Failure::Timeout => UpstreamResult::Timeout,
            Failure::Unreachable | Failure::Malformed => UpstreamResult::Error,
            Failure::Lame(_) | Failure::NoAddress | Failure::NotRecursive => UpstreamResult::Lame,
        }
    }

    /// Its label value.
    pub fn label(self) -> &'static str {
        match self {
            UpstreamResult::Answer => "answer",
            UpstreamResult::Referral => "referral",
            UpstreamResult::Negative => "negative",
            UpstreamResult::Lame => "lame",
            UpstreamResult::Timeout => "timeout",
            UpstreamResult::Error => "error",
        }
    }
}

/// The upper bounds of the resolution-time histogram's buckets, in seconds.
pub const RESOLUTION_BUCKETS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The resolver's counters.
#[derive(Debug)]
pub struct Counters {
    /// Answers sent, by protocol × query type (+ other) × RCODE (+ other).
    queries: Vec<AtomicU64>,
    /// Questions answered from the cache (replayed answers included).
    pub cache_hits: AtomicU64,
    /// Questions the cache could not answer.
    pub cache_misses: AtomicU64,
    /// UDP queries dropped or slipped (TC) by the rate limit.
    pub rate_limited: AtomicU64,
    /// TCP connections open now.
    pub tcp_connections: AtomicI64,
    /// Answers served stale (RFC 8767).
    pub served_stale: AtomicU64,
    /// Prefetches started (an RRset asked again in the last tenth of its TTL).
    pub prefetches: AtomicU64,
    /// Upstream queries, by [`UpstreamResult`].
    upstream: [AtomicU64; 6],
    /// Resolutions by time taken: one count per bucket, then the +Inf bucket.
    resolution_buckets: [AtomicU64; RESOLUTION_BUCKETS.len() + 1],
    /// The sum of resolution times, in microseconds.
    resolution_micros: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            queries: (0..2 * (QTYPES.len() + 1) * (RCODES + 1))
                .map(|_| AtomicU64::new(0))
                .collect(),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            tcp_connections: AtomicI64::new(0),
            served_stale: AtomicU64::new(0),
            prefetches: AtomicU64::new(0),
            upstream: Default::default(),
            resolution_buckets: Default::default(),
            resolution_micros: AtomicU64::new(0),
        }
    }
}

impl Counters {
    /// Counts one answer sent: its protocol, and the type and RCODE read
    /// from its bytes (an answer too short to say counts as type and
    /// RCODE `other`).
    pub fn count_answer(&self, protocol: Protocol, reply: &[u8]) {
        let qtype = question_type(reply)
            .and_then(|qtype| QTYPES.iter().position(|t| *t == qtype))
            .unwrap_or(QTYPES.len());
        let rcode = reply
            .get(3)
            .map_or(RCODES, |flags| usize::from(flags & 0x0f).min(RCODES));
        self.queries[index(protocol, qtype, rcode)].fetch_add(1, Ordering::Relaxed);
    }

    /// The count of answers sent over `protocol` for the type at `qtype`
    /// (an index into [`QTYPES`], or its length for other types) with
    /// `rcode` (0 to 6, or [`RCODES`] for others).
    pub fn answers(&self, protocol: Protocol, qtype: usize, rcode: usize) -> u64 {
        self.queries[index(protocol, qtype, rcode)].load(Ordering::Relaxed)
    }

    /// Counts one upstream query and what it came to.
    pub fn count_upstream(&self, result: UpstreamResult) {
        self.upstream[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The count of upstream queries that came to `result`.
    pub fn upstream(&self, result: UpstreamResult) -> u64 {
        self.upstream[result as usize].load(Ordering::Relaxed)
    }

    /// Counts one resolution (a question the cache could not answer) and its time.
    pub fn count_resolution(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = RESOLUTION_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(RESOLUTION_BUCKETS.len());
        self.resolution_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.resolution_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The resolutions counted in each bucket (not cumulative), the last
    /// one above every bound, and the sum of their times in seconds.
    pub fn resolutions(&self) -> (Vec<u64>, f64) {
        let counts = self
            .resolution_buckets
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .collect();
        let sum = self.resolution_micros.load(Ordering::Relaxed) as f64 / 1e6;
        (counts, sum)
    }
}

fn index(protocol: Protocol, qtype: usize, rcode: usize) -> usize {
    let protocol = match protocol {
        Protocol::Udp => 0,
        Protocol::Tcp => 1,
    };
    (protocol * (QTYPES.len() + 1) + qtype) * (RCODES + 1) + rcode
}

/// The type of a message's first question, read from its bytes: after the
/// 12-octet header, the name's labels (uncompressed in a question we
/// answer, RFC 1035 §4.1.2), then two octets of type.
fn question_type(message: &[u8]) -> Option<RecordType> {
    let mut at = 12;
    loop {
        let length = usize::from(*message.get(at)?);
        match length {
            0 => break,
            l if l & 0xc0 == 0xc0 => {
                at += 1; // a pointer: two octets in all
                break;
            }
            l => at += l + 1,
        }
    }
    let qtype = message.get(at + 1..at + 3)?;
    Some(RecordType::from(u16::from_be_bytes([qtype[0], qtype[1]])))
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::{Message, Query, ResponseCode};
    use hickory_proto::rr::Name;

    use super::*;

    fn reply(qtype: RecordType, rcode: ResponseCode) -> Vec<u8> {
        let mut message = Message::query();
        message.add_query(Query::query(
            Name::from_ascii("gaia.cs.umass.edu.").expect("a name"),
            qtype,
        ));
        message.metadata.response_code = rcode;
        message.to_vec().expect("encodes")
    }

    #[test]
    fn answers_are_counted_by_protocol_type_and_rcode() {
        let counters = Counters::default();
        counters.count_answer(Protocol::Udp, &reply(RecordType::A, ResponseCode::NoError));
        counters.count_answer(Protocol::Udp, &reply(RecordType::A, ResponseCode::NoError));
        counters.count_answer(
            Protocol::Tcp,
            &reply(RecordType::MX, ResponseCode::NXDomain),
        );
        counters.count_answer(
            Protocol::Udp,
            &reply(RecordType::CAA, ResponseCode::ServFail),
        );
        counters.count_answer(Protocol::Udp, &[0, 1, 2]);
        assert_eq!(counters.answers(Protocol::Udp, 0, 0), 2);
        assert_eq!(counters.answers(Protocol::Tcp, 5, 3), 1);
        assert_eq!(
            counters.answers(Protocol::Udp, QTYPES.len(), 2),
            1,
            "CAA counts as other"
        );
        assert_eq!(
            counters.answers(Protocol::Udp, QTYPES.len(), RCODES),
            1,
            "too short to say"
        );
    }

    #[test]
    fn resolutions_fall_in_their_buckets() {
        let counters = Counters::default();
        counters.count_resolution(Duration::from_micros(500));
        counters.count_resolution(Duration::from_millis(30));
        counters.count_resolution(Duration::from_secs(9));
        let (buckets, sum) = counters.resolutions();
        assert_eq!(buckets[0], 1);
        assert_eq!(buckets[5], 1, "30 ms is under 50 ms");
        assert_eq!(buckets[RESOLUTION_BUCKETS.len()], 1, "above every bound");
        assert!((sum - 9.0305).abs() < 1e-6, "{sum}");
    }
}
