//! The TCP side of a server: length-prefixed messages (RFC 1035 §4.2.2),
//! several per connection, idle connections closed (RFC 7766 §6.2.3).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol as SocketProtocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::timeout;

use super::guard::ClientSlot;
use super::{Handler, Protocol, Reply, Shared};

/// Pending connections the kernel keeps for us.
const BACKLOG: i32 = 1024;

/// Pause after a failed accept (e.g. out of file descriptors) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Binds the TCP listener (SO_REUSEADDR, so a restart need not wait out TIME_WAIT).
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

/// Accepts connections until shutdown, at most `tcp_connections` at once.
pub(super) async fn accept_loop<H: Handler>(listener: TcpListener, shared: Arc<Shared<H>>) {
    loop {
        let permit = tokio::select! {
            permit = shared.tcp_slots.clone().acquire_owned() => permit,
            _ = shared.shutdown.cancelled() => return,
        };
        let Ok(permit) = permit else {
            return; // the semaphore is never closed; nothing left to do if it were
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shared.shutdown.cancelled() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                // One client may not hold every slot: beyond its share, close at once.
                let Some(slot) = shared.tcp_by_client.try_acquire(peer.ip()) else {
                    tracing::debug!(client = %peer, "too many TCP connections from one client");
                    continue;
                };
                let connection_shared = shared.clone();
                shared
                    .tasks
                    .spawn(connection(stream, peer, connection_shared, (permit, slot)));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

/// Serves one connection: read a query, answer it, until idle, closed or shutdown.
async fn connection<H: Handler>(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<H>>,
    _held: (OwnedSemaphorePermit, ClientSlot),
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let idle = shared.limits.tcp_idle_timeout;
    loop {
        let length = tokio::select! {
            length = timeout(idle, stream.read_u16()) => length,
            _ = shared.shutdown.cancelled() => return,
        };
        let Ok(Ok(length)) = length else {
            return; // idle too long, closed, or broken
        };
        let mut message = vec![0u8; length as usize];
        if !matches!(
            // The rest of the message must come within the idle time too:
            // a client sending a byte a second is closed like an idle one.
            timeout(idle, stream.read_exact(&mut message)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        shared.observe(peer, local, Protocol::Tcp, &message);
        let reply = match shared.reply_to(&message, peer, Protocol::Tcp) {
            Reply::Now(reply) => reply,
            Reply::Later(answer) => answer.await,
            Reply::Nothing => continue,
        };
        shared.observe(local, peer, Protocol::Tcp, &reply);
        if write_message(&mut stream, &reply, idle).await.is_err() {
            return;
        }
    }
}

/// Writes one length-prefixed message within `limit`: a client that does
/// not read is closed, not waited for.
async fn write_message(stream: &mut TcpStream, message: &[u8], limit: Duration) -> io::Result<()> {
    let length = u16::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message over 65535 octets"))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);
    match timeout(limit, stream.write_all(&framed)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
    }
}
