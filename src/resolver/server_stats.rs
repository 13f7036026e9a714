//! The "infrastructure cache": per nameserver, its smoothed round-trip time
//! (penalties for failures folded in), which the walk ranks servers by
//! (delegation.rs), and what its replies came to, for `/servers`. Bounded
//! in servers and forgetting idle ones, as Unbound's infra cache does.
//!
//! Every reply updates it, so it is one map of per-server atomics read
//! under a shared lock: a known server costs a hash lookup and a few atomic
//! operations; only a server never seen takes the lock to be added.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::delegation::Endpoint;

/// The score of a server never heard from: worse than any live server on a
/// LAN, better than one that timed out (Unbound uses 376 ms).
pub const UNKNOWN_RTT: Duration = Duration::from_millis(300);

/// The least time-out for a server whose round-trip time is known.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(250);

/// The largest penalty a failing server accumulates.
pub const MAX_PENALTY: Duration = Duration::from_secs(120);

/// How many servers' statistics are kept; the longest idle go first.
const STATS_CAPACITY: usize = 10_000;

/// How long an idle server's statistics are kept (Unbound's infra-host-ttl).
const STATS_IDLE: Duration = Duration::from_secs(900);

/// Smoothed round-trip times and failures per server address (the
/// "infrastructure cache"); cheap to clone (shared).
#[derive(Clone)]
pub struct ServerStats {
    servers: Arc<RwLock<HashMap<Endpoint, Arc<Server>, ahash::RandomState>>>,
    /// What `last_used` counts seconds from.
    epoch: Instant,
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

/// One server's statistics, updated in place.
#[derive(Default)]
struct Server {
    /// The smoothed RTT in microseconds, penalties included; 0: never measured.
    rtt_micros: AtomicU64,
    answered: AtomicU64,
    failed: AtomicU64,
    lame: AtomicU64,
    /// Seconds since the map's epoch at its last use.
    last_used: AtomicU32,
}

impl Server {
    fn rtt(&self) -> Option<Duration> {
        match self.rtt_micros.load(Ordering::Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }

    fn set_rtt(&self, rtt: Duration) {
        let micros = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX).max(1);
        self.rtt_micros.store(micros, Ordering::Relaxed);
    }

    fn health(&self) -> Health {
        Health {
            answered: self.answered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            lame: self.lame.load(Ordering::Relaxed),
        }
    }
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats {
            servers: Arc::default(),
            epoch: Instant::now(),
        }
    }
}

impl ServerStats {
    /// Seconds since the epoch, now.
    fn now(&self) -> u32 {
        u32::try_from(self.epoch.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// The statistics of `server` if kept and not idle too long.
    fn find(&self, server: &Endpoint) -> Option<Arc<Server>> {
        let servers = self.servers.read().unwrap_or_else(|e| e.into_inner());
        let found = servers.get(server)?;
        (!idle(found, self.now())).then(|| found.clone())
    }

    /// The statistics of `server`, made fresh (forgetting an idle past) if
    /// need be, marked as used now.
    fn entry(&self, server: Endpoint) -> Arc<Server> {
        let now = self.now();
        if let Some(found) = self.find(&server) {
            found.last_used.store(now, Ordering::Relaxed);
            return found;
        }
        let mut servers = self.servers.write().unwrap_or_else(|e| e.into_inner());
        if servers.len() >= STATS_CAPACITY && !servers.contains_key(&server) {
            forget_idlest(&mut servers, now);
        }
        let fresh = Arc::new(Server::default());
        fresh.last_used.store(now, Ordering::Relaxed);
        servers.insert(server, fresh.clone());
        fresh
    }

    /// The server's smoothed RTT, or [`UNKNOWN_RTT`] if never measured.
    pub fn score(&self, server: impl Into<Endpoint>) -> Duration {
        self.measured(server).unwrap_or(UNKNOWN_RTT)
    }

    /// Every server heard from (or failed), with its smoothed RTT (penalties
    /// included) and what its replies came to.
    pub fn all(&self) -> Vec<(Endpoint, Duration, Health)> {
        let now = self.now();
        let servers = self.servers.read().unwrap_or_else(|e| e.into_inner());
        servers
            .iter()
            .filter(|(_, server)| !idle(server, now))
            .filter_map(|(endpoint, server)| Some((*endpoint, server.rtt()?, server.health())))
            .collect()
    }

    /// The server answered, uselessly for the zone: put behind the others
    /// as a failure is, and counted as lame.
    pub fn record_lame(&self, server: impl Into<Endpoint>, penalty: Duration) {
        let server = self.entry(server.into());
        penalise(&server, penalty);
        server.lame.fetch_add(1, Ordering::Relaxed);
    }

    /// The server's smoothed RTT (penalties included), if it was ever measured.
    pub fn measured(&self, server: impl Into<Endpoint>) -> Option<Duration> {
        self.find(&server.into())?.rtt()
    }

    /// The time-out for a query to this server: `initial` for a stranger,
    /// else a few times its smoothed RTT, never below [`MIN_TIMEOUT`].
    pub fn timeout_for(&self, server: impl Into<Endpoint>, initial: Duration) -> Duration {
        match self.measured(server) {
            Some(srtt) => (srtt * 3 + Duration::from_millis(50))
                .clamp(MIN_TIMEOUT, initial.max(MIN_TIMEOUT) * 2),
            None => initial,
        }
    }

    /// A reply came after `rtt`: smooth it in (7/8 old, 1/8 new, as TCP's RTO does).
    pub fn record_rtt(&self, server: impl Into<Endpoint>, rtt: Duration) {
        let server = self.entry(server.into());
        let smoothed = match server.rtt() {
            Some(old) if old < MAX_PENALTY => (old * 7 + rtt) / 8,
            _ => rtt,
        };
        server.set_rtt(smoothed);
        server.answered.fetch_add(1, Ordering::Relaxed);
    }

    /// The server did not answer (time-out, refused by the network): its
    /// score doubles, at least to `penalty`, so it goes behind the servers that answer.
    pub fn record_failure(&self, server: impl Into<Endpoint>, penalty: Duration) {
        let server = self.entry(server.into());
        penalise(&server, penalty);
        server.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// True when `server` was last used [`STATS_IDLE`] or more before `now`.
fn idle(server: &Server, now: u32) -> bool {
    let unused = now.saturating_sub(server.last_used.load(Ordering::Relaxed));
    Duration::from_secs(unused.into()) >= STATS_IDLE
}

/// Its score doubles, at least to `penalty`, at most [`MAX_PENALTY`].
fn penalise(server: &Server, penalty: Duration) {
    let score = server.rtt().unwrap_or(UNKNOWN_RTT);
    server.set_rtt((score * 2).max(penalty).min(MAX_PENALTY));
}

/// Makes room in a full map: the servers idle past [`STATS_IDLE`] go, and
/// if that is not enough, the eighth of them idle longest.
fn forget_idlest(servers: &mut HashMap<Endpoint, Arc<Server>, ahash::RandomState>, now: u32) {
    let last_used = |server: &Arc<Server>| server.last_used.load(Ordering::Relaxed);
    servers.retain(|_, server| !idle(server, now));
    if servers.len() < STATS_CAPACITY {
        return;
    }
    let mut ages: Vec<(u32, Endpoint)> = servers
        .iter()
        .map(|(endpoint, server)| (last_used(server), *endpoint))
        .collect();
    let cut = ages.len() / 8;
    ages.select_nth_unstable_by_key(cut, |(used, _)| *used);
    for (_, endpoint) in &ages[..cut] {
        servers.remove(endpoint);
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

    #[test]
    fn the_rtt_is_smoothed_and_a_stranger_gets_the_initial_time_out() {
        let stats = ServerStats::default();
        let server: IpAddr = "192.0.2.1".parse().expect("valid");
        let initial = Duration::from_millis(1500);
        assert_eq!(stats.score(server), UNKNOWN_RTT);
        assert_eq!(stats.timeout_for(server, initial), initial);
        stats.record_rtt(server, Duration::from_millis(80));
        stats.record_rtt(server, Duration::from_millis(160));
        assert_eq!(stats.measured(server), Some(Duration::from_millis(90)));
        assert_eq!(
            stats.timeout_for(server, initial),
            Duration::from_millis(320)
        );
    }

    #[test]
    fn a_full_map_forgets_the_servers_idle_longest() {
        let stats = ServerStats::default();
        let address = |i: usize| -> IpAddr { std::net::Ipv6Addr::from(i as u128).into() };
        for i in 0..STATS_CAPACITY {
            stats.record_rtt(address(i), Duration::from_millis(1));
        }
        // The first server is used later than every other.
        let first = stats.entry(address(0).into());
        first.last_used.store(10, Ordering::Relaxed);
        stats.record_rtt(address(STATS_CAPACITY), Duration::from_millis(2));
        let kept = stats.servers.read().expect("not poisoned").len();
        assert!(kept <= STATS_CAPACITY, "bounded: {kept}");
        assert!(kept >= STATS_CAPACITY * 7 / 8 - 1, "an eighth goes: {kept}");
        assert!(
            stats.measured(address(STATS_CAPACITY)).is_some(),
            "the new one is kept"
        );
        assert!(
            stats.measured(address(0)).is_some(),
            "the one used last is kept"
        );
    }
}
