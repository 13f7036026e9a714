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

pub mod request;
mod tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use hickory_proto::op::Message;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use request::{Parsed, Protocol, Request};

use crate::trace::Tap;

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
}

/// The bounds of one server, each driven by the network and each capped.
#[derive(Debug, Clone)]
pub struct Limits {
    /// UDP sockets per address (SO_REUSEPORT), each with its own receive loop.
    pub udp_sockets: usize,
    /// Answers being worked on at once ([`Response::Later`]); beyond it, SERVFAIL.
    pub pending_answers: usize,
    /// TCP connections open at once; further clients wait in the listen backlog.
    pub tcp_connections: usize,
    /// A TCP connection with no complete query for this long is closed (RFC 7766 §6.2.3).
    pub tcp_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            udp_sockets: 1,
            pending_answers: 1024,
            tcp_connections: 128,
            tcp_idle_timeout: Duration::from_secs(10),
        }
    }
}

/// Sockets bound to one address: UDP and TCP on the same port.
#[derive(Debug)]
pub struct Listener {
    udp: Vec<tokio::net::UdpSocket>,
    tcp: tokio::net::TcpListener,
    address: SocketAddr,
}

impl Listener {
    /// Binds UDP and TCP at `address` (port 0 picks a free port, the same for both).
    ///
    /// A plain bind goes first, so that an address already in use is an
    /// error here instead of a silent SO_REUSEPORT share with another process.
    pub fn bind(address: SocketAddr, udp_sockets: usize) -> io::Result<Self> {
        let probe = std::net::UdpSocket::bind(address)?;
        let address = probe.local_addr()?;
        let tcp = tcp::bind(address)?;
        drop(probe);
        let udp = (0..udp_sockets.max(1))
            .map(|_| udp::bind(address))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Listener { udp, tcp, address })
    }

    /// The address served, with the actual port.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }
}

/// State shared by every loop of one server.
struct Shared<H> {
    handler: Arc<H>,
    limits: Limits,
    pending: Arc<Semaphore>,
    tcp_slots: Arc<Semaphore>,
    tap: Option<Tap>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
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
        let request = match request::parse(bytes, source, protocol) {
            Parsed::Request(request) => request,
            Parsed::Reply(message) => {
                return Reply::Now(request::encode(&message, request::CLASSIC_UDP_SIZE));
            }
            Parsed::Drop => return Reply::Nothing,
        };
        let limit = request.max_response_size();
        match self.handler.handle(&request) {
            Response::Ready(message) => Reply::Now(request::encode(&message, limit)),
            Response::Drop => Reply::Nothing,
            Response::Later(answer) => match self.pending.clone().try_acquire_owned() {
                Ok(permit) => Reply::Later(Box::pin(async move {
                    let message = answer.await;
                    drop(permit);
                    request::encode(&message, limit)
                })),
                Err(_) => {
                    let busy = request.error(hickory_proto::op::ResponseCode::ServFail);
                    Reply::Now(request::encode(&busy, limit))
                }
            },
        }
    }

    /// Shows a message that crossed the wire to the tap, if one listens.
    fn observe(&self, from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) {
        if let Some(tap) = &self.tap {
            tap(crate::trace::Datagram::new(from, to, protocol, bytes));
        }
    }
}

/// Serves a bound listener until `shutdown` is cancelled, then lets answers
/// in progress finish (bounded by the handler's own deadlines).
pub async fn serve<H: Handler>(
    listener: Listener,
    handler: Arc<H>,
    limits: Limits,
    tap: Option<Tap>,
    shutdown: CancellationToken,
) {
    let shared = Arc::new(Shared {
        handler,
        pending: Arc::new(Semaphore::new(limits.pending_answers)),
        tcp_slots: Arc::new(Semaphore::new(limits.tcp_connections)),
        limits,
        tap,
        shutdown,
        tasks: TaskTracker::new(),
    });
    let mut loops = Vec::new();
    for socket in listener.udp {
        loops.push(tokio::spawn(udp::receive_loop(
            Arc::new(socket),
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
}
