//! One TCP try: a connection (one kept from an earlier query to the same
//! server, else a new one), one query, its reply (RFC 7766 §5 and §6.2.1,
//! RFC 1035 §4.2.2). The connection is kept for the next query only after
//! a reply read whole ([`super::reuse`]), for as long as the server's
//! edns-tcp-keepalive option allows (RFC 7828 §3.2).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout_at};

use super::verify::{Verdict, verify};
use super::{Transport, TransportError};
use crate::capture::Protocol;
use crate::framing::{self, FramingError};

impl Transport {
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
/// TCP (RFC 7828 §3.2.1; never over UDP).
pub(super) fn ask_keepalive(query: &mut Message) {
    if let Some(edns) = &mut query.edns {
        let code = u16::from(EdnsCode::Keepalive);
        edns.options_mut()
            .insert(EdnsOption::Unknown(code, Vec::new()));
    }
}

/// The idle timeout a reply over TCP advertises in its edns-tcp-keepalive
/// option (RFC 7828 §3.1: a 16-bit count of 100 ms); `None` without the
/// option, or with one of another length (a server must send a TIMEOUT).
fn advertised_keepalive(reply: &Message) -> Option<Duration> {
    match reply.edns.as_ref()?.option(EdnsCode::Keepalive)? {
        EdnsOption::Unknown(_, data) => {
            let timeout: [u8; 2] = data.as_slice().try_into().ok()?;
            Some(Duration::from_millis(
                u64::from(u16::from_be_bytes(timeout)) * 100,
            ))
        }
        _ => None,
    }
}
