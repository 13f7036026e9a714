//! A randomized pool of upstream UDP sockets (RFC 5452 §9.2, "source port
//! randomization"). Making, connecting, registering and closing a socket
//! for every query cost a third of a resolution's time; instead each query
//! takes one of [`SOCKETS`] sockets at random, and every socket is replaced
//! by a fresh one (a new random port) after [`USES`] queries. A query is told
//! apart from the others on its socket by the server's address and its ID,
//! and only then verified (`verify`): anything else is ignored.
//!
//! Per query, an attacker off the path has to guess both: one of 256
//! sockets, each on a random port that lasts only a few queries, and one of
//! 65,536 IDs (24 bits at least, more with 0x20).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::batch::{self, Received};

/// Sockets per address family.
pub const SOCKETS: usize = 256;

/// Queries a socket carries before it is replaced by one on a new port.
pub const USES: u32 = 16;

/// Replies read per system call: a socket carries few queries at a time.
const REPLIES_PER_CALL: usize = 8;

/// The largest reply read whole: above our advertised payload (1232), so
/// that an oversized reply is seen for what it is; bigger ones are cut and
/// count as broken.
const REPLY_BUFFER: usize = 2048;

/// Replies a waiting query holds at most (the real one and a few spoofs).
const WAITING_REPLIES: usize = 8;

/// What the receive task of a socket hands a waiting query: the bytes, and
/// whether they were cut to the receive buffer (too big: a broken server).
pub type Delivery = (Vec<u8>, bool);

/// Who waits for replies from which server with which ID.
type Waiters = Arc<Mutex<HashMap<(SocketAddr, u16), mpsc::Sender<Delivery>>>>;

/// One pooled socket: its receive task delivers replies to the queries waiting on it.
pub struct PooledSocket {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    waiters: Waiters,
    uses: AtomicU32,
    stop: CancellationToken,
}

impl Drop for PooledSocket {
    fn drop(&mut self) {
        self.stop.cancel(); // the receive task ends and the socket closes
    }
}

impl PooledSocket {
    fn open(bind: SocketAddr) -> io::Result<Arc<Self>> {
        let socket = std::net::UdpSocket::bind(bind)?;
        socket.set_nonblocking(true)?;
        let socket = Arc::new(UdpSocket::from_std(socket)?);
        let pooled = Arc::new(PooledSocket {
            local: socket.local_addr()?,
            socket: socket.clone(),
            waiters: Arc::new(Mutex::new(HashMap::new())),
            uses: AtomicU32::new(0),
            stop: CancellationToken::new(),
        });
        tokio::spawn(receive(socket, pooled.waiters.clone(), pooled.stop.clone()));
        Ok(pooled)
    }

    /// The socket's local address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Waits for replies from `server` with `id`; `None` if a query on this
    /// socket already does (the caller picks another ID).
    pub fn register(self: &Arc<Self>, server: SocketAddr, id: u16) -> Option<Waiting> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if waiters.contains_key(&(server, id)) {
            return None;
        }
        let (sender, receiver) = mpsc::channel(WAITING_REPLIES);
        waiters.insert((server, id), sender);
        Some(Waiting {
            socket: self.clone(),
            key: (server, id),
            replies: receiver,
        })
    }
}

/// A query waiting for its replies; stops waiting when dropped.
pub struct Waiting {
    socket: Arc<PooledSocket>,
    key: (SocketAddr, u16),
    replies: mpsc::Receiver<Delivery>,
}

impl Waiting {
    /// Sends the query on the socket.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        self.socket
            .socket
            .send_to(bytes, self.key.0)
            .await
            .map(drop)
    }

    /// The next datagram from the server with the ID (to be verified).
    pub async fn next(&mut self) -> Option<Delivery> {
        self.replies.recv().await
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut waiters = self
            .socket
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        waiters.remove(&self.key);
    }
}

/// Delivers every datagram to the query waiting for its server and ID, if any.
async fn receive(socket: Arc<UdpSocket>, waiters: Waiters, stop: CancellationToken) {
    let fd = socket.as_raw_fd();
    let mut received = Received::new(REPLIES_PER_CALL, REPLY_BUFFER);
    let mut single = vec![0u8; REPLY_BUFFER];
    loop {
        tokio::select! {
            ready = socket.readable() => if ready.is_err() { return },
            _ = stop.cancelled() => return,
        }
        match socket.try_io(Interest::READABLE, || batch::receive(fd, &mut received)) {
            Ok(_) => {
                for (bytes, from, truncated) in received.all() {
                    deliver(&waiters, bytes, from, truncated);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Unsupported => {
                if let Ok((length, from)) = socket.try_recv_from(&mut single) {
                    deliver(&waiters, &single[..length], from, false);
                }
            }
            Err(_) => {} // would block, or a transient error
        }
    }
}

fn deliver(waiters: &Waiters, bytes: &[u8], from: SocketAddr, truncated: bool) {
    let [high, low, ..] = *bytes else {
        return;
    };
    let id = u16::from_be_bytes([high, low]);
    let waiters = waiters.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(waiting) = waiters.get(&(from, id)) {
        // A query that already holds several replies gets no more.
        let _ = waiting.try_send((bytes.to_vec(), truncated));
    }
}

/// The sockets of one address family.
struct Family {
    bind: SocketAddr,
    slots: Vec<Mutex<Option<Arc<PooledSocket>>>>,
}

/// Upstream UDP sockets, by family, made when first needed.
pub struct Pool {
    source: Option<IpAddr>,
    v4: OnceLock<Family>,
    v6: OnceLock<Family>,
}

impl Pool {
    /// A pool sending from `source` (any address when `None`).
    pub fn new(source: Option<IpAddr>) -> Self {
        Pool {
            source,
            v4: OnceLock::new(),
            v6: OnceLock::new(),
        }
    }

    /// A socket for a query to `server`: one of the pool at random, fresh
    /// when the one there has carried its share of queries.
    pub fn take(&self, server: SocketAddr) -> io::Result<Arc<PooledSocket>> {
        let family = if server.is_ipv4() {
            self.v4
                .get_or_init(|| self.family(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
        } else {
            self.v6
                .get_or_init(|| self.family(IpAddr::V6(Ipv6Addr::UNSPECIFIED)))
        };
        let slot = &family.slots[rand::random_range(0..family.slots.len())];
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(socket) = slot.as_ref()
            && socket.uses.fetch_add(1, Ordering::Relaxed) < USES
        {
            return Ok(socket.clone());
        }
        // The old socket lives on until its last waiting query is done.
        let socket = PooledSocket::open(family.bind)?;
        socket.uses.store(1, Ordering::Relaxed);
        *slot = Some(socket.clone());
        Ok(socket)
    }

    fn family(&self, unspecified: IpAddr) -> Family {
        let ip = match self.source {
            Some(source) if source.is_ipv4() == unspecified.is_ipv4() => source,
            _ => unspecified,
        };
        Family {
            bind: SocketAddr::new(ip, 0),
            slots: (0..SOCKETS).map(|_| Mutex::new(None)).collect(),
        }
    }
}
