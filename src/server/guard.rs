//! Per-client bounds: how much one client address may hold at once
//! (answers in progress, TCP connections), and how fast it may be answered
//! over UDP (response rate limiting, as BIND's RRL does).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::IpNet;
use moka::sync::Cache as MokaCache;
use tokio::time::Instant;

/// Counts what each client holds, up to a limit per client.
///
/// The map only has entries for clients holding something, and what they
/// hold is itself capped server-wide, so the map is bounded.
#[derive(Debug)]
pub struct ClientCounter {
    limit: usize,
    counts: Mutex<HashMap<IpAddr, usize, ahash::RandomState>>,
}

/// One unit held by a client; released when dropped.
#[derive(Debug)]
pub struct ClientSlot {
    counter: Arc<ClientCounter>,
    client: IpAddr,
}

impl ClientCounter {
    /// A counter allowing `limit` units per client.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(ClientCounter {
            limit,
            counts: Mutex::new(HashMap::default()),
        })
    }

    /// Takes a unit for `client`, unless it already holds `limit`.
    pub fn try_acquire(self: &Arc<Self>, client: IpAddr) -> Option<ClientSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(client).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            counter: self.clone(),
            client,
        })
    }

    /// How many units `client` holds now.
    pub fn held(&self, client: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&client).copied().unwrap_or(0)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counter
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

/// What to do with a query from a client over its rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Answer it.
    Answer,
    /// Send an empty truncated reply instead (TC), so that a real client
    /// retries over TCP, which cannot be spoofed.
    Slip,
    /// Send nothing.
    Drop,
}

/// Every this-many limited responses, one slips through as TC (BIND's slip 2).
const SLIP: u32 = 2;

/// Clients whose buckets are kept at most; the least recently seen go first.
const BUCKETS: u64 = 100_000;

/// An idle client's bucket is forgotten after this long.
const BUCKET_IDLE: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    limited: u32,
}

/// A token bucket per client network (IPv4 /24, IPv6 /56, as RRL groups them).
pub struct RateLimiter {
    rate: f64,
    exempt: Vec<IpNet>,
    buckets: MokaCache<IpNet, Arc<Mutex<Bucket>>, ahash::RandomState>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` responses per client network (a burst
    /// of one second's worth), except for networks in `exempt`. `None` when
    /// `per_second` is 0 (no limit).
    pub fn new(per_second: u32, exempt: Vec<IpNet>) -> Option<Self> {
        (per_second > 0).then(|| RateLimiter {
            rate: f64::from(per_second),
            exempt,
            buckets: MokaCache::builder()
                .max_capacity(BUCKETS)
                .time_to_idle(BUCKET_IDLE)
                .build_with_hasher(ahash::RandomState::new()),
        })
    }

    /// Spends a token of `client`'s network, or says how to limit it.
    pub fn check(&self, client: IpAddr) -> RateDecision {
        let client = client.to_canonical();
        if self.exempt.iter().any(|net| net.contains(&client)) {
            return RateDecision::Answer;
        }
        let network = client_network(client);
        let now = Instant::now();
        let rate = self.rate;
        let bucket = self.buckets.get_with(network, || {
            Arc::new(Mutex::new(Bucket {
                tokens: rate,
                refilled: now,
                limited: 0,
            }))
        });
        let mut bucket = bucket.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return RateDecision::Answer;
        }
        bucket.limited = bucket.limited.wrapping_add(1);
        if bucket.limited.is_multiple_of(SLIP) {
            RateDecision::Slip
        } else {
            RateDecision::Drop
        }
    }
}

/// The network a client address is limited as: its /24 or /56.
fn client_network(address: IpAddr) -> IpNet {
    let prefix = if address.is_ipv4() { 24 } else { 56 };
    // A prefix length of 24 or 56 is valid for its family.
    IpNet::new(address, prefix)
        .expect("a valid prefix length")
        .trunc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("valid")
    }

    #[test]
    fn a_client_holds_at_most_its_limit() {
        let counter = ClientCounter::new(2);
        let a = counter.try_acquire(ip("192.0.2.1")).expect("first");
        let _b = counter.try_acquire(ip("192.0.2.1")).expect("second");
        assert!(counter.try_acquire(ip("192.0.2.1")).is_none());
        assert!(
            counter.try_acquire(ip("192.0.2.2")).is_some(),
            "another client"
        );
        drop(a);
        assert!(counter.try_acquire(ip("192.0.2.1")).is_some(), "released");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_client_is_limited_and_slips() {
        let limiter =
            RateLimiter::new(10, vec!["127.0.0.0/8".parse().expect("valid")]).expect("a limit");
        let decisions: Vec<RateDecision> =
            (0..14).map(|_| limiter.check(ip("192.0.2.7"))).collect();
        assert!(decisions[..10].iter().all(|d| *d == RateDecision::Answer));
        assert_eq!(
            &decisions[10..],
            [
                RateDecision::Drop,
                RateDecision::Slip,
                RateDecision::Drop,
                RateDecision::Slip
            ]
        );
        // The same /24 shares the bucket; another network does not.
        assert_ne!(limiter.check(ip("192.0.2.99")), RateDecision::Answer);
        assert_eq!(limiter.check(ip("198.51.100.1")), RateDecision::Answer);
        // Exempt clients are never limited.
        assert!((0..100).all(|_| limiter.check(ip("127.0.0.1")) == RateDecision::Answer));
        // A second later the bucket is full again.
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(limiter.check(ip("192.0.2.7")), RateDecision::Answer);
    }
}
