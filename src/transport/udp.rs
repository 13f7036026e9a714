//! One UDP try on a socket of its own, connected to the server (RFC 5452
//! §9.2; what Unbound's `udp-connect` and hickory do).
//!
//! The kernel picks the socket's port at random from the ephemeral range,
//! and, the socket being connected, delivers it only datagrams from the
//! server's address and port: a forgery from anywhere else never reaches
//! us, and nothing about the port can be learned by probing it from
//! elsewhere (SAD DNS, CVE-2020-25705). The socket is closed when the try
//! ends. An ICMP port-unreachable comes back as `ECONNREFUSED`: the server
//! is unreachable at once, not after a time-out.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::{Instant, timeout_at};

use super::verify::{Verdict, id_of, verify};
use super::{Transport, TransportError};
use crate::capture::Protocol;

/// The receive buffer: above our advertised payload, so that a reply bigger
/// than we said we take is seen whole or flagged as cut (`MSG_TRUNC`).
const REPLY_BUFFER: usize = 2048;

thread_local! {
    /// Where replies are read: one octet more than we take tells a reply
    /// cut to the buffer. One per thread, cleared once, not per exchange.
    static REPLY: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; REPLY_BUFFER + 1]);
}

/// How one UDP try ended.
#[derive(Debug)]
pub enum Udp {
    /// The reply: exactly ours, or, after 0x20, ours but for the letter case (`echoed_case` false).
    Reply {
        /// The reply.
        reply: Message,
        /// Whether its question is ours letter for letter.
        echoed_case: bool,
        /// From sending the query to this reply.
        rtt: Duration,
    },
    /// A reply with our ID bigger than `limit` (or than the buffer): ask over TCP.
    Oversized,
}

impl Transport {
    /// Sends `query` (its case `randomized` or not) to `server` on a fresh
    /// connected socket and waits until `until` for a reply of at most
    /// `limit` octets. Garbage carrying our ID
    /// is skipped while the wait goes on; if nothing better comes, the try
    /// ends as [`TransportError::Malformed`] rather than a time-out.
    pub(super) async fn try_udp(
        &self,
        server: SocketAddr,
        query: &Message,
        randomized: bool,
        limit: usize,
        until: Instant,
    ) -> Result<Udp, TransportError> {
        let bytes = query.to_vec().map_err(|_| TransportError::Encode)?;
        let socket = self.connected_udp(server)?;
        let local = self.local_of(&socket, server);
        let socket: std::net::UdpSocket = socket.into();
        let sent_at = Instant::now();
        let wait = until.saturating_duration_since(sent_at);
        self.observe(local, server, Protocol::Udp, &bytes);
        // A fresh socket has room to send: at once, before the reactor knows
        // of it, which saves waiting for it to say "writable"; the reactor
        // then watches for a reply only (an error is always reported).
        let socket = match socket.send(&bytes) {
            Ok(_) => watched(socket, Interest::READABLE)?,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                let socket = watched(socket, Interest::READABLE | Interest::WRITABLE)?;
                timeout_at(
                    until,
                    socket.async_io(Interest::WRITABLE, |s| s.send(&bytes)),
                )
                .await
                .map_err(|_| TransportError::Timeout(wait))??;
                socket
            }
            Err(error) => return Err(error.into()),
        };
        let mut garbage = 0usize;
        loop {
            let ready = timeout_at(until, socket.ready(Interest::READABLE | Interest::ERROR)).await;
            let Ok(ready) = ready else {
                return Err(if garbage > 0 {
                    TransportError::Malformed
                } else {
                    TransportError::Timeout(wait)
                });
            };
            let mut ready = ready?;
            // Read and judged at once, without an await between: the
            // thread's own buffer serves every exchange it runs.
            let judged = REPLY.with_borrow_mut(|buffer| {
                // An ICMP refusal is the socket's pending error: recv returns it.
                let length = match ready.try_io(|s| s.get_ref().recv(buffer)) {
                    Ok(Ok(length)) => length,
                    Ok(Err(error)) => return Some(Err(error.into())), // ECONNREFUSED: nothing listens
                    Err(_would_block) => return None,
                };
                let cut = length > REPLY_BUFFER;
                let bytes = &buffer[..length.min(REPLY_BUFFER)];
                if id_of(bytes) != Some(query.id) {
                    return None; // not for this query (the socket is ours alone)
                }
                self.observe(server, local, Protocol::Udp, bytes);
                judge(
                    server,
                    query,
                    randomized,
                    limit,
                    sent_at,
                    (bytes, cut),
                    &mut garbage,
                )
            });
            if let Some(judged) = judged {
                return judged;
            }
        }
    }

    /// A non-blocking UDP socket on a port the kernel picks, connected to `server`.
    fn connected_udp(&self, server: SocketAddr) -> io::Result<socket2::Socket> {
        let domain = socket2::Domain::for_address(server);
        #[cfg(target_os = "linux")]
        let socket = socket2::Socket::new(domain, socket2::Type::DGRAM.nonblocking(), None)?;
        #[cfg(not(target_os = "linux"))]
        let socket = {
            let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, None)?;
            socket.set_nonblocking(true)?;
            socket
        };
        let local = self.local_address(server);
        if !local.ip().is_unspecified() {
            socket.bind(&local.into())?;
        } // else connect(2) binds to any address and a random port itself
        socket.connect(&server.into())?;
        Ok(socket)
    }
}

/// What a reply from `server` with our ID is (its bytes, and whether the
/// buffer cut it): `None` to go on waiting (garbage, or not our question),
/// else the end of the try.
fn judge(
    server: SocketAddr,
    query: &Message,
    randomized: bool,
    limit: usize,
    sent_at: Instant,
    (bytes, cut): (&[u8], bool),
    garbage: &mut usize,
) -> Option<Result<Udp, TransportError>> {
    if cut || bytes.len() > limit {
        // RFC 6891 §7: as if TC were set; the whole reply comes over TCP.
        tracing::debug!(%server, octets = bytes.len(), "reply too big for UDP");
        return Some(Ok(Udp::Oversized));
    }
    let reply = |reply, echoed_case| Udp::Reply {
        reply,
        echoed_case,
        rtt: sent_at.elapsed(),
    };
    match verify(query, bytes) {
        Verdict::Accept(accepted) => Some(Ok(reply(accepted, true))),
        // With 0x20, the mark of a server that does not echo the case;
        // without, a question other than ours (RFC 5452 §9.1): ignored.
        Verdict::CaseMismatch(other) if randomized => Some(Ok(reply(other, false))),
        Verdict::CaseMismatch(_) | Verdict::Ignore => None,
        Verdict::Malformed => {
            *garbage += 1;
            tracing::debug!(%server, garbage = *garbage, "undecodable datagram with our ID ignored");
            None
        }
    }
}

/// `socket` handed to the reactor, watched for `interest` (and errors, always).
fn watched(
    socket: std::net::UdpSocket,
    interest: Interest,
) -> io::Result<AsyncFd<std::net::UdpSocket>> {
    // SAFETY: the socket owns its descriptor, which stays open and the same
    // until the `AsyncFd` that now owns the socket is dropped.
    Ok(unsafe { AsyncFd::register_with_interest(socket, interest) }?)
}
