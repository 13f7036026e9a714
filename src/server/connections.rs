//! The TCP connections one server holds, and who makes way when they are
//! too many (RFC 7766 §6.2.3, §10), the way Unbound does it:
//!
//! ```text
//! slots used   0 ──────── ½ ─────────────────── full
//! idle time-out  configured ╲ shrinks linearly ╲ IDLE_FLOOR
//! new client, every slot taken ─▶ the connection idle longest is closed
//!                                 (none idle: wait for one to end)
//! new client beyond its own share ─▶ its own connection idle longest is closed
//!                                    (none idle: the newcomer is refused)
//! ```
//!
//! A client's connection that has already ended on its side but not yet on
//! ours is idle, so a resolver asking over TCP again and again is never
//! refused for connections it has finished with.
//!
//! A connection is idle while it has no query being worked on or written;
//! a client that sends half a message and stops is idle too. So clients
//! that connect and stall cannot keep out one that asks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::guard::ClientSlot;

/// The shortest idle time-out when the slots fill (Unbound keeps 200 ms; a
/// little more leaves a slow client on a loaded machine time to ask).
pub const IDLE_FLOOR: Duration = Duration::from_millis(500);

/// The idle time-out for a server with `open` of `capacity` connections:
/// `configured` up to half full, then shorter in proportion to the slots
/// left, down to [`IDLE_FLOOR`] (or `configured` if shorter) when full.
pub fn idle_timeout(configured: Duration, open: usize, capacity: usize) -> Duration {
    let floor = configured.min(IDLE_FLOOR);
    let half = capacity / 2;
    if open <= half || capacity == 0 {
        return configured;
    }
    let left = capacity.saturating_sub(open);
    let share = left as f64 / (capacity - half).max(1) as f64;
    floor + (configured - floor).mul_f64(share.clamp(0.0, 1.0))
}

/// The open connections: their slots (at most `tcp_connections`), and how
/// long each has been idle.
#[derive(Debug)]
pub(super) struct Connections {
    capacity: usize,
    configured_idle: Duration,
    slots: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<ConnectionState>>>,
    next_id: AtomicU64,
    /// How many are open, for connections waiting out their idle time-out.
    count: watch::Sender<usize>,
}

/// What the server knows of one open connection.
#[derive(Debug)]
pub(super) struct ConnectionState {
    /// The last complete query read or reply written (or the accept).
    last_activity: Mutex<Instant>,
    /// Queries read and not yet answered in full.
    in_flight: AtomicUsize,
    /// Cancelled to close the connection (shutdown, or to make way).
    pub close: CancellationToken,
    /// The client's address.
    client: IpAddr,
    /// Cancelled once the connection is closed and its slots are free.
    ended: CancellationToken,
}

impl ConnectionState {
    /// Notes activity now: the idle time-out starts again.
    pub fn touch(&self) {
        *self.last_activity.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// When the connection was last active.
    pub fn last_activity(&self) -> Instant {
        *self.last_activity.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records how many of its queries are being worked on.
    pub fn set_in_flight(&self, count: usize) {
        self.in_flight.store(count, Ordering::Relaxed);
    }
}

/// One connection's slot; freed, and the connection forgotten, when dropped.
#[derive(Debug)]
pub(super) struct Registration {
    connections: Arc<Connections>,
    id: u64,
    /// The connection as the table sees it.
    pub state: Arc<ConnectionState>,
    /// The client's own share of connections, freed with the slot.
    pub client_slot: Option<ClientSlot>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.client_slot.take();
        let mut open = self.connections.lock();
        open.remove(&self.id);
        self.connections.count.send_replace(open.len());
        drop(open);
        self.state.ended.cancel();
    }
}

impl Connections {
    /// A table for at most `capacity` connections, idle at most `configured_idle`.
    pub fn new(capacity: usize, configured_idle: Duration) -> Arc<Self> {
        Arc::new(Connections {
            capacity,
            configured_idle,
            slots: Arc::new(Semaphore::new(capacity)),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            count: watch::channel(0).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnectionState>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new connection: a free one at once; else the connection
    /// idle longest is closed and its slot taken as soon as it is freed;
    /// with none idle, the first slot another connection frees. `None` on
    /// shutdown.
    pub async fn admit(
        self: &Arc<Self>,
        shutdown: &CancellationToken,
        client: IpAddr,
    ) -> Option<Registration> {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                self.close_idle_longest();
                tokio::select! {
                    // The semaphore is never closed.
                    slot = self.slots.clone().acquire_owned() => slot.ok()?,
                    _ = shutdown.cancelled() => return None,
                }
            }
        };
        let state = Arc::new(ConnectionState {
            last_activity: Mutex::new(Instant::now()),
            in_flight: AtomicUsize::new(0),
            close: shutdown.child_token(),
            client,
            ended: CancellationToken::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut open = self.lock();
        open.insert(id, state.clone());
        self.count.send_replace(open.len());
        drop(open);
        Some(Registration {
            connections: self.clone(),
            id,
            state,
            client_slot: None,
            _slot: slot,
        })
    }

    /// Closes `client`'s own connection idle longest, if one is idle, to
    /// admit a new one of the same client beyond its share; the token is
    /// cancelled once that connection's slots are free.
    pub fn make_way_for(&self, client: IpAddr) -> Option<CancellationToken> {
        let open = self.lock();
        let idle_longest = open
            .values()
            .filter(|state| state.client == client && !state.close.is_cancelled())
            .filter(|state| state.in_flight.load(Ordering::Relaxed) == 0)
            .min_by_key(|state| state.last_activity())?;
        tracing::debug!(%client, "the client's TCP share taken: closing its connection idle longest");
        idle_longest.close.cancel();
        Some(idle_longest.ended.clone())
    }

    /// Closes the open connection idle longest, if one is idle; says whether one was.
    pub fn close_idle_longest(&self) -> bool {
        let open = self.lock();
        let idle_longest = open
            .values()
            .filter(|state| !state.close.is_cancelled())
            .filter(|state| state.in_flight.load(Ordering::Relaxed) == 0)
            .min_by_key(|state| state.last_activity());
        match idle_longest {
            Some(state) => {
                tracing::debug!("every TCP slot taken: closing the connection idle longest");
                state.close.cancel();
                true
            }
            None => false,
        }
    }

    /// The idle time-out now, given how many connections are open.
    pub fn idle_timeout(&self) -> Duration {
        idle_timeout(self.configured_idle, *self.count.borrow(), self.capacity)
    }

    /// Changes whenever a connection opens or closes (the idle time-out may too).
    pub fn watch(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: Duration = Duration::from_secs(10);
    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn the_idle_time_out_shrinks_past_half_full_down_to_the_floor() {
        assert_eq!(idle_timeout(TEN, 0, 128), TEN);
        assert_eq!(idle_timeout(TEN, 64, 128), TEN);
        let three_quarters = idle_timeout(TEN, 96, 128);
        assert!(three_quarters < TEN / 2 + IDLE_FLOOR && three_quarters > TEN / 3);
        assert_eq!(idle_timeout(TEN, 128, 128), IDLE_FLOOR);
        // A configured time-out below the floor is never lengthened.
        let short = Duration::from_millis(300);
        assert_eq!(idle_timeout(short, 128, 128), short);
        assert_eq!(idle_timeout(TEN, 1, 1), IDLE_FLOOR);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_table_closes_the_connection_idle_longest() {
        let shutdown = CancellationToken::new();
        let connections = Connections::new(2, TEN);
        let busy = connections
            .admit(&shutdown, LOOPBACK)
            .await
            .expect("a slot");
        tokio::time::advance(Duration::from_secs(1)).await;
        let idle = connections
            .admit(&shutdown, LOOPBACK)
            .await
            .expect("a slot");
        tokio::time::advance(Duration::from_secs(1)).await;
        // The busy one has been quiet longer, but a query of its is being worked on.
        busy.state.set_in_flight(1);
        let close = idle.state.close.clone();
        let admitting = tokio::spawn({
            let connections = connections.clone();
            let shutdown = shutdown.clone();
            async move { connections.admit(&shutdown, LOOPBACK).await.is_some() }
        });
        close.cancelled().await;
        assert!(!busy.state.close.is_cancelled(), "a busy connection stays");
        drop(idle); // the closed connection's task ends
        assert!(
            admitting.await.expect("no panic"),
            "the newcomer got its slot"
        );
    }
}
