//! Shared test support: the lab on a free port, a DNS client over real
//! sockets, and clean-up on drop.

#![allow(dead_code)] // each test file uses a different part of this module

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use resolver::lab::{BoundLab, LabError};
use resolver::zone::ZoneSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a test waits for any one reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// The repository's lab zones.
pub fn lab_zones_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("zones")
}

/// A domain name from text (test data is valid).
pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test names are valid")
}

/// The address of a lab server.
pub fn ip(text: &str) -> IpAddr {
    text.parse().expect("test addresses are valid")
}

/// Servers running in this test; stopped when dropped.
pub struct Running {
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Running {
    pub fn new() -> Self {
        Running {
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }
}

/// The lab, served in this test on a port no other test uses.
pub struct Lab {
    pub zones: ZoneSet,
    pub port: u16,
    pub running: Running,
}

impl Lab {
    /// Serves the repository's zones.
    pub fn start() -> Lab {
        Self::start_dir(&lab_zones_dir())
    }

    /// Serves the zones of a folder on a free port (the same port on every address).
    pub fn start_dir(dir: &Path) -> Lab {
        let zones = ZoneSet::load_dir(dir).expect("test zones load");
        Self::start_zones(zones)
    }

    /// Serves loaded zones on a free port.
    pub fn start_zones(zones: ZoneSet) -> Lab {
        let (bound, port) = bind_on_free_port(|port| BoundLab::bind(&zones, port));
        let running = Running::new();
        bound.serve(None, &running.shutdown, &running.tasks);
        Lab {
            zones,
            port,
            running,
        }
    }

    /// The socket address of a lab server.
    pub fn at(&self, address: &str) -> SocketAddr {
        SocketAddr::new(ip(address), self.port)
    }
}

/// Tries ports below the ephemeral range until `bind` succeeds on one.
pub fn bind_on_free_port<T>(mut bind: impl FnMut(u16) -> Result<T, LabError>) -> (T, u16) {
    for _ in 0..200 {
        let port = rand::random_range(10_000..32_000);
        match bind(port) {
            Ok(bound) => return (bound, port),
            Err(LabError::InUse(_)) => continue,
            Err(error) => panic!("cannot bind the lab: {error}"),
        }
    }
    panic!("no free port found for the lab");
}

/// How to ask.
#[derive(Clone, Debug)]
pub struct Ask {
    pub recursion_desired: bool,
    pub edns: Option<u16>,
}

impl Default for Ask {
    fn default() -> Self {
        Ask {
            recursion_desired: false,
            edns: Some(1232),
        }
    }
}

/// A query message for `name`/`record_type`.
pub fn query_message(qname: &Name, record_type: RecordType, ask: &Ask) -> Message {
    let mut message = Message::query();
    message.add_query(Query::query(qname.clone(), record_type));
    message.metadata.recursion_desired = ask.recursion_desired;
    if let Some(payload) = ask.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        message.edns = Some(edns);
    }
    message
}

/// Sends raw bytes over UDP and returns the raw reply, or `None` on time-out.
pub async fn exchange_udp_bytes(
    server: SocketAddr,
    bytes: &[u8],
    wait: Duration,
) -> Option<Vec<u8>> {
    let local: SocketAddr = if server.is_ipv4() {
        "127.0.0.1:0".parse().expect("valid")
    } else {
        "[::1]:0".parse().expect("valid")
    };
    let socket = UdpSocket::bind(local).await.expect("bind a client socket");
    socket.send_to(bytes, server).await.expect("send");
    let mut buffer = vec![0u8; 65_535];
    match tokio::time::timeout(wait, socket.recv_from(&mut buffer)).await {
        Ok(Ok((length, _))) => Some(buffer[..length].to_vec()),
        _ => None,
    }
}

/// Sends a message over UDP and decodes the reply.
pub async fn udp(server: SocketAddr, message: &Message) -> Message {
    let bytes = message.to_vec().expect("encodes");
    let reply = exchange_udp_bytes(server, &bytes, REPLY_TIMEOUT)
        .await
        .unwrap_or_else(|| panic!("no UDP reply from {server}"));
    Message::from_vec(&reply).expect("the reply decodes")
}

/// Asks over UDP.
pub async fn ask(server: SocketAddr, qname: &str, record_type: RecordType) -> Message {
    udp(
        server,
        &query_message(&name(qname), record_type, &Ask::default()),
    )
    .await
}

/// Asks with RD set, as a stub resolver does.
pub async fn ask_recursive(server: SocketAddr, qname: &str, record_type: RecordType) -> Message {
    let ask = Ask {
        recursion_desired: true,
        ..Ask::default()
    };
    udp(server, &query_message(&name(qname), record_type, &ask)).await
}

/// Reads one length-prefixed message from a TCP stream.
pub async fn read_tcp_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let length = stream.read_u16().await?;
    let mut buffer = vec![0u8; length as usize];
    stream.read_exact(&mut buffer).await?;
    Ok(buffer)
}

/// Writes one length-prefixed message to a TCP stream.
pub async fn write_tcp_message(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await
}

/// Sends a message over a new TCP connection and decodes the reply.
pub async fn tcp(server: SocketAddr, message: &Message) -> Message {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    write_tcp_message(&mut stream, &message.to_vec().expect("encodes"))
        .await
        .expect("write");
    let reply = tokio::time::timeout(REPLY_TIMEOUT, read_tcp_message(&mut stream))
        .await
        .expect("a TCP reply in time")
        .expect("read");
    Message::from_vec(&reply).expect("the reply decodes")
}

/// The A addresses of a section, as text.
pub fn addresses(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(a.0.to_string()),
            RData::AAAA(aaaa) => Some(aaaa.0.to_string()),
            _ => None,
        })
        .collect()
}

/// The records of a section as `name TTL TYPE` text, for readable assertions.
pub fn summary(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|record| format!("{} {} {}", record.name, record.ttl, record.record_type()))
        .collect()
}

/// Writes zone files into a fresh temporary folder.
pub fn zone_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (file, text) in files {
        std::fs::write(dir.path().join(file), text).expect("write a zone file");
    }
    dir
}
