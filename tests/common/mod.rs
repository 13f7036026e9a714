//! Shared test support: the lab on a free port, a DNS client over real
//! sockets, and clean-up on drop.

#![allow(dead_code)] // each test file uses a different part of this module

pub mod figure;
pub mod mock;
pub mod netns;
mod signed;

// Each test file uses a different part of this module (as above).
#[allow(unused_imports)]
pub use signed::*;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use resolver::lab::{BoundLab, LabError};
use resolver::zone::ZoneSet;
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
        let (bound, port) =
            bind_on_free_port(|port| BoundLab::bind(&zones, port, &Default::default()));
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

/// Ports tried for test servers: below the ephemeral range, which upstream
/// sockets (one connected socket per query) take all the time.
const TEST_PORTS: std::ops::Range<u16> = 10_000..32_000;

/// Tries random ports of [`TEST_PORTS`] until `bind` gives something on one
/// (`None`: that port is taken).
pub fn on_free_port<T>(what: &str, mut bind: impl FnMut(u16) -> Option<T>) -> (T, u16) {
    for _ in 0..200 {
        let port = rand::random_range(TEST_PORTS);
        if let Some(bound) = bind(port) {
            return (bound, port);
        }
    }
    panic!("no free port found for {what}");
}

/// Tries ports below the ephemeral range until `bind` succeeds on one.
pub fn bind_on_free_port<T>(mut bind: impl FnMut(u16) -> Result<T, LabError>) -> (T, u16) {
    on_free_port("the lab", |port| match bind(port) {
        Ok(bound) => Some(bound),
        Err(LabError::InUse(_)) => None,
        Err(error) => panic!("cannot bind the lab: {error}"),
    })
}

/// An address on 127.0.0.1 whose port is free for both UDP and TCP now,
/// for a server started as a separate process.
pub fn free_listen_address() -> SocketAddr {
    let (address, _) = on_free_port("a listener", |port| {
        let address = SocketAddr::new(ip("127.0.0.1"), port);
        let udp = std::net::UdpSocket::bind(address);
        let tcp = std::net::TcpListener::bind(address);
        (udp.is_ok() && tcp.is_ok()).then_some(address)
    });
    address
}

/// A listener (UDP and TCP) on 127.0.0.1, on a free port of [`TEST_PORTS`].
pub fn bind_listener_below_ephemeral_ports() -> resolver::server::Listener {
    let (listener, _) = on_free_port("the resolver", |port| {
        resolver::server::Listener::bind(SocketAddr::new(ip("127.0.0.1"), port), 1).ok()
    });
    listener
}

/// A child process, killed and reaped when dropped, whatever happens.
pub struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True once a server at `address` answers `query` (encoded), within 100
/// tries of 50 ms each (a process just started may not listen yet).
pub async fn answers_soon(address: SocketAddr, query: &[u8]) -> bool {
    for _ in 0..100 {
        if exchange_udp_bytes(address, query, Duration::from_millis(50))
            .await
            .is_some()
        {
            return true;
        }
    }
    false
}

/// `resolver serve --config CONFIG` as a process of its own, once it
/// answers at `listen` (a CH query needs no upstream: REFUSED at once).
pub async fn start_serve(config: &Path, listen: SocketAddr) -> Process {
    let child = Process(
        std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["serve", "--config"])
            .arg(config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start resolver serve"),
    );
    let mut probe = query_message(&name("version.bind."), RecordType::TXT, &Ask::default());
    probe.queries[0].query_class = hickory_proto::rr::DNSClass::CH;
    let bytes = probe.to_vec().expect("encodes");
    assert!(
        answers_soon(listen, &bytes).await,
        "resolver serve answers once started"
    );
    child
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
/// A datagram from another address is not the reply (tests run side by side
/// and a client's port is soon another's: a late reply to an earlier client
/// can reach this socket) and waiting goes on.
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
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer)).await {
            Ok(Ok((length, source))) if source == server => {
                return Some(buffer[..length].to_vec());
            }
            Ok(Ok(_)) => continue,
            _ => return None,
        }
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

/// Reads one length-prefixed message from a TCP stream (RFC 1035 §4.2.2).
pub async fn read_tcp_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    Ok(resolver::framing::read_message(stream).await?)
}

/// Writes one length-prefixed message to a TCP stream.
pub async fn write_tcp_message(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    Ok(resolver::framing::write_message(stream, bytes).await?)
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

/// A resolver (`resolver serve`'s service) on a free loopback port, with a
/// collector seeing every upstream message.
pub struct Local {
    pub address: SocketAddr,
    pub resolver: std::sync::Arc<resolver::resolver::Resolver>,
    pub collector: std::sync::Arc<resolver::capture::Collector>,
    pub running: Running,
}

/// A configuration for a resolver walking `lab` (its roots, its port).
pub fn config_for(lab: &Lab) -> resolver::config::Config {
    let mut config = resolver::config::Config::parse("").expect("the defaults parse");
    let roots = resolver::lab::root_addresses(&lab.zones);
    config.resolver.roots = Some(resolver::config::Roots::Addresses(roots));
    config.resolver.port = Some(lab.port);
    config
}

impl Local {
    /// Starts a resolver for `lab` with the given configuration.
    pub fn start(config: &resolver::config::Config) -> Local {
        use resolver::resolver::{Resolver, Service};
        use std::sync::Arc;
        let collector = resolver::capture::Collector::new();
        let roots = config.resolver.roots.clone().expect("tests set roots");
        let resolver = Arc::new(Resolver::new(config, &roots, Some(collector.tap())));
        let service = Arc::new(Service::new(
            resolver.clone(),
            config.server.allow.clone(),
            false,
        ));
        let listener = bind_listener_below_ephemeral_ports();
        let address = listener.local_addr();
        let running = Running::new();
        running.tasks.spawn(resolver::server::serve(
            listener,
            service,
            resolver::commands::server_limits(config),
            None,
            running.shutdown.clone(),
        ));
        Local {
            address,
            resolver,
            collector,
            running,
        }
    }

    /// Asks the resolver, recursively, over UDP.
    pub async fn ask(&self, qname: &str, record_type: RecordType) -> Message {
        ask_recursive(self.address, qname, record_type).await
    }

    /// The upstream messages since the last call, decoded.
    pub fn upstream(&self) -> Vec<(resolver::capture::Datagram, Message)> {
        self.collector
            .take()
            .into_iter()
            .filter_map(|d| Message::from_vec(&d.bytes).ok().map(|m| (d, m)))
            .collect()
    }

    /// How many upstream queries were sent since the last call.
    pub fn upstream_queries(&self) -> usize {
        self.upstream()
            .iter()
            .filter(|(_, m)| m.message_type == hickory_proto::op::MessageType::Query)
            .count()
    }
}

/// A zone file's text: `origin`, SOA with negative TTL 60, then records
/// given as (name, type, value, TTL).
pub fn zone_text(origin: &str, records: &[(&str, &str, &str, u32)]) -> String {
    let apex = if origin == "." { "root." } else { origin };
    let mut text = format!(
        "origin = \"{origin}\"\nttl = 3600\n[soa]\nmname = \"ns.{apex}\"\nrname = \"hostmaster.{apex}\"\n\
         serial = 1\nrefresh = 7200\nretry = 3600\nexpire = 1209600\nminimum = 60\n"
    );
    for (name, record_type, value, ttl) in records {
        text.push_str(&format!(
            "[[records]]\nname = \"{name}\"\ntype = \"{record_type}\"\nvalue = \"{value}\"\nttl = {ttl}\n"
        ));
    }
    text
}

/// The shipped configuration with the lab on a port no other test uses.
pub fn shipped_config_on_free_port() -> resolver::config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("resolver.toml");
    let mut config = resolver::config::Config::load(&path).expect("resolver.toml loads");
    let zones = ZoneSet::load_dir(&lab_zones_dir()).expect("lab zones");
    let (bound, port) = bind_on_free_port(|port| BoundLab::bind(&zones, port, &Default::default()));
    drop(bound); // free again for the code under test to bind
    config
        .lab
        .as_mut()
        .expect("the shipped config has a lab")
        .port = port;
    config
}

/// A `resolver.toml` in `dir` with the repository's lab on a port no other
/// test uses (for the binary, run outside any runtime); its path.
pub fn lab_config_file(dir: &Path) -> std::path::PathBuf {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let config = {
        let _inside = runtime.enter(); // binding the probe needs a runtime
        shipped_config_on_free_port()
    };
    let port = config.lab.as_ref().expect("a lab").port;
    let path = dir.join("resolver.toml");
    std::fs::write(
        &path,
        format!(
            "[lab]\nzones = \"{}\"\nport = {port}\n",
            lab_zones_dir().display()
        ),
    )
    .expect("write the config");
    path
}

/// A root zone at 127.0.8.1 delegating each (zone, NS name, glue address).
pub fn root_zone(delegations: &[(&str, &str, Option<&str>)]) -> String {
    let mut records = vec![
        ("@", "NS", "a.root-servers.net.", 3600),
        ("a.root-servers.net.", "A", "127.0.8.1", 3600),
    ];
    for (zone, ns, glue) in delegations {
        records.push((zone, "NS", ns, 3600));
        if let Some(address) = glue {
            records.push((ns, "A", address, 3600));
        }
    }
    zone_text(".", &records)
}

/// A zone `origin` served by `ns.<origin>` at `address`, with more records.
pub fn served_zone(origin: &str, address: &str, records: &[(&str, &str, &str, u32)]) -> String {
    let mut all = vec![("@", "NS", "ns", 3600), ("ns", "A", address, 3600)];
    all.extend_from_slice(records);
    zone_text(origin, &all)
}

/// The Extended DNS Errors of a reply: (code, text) (RFC 8914 §2).
pub fn extended_errors(message: &Message) -> Vec<(u16, String)> {
    message
        .edns
        .iter()
        .flat_map(|edns| edns.options().options.iter())
        .filter_map(|(_, option)| match option {
            hickory_proto::rr::rdata::opt::EdnsOption::Unknown(15, data) if data.len() >= 2 => {
                Some((
                    u16::from_be_bytes([data[0], data[1]]),
                    String::from_utf8_lossy(&data[2..]).into_owned(),
                ))
            }
            _ => None,
        })
        .collect()
}
