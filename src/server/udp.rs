//! The UDP side of a server: receive loops, one per SO_REUSEPORT socket.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use socket2::{Domain, Protocol as SocketProtocol, Socket, Type};
use tokio::net::UdpSocket;

use super::{Handler, Protocol, Reply, Shared};

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

/// Receives queries until shutdown; answers ready ones inline and runs the others as tasks.
pub(super) async fn receive_loop<H: Handler>(socket: Arc<UdpSocket>, shared: Arc<Shared<H>>) {
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            _ = shared.shutdown.cancelled() => return,
        };
        let Ok((length, source)) = received else {
            continue; // a transient receive error concerns one datagram, not the server
        };
        let bytes = &buffer[..length];
        shared.observe(source, local, Protocol::Udp, bytes);
        match shared.reply_to(bytes, source, Protocol::Udp) {
            Reply::Now(reply) => send(&socket, local, &shared, &reply, source).await,
            Reply::Later(answer) => {
                let socket = socket.clone();
                let task_shared = shared.clone();
                shared.tasks.spawn(async move {
                    let reply = answer.await;
                    send(&socket, local, &task_shared, &reply, source).await;
                });
            }
            Reply::Nothing => {}
        }
    }
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
