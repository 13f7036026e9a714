//! Messages on the wire, as the server and the transport see them: the raw
//! material of `resolver trace`.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::time::Instant;

use crate::server::Protocol;

/// One DNS message that crossed the wire: who sent it to whom, and its bytes.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// The sender's address.
    pub from: SocketAddr,
    /// The receiver's address.
    pub to: SocketAddr,
    /// UDP or TCP.
    pub protocol: Protocol,
    /// The message exactly as sent (without the TCP length prefix).
    pub bytes: Vec<u8>,
    /// When it was sent or received.
    pub at: Instant,
}

impl Datagram {
    /// A datagram seen now.
    pub fn new(from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) -> Self {
        Datagram {
            from,
            to,
            protocol,
            bytes: bytes.to_vec(),
            at: Instant::now(),
        }
    }
}

/// Where servers and the transport report the messages they send and receive.
pub type Tap = Arc<dyn Fn(Datagram) + Send + Sync>;
