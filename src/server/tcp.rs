//! The TCP side of a server: length-prefixed messages (RFC 1035 §4.2.2),
//! pipelined and answered out of order (RFC 7766 §6.2.1.1), and idle
//! connections closed (RFC 7766 §6.2.3); the idle timeout as it stands is
//! told to a client that asks with the edns-tcp-keepalive option (RFC 7828
//! §3.3) in its reply, as decision.rs makes it.
//!
//! ```text
//! one connection, one task:
//!   read query ─▶ reply_to ─▶ answers in flight (≤ MAX_IN_FLIGHT) ─▶ first done ─▶ write
//!        ▲                        full: stop reading until one is written │
//!        └────────────────────────────────────────────────────────────────┘
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use socket2::{Domain, Protocol as SocketProtocol, Socket, Type};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep_until, timeout};

use super::connections::Registration;
use super::{Handler, Protocol, Reply, ServerEvent, Shared};
use crate::framing::{self, FramingError};

/// Pending connections the kernel keeps for us.
const BACKLOG: i32 = 1024;

/// How long a new client beyond its share waits for its connection idle
/// longest to close (it only has to notice; a few milliseconds).
const MAKE_WAY_WAIT: Duration = Duration::from_millis(500);

/// Pause after a failed accept (e.g. out of file descriptors) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Queries of one connection worked on at once; beyond, the server stops
/// reading from it until one is answered, so one client cannot make
/// unbounded work (RFC 7766 §6.2.1.1 leaves the bound to the server).
pub const MAX_IN_FLIGHT: usize = 32;

/// Binds the TCP listener (SO_REUSEADDR, so a restart need not wait out
/// TIME_WAIT; Linux still refuses a second listener on the same address).
pub(super) fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(SocketProtocol::TCP),
    )?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Accepts connections until shutdown, at most `tcp_connections` at once:
/// when every slot is taken, the connection idle longest makes way.
pub(super) async fn accept_loop<H: Handler>(listener: TcpListener, shared: Arc<Shared<H>>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shared.shutdown.cancelled() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // One client may not hold every slot: beyond its share, its own
        // connection idle longest makes way; with none idle, the newcomer
        // is closed at once.
        let client_slot = match shared.tcp_by_client.try_acquire(peer.ip()) {
            Some(slot) => slot,
            None => {
                let made_way = match shared.connections.make_way_for(peer.ip()) {
                    Some(ended) => timeout(MAKE_WAY_WAIT, ended.cancelled()).await.is_ok(),
                    None => false,
                };
                match shared.tcp_by_client.try_acquire(peer.ip()) {
                    Some(slot) if made_way => slot,
                    _ => {
                        tracing::debug!(client = %peer, "too many TCP connections from one client");
                        continue;
                    }
                }
            }
        };
        let Some(mut registration) = shared.connections.admit(&shared.shutdown, peer.ip()).await
        else {
            return; // shutdown
        };
        registration.client_slot = Some(client_slot);
        let connection_shared = shared.clone();
        shared
            .tasks
            .spawn(connection(stream, peer, connection_shared, registration));
    }
}

/// One message read, with the read half handed back for the next.
async fn read_next(mut reader: OwnedReadHalf) -> (OwnedReadHalf, Result<Vec<u8>, FramingError>) {
    let message = framing::read_message(&mut reader).await;
    (reader, message)
}

/// Serves one connection until it is idle, closed, made way or shut down:
/// reads queries while earlier ones are worked on, and writes each reply
/// as soon as it is ready. Answers in flight are finished and written
/// before the connection closes, unless writing fails.
async fn connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<H>>,
    registration: Registration,
) {
    shared.handler.observe(ServerEvent::TcpOpened);
    let _closed = Closed(&*shared.handler);
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let state = &registration.state;
    let write_limit = shared.limits.tcp_idle_timeout;
    let mut count = shared.connections.watch();
    let (reader, mut writer) = stream.into_split();
    // Kept across loop turns: dropping it half-way would lose part of a message.
    let mut read = Box::pin(read_next(reader));
    let mut reading = true;
    let mut answers: FuturesUnordered<BoxFuture<'static, Vec<u8>>> = FuturesUnordered::new();
    loop {
        // Measured from the last query or reply, so a client that sends a
        // byte at a time is closed like an idle one; shorter as slots fill.
        let idle_deadline = state.last_activity() + shared.connections.idle_timeout();
        tokio::select! {
            biased;
            Some(reply) = answers.next() => {
                state.set_in_flight(answers.len() + 1); // still ours until written
                shared.observe(local, peer, Protocol::Tcp, &reply);
                // A client that does not read is closed, not waited for.
                let written = timeout(write_limit, framing::write_message(&mut writer, &reply)).await;
                if !matches!(written, Ok(Ok(()))) {
                    return;
                }
                state.touch();
                state.set_in_flight(answers.len());
            }
            (reader, message) = &mut read, if reading && answers.len() < MAX_IN_FLIGHT => {
                let Ok(message) = message else {
                    // Closed or broken: finish what was asked, then close
                    // at once (not after the idle time-out).
                    if answers.is_empty() {
                        return;
                    }
                    reading = false;
                    continue;
                };
                read.set(read_next(reader));
                state.touch();
                shared.observe(peer, local, Protocol::Tcp, &message);
                let answer = match shared.reply_to(&message, peer, Protocol::Tcp) {
                    Reply::Now(reply) => Some(futures::future::ready(reply).boxed()),
                    Reply::Later(answer) => Some(answer),
                    Reply::Nothing => None,
                };
                if let Some(answer) = answer {
                    answers.push(answer);
                }
                state.set_in_flight(answers.len());
            }
            _ = sleep_until(idle_deadline), if answers.is_empty() => return,
            // The idle time-out may have changed: measure again.
            Ok(()) = count.changed() => {}
            _ = state.close.cancelled(), if reading => reading = false,
        }
        if !reading && answers.is_empty() {
            return;
        }
    }
}

/// Tells the handler a connection closed, on every way out of it.
struct Closed<'a, H: Handler>(&'a H);

impl<H: Handler> Drop for Closed<'_, H> {
    fn drop(&mut self) {
        self.0.observe(ServerEvent::TcpClosed);
    }
}
