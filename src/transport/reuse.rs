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
//! [`IDLE_IN_ALL`] descriptors, and the idle time (older ones are closed at
//! the next put, or when met); a connection carries at most
//! [`QUERIES_PER_CONNECTION`]. The idle time is [`IDLE_FOR`], or less when
//! the server's last reply on the connection said how long it keeps it
//! open (RFC 7828 §3.2.2: nine tenths of that, closed before it expires;
//! a timeout of 0 means the connection is not used again). A connection the server closed meanwhile (its
//! idle timeout) is seen as closed before anything is written on it; one it
//! closes as our query arrives fails the try, and the transport asks again
//! on a new connection after forgetting the server's other kept ones.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Idle connections kept for one server.
pub const IDLE_PER_SERVER: usize = 8;

/// Idle connections kept in all (descriptors; within [`super::DESCRIPTORS_KEPT`]).
pub const IDLE_IN_ALL: usize = 64;

/// How long a connection may wait idle before it is closed (at the next
/// put, or when met): below the idle timeouts of idle servers (ours 10 s,
/// BIND 30 s, NSD 120 s). A busy server closes sooner (ours down to 0.5 s):
/// a kept connection found closed costs a new one ([`super::Transport`]'s
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

/// The idle connections by server, the most recently used last, and their count in all.
type ByServer = (HashMap<SocketAddr, Vec<Idle>, ahash::RandomState>, usize);

/// Idle upstream TCP connections by server address.
#[derive(Default)]
pub(super) struct IdleConnections {
    entries: Mutex<ByServer>,
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
        let (entries, count) = &mut *guard;
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
        &self,
        server: SocketAddr,
        stream: TcpStream,
        queries: u32,
        keepalive: Option<Duration>,
    ) {
        self.put_at(server, stream, queries, keepalive, Instant::now());
    }

    /// [`Self::put`] at `now`.
    fn put_at(
        &self,
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
        let (entries, count) = &mut *guard;
        entries.retain(|_, kept| {
            let (young, old) = std::mem::take(kept)
                .into_iter()
                .partition(|idle: &Idle| now < idle.until);
            *kept = young;
            *count -= old.len();
            closed.extend(old);
            !kept.is_empty()
        });
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
        let (entries, count) = &mut *guard;
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

/// Whether a connection is open with nothing unread: a peek that would
/// block. End of stream (the server closed it), an error, or bytes nobody
/// asked for (a late or duplicate reply) make it unfit.
fn still_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.peek(&mut byte), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    /// Waits (at most 5 s) until `condition` holds: the kernel's side of a
    /// loopback connection moves on its own time.
    fn eventually(mut condition: impl FnMut() -> bool) -> bool {
        let give_up = Instant::now() + Duration::from_secs(5);
        while Instant::now() < give_up {
            if condition() {
                return true;
            }
            std::thread::yield_now();
        }
        false
    }

    /// A connected pair: ours (non-blocking, as a reactor leaves it) and the server's end.
    fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let ours = TcpStream::connect(listener.local_addr().expect("bound")).expect("connects");
        ours.set_nonblocking(true).expect("non-blocking");
        let (theirs, _) = listener.accept().expect("accepted");
        (ours, theirs)
    }

    #[test]
    fn an_open_connection_is_taken_back_and_a_closed_one_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("bound");
        let idle = IdleConnections::default();
        let (ours, _theirs) = pair(&listener);
        idle.put(server, ours, 1, None);
        assert_eq!(idle.count(), 1);
        let (_, queries) = idle.take(server).expect("kept and still open");
        assert_eq!(queries, 1);
        assert!(idle.take(server).is_none(), "taken once");

        let (ours, theirs) = pair(&listener);
        idle.put(server, ours, 1, None);
        drop(theirs); // the server's idle timeout
        let closed = eventually(|| {
            let mut byte = [0u8; 1];
            let entries = idle.entries.lock().expect("not poisoned");
            let stream = &entries.0[&server][0].stream;
            matches!(stream.peek(&mut byte), Ok(0))
        });
        assert!(closed, "the close reaches us");
        assert!(
            idle.take(server).is_none(),
            "a closed connection is not reused"
        );
        assert_eq!(idle.count(), 0, "and it is gone");
    }

    #[test]
    fn unread_bytes_make_a_connection_unfit() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("bound");
        let idle = IdleConnections::default();
        let (ours, mut theirs) = pair(&listener);
        let probe = ours.try_clone().expect("a second descriptor");
        idle.put(server, ours, 1, None);
        theirs.write_all(&[0, 2, 0xab, 0xcd]).expect("written");
        let mut byte = [0u8; 1];
        assert!(
            eventually(|| probe.peek(&mut byte).is_ok()),
            "the bytes reach us"
        );
        assert!(idle.take(server).is_none(), "a late reply waits unread");
    }

    #[test]
    fn the_bounds_hold() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("bound");
        let idle = IdleConnections::default();
        let mut theirs = Vec::new();
        for _ in 0..IDLE_PER_SERVER + 3 {
            let (ours, other) = pair(&listener);
            theirs.push(other);
            idle.put(server, ours, 1, None);
        }
        assert_eq!(idle.count(), IDLE_PER_SERVER, "per server");
        let (ours, _other) = pair(&listener);
        idle.put(server, ours, QUERIES_PER_CONNECTION, None);
        assert_eq!(
            idle.count(),
            IDLE_PER_SERVER,
            "a connection that carried enough is closed"
        );
        for port in 1..=IDLE_IN_ALL as u16 {
            let (ours, other) = pair(&listener);
            theirs.push(other);
            idle.put(SocketAddr::new(server.ip(), port), ours, 1, None);
        }
        assert_eq!(idle.count(), IDLE_IN_ALL, "in all");
    }

    #[test]
    fn a_connection_is_kept_for_its_idle_time_and_no_longer() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("bound");
        let idle = IdleConnections::default();
        let start = Instant::now();
        let mut theirs = Vec::new();
        // (what the server advertised, a moment still in time, a moment too late)
        let second = Duration::from_secs(1);
        for (keepalive, in_time, too_late) in [
            (None, IDLE_FOR - second, IDLE_FOR),
            (Some(second), second * 8 / 10, second * 9 / 10),
            (Some(IDLE_FOR * 4), IDLE_FOR - second, IDLE_FOR),
        ] {
            for (after, kept) in [(in_time, true), (too_late, false)] {
                let (ours, other) = pair(&listener);
                theirs.push(other);
                idle.put_at(server, ours, 1, keepalive, start);
                assert_eq!(
                    idle.take_at(server, start + after).is_some(),
                    kept,
                    "advertised {keepalive:?}, taken {after:?} later"
                );
                assert_eq!(idle.count(), 0, "taken or closed");
            }
        }
        let (ours, _other) = pair(&listener);
        idle.put_at(server, ours, 1, Some(Duration::ZERO), start);
        assert_eq!(
            idle.count(),
            0,
            "a timeout of 0: closed at once (RFC 7828 §3.2.2)"
        );
    }

    #[test]
    fn connections_past_their_idle_time_are_closed_at_the_next_put() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let server = listener.local_addr().expect("bound");
        let idle = IdleConnections::default();
        let start = Instant::now();
        let (old, _theirs_old) = pair(&listener);
        idle.put_at(SocketAddr::new(server.ip(), 1), old, 1, None, start);
        let (young, _theirs_young) = pair(&listener);
        idle.put_at(server, young, 1, None, start + IDLE_FOR);
        assert_eq!(idle.count(), 1, "the other server's old connection went");
    }
}
