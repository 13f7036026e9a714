//! The "infrastructure cache": per nameserver, its smoothed round-trip time
//! (penalties for failures folded in), which the walk ranks servers by
//! (delegation.rs), and what its replies came to, for `/servers`. Bounded
//! in servers and forgetting idle ones, as Unbound's infra cache does.

use std::time::Duration;

use moka::sync::Cache as MokaCache;

use super::delegation::Endpoint;

/// The score of a server never heard from: worse than any live server on a
/// LAN, better than one that timed out (Unbound uses 376 ms).
pub const UNKNOWN_RTT: Duration = Duration::from_millis(300);

/// The least time-out for a server whose round-trip time is known.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(250);

/// The largest penalty a failing server accumulates.
pub const MAX_PENALTY: Duration = Duration::from_secs(120);

/// How many servers' statistics are kept; older ones are forgotten.
const STATS_CAPACITY: u64 = 10_000;

/// How long an idle server's statistics are kept (Unbound's infra-host-ttl).
const STATS_IDLE: Duration = Duration::from_secs(900);

/// Smoothed round-trip times and failures per server address (the "infrastructure cache").
#[derive(Clone)]
pub struct ServerStats {
    rtts: MokaCache<Endpoint, Duration>,
    health: MokaCache<Endpoint, Health>,
}

/// What a server's replies came to, counted (for the control endpoint's `/servers`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// Replies received.
    pub answered: u64,
    /// Queries with no reply in time, or refused by the network.
    pub failed: u64,
    /// Replies of no use for the zone (lame, an error RCODE, an upward referral).
    pub lame: u64,
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats {
            rtts: stats_cache(),
            health: stats_cache(),
        }
    }
}

/// A per-server map, bounded in entries and forgetting idle servers.
fn stats_cache<V: Clone + Send + Sync + 'static>() -> MokaCache<Endpoint, V> {
    MokaCache::builder()
        .max_capacity(STATS_CAPACITY)
        .time_to_idle(STATS_IDLE)
        .build()
}

impl ServerStats {
    /// The server's smoothed RTT, or [`UNKNOWN_RTT`] if never measured.
    pub fn score(&self, server: impl Into<Endpoint>) -> Duration {
        self.rtts.get(&server.into()).unwrap_or(UNKNOWN_RTT)
    }

    /// Every server heard from (or failed), with its smoothed RTT (penalties
    /// included) and what its replies came to.
    pub fn all(&self) -> Vec<(Endpoint, Duration, Health)> {
        self.rtts
            .iter()
            .map(|(server, rtt)| (*server, rtt, self.health.get(&*server).unwrap_or_default()))
            .collect()
    }

    /// Counts one more of what a server's reply came to.
    fn count(&self, server: Endpoint, add: impl Fn(&mut Health)) {
        self.health.entry(server).and_upsert_with(|held| {
            let mut health = held.map(|entry| entry.into_value()).unwrap_or_default();
            add(&mut health);
            health
        });
    }

    /// The server answered, uselessly for the zone: put behind the others
    /// as a failure is, and counted as lame.
    pub fn record_lame(&self, server: impl Into<Endpoint>, penalty: Duration) {
        let server = server.into();
        self.penalise(server, penalty);
        self.count(server, |health| health.lame += 1);
    }

    /// The server's smoothed RTT (penalties included), if it was ever measured.
    pub fn measured(&self, server: impl Into<Endpoint>) -> Option<Duration> {
        self.rtts.get(&server.into())
    }

    /// The time-out for a query to this server: `initial` for a stranger,
    /// else a few times its smoothed RTT, never below [`MIN_TIMEOUT`].
    pub fn timeout_for(&self, server: impl Into<Endpoint>, initial: Duration) -> Duration {
        match self.rtts.get(&server.into()) {
            Some(srtt) => (srtt * 3 + Duration::from_millis(50))
                .clamp(MIN_TIMEOUT, initial.max(MIN_TIMEOUT) * 2),
            None => initial,
        }
    }

    /// A reply came after `rtt`: smooth it in (7/8 old, 1/8 new, as TCP's RTO does).
    pub fn record_rtt(&self, server: impl Into<Endpoint>, rtt: Duration) {
        let server = server.into();
        let smoothed = match self.rtts.get(&server) {
            Some(old) if old < MAX_PENALTY => (old * 7 + rtt) / 8,
            _ => rtt,
        };
        self.rtts.insert(server, smoothed);
        self.count(server, |health| health.answered += 1);
    }

    /// The server did not answer (time-out, refused by the network): its
    /// score doubles, at least to `penalty`, so it goes behind the servers that answer.
    pub fn record_failure(&self, server: impl Into<Endpoint>, penalty: Duration) {
        let server = server.into();
        self.penalise(server, penalty);
        self.count(server, |health| health.failed += 1);
    }

    /// Its score doubles, at least to `penalty`, at most [`MAX_PENALTY`].
    fn penalise(&self, server: Endpoint, penalty: Duration) {
        let score = self.score(server);
        let worse = (score * 2).max(penalty).min(MAX_PENALTY);
        self.rtts.insert(server, worse);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn each_server_counts_its_answers_failures_and_lame_replies() {
        let stats = ServerStats::default();
        let server: IpAddr = "192.0.2.53".parse().expect("valid");
        stats.record_rtt(server, Duration::from_millis(3));
        stats.record_rtt(server, Duration::from_millis(5));
        stats.record_failure(server, Duration::from_millis(800));
        stats.record_lame(server, Duration::from_secs(2));
        let [(endpoint, rtt, health)] = stats.all()[..] else {
            panic!("one server");
        };
        assert_eq!(endpoint, Endpoint::from(server));
        assert!(rtt >= Duration::from_secs(2), "penalised: {rtt:?}");
        let counted = Health {
            answered: 2,
            failed: 1,
            lame: 1,
        };
        assert_eq!(health, counted);
    }
}
