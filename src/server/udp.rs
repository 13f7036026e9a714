//! The UDP side of a server: receive loops, one per SO_REUSEPORT socket.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use socket2::{Domain, Protocol as SocketProtocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::{Handler, Protocol, Reply, Shared};
use crate::batch::{self, BATCH, Received};

/// The largest datagram we read: anything bigger than a DNS message can be is cut.
const RECEIVE_BUFFER: usize = 65_535;

/// Binds one UDP socket with SO_REUSEPORT, so that several can share the address.
pub(super) fn bind(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(SocketProtocol::UDP),
    )?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    UdpSocket::from_std(socket.into())
}

/// Replies of finished answers waiting for the receive loop to send them.
type Finished = mpsc::Sender<(SocketAddr, Vec<u8>)>;

/// Receives queries until shutdown, a batch at a time; answers ready ones
/// inline and runs the others as tasks. Replies leave in batches: those of
/// one batch of queries together, and those of answers that finished
/// around the same time together.
pub(super) async fn receive_loop<H: Handler>(socket: Arc<UdpSocket>, shared: Arc<Shared<H>>) {
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let fd = socket.as_raw_fd();
    let mut received = Received::default();
    let mut replies: Vec<(SocketAddr, Vec<u8>)> = Vec::with_capacity(BATCH);
    let (finished, mut finished_replies) = mpsc::channel(BATCH * 4);
    loop {
        tokio::select! {
            ready = socket.readable() => if ready.is_err() { continue },
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
            _ = shared.shutdown.cancelled() => return,
        }
        match socket.try_io(Interest::READABLE, || batch::receive(fd, &mut received)) {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(error) if error.kind() == io::ErrorKind::Unsupported => {
                receive_one(&socket, local, &shared, &finished).await;
                continue;
            }
            Err(_) => continue, // a transient receive error concerns datagrams, not the server
        }
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
    let Ok((length, source)) = socket.try_recv_from(&mut buffer) else {
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
            let _ = socket.send_to(&reply, destination).await; // a lost reply is the client's to retry
        }
    });
}

/// Sends a batch of replies: as many per call as the socket takes, the rest
/// one by one once it can take more. A lost reply is the client's to retry.
async fn send_all(socket: &UdpSocket, replies: &mut Vec<(SocketAddr, Vec<u8>)>) {
    let fd = socket.as_raw_fd();
    let mut sent = 0;
    while sent < replies.len() {
        match socket.try_io(Interest::WRITABLE, || batch::send(fd, &replies[sent..])) {
            Ok(0) => break,
            Ok(count) => sent += count,
            Err(_) => {
                for (destination, reply) in &replies[sent..] {
                    let _ = socket.send_to(reply, destination).await;
                }
                break;
            }
        }
    }
    replies.clear();
}

async fn send<H: Handler>(
    socket: &UdpSocket,
    local: SocketAddr,
    shared: &Shared<H>,
    reply: &[u8],
    destination: SocketAddr,
) {
    // Reported as it is sent, so that a tap sees it before the client can.
    shared.observe(local, destination, Protocol::Udp, reply);
    let _ = socket.send_to(reply, destination).await; // a lost reply is the client's to retry
}
