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
use std::os::fd::AsRawFd;
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::verify::{Verdict, id_of, verify};
use super::{Transport, TransportError};
use crate::batch::{self, Received};
use crate::server::Protocol;

/// Datagrams read per system call: the server's reply and perhaps a stray one.
const REPLIES_PER_CALL: usize = 2;

/// The receive buffer: above our advertised payload, so that a reply bigger
/// than we said we take is seen whole or flagged as cut (`MSG_TRUNC`).
const REPLY_BUFFER: usize = 2048;

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
        let sent_at = Instant::now();
        let wait = until.saturating_duration_since(sent_at);
        self.observe(local, server, Protocol::Udp, &bytes);
        // A fresh socket has room to send: at once, before the reactor knows
        // of it, which saves waiting for it to say "writable".
        let sent = socket.send(&bytes);
        let socket = UdpSocket::from_std(socket.into())?;
        match sent {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                timeout_at(until, socket.send(&bytes))
                    .await
                    .map_err(|_| TransportError::Timeout(wait))??;
            }
            Err(error) => return Err(error.into()),
        }
        let mut received = Received::new(REPLIES_PER_CALL, REPLY_BUFFER);
        let mut garbage = 0usize;
        loop {
            let ready = timeout_at(until, socket.readable()).await;
            let Ok(ready) = ready else {
                return Err(if garbage > 0 {
                    TransportError::Malformed
                } else {
                    TransportError::Timeout(wait)
                });
            };
            ready?;
            let datagrams = match receive(&socket, &mut received) {
                Ok(datagrams) => datagrams,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error.into()), // ECONNREFUSED: nothing listens
            };
            for (bytes, cut) in datagrams {
                if id_of(&bytes) != Some(query.id) {
                    continue; // not for this query (the socket is ours alone)
                }
                self.observe(server, local, Protocol::Udp, &bytes);
                if cut || bytes.len() > limit {
                    // RFC 6891 §7: as if TC were set; the whole reply comes over TCP.
                    tracing::debug!(%server, octets = bytes.len(), "reply too big for UDP");
                    return Ok(Udp::Oversized);
                }
                match verify(query, &bytes) {
                    Verdict::Accept(reply) => {
                        return Ok(Udp::Reply {
                            reply,
                            echoed_case: true,
                            rtt: sent_at.elapsed(),
                        });
                    }
                    // With 0x20, the mark of a server that does not echo the case;
                    // without, a question other than ours (RFC 5452 §9.1): ignored.
                    Verdict::CaseMismatch(reply) if randomized => {
                        return Ok(Udp::Reply {
                            reply,
                            echoed_case: false,
                            rtt: sent_at.elapsed(),
                        });
                    }
                    Verdict::CaseMismatch(_) => {}
                    Verdict::Malformed => {
                        garbage += 1;
                        tracing::debug!(%server, garbage, "undecodable datagram with our ID ignored");
                    }
                    Verdict::Ignore => {}
                }
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

/// The datagrams waiting on `socket`, each with whether it was cut to the
/// buffer's size; `WouldBlock` when there are none.
fn receive(socket: &UdpSocket, received: &mut Received) -> io::Result<Vec<(Vec<u8>, bool)>> {
    let fd = socket.as_raw_fd();
    match socket.try_io(Interest::READABLE, || batch::receive(fd, received)) {
        Ok(_) => Ok(received
            .all()
            .map(|(bytes, _, cut)| (bytes.to_vec(), cut))
            .collect()),
        Err(error) if error.kind() == io::ErrorKind::Unsupported => {
            // One datagram per call; a buffer one octet longer tells a cut one.
            let mut single = vec![0u8; REPLY_BUFFER + 1];
            let length = socket.try_recv(&mut single)?;
            single.truncate(length.min(REPLY_BUFFER));
            Ok(vec![(single, length > REPLY_BUFFER)])
        }
        Err(error) => Err(error),
    }
}
