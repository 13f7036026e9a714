//! The UDP side of a server: receive loops, one per SO_REUSEPORT socket.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol as SocketProtocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::{Handler, Protocol, Reply, Shared};
use crate::batch::{self, BATCH, Received};

/// The largest datagram we read: anything bigger than a DNS message can be is cut.
const RECEIVE_BUFFER: usize = 65_535;

/// The kernel's queue of a listening socket, each way, in bytes: a burst
/// of thousands of queries waits there instead of being dropped (the
/// default, about 208 KiB, holds a few hundred). Asked for, not forced: the
/// kernel caps it at `net.core.rmem_max` / `wmem_max` (Unbound's `so-rcvbuf`).
const SOCKET_BUFFER: usize = 4 << 20;

/// Binds one UDP socket with SO_REUSEPORT, so that several of ours can
/// share the address. With `beside_wildcard`, SO_REUSEADDR too, so that it
/// can sit beside a socket holding the wildcard address on the same port
/// with SO_REUSEADDR (an mDNS responder on `*:5353`): see [`super::Listener::bind`].
pub(super) fn bind(address: SocketAddr, beside_wildcard: bool) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(SocketProtocol::UDP),
    )?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_port(true)?;
    if beside_wildcard {
        socket.set_reuse_address(true)?;
    }
    socket.set_nonblocking(true)?;
    // Best effort: a smaller queue only means drops under a burst.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.bind(&address.into())?;
    Ok(socket.into())
}

/// A listening socket in the hands of the reactor of the loop serving it,
/// watched for reading only: replies are sent at once (a UDP socket has
/// room nearly always), so that the room every sent datagram frees does
/// not wake the loop for nothing ([`wait_for_room`] when it has none).
type UdpSocket = AsyncFd<std::net::UdpSocket>;

/// The longest wait for room to send a reply; past it the reply is lost,
/// the client's to ask again, as a datagram the network dropped.
const SEND_WAIT: Duration = Duration::from_secs(1);

/// Whether a UDP socket is bound to exactly `address` (its IP and port, not
/// the wildcard), from the kernel's table (`/proc/net/udp`, `/proc/net/udp6`).
/// `None` when the table cannot be read (not Linux): then nobody can tell.
pub(super) fn held_exactly(address: SocketAddr) -> Option<bool> {
    let table = if address.is_ipv4() {
        "/proc/net/udp"
    } else {
        "/proc/net/udp6"
    };
    let text = std::fs::read_to_string(table).ok()?;
    Some(
        text.lines()
            .skip(1) // the column headings
            .filter_map(|line| line.split_whitespace().nth(1))
            .filter_map(parse_table_address)
            .any(|bound| bound == address),
    )
}

/// A local address as the kernel's table prints it: the address as it lies
/// in memory, 32 bits at a time in hex, then `:` and the port in hex.
fn parse_table_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut octets = Vec::with_capacity(16);
    for word in ip.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()?;
        octets.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match octets.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(octets).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(octets).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Replies of finished answers waiting for the receive loop to send them.
type Finished = mpsc::Sender<(SocketAddr, Vec<u8>)>;

/// Receives queries until shutdown, a batch at a time; answers ready ones
/// inline and runs the others as tasks. Replies leave in batches: those of
/// one batch of queries together, and those of answers that finished
/// around the same time together.
///
/// A batch smaller than the buffers emptied the socket's queue, so the
/// socket is marked not ready at once: the next datagram wakes the loop,
/// and no receive is spent only to hear "nothing more" (a datagram costs
/// one receive and one send).
pub(super) async fn receive_loop<H: Handler>(socket: std::net::UdpSocket, shared: Arc<Shared<H>>) {
    let Ok(local) = socket.local_addr() else {
        return;
    };
    // SAFETY: the socket owns its descriptor, which stays open and the same
    // until the `AsyncFd` that now owns the socket is dropped.
    let watched = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) };
    let Ok(socket) = watched.map(Arc::new) else {
        tracing::error!(%local, "the UDP socket could not be watched");
        return;
    };
    let fd = socket.as_raw_fd();
    let mut received = Received::default();
    let mut replies: Vec<(SocketAddr, Vec<u8>)> = Vec::with_capacity(BATCH);
    let (finished, mut finished_replies) = mpsc::channel(BATCH * 4);
    // Waited on across the loop, not made anew (and registered) per datagram.
    let stopped = shared.shutdown.cancelled();
    tokio::pin!(stopped);
    loop {
        let mut ready = tokio::select! {
            // Shutdown first, then replies of finished answers (each frees
            // an answer's task), then queries: no random order drawn per datagram.
            biased;
            _ = &mut stopped => return,
            Some(reply) = finished_replies.recv() => {
                replies.push(reply);
                while replies.len() < BATCH
                    && let Ok(reply) = finished_replies.try_recv()
                {
                    replies.push(reply);
                }
                send_all(&socket, &mut replies).await;
                continue;
            }
            ready = socket.readable() => match ready {
                Ok(ready) => ready,
                Err(_) => continue,
            },
        };
        match ready.try_io(|_| batch::receive(fd, &mut received)) {
            Ok(Ok(count)) if count < received.slots() => ready.clear_ready(),
            Ok(Ok(_)) => {}
            Ok(Err(error)) if error.kind() == io::ErrorKind::Unsupported => {
                drop(ready);
                receive_one(&socket, local, &shared, &finished).await;
                continue;
            }
            // A transient receive error concerns datagrams, not the server.
            Ok(Err(_)) | Err(_) => continue,
        }
        drop(ready);
        for (bytes, source) in received.datagrams() {
            shared.observe(source, local, Protocol::Udp, bytes);
            match shared.reply_to(bytes, source, Protocol::Udp) {
                Reply::Now(reply) => {
                    // Reported as it is sent, so that a tap sees it before the client can.
                    shared.observe(local, source, Protocol::Udp, &reply);
                    replies.push((source, reply));
                }
                Reply::Later(answer) => {
                    spawn_answer(&socket, local, &shared, &finished, answer, source)
                }
                Reply::Nothing => {}
            }
        }
        send_all(&socket, &mut replies).await;
    }
}

/// The same, one datagram, where batches are not available.
async fn receive_one<H: Handler>(
    socket: &Arc<UdpSocket>,
    local: SocketAddr,
    shared: &Arc<Shared<H>>,
    finished: &Finished,
) {
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    let Ok((length, source)) =
        socket.try_io(Interest::READABLE, |socket| socket.recv_from(&mut buffer))
    else {
        return;
    };
    let bytes = &buffer[..length];
    shared.observe(source, local, Protocol::Udp, bytes);
    match shared.reply_to(bytes, source, Protocol::Udp) {
        Reply::Now(reply) => send(socket, local, shared, &reply, source).await,
        Reply::Later(answer) => spawn_answer(socket, local, shared, finished, answer, source),
        Reply::Nothing => {}
    }
}

/// Runs an answer that needs work as a task; its reply goes to the receive
/// loop to leave with others, or alone once the loop has stopped (shutdown).
fn spawn_answer<H: Handler>(
    socket: &Arc<UdpSocket>,
    local: SocketAddr,
    shared: &Arc<Shared<H>>,
    finished: &Finished,
    answer: futures::future::BoxFuture<'static, Vec<u8>>,
    destination: SocketAddr,
) {
    let socket = socket.clone();
    let task_shared = shared.clone();
    let finished = finished.clone();
    shared.tasks.spawn(async move {
        let reply = answer.await;
        task_shared.observe(local, destination, Protocol::Udp, &reply);
        if let Err(mpsc::error::SendError((destination, reply))) =
            finished.send((destination, reply)).await
        {
            // A lost reply is the client's to retry.
            let _ = send_to(&socket, &reply, destination).await;
        }
    });
}

/// Sends a batch of replies: as many per call as the socket takes, waiting
/// for room when it has none; one by one past a reply it refuses (or where
/// batches are not available). A lost reply is the client's to retry.
async fn send_all(socket: &UdpSocket, replies: &mut Vec<(SocketAddr, Vec<u8>)>) {
    let fd = socket.as_raw_fd();
    let mut sent = 0;
    while sent < replies.len() {
        match batch::send(fd, &replies[sent..]) {
            Ok(0) => break,
            Ok(count) => sent += count,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                if wait_for_room(socket).await.is_err() {
                    break;
                }
            }
            Err(_) => {
                for (destination, reply) in &replies[sent..] {
                    let _ = send_to(socket, reply, *destination).await;
                }
                break;
            }
        }
    }
    replies.clear();
}

/// Sends one reply, shown to the tap first.
async fn send<H: Handler>(
    socket: &UdpSocket,
    local: SocketAddr,
    shared: &Shared<H>,
    reply: &[u8],
    destination: SocketAddr,
) {
    // Reported as it is sent, so that a tap sees it before the client can.
    shared.observe(local, destination, Protocol::Udp, reply);
    let _ = send_to(socket, reply, destination).await; // a lost reply is the client's to retry
}

/// Sends one datagram, waiting for room if the socket has none.
async fn send_to(socket: &UdpSocket, reply: &[u8], destination: SocketAddr) -> io::Result<usize> {
    match socket.get_ref().send_to(reply, destination) {
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
            wait_for_room(socket).await?;
            socket.get_ref().send_to(reply, destination)
        }
        sent => sent,
    }
}

/// Waits, at most [`SEND_WAIT`], until `socket` has room to send: through
/// a second descriptor of it watched for writing alone for that while (the
/// socket's own is watched for reading only).
async fn wait_for_room(socket: &UdpSocket) -> io::Result<()> {
    let writer = socket.get_ref().try_clone()?;
    // SAFETY: the clone owns its own descriptor, open and the same until
    // the `AsyncFd` owning it is dropped at the end of this function.
    let writer = unsafe { AsyncFd::register_with_interest(writer, Interest::WRITABLE) }?;
    match tokio::time::timeout(SEND_WAIT, writer.writable()).await {
        Ok(ready) => ready.map(drop),
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_table_reads_as_socket_addresses() {
        let loopback = u32::from_ne_bytes([127, 0, 0, 1]);
        let text = format!("{loopback:08X}:14E9");
        assert_eq!(
            parse_table_address(&text),
            Some("127.0.0.1:5353".parse().expect("valid"))
        );
        let one = u32::from_ne_bytes([0, 0, 0, 1]);
        let text = format!("{}{one:08X}:0035", "0".repeat(24));
        assert_eq!(
            parse_table_address(&text),
            Some("[::1]:53".parse().expect("valid"))
        );
        assert_eq!(parse_table_address("zz:1"), None);
    }

    #[tokio::test]
    async fn waiting_for_room_watches_a_second_descriptor_and_leaves_reading_alone() {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        std_socket.set_nonblocking(true).expect("non-blocking");
        let address = std_socket.local_addr().expect("bound");
        // SAFETY: the socket owns its descriptor until the AsyncFd is dropped.
        let socket = unsafe { AsyncFd::register_with_interest(std_socket, Interest::READABLE) }
            .expect("watched");
        tokio::time::timeout(Duration::from_secs(5), wait_for_room(&socket))
            .await
            .expect("a socket with room says so at once")
            .expect("the second descriptor is watched");
        // The socket's own watcher still hears a datagram.
        let client = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        client.send_to(b"ping", address).expect("send");
        let mut buffer = [0u8; 16];
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            socket.async_io(Interest::READABLE, |s| s.recv_from(&mut buffer)),
        )
        .await
        .expect("readable")
        .expect("received");
        assert_eq!(&buffer[..read.0], b"ping");
        let sent = send_to(&socket, b"pong", read.1).await.expect("sent");
        assert_eq!(sent, 4);
    }

    #[test]
    fn a_socket_we_hold_is_found_in_the_table() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let address = socket.local_addr().expect("bound");
        if let Some(held) = held_exactly(address) {
            assert!(held);
            drop(socket);
            assert_eq!(held_exactly(address), Some(false));
        }
    }
}
