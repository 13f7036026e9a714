//! The DNS server: sockets in, a [`Handler`] in the middle, sockets out.
//!
//! ```text
//! UDP datagram ─┐                      ┌─ Ready(message) ─▶ encode (truncate to fit) ─▶ reply
//!               ├─▶ request::parse ─▶ Handler::handle
//! TCP message ──┘   (FORMERR, NOTIMP,   └─ Later(future) ─▶ task (bounded) ─▶ encode ─▶ reply
//!                    BADVERS decided here)
//! ```
//!
//! One server serves one address on UDP and TCP (RFC 1035 §4.2, RFC 7766).
//! The same code runs the authoritative servers and the resolver.

mod connections;
mod decision;
pub mod guard;
mod listener;
pub mod replay;
pub mod request;
mod tcp;
mod udp;
mod wire;
mod workers;

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use hickory_proto::op::Message;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use connections::{IDLE_FLOOR, idle_timeout};
pub use decision::{Decision, decide};
pub use guard::RateDecision;
use guard::{ClientCounter, RateLimiter};
pub use listener::{BindError, Listener};
pub use replay::{AnswerCache, Lifetime, QuickQuery};
pub use request::{Parsed, Protocol, Request};
pub use tcp::MAX_IN_FLIGHT;
pub use workers::start_workers;

use crate::capture::Tap;

/// What a handler makes of a request.
pub enum Response {
    /// The answer, ready now (authoritative data, a cache hit, an error).
    Ready(Message),
    /// The answer needs work (a resolution): the server runs it as a bounded task.
    Later(BoxFuture<'static, Message>),
    /// No answer at all.
    Drop,
}

/// Answers requests; implemented by the authoritative server and the resolver.
pub trait Handler: Send + Sync + 'static {
    /// Decides the answer to one well-formed query.
    fn handle(&self, request: &Request) -> Response;

    /// Whether the server may replay ready answers to `source` ([`replay`]),
    /// and how long one lives; `None` (the default): never.
    fn replay_lifetime(&self, _source: SocketAddr) -> Option<Lifetime> {
        None
    }

    /// The version of the data behind the answers: it changes when the
    /// cache is emptied or the zones are reloaded, and answers remembered
    /// under another version are not replayed.
    fn data_version(&self) -> u64 {
        0
    }

    /// Called with what the server does (every answer it sends, every
    /// query it rate-limits, every TCP connection it opens and closes), for
    /// the handler to count.
    fn observe(&self, _event: ServerEvent) {}
}

/// What a server reports to its handler ([`Handler::observe`]).
#[derive(Debug, Clone, Copy)]
pub enum ServerEvent<'a> {
    /// An answer sent; `replayed` when it was a remembered answer, not the handler's.
    Answered {
        /// How it went.
        protocol: Protocol,
        /// Its bytes.
        reply: &'a [u8],
        /// Whether it was replayed ([`replay`]).
        replayed: bool,
    },
    /// A UDP query dropped or answered with an empty TC reply by the rate limit.
    RateLimited,
    /// A TCP connection admitted.
    TcpOpened,
    /// A TCP connection closed.
    TcpClosed,
}

/// The bounds of one server, each driven by the network and each capped.
#[derive(Debug, Clone)]
pub struct Limits {
    /// UDP sockets per address (SO_REUSEPORT), each with its own receive loop.
    pub udp_sockets: usize,
    /// Answers being worked on at once ([`Response::Later`]); beyond it, SERVFAIL.
    pub pending_answers: usize,
    /// Answers being worked on at once for one client address; beyond it, SERVFAIL.
    pub pending_per_client: usize,
    /// TCP connections open at once; when all are taken, the one idle
    /// longest is closed for a new client (none idle: it waits in the backlog).
    pub tcp_connections: usize,
    /// TCP connections open at once from one client address; beyond, closed at once.
    pub tcp_connections_per_client: usize,
    /// A TCP connection with no query in progress and none read for this
    /// long is closed (RFC 7766 §6.2.3); shorter past half the slots used
    /// ([`idle_timeout`]). One whose reply cannot be written for this long is closed too.
    pub tcp_idle_timeout: Duration,
    /// UDP responses per second per client network (/24, /56); 0 for no limit.
    pub rate_limit: u32,
    /// Client networks never rate-limited.
    pub rate_limit_exempt: Vec<ipnet::IpNet>,
    /// The bytes of encoded answers remembered for replay ([`replay`]); 0 for none.
    pub replay_bytes: u64,
}

/// The bytes of encoded answers a server remembers by default.
pub const REPLAY_BYTES: u64 = 8 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            udp_sockets: 1,
            pending_answers: 1024,
            pending_per_client: 128,
            tcp_connections: 128,
            tcp_connections_per_client: 16,
            tcp_idle_timeout: Duration::from_secs(10),
            rate_limit: 0,
            rate_limit_exempt: Vec::new(),
            replay_bytes: REPLAY_BYTES,
        }
    }
}

/// State shared by every loop of one server.
struct Shared<H> {
    handler: Arc<H>,
    answers: Option<AnswerCache>,
    limits: Limits,
    pending: Arc<Semaphore>,
    pending_by_client: Arc<ClientCounter>,
    connections: Arc<connections::Connections>,
    tcp_by_client: Arc<ClientCounter>,
    rate_limiter: Option<RateLimiter>,
    tap: Option<Tap>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    received: AtomicU64,
}

/// The reply to one message from a client, as bytes.
enum Reply {
    /// Send these bytes now.
    Now(Vec<u8>),
    /// Send the bytes this future gives; it holds a pending-answer permit.
    Later(BoxFuture<'static, Vec<u8>>),
    /// Send nothing.
    Nothing,
}

impl<H: Handler> Shared<H> {
    /// Decodes a client's message and decides the reply: the one path for UDP and TCP.
    fn reply_to(&self, bytes: &[u8], source: SocketAddr, protocol: Protocol) -> Reply {
        let keepalive = (protocol == Protocol::Tcp).then(|| self.connections.idle_timeout());
        self.received.fetch_add(1, Ordering::Relaxed);
        let rate = match (&self.rate_limiter, protocol) {
            (Some(limiter), Protocol::Udp) => limiter.check(source.ip()),
            _ => RateDecision::Answer,
        };
        if rate != RateDecision::Answer {
            self.handler.observe(ServerEvent::RateLimited);
        }
        match decide(
            &*self.handler,
            self.answers.as_ref(),
            bytes,
            source,
            protocol,
            rate,
            keepalive,
        ) {
            Decision::Now(bytes) => Reply::Now(bytes),
            Decision::Later {
                request,
                answer,
                limit,
                keepalive,
            } => self.later(request, answer, limit, keepalive),
            Decision::Nothing => Reply::Nothing,
        }
    }

    /// Runs an answer that needs work, if the server-wide and per-client
    /// bounds allow; else SERVFAIL at once. Either reply tells `keepalive`.
    fn later(
        &self,
        request: Box<Request>,
        answer: BoxFuture<'static, Message>,
        limit: usize,
        keepalive: Option<Duration>,
    ) -> Reply {
        let slot = self.pending_by_client.try_acquire(request.source.ip());
        match (self.pending.clone().try_acquire_owned(), slot) {
            (Ok(permit), Some(slot)) => {
                let handler = self.handler.clone();
                Reply::Later(Box::pin(async move {
                    // A handler's bug must not take the client's answer, or
                    // the bounds it holds, down with it: SERVFAIL instead.
                    let message = AssertUnwindSafe(answer)
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| {
                            tracing::error!(client = %request.source, "an answer panicked: SERVFAIL (a bug: please report it)");
                            request.error(hickory_proto::op::ResponseCode::ServFail)
                        });
                    drop((permit, slot));
                    let mut encoded = request::encode(&message, limit);
                    if let Some(idle) = keepalive {
                        wire::tell_keepalive(&mut encoded, idle);
                    }
                    handler.observe(ServerEvent::Answered {
                        protocol: request.protocol,
                        reply: &encoded,
                        replayed: false,
                    });
                    encoded
                }))
            }
            _ => {
                tracing::debug!(client = %request.source, "too many answers in progress: SERVFAIL");
                let busy = request.error(hickory_proto::op::ResponseCode::ServFail);
                let mut encoded = request::encode(&busy, limit);
                if let Some(idle) = keepalive {
                    wire::tell_keepalive(&mut encoded, idle);
                }
                Reply::Now(encoded)
            }
        }
    }

    /// Shows a message that crossed the wire to the tap, if one listens.
    fn observe(&self, from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            tap(crate::capture::Datagram::new(from, to, protocol, bytes));
        }
    }
}

/// What a server did, reported when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Messages received from clients (UDP and TCP), well-formed or not.
    pub messages: u64,
}

/// Serves a bound listener until `shutdown` is cancelled, then lets answers
/// in progress finish (bounded by the handler's own deadlines).
pub async fn serve<H: Handler>(
    listener: Listener,
    handler: Arc<H>,
    limits: Limits,
    tap: Option<Tap>,
    shutdown: CancellationToken,
) -> Served {
    let shared = Arc::new(Shared {
        handler,
        answers: (limits.replay_bytes > 0).then(|| AnswerCache::new(limits.replay_bytes)),
        pending: Arc::new(Semaphore::new(limits.pending_answers)),
        pending_by_client: ClientCounter::new(limits.pending_per_client),
        connections: connections::Connections::new(limits.tcp_connections, limits.tcp_idle_timeout),
        tcp_by_client: ClientCounter::new(limits.tcp_connections_per_client),
        rate_limiter: RateLimiter::new(limits.rate_limit, limits.rate_limit_exempt.clone()),
        limits,
        tap,
        shutdown,
        tasks: TaskTracker::new(),
        received: AtomicU64::new(0),
    });
    let mut loops = Vec::new();
    for socket in listener.udp {
        loops.push(workers::spawn_loop(udp::receive_loop(
            socket,
            shared.clone(),
        )));
    }
    loops.push(tokio::spawn(tcp::accept_loop(listener.tcp, shared.clone())));
    for handle in loops {
        // A loop only ends on shutdown; a panic in one must not hide the others' drain.
        let _ = handle.await;
    }
    shared.tasks.close();
    shared.tasks.wait().await;
    Served {
        messages: shared.received.load(Ordering::Relaxed),
    }
}
