//! One TCP try: a connection (one kept from an earlier query to the same
//! server, else a new one), one query, its reply (RFC 7766 §5 and §6.2.1,
//! RFC 1035 §4.2.2). The connection is kept for the next query only after
//! a reply read whole ([`super::reuse`]), for as long as the server's
//! edns-tcp-keepalive option allows (RFC 7828 §3.2).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsCode;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout_at};

use super::verify::{Verdict, verify};
use super::{Transport, TransportError, next_try};
use crate::capture::Protocol;
use crate::framing::{self, FramingError};
use crate::keepalive::{self, Keepalive};

impl Transport {
    /// Asks `query` of `server` over TCP, before `deadline`, each try but
    /// the first paid from `permit` (`messages_sent` counts them): on a
    /// connection kept from an earlier query, else a new one. A kept
    /// connection the server closed meanwhile, or a new one closed at once
    /// (a busy server), costs one more try, not the server's standing; a
    /// FORMERR to the edns-tcp-keepalive option, the question asked again
    /// without it.
    pub(super) async fn over_tcp(
        &self,
        server: SocketAddr,
        mut query: Message,
        deadline: Instant,
        wait: Duration,
        messages_sent: &mut usize,
        permit: &mut (dyn FnMut() -> bool + Send),
    ) -> Result<(Message, Duration), TransportError> {
        let mut keepalive = ask_keepalive(&mut query);
        let mut until = next_try(deadline, wait, messages_sent, permit)?;
        let mut kept = self.idle_tcp.take(server);
        let mut busy_retry = true;
        loop {
            let reused = kept.is_some();
            match self.try_tcp(server, &query, until, kept.take()).await {
                // A kept connection the server closed meanwhile (its idle
                // timer, a restart): the others kept with it likely too.
                // A new connection, and the server is not to blame.
                Err(TransportError::Io(error)) if reused && closed_on_us(&error) => {
                    tracing::debug!(%server, "a kept TCP connection was closed: a new one");
                    self.idle_tcp.forget(server);
                }
                // A server with every TCP slot taken closes new connections
                // at once (ours does, per client): one more connection, if
                // the budget allows, before the server counts as failed.
                Err(TransportError::Io(error)) if busy_retry && closed_on_us(&error) => {
                    tracing::debug!(%server, "TCP connection closed before the reply: once more");
                    busy_retry = false;
                }
                // An option it should have ignored (RFC 6891 §6.1.2): asked
                // again without it, and told nothing of the idle timeout.
                Ok((reply, _)) if keepalive && reply.response_code == ResponseCode::FormErr => {
                    tracing::debug!(%server, "FORMERR to edns-tcp-keepalive: asked again without it");
                    if let Some(edns) = &mut query.edns {
                        edns.options_mut().remove(EdnsCode::Keepalive);
                    }
                    keepalive = false;
                    kept = self.idle_tcp.take(server); // the one just used, most likely
                }
                other => return other,
            }
            until = next_try(deadline, wait, messages_sent, permit)?;
        }
    }

    /// Asks `query` over a TCP connection to `server`, `kept` from an
    /// earlier query ([`super::reuse::IdleConnections::take`]) or else new,
    /// all before `until`; returns the reply and the time from sending the
    /// query to it.
    pub(super) async fn try_tcp(
        &self,
        server: SocketAddr,
        query: &Message,
        until: Instant,
        kept: Option<(std::net::TcpStream, u32)>,
    ) -> Result<(Message, Duration), TransportError> {
        let wait = until.saturating_duration_since(Instant::now());
        let timeout = |_| TransportError::Timeout(wait);
        let (mut stream, carried) = match kept {
            Some((kept, carried)) => (TcpStream::from_std(kept)?, carried),
            None => {
                let socket = if server.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                socket.bind(self.local_address(server))?;
                let stream = timeout_at(until, socket.connect(server))
                    .await
                    .map_err(timeout)??;
                (stream, 0)
            }
        };
        let local = stream.local_addr()?;
        let bytes = query.to_vec().map_err(|_| TransportError::Encode)?;
        let sent_at = Instant::now();
        let exchange = async {
            self.observe(local, server, Protocol::Tcp, &bytes);
            framing::write_message(&mut stream, &bytes)
                .await
                .map_err(|error| match error {
                    FramingError::TooLong(_) => TransportError::Encode,
                    other => TransportError::Io(other.into()),
                })?;
            loop {
                let reply = framing::read_message(&mut stream)
                    .await
                    .map_err(|error| TransportError::Io(error.into()))?;
                match verify(query, &reply) {
                    // TC over TCP makes no sense: a broken server.
                    Verdict::Accept(message) | Verdict::CaseMismatch(message)
                        if message.truncation =>
                    {
                        return Err(TransportError::Malformed);
                    }
                    // No spoofing off the path over TCP: the case is not checked.
                    Verdict::Accept(message) | Verdict::CaseMismatch(message) => {
                        self.observe(server, local, Protocol::Tcp, &reply);
                        return Ok(message);
                    }
                    Verdict::Malformed => return Err(TransportError::Malformed),
                    Verdict::Ignore => continue,
                }
            }
        };
        let reply = timeout_at(until, exchange).await.map_err(timeout)??;
        let rtt = sent_at.elapsed();
        // Read whole, nothing pending: fit for the next query. Otherwise
        // (an error, a time-out mid-message) it was dropped above: closed.
        if let Ok(kept) = stream.into_std() {
            let keepalive = advertised_keepalive(&reply);
            self.idle_tcp.put(server, kept, carried + 1, keepalive);
        }
        Ok((reply, rtt))
    }
}

/// Asks the server how long it keeps our connection open when idle: the
/// edns-tcp-keepalive option, empty, in a query with EDNS that goes over
/// TCP (RFC 7828 §3.2.1; never over UDP); whether it was added.
fn ask_keepalive(query: &mut Message) -> bool {
    let Some(edns) = &mut query.edns else {
        return false;
    };
    edns.options_mut()
        .insert(keepalive::option(Keepalive::Asked));
    true
}

/// The idle timeout a reply over TCP advertises in its edns-tcp-keepalive
/// option (RFC 7828 §3.2.2); `None` without one.
fn advertised_keepalive(reply: &Message) -> Option<Duration> {
    match keepalive::in_opt(reply.edns.as_ref()?)? {
        Keepalive::Told(timeout) => Some(timeout),
        Keepalive::Asked => None, // a server must say a TIMEOUT
    }
}

/// True when the server closed the connection before replying (reset,
/// or end of stream), as a busy server does.
fn closed_on_us(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
    )
}
