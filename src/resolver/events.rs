//! The questions the resolver answers, published as each is answered, for
//! whoever watches (`GET /events`, `resolver control watch`, the live
//! page): bounded, and free when no one watches.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use tokio::sync::broadcast;

use crate::capture::Datagram;

/// How many answered questions a slow watcher may fall behind before it
/// misses some (it is told how many).
pub const EVENTS_CAPACITY: usize = 256;

/// One client question, answered.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The client.
    pub client: SocketAddr,
    /// The name asked.
    pub name: Name,
    /// The type asked.
    pub record_type: RecordType,
    /// The answer's RCODE.
    pub rcode: ResponseCode,
    /// Whether the cache answered it.
    pub cached: bool,
    /// Upstream queries sent for it.
    pub upstream_queries: usize,
    /// How long the answer took.
    pub elapsed: Duration,
    /// When it was answered.
    pub at: SystemTime,
    /// The upstream messages of its resolution, in order (none from the cache).
    pub messages: Vec<Datagram>,
    /// The client's query, encoded.
    pub query: Vec<u8>,
    /// The answer it got, encoded (before truncation to the client's size).
    pub response: Vec<u8>,
}

/// Where answered questions are published.
#[derive(Debug)]
pub struct Events {
    sender: broadcast::Sender<Arc<Answered>>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            sender: broadcast::channel(EVENTS_CAPACITY).0,
        }
    }
}

impl Events {
    /// A new watcher: it sees every question answered from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Answered>> {
        self.sender.subscribe()
    }

    /// Whether anyone watches (one atomic read: the cache-hit path asks it).
    pub fn watched(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Publishes an answered question to the watchers, if any.
    pub fn publish(&self, answered: Answered) {
        if self.watched() {
            let _ = self.sender.send(Arc::new(answered));
        }
    }
}
