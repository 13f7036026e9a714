//! The tap: every DNS message a server or the transport sends or receives,
//! reported as it crosses the wire, for `trace` (and tests) to collect.
//!
//! ```text
//! server ──┐
//!          ├─▶ Tap(Datagram) ─▶ Collector ─▶ trace::describe ─▶ text | json
//! transport┘
//! ```
//!
//! This module depends on nothing else in the crate, so the layers that
//! report (server, transport, lab) and the one that reads (trace) do not
//! depend on each other.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

/// The transport a message came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// UDP: one datagram, size-limited.
    Udp,
    /// TCP: length-prefixed messages (RFC 1035 §4.2.2, RFC 7766).
    Tcp,
}

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

/// The most messages a collector keeps between two `take`s.
const COLLECTOR_CAPACITY: usize = 10_000;

/// Keeps the messages reported to its tap, in the order they happened.
#[derive(Default)]
pub struct Collector {
    datagrams: Mutex<Vec<Datagram>>,
}

impl Collector {
    /// A new, empty collector.
    pub fn new() -> Arc<Self> {
        Arc::new(Collector::default())
    }

    /// The tap that feeds this collector.
    pub fn tap(self: &Arc<Self>) -> Tap {
        let collector = self.clone();
        Arc::new(move |datagram| {
            let mut datagrams = collector
                .datagrams
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if datagrams.len() < COLLECTOR_CAPACITY {
                datagrams.push(datagram);
            }
        })
    }

    /// Every message collected since the last call.
    pub fn take(&self) -> Vec<Datagram> {
        std::mem::take(&mut *self.datagrams.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
