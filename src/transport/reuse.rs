//! Upstream TCP connections kept open after a clean exchange, for the next
//! query to the same server (RFC 7766 §6.2.1: a client should reuse its
//! connections; Unbound's `tcp-reuse`, Knot Resolver's connection reuse).
//!
//! ```text
//! try_tcp ─▶ take(server) ─┬─ an idle connection, young, still open, nothing unread ─▶ reuse
//!                          └─ none ─▶ connect
//!          exchange ─▶ a reply read whole ─▶ put(server): kept (bounded) or closed
//!                    └─ anything else ─────▶ closed
//! ```
//!
//! Connections wait here as plain descriptors, not watched by any reactor:
//! the task that takes one registers it with its own runtime's reactor
//! (each UDP worker thread has one). Bounded three ways: [`IDLE_PER_SERVER`],
//! [`IDLE_IN_ALL`] descriptors, and the idle time: when it ends, a task
//! closes the connection (the client closes, as RFC 7766 §6.2.3 and RFC
//! 7828 §3.2.2 ask, and the server is left no half-closed socket); the
//! task runs only while connections are kept. A connection carries at
//! most [`QUERIES_PER_CONNECTION`]. The idle time is [`IDLE_FOR`], or less
//! when the server's last reply on the connection said how long it keeps
//! it open (RFC 7828 §3.2.2: nine tenths of that; a timeout of 0 means the
//! connection is not used again). A connection the server closed
//! meanwhile is seen as closed before anything is written on it; one it
//! closes as our query arrives fails the try, and the transport asks again
//! on a new connection after forgetting the server's other kept ones.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Idle connections kept for one server.
pub const IDLE_PER_SERVER: usize = 8;

/// Idle connections kept in all (descriptors; within [`super::DESCRIPTORS_KEPT`]).
pub const IDLE_IN_ALL: usize = 64;

/// How long a connection may wait idle before we close it: below the idle
/// timeouts of idle servers (ours 10 s, BIND 30 s, NSD 120 s). A busy
/// server closes sooner (ours down to 0.5 s, and says so when asked): a
/// kept connection found closed costs a new one ([`super::Transport`]'s
/// TCP retry), never the server's reputation.
pub const IDLE_FOR: Duration = Duration::from_secs(5);

/// The most queries one connection carries (Unbound's `max-reuse-tcp-queries`).
pub const QUERIES_PER_CONNECTION: u32 = 200;

/// One idle connection.
struct Idle {
    stream: TcpStream,
    /// When it stops being fit for a query.
    until: Instant,
    queries: u32,
}

/// How long a connection may wait idle, given the idle timeout its server
/// advertised in its last reply (RFC 7828 §3.2.2), if any: nine tenths of
/// it (closed before it expires, with room for the round trip), at most
/// [`IDLE_FOR`]; `None` when the server asked for it to be closed (0).
pub fn idle_time(advertised: Option<Duration>) -> Option<Duration> {
    match advertised {
        None => Some(IDLE_FOR),
        Some(Duration::ZERO) => None,
        Some(timeout) => Some((timeout * 9 / 10).min(IDLE_FOR)),
    }
}

/// The idle connections by server, the most recently used last, their
/// count in all, and whether the task that closes them at their time runs.
type ByServer = (
    HashMap<SocketAddr, Vec<Idle>, ahash::RandomState>,
    usize,
    bool,
);

/// Idle upstream TCP connections by server address.
#[derive(Default)]
pub(super) struct IdleConnections {
    entries: Mutex<ByServer>,
    /// Told of each connection kept, so that the task closing them times
    /// its next wake-up again (the new one's idle time may end first).
    kept: Arc<Notify>,
}

impl IdleConnections {
    /// An idle connection to `server` still fit for a query, with the
    /// number of queries it carried; the unfit ones met are closed.
    pub(super) fn take(&self, server: SocketAddr) -> Option<(TcpStream, u32)> {
        self.take_at(server, Instant::now())
    }

    /// [`Self::take`] at `now`.
    fn take_at(&self, server: SocketAddr, now: Instant) -> Option<(TcpStream, u32)> {
        let mut unfit = Vec::new(); // closed once the lock is released
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, count, _) = &mut *guard;
        let idle = entries.get_mut(&server)?;
        let mut found = None;
        while let Some(candidate) = idle.pop() {
            *count -= 1;
            if now < candidate.until && still_open(&candidate.stream) {
                found = Some((candidate.stream, candidate.queries));
                break;
            }
            unfit.push(candidate);
        }
        if idle.is_empty() {
            entries.remove(&server);
        }
        drop(guard);
        found
    }

    /// Keeps `stream`, after a clean exchange with `server` (its `queries`
    /// so far; `keepalive`, the idle timeout the server's reply advertised),
    /// if the bounds allow; else it is closed. Every connection past its
    /// idle time, to any server, is closed on the way.
    pub(super) fn put(
        self: &Arc<Self>,
        server: SocketAddr,
        stream: TcpStream,
        queries: u32,
        keepalive: Option<Duration>,
    ) {
        self.put_at(server, stream, queries, keepalive, Instant::now());
    }

    /// Closes the connections whose idle time has ended at `now`; the
    /// next end of one, or `None` (and the sweeping task ends) when none is
    /// kept.
    fn close_expired(&self, now: Instant) -> Option<Instant> {
        let mut closed = Vec::new(); // closed once the lock is released
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, count, sweeping) = &mut *guard;
        expire(entries, count, now, &mut closed);
        let next = entries.values().flatten().map(|idle| idle.until).min();
        *sweeping = next.is_some();
        drop(guard);
        drop(closed);
        next
    }

    /// [`Self::put`] at `now`. The task that closes connections at their
    /// time is started, or told of the one kept (outside a runtime, as in
    /// unit tests, none is: they are closed at the next take or put).
    fn put_at(
        self: &Arc<Self>,
        server: SocketAddr,
        stream: TcpStream,
        queries: u32,
        keepalive: Option<Duration>,
        now: Instant,
    ) {
        let Some(idle_for) = idle_time(keepalive) else {
            return; // the server asked for it to be closed
        };
        if queries >= QUERIES_PER_CONNECTION {
            return;
        }
        let mut closed = Vec::new(); // closed once the lock is released
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, count, sweeping) = &mut *guard;
        expire(entries, count, now, &mut closed);
        let idle = entries.entry(server).or_default();
        if idle.len() >= IDLE_PER_SERVER {
            closed.push(idle.remove(0)); // this server's oldest makes room
            *count -= 1;
        }
        if *count < IDLE_IN_ALL {
            idle.push(Idle {
                stream,
                until: now + idle_for,
                queries,
            });
            *count += 1;
            if *sweeping {
                self.kept.notify_one();
            } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                *sweeping = true;
                runtime.spawn(sweep(Arc::downgrade(self), self.kept.clone()));
            }
        } else if idle.is_empty() {
            entries.remove(&server);
        }
        drop(guard);
        drop(closed);
    }

    /// Closes every idle connection to `server`: one of them was found
    /// closed by the server, and those kept with it likely are too.
    pub(super) fn forget(&self, server: SocketAddr) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, count, _) = &mut *guard;
        let closed = entries.remove(&server).unwrap_or_default();
        *count -= closed.len();
        drop(guard);
        drop(closed);
    }

    /// Idle connections kept now, in all.
    #[cfg(test)]
    fn count(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

/// Moves every connection past its idle time at `now` to `closed`.
fn expire(
    entries: &mut HashMap<SocketAddr, Vec<Idle>, ahash::RandomState>,
    count: &mut usize,
    now: Instant,
    closed: &mut Vec<Idle>,
) {
    entries.retain(|_, kept| {
        let (young, old) = std::mem::take(kept)
            .into_iter()
            .partition(|idle: &Idle| now < idle.until);
        *kept = young;
        *count -= old.len();
        closed.extend(old);
        !kept.is_empty()
    });
}

/// Closes kept connections as their idle time ends, until none is kept
/// or the transport is gone; woken by `kept` when one more is kept.
async fn sweep(connections: Weak<IdleConnections>, kept: Arc<Notify>) {
    loop {
        let now = Instant::now();
        let Some(next) = connections
            .upgrade()
            .and_then(|idle| idle.close_expired(now))
        else {
            return;
        };
        tokio::select! {
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(next)) => {}
            _ = kept.notified() => {}
        }
    }
}

/// Whether a connection is open with nothing unread: a peek that would
/// block. End of stream (the server closed it), an error, or bytes nobody
/// asked for (a late or duplicate reply) make it unfit.
fn still_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.peek(&mut byte), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
}

#[cfg(test)]
#[path = "reuse_tests.rs"]
mod tests;
