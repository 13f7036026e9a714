//! One query to one nameserver and its verified reply (RFC 1035 §7.2, RFC 5452).
//!
//! ```text
//! question ─▶ (0x20: random letter case) ─▶ random ID ─▶ a fresh UDP socket connected to the
//!             server, on a random port ─▶ wait: skip what is not our ID and our question ─▶ reply
//!                  └─ TC set, or bigger than we take ─▶ the same question over TCP (RFC 7766)
//!                  └─ FORMERR/NOTIMP to EDNS ─▶ once more without EDNS (RFC 6891 §7)
//!                  └─ our question in another case ─▶ once more without 0x20; the server is remembered
//! ```
//!
//! Everything one exchange does (every try, retry and fallback) happens
//! before one deadline, each try waiting at most its share, and every
//! message after the first is sent only with the caller's permission: see
//! [`Allowance`].

mod reuse;
mod tcp;
mod udp;
mod verify;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout_at};

use crate::capture::{Datagram, Protocol, Tap};
use udp::Udp;
pub use verify::{Verdict, query_message, udp_limit, verify};

/// The UDP payload size we advertise upstream (RFC 6891, the 2020 DNS flag day value).
pub const UPSTREAM_PAYLOAD: u16 = 1232;

/// Upstream exchanges (each one socket at a time) in flight at once; beyond
/// it a query waits for a free slot within its deadline.
pub const MAX_IN_FLIGHT: usize = 4096;

/// Descriptors left for everything but upstream UDP sockets: listeners,
/// clients' TCP connections, upstream TCP, the log.
pub const DESCRIPTORS_KEPT: u64 = 512;

/// The fewest upstream exchanges allowed at once, however low the limit.
pub const MIN_IN_FLIGHT: usize = 64;

/// The upstream exchanges the process's descriptor limit allows at once:
/// the soft `RLIMIT_NOFILE` is first raised towards what [`MAX_IN_FLIGHT`]
/// needs (never above the hard limit; a desktop shell's soft limit is often
/// 1,024), so that a busy resolver never meets EMFILE and fails servers
/// that did nothing wrong.
pub fn in_flight_bound() -> usize {
    let wanted = MAX_IN_FLIGHT as u64 + DESCRIPTORS_KEPT;
    let soft = rlimit::increase_nofile_limit(wanted).unwrap_or(1024);
    let bound = bound_for(soft);
    static WARNED: std::sync::Once = std::sync::Once::new();
    if bound < MAX_IN_FLIGHT {
        WARNED.call_once(|| {
            tracing::warn!(
                "the open-file limit is {soft}: at most {bound} upstream queries at once \
             (raise it, e.g. LimitNOFILE= in the systemd unit, for {MAX_IN_FLIGHT})"
            )
        });
    }
    bound
}

/// The upstream exchanges a soft descriptor limit of `soft` leaves room for.
fn bound_for(soft: u64) -> usize {
    let room = soft.saturating_sub(DESCRIPTORS_KEPT);
    usize::try_from(room)
        .unwrap_or(usize::MAX)
        .clamp(MIN_IN_FLIGHT, MAX_IN_FLIGHT)
}

/// Servers remembered as not echoing the letter case of a question (0x20).
pub const CASE_FALLBACK_CAPACITY: u64 = 10_000;

/// How long such a server is asked without 0x20 before it is tried again.
pub const CASE_FALLBACK_TTL: Duration = Duration::from_secs(3600);

/// Why an exchange with a server failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No matching reply before the time-out.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The network said no (e.g. connection refused: nothing listens there).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Only replies with our ID that are not DNS messages (or, over TCP, a broken one).
    #[error("a malformed reply")]
    Malformed,
    /// Our own query could not be encoded.
    #[error("the query cannot be encoded")]
    Encode,
    /// A retry was needed and the caller's budget allowed no more messages.
    #[error("no message left in the budget for a retry")]
    OverBudget,
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
    /// 0x20 (draft-vixie-dnsext-dns0x20): random letter case in the question,
    /// which the reply must echo; not for servers known not to.
    pub randomize_case: bool,
}

/// What one exchange may spend.
pub struct Allowance<'a> {
    /// The end of the whole exchange: every try, retry and fallback within it.
    pub deadline: Instant,
    /// The longest wait for one reply (less when the deadline is nearer).
    pub wait: Duration,
    /// Asked before every message after the first; `false` ends the
    /// exchange with [`TransportError::OverBudget`].
    pub permit: &'a mut (dyn FnMut() -> bool + Send),
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
    /// The messages this took: 1, more after a retry or TC.
    pub messages_sent: usize,
}

/// Sends queries to nameservers; shared by every resolution.
#[derive(Clone)]
pub struct Transport {
    source_address: Option<IpAddr>,
    in_flight: Arc<Semaphore>,
    no_case_echo: moka::sync::Cache<IpAddr, ()>,
    tap: Option<Tap>,
    /// TCP connections kept for the next query to their server.
    idle_tcp: Arc<reuse::IdleConnections>,
}

impl Transport {
    /// A transport sending from `source_address` (any address when `None`),
    /// reporting every message to `tap` if given, with as many exchanges at
    /// once as the descriptor limit allows ([`in_flight_bound`]).
    pub fn new(source_address: Option<IpAddr>, tap: Option<Tap>) -> Self {
        Self::with_in_flight(source_address, tap, in_flight_bound())
    }

    /// The same with at most `in_flight` exchanges at once instead of [`MAX_IN_FLIGHT`].
    pub fn with_in_flight(
        source_address: Option<IpAddr>,
        tap: Option<Tap>,
        in_flight: usize,
    ) -> Self {
        Transport {
            source_address,
            in_flight: Arc::new(Semaphore::new(in_flight)),
            no_case_echo: moka::sync::Cache::builder()
                .max_capacity(CASE_FALLBACK_CAPACITY)
                .time_to_live(CASE_FALLBACK_TTL)
                .build(),
            tap,
            idle_tcp: Arc::default(),
        }
    }

    /// Asks `server` one question, the whole exchange within `wait`, as many
    /// retries as the exchange needs (at most three).
    pub async fn exchange(
        &self,
        server: SocketAddr,
        ask: &Ask,
        wait: Duration,
    ) -> Result<Exchange, TransportError> {
        let allowance = Allowance {
            deadline: Instant::now() + wait,
            wait,
            permit: &mut || true,
        };
        self.exchange_within(server, ask, allowance).await
    }

    /// Asks `server` one question and returns the verified reply: over TCP
    /// when truncated or too big, without EDNS when EDNS is refused, without
    /// 0x20 when the server does not echo the case. The caller has paid for
    /// the first message; `allowance` says what the rest may spend.
    pub async fn exchange_within(
        &self,
        server: SocketAddr,
        ask: &Ask,
        allowance: Allowance<'_>,
    ) -> Result<Exchange, TransportError> {
        let Allowance {
            deadline,
            wait,
            permit,
        } = allowance;
        let _slot = timeout_at(deadline, self.in_flight.acquire())
            .await
            .map_err(|_| TransportError::Timeout(wait))?
            .map_err(|_| TransportError::Timeout(wait))?; // never closed
        let mut randomize = ask.randomize_case && !self.no_case_echo.contains_key(&server.ip());
        let mut edns = ask.edns;
        let mut messages_sent = 0;
        // Each pass sends one UDP query; a retry turns one of its two reasons
        // off, so there are three passes at most.
        loop {
            let until = next_try(deadline, wait, &mut messages_sent, permit)?;
            let query = query_for(ask, edns, randomize);
            let (reply, rtt) = match self
                .try_udp(server, &query, randomize, udp_limit(edns), until)
                .await?
            {
                Udp::Oversized => break,
                Udp::Reply {
                    echoed_case: false, ..
                } if randomize => {
                    tracing::debug!(%server, "the question's case is not echoed: again without 0x20");
                    self.no_case_echo.insert(server.ip(), ());
                    randomize = false;
                    continue;
                }
                Udp::Reply { reply, rtt, .. } => (reply, rtt),
            };
            let refused = matches!(
                reply.response_code,
                ResponseCode::FormErr | ResponseCode::NotImp
            );
            if edns && refused {
                edns = false;
                continue;
            }
            if reply.truncation {
                break;
            }
            return Ok(Exchange {
                reply,
                rtt,
                protocol: Protocol::Udp,
                messages_sent,
            });
        }
        let query = query_for(ask, edns, false);
        let spent = &mut messages_sent;
        let (reply, rtt) = self
            .over_tcp(server, query, deadline, wait, spent, permit)
            .await?;
        Ok(Exchange {
            reply,
            rtt,
            protocol: Protocol::Tcp,
            messages_sent,
        })
    }

    /// The local address to send to `server` from: the source address if of
    /// its family, else any; the port is the kernel's choice.
    fn local_address(&self, server: SocketAddr) -> SocketAddr {
        let ip = match (self.source_address, server.ip()) {
            (Some(ip), _) if ip.is_ipv4() == server.is_ipv4() => ip,
            (_, IpAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (_, IpAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(ip, 0)
    }

    /// The local address of an upstream socket, for the tap only (a system
    /// call saved when no one is watching).
    fn local_of(&self, socket: &socket2::Socket, server: SocketAddr) -> SocketAddr {
        let bound = || socket.local_addr().ok()?.as_socket();
        match self.tap.is_some() || crate::capture::is_recording() {
            true => bound().unwrap_or_else(|| self.local_address(server)),
            false => self.local_address(server),
        }
    }

    fn observe(&self, from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            tap(Datagram::new(from, to, protocol, bytes));
        }
        crate::capture::record(from, to, protocol, bytes);
    }
}

/// The end of the next try, after counting its message: the first is paid
/// for by the caller, every other needs `permit`; none once the deadline passed.
fn next_try(
    deadline: Instant,
    wait: Duration,
    messages_sent: &mut usize,
    permit: &mut (dyn FnMut() -> bool + Send),
) -> Result<Instant, TransportError> {
    let now = Instant::now();
    if now >= deadline {
        return Err(TransportError::Timeout(wait));
    }
    if *messages_sent > 0 && !permit() {
        return Err(TransportError::OverBudget);
    }
    *messages_sent += 1;
    Ok((now + wait).min(deadline))
}

/// The query for one try: a fresh ID, EDNS as given, the case randomized or not.
fn query_for(ask: &Ask, edns: bool, randomize: bool) -> Message {
    let mut query = query_message(&Ask {
        edns,
        ..ask.clone()
    });
    if randomize {
        for question in &mut query.queries {
            question.name.randomize_label_case(); // the reply must echo this exactly
        }
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::{Name, RecordType};

    #[test]
    fn the_descriptor_limit_bounds_the_exchanges_in_flight() {
        assert_eq!(bound_for(1024), 512, "a desktop shell's soft limit");
        assert_eq!(
            bound_for(65_536),
            MAX_IN_FLIGHT,
            "the systemd unit's LimitNOFILE"
        );
        assert_eq!(bound_for(256), MIN_IN_FLIGHT);
        let raised = in_flight_bound();
        assert!((MIN_IN_FLIGHT..=MAX_IN_FLIGHT).contains(&raised));
    }

    #[tokio::test]
    async fn beyond_the_bound_in_flight_a_query_waits_and_times_out_unsent() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        silent.set_nonblocking(true).expect("non-blocking");
        let server = silent.local_addr().expect("bound");
        let transport = Transport::with_in_flight(None, None, 2);
        let ask = Ask {
            query: Query::query(
                Name::from_ascii("www.example.").expect("valid"),
                RecordType::A,
            ),
            recursion_desired: false,
            edns: true,
            randomize_case: false,
        };
        // The third's deadline comes before the first two free their slots.
        let wait = Duration::from_millis(800);
        let (first, second, third) = tokio::join!(
            transport.exchange(server, &ask, wait),
            transport.exchange(server, &ask, wait),
            transport.exchange(server, &ask, wait / 2),
        );
        for result in [first, second, third] {
            assert!(
                matches!(result, Err(TransportError::Timeout(_))),
                "{result:?}"
            );
        }
        let mut buffer = [0u8; 512];
        let mut received = 0;
        while silent.recv_from(&mut buffer).is_ok() {
            received += 1;
        }
        assert_eq!(
            received, 2,
            "the third never had a slot, so it was never sent"
        );
    }
}
