//! One query to one nameserver and its verified reply (RFC 1035 §7.2, RFC 5452).
//!
//! ```text
//! question ─▶ pooled UDP socket (random port) ─▶ random ID ─▶ send ─▶ wait: ignore every datagram
//!             that is not from the server, not our ID, not our question ─▶ reply
//!                  └─ TC set ─▶ the same question over TCP (RFC 7766)
//!                  └─ FORMERR/NOTIMP to EDNS ─▶ once more without EDNS (RFC 6891 §7)
//! ```

pub mod pool;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::time::{Instant, timeout_at};

use crate::server::Protocol;
use crate::trace::{Datagram, Tap};
use pool::Pool;

/// The UDP payload size we advertise upstream (RFC 6891, the 2020 DNS flag day value).
pub const UPSTREAM_PAYLOAD: u16 = 1232;

/// Why an exchange with a server failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No matching reply before the time-out.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The network said no (e.g. connection refused: nothing listens there).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A reply with our ID from the server that is not a DNS message.
    #[error("a malformed reply")]
    Malformed,
}

/// How to ask one question.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The question.
    pub query: Query,
    /// Set RD: only the recursive mode of the lab does; the iterator never does.
    pub recursion_desired: bool,
    /// Send an OPT record.
    pub edns: bool,
}

/// A verified reply.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The reply.
    pub reply: Message,
    /// The time from sending the (last) query to the reply.
    pub rtt: Duration,
    /// The transport of the reply.
    pub protocol: Protocol,
    /// The exchanges this took: 1, or 2 after TC or an EDNS fallback.
    pub messages_sent: usize,
}

/// Sends queries to nameservers; shared by every resolution.
#[derive(Clone)]
pub struct Transport {
    source_address: Option<IpAddr>,
    pool: Arc<Pool>,
    tap: Option<Tap>,
}

impl Transport {
    /// A transport sending from `source_address` (any address when `None`),
    /// reporting every message to `tap` if given.
    pub fn new(source_address: Option<IpAddr>, tap: Option<Tap>) -> Self {
        Transport {
            source_address,
            pool: Arc::new(Pool::new(source_address)),
            tap,
        }
    }

    /// Asks `server` one question and returns the verified reply, retrying
    /// over TCP when truncated and without EDNS when EDNS is refused.
    pub async fn exchange(
        &self,
        server: SocketAddr,
        ask: &Ask,
        wait: Duration,
    ) -> Result<Exchange, TransportError> {
        let mut exchange = self.exchange_udp(server, ask, wait).await?;
        let code = exchange.reply.response_code;
        let mut ask = ask.clone();
        if ask.edns && matches!(code, ResponseCode::FormErr | ResponseCode::NotImp) {
            ask.edns = false;
            let retry = self.exchange_udp(server, &ask, wait).await?;
            exchange = Exchange {
                messages_sent: exchange.messages_sent + 1,
                ..retry
            };
        }
        if exchange.reply.truncation {
            let sent = exchange.messages_sent;
            let mut over_tcp = self.exchange_tcp(server, &ask, wait).await?;
            over_tcp.messages_sent += sent;
            exchange = over_tcp;
        }
        Ok(exchange)
    }

    fn local_address(&self, server: SocketAddr) -> SocketAddr {
        let ip = match (self.source_address, server.ip()) {
            (Some(ip), _) if ip.is_ipv4() == server.is_ipv4() => ip,
            (_, IpAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (_, IpAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(ip, 0)
    }

    /// One UDP exchange on a socket of the pool, with a fresh random ID.
    async fn exchange_udp(
        &self,
        server: SocketAddr,
        ask: &Ask,
        wait: Duration,
    ) -> Result<Exchange, TransportError> {
        let socket = self.pool.take(server)?;
        let (query, mut waiting) = loop {
            let query = query_message(ask);
            if let Some(waiting) = socket.register(server, query.id) {
                break (query, waiting);
            }
        };
        let bytes = query.to_vec().map_err(|_| TransportError::Malformed)?;
        let local = socket.local();
        let sent_at = Instant::now();
        let deadline = sent_at + wait;
        self.observe(local, server, Protocol::Udp, &bytes);
        waiting.send(&bytes).await?;
        loop {
            let Some((reply, cut)) = timeout_at(deadline, waiting.next())
                .await
                .map_err(|_| TransportError::Timeout(wait))?
            else {
                return Err(TransportError::Timeout(wait));
            };
            let verdict = if cut {
                Verdict::Malformed
            } else {
                verify(&query, &reply)
            };
            match verdict {
                // Bigger than we said we could take (RFC 6891 §6.2.3): a broken server.
                Verdict::Accept(_) if reply.len() > udp_limit(ask) => {
                    self.observe(server, local, Protocol::Udp, &reply);
                    return Err(TransportError::Malformed);
                }
                Verdict::Accept(message) => {
                    self.observe(server, local, Protocol::Udp, &reply);
                    return Ok(Exchange {
                        reply: message,
                        rtt: sent_at.elapsed(),
                        protocol: Protocol::Udp,
                        messages_sent: 1,
                    });
                }
                Verdict::Malformed => {
                    self.observe(server, local, Protocol::Udp, &reply);
                    return Err(TransportError::Malformed);
                }
                Verdict::Ignore => continue,
            }
        }
    }

    /// One exchange over a new TCP connection (RFC 7766), within the same time-out.
    async fn exchange_tcp(
        &self,
        server: SocketAddr,
        ask: &Ask,
        wait: Duration,
    ) -> Result<Exchange, TransportError> {
        let sent_at = Instant::now();
        let deadline = sent_at + wait;
        let socket = if server.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.bind(self.local_address(server))?;
        let mut stream = timeout_at(deadline, socket.connect(server))
            .await
            .map_err(|_| TransportError::Timeout(wait))??;
        let local = stream.local_addr()?;
        let query = query_message(ask);
        let bytes = query.to_vec().map_err(|_| TransportError::Malformed)?;
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        let exchange = async {
            self.observe(local, server, Protocol::Tcp, &bytes);
            stream.write_all(&framed).await?;
            loop {
                let length = stream.read_u16().await?;
                let mut reply = vec![0u8; length as usize];
                stream.read_exact(&mut reply).await?;
                match verify(&query, &reply) {
                    // TC over TCP makes no sense: a broken server.
                    Verdict::Accept(message) if message.truncation => {
                        return Err(TransportError::Malformed);
                    }
                    Verdict::Accept(message) => {
                        self.observe(server, local, Protocol::Tcp, &reply);
                        return Ok(message);
                    }
                    Verdict::Malformed => return Err(TransportError::Malformed),
                    Verdict::Ignore => continue,
                }
            }
        };
        let reply = timeout_at(deadline, exchange)
            .await
            .map_err(|_| TransportError::Timeout(wait))??;
        Ok(Exchange {
            reply,
            rtt: sent_at.elapsed(),
            protocol: Protocol::Tcp,
            messages_sent: 1,
        })
    }

    fn observe(&self, from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            tap(Datagram::new(from, to, protocol, bytes));
        }
    }
}

/// The query message: a random ID (RFC 5452 §4), our question, RD as asked, OPT if asked.
pub fn query_message(ask: &Ask) -> Message {
    let mut message = Message::query(); // a random ID
    message.add_query(ask.query.clone());
    message.metadata.recursion_desired = ask.recursion_desired;
    if ask.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(UPSTREAM_PAYLOAD);
        edns.set_version(0);
        message.edns = Some(edns);
    }
    message
}

/// The largest UDP reply we accept: our advertised payload, or 512 without EDNS.
fn udp_limit(ask: &Ask) -> usize {
    if ask.edns {
        UPSTREAM_PAYLOAD as usize
    } else {
        512
    }
}

/// What to make of a datagram from the server.
#[derive(Debug)]
pub enum Verdict {
    /// Our reply.
    Accept(Message),
    /// Our ID, but not a DNS message: the server is broken.
    Malformed,
    /// Not ours (another ID, another question, not a response): keep waiting.
    Ignore,
}

/// A reply is ours only with our ID and our question, exactly, case included (RFC 5452 §9.1).
pub fn verify(query: &Message, bytes: &[u8]) -> Verdict {
    let Ok(reply) = Message::from_vec(bytes) else {
        let ours = bytes.len() >= 2 && u16::from_be_bytes([bytes[0], bytes[1]]) == query.id;
        return if ours {
            Verdict::Malformed
        } else {
            Verdict::Ignore
        };
    };
    if reply.id != query.id || reply.message_type != MessageType::Response {
        return Verdict::Ignore;
    }
    let question = &query.queries[0];
    let same_question = match reply.queries.as_slice() {
        [asked] => {
            asked.name.eq_case(&question.name)
                && asked.query_type == question.query_type
                && asked.query_class == question.query_class
        }
        // Some servers leave the question out of FORMERR and NOTIMP replies.
        [] => matches!(
            reply.response_code,
            ResponseCode::FormErr | ResponseCode::NotImp
        ),
        _ => false,
    };
    if same_question {
        Verdict::Accept(reply)
    } else {
        Verdict::Ignore
    }
}
