//! Off-path spoofing (RFC 5452 §9.2, SAD DNS / CVE-2020-25705): an attacker
//! on another address forges replies to the resolver's upstream ports while
//! the resolver waits for a slow real server. Each upstream query has its
//! own socket, connected to the server, so the kernel refuses every
//! datagram from elsewhere (with an ICMP port unreachable, as for a closed
//! port): no port can be found, no forgery is read, nothing is poisoned.

mod common;

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::mock::{self, authoritative, qname};
use common::*;
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use tokio::net::UdpSocket;
use tokio::sync::watch;

/// The real server of slow.test.
const SERVER: &str = "127.0.9.10";
/// The attacker, off the path: another address.
const ATTACKER: &str = "127.0.9.66";
/// The real answer, and the poison.
const REAL: [u8; 4] = [192, 0, 2, 10];
const POISON: [u8; 4] = [6, 6, 6, 6];
/// The longest the server holds a reply back waiting for the attacker.
const HOLD_AT_MOST: Duration = Duration::from_secs(25);

/// What the real server saw: each query's source and ID.
type Seen = Arc<Mutex<Vec<(SocketAddr, u16)>>>;

/// The world: slow.test. delegated to [`SERVER`], served by the test itself.
fn world() -> (tempfile::TempDir, Lab) {
    let root = root_zone(&[("slow.test.", "ns.slow.test.", Some(SERVER))]);
    let dir = zone_dir(&[("root.toml", &root)]);
    let lab = Lab::start_dir(dir.path());
    (dir, lab)
}

/// A reply to `query` with `address`, authoritative.
fn reply_with(query: &Message, address: [u8; 4]) -> Message {
    authoritative(query, vec![mock::a(&qname(query), address)])
}

/// The real server: notes each query, then replies once `release` says so
/// (or after [`HOLD_AT_MOST`]); `before_reply` runs first (the attacker's turn).
async fn slow_server<F, Fut>(
    port: u16,
    seen: Seen,
    release: watch::Receiver<bool>,
    before_reply: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(SocketAddr, Message) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let socket = Arc::new(
        UdpSocket::bind((ip(SERVER), port))
            .await
            .expect("bind the server"),
    );
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 4096];
        loop {
            let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buffer[..length]) else {
                continue;
            };
            seen.lock().expect("not poisoned").push((client, query.id));
            let (socket, mut release, before_reply) =
                (socket.clone(), release.clone(), before_reply.clone());
            tokio::spawn(async move {
                before_reply(client, query.clone()).await;
                let _ = tokio::time::timeout(HOLD_AT_MOST, release.wait_for(|go| *go)).await;
                let bytes = reply_with(&query, REAL).to_vec().expect("encodes");
                let _ = socket.send_to(&bytes, client).await;
            });
        }
    })
}

/// Asks the resolver over UDP, waiting long enough for the held replies.
/// The stub's socket is connected to the resolver and checks the ID: the
/// flood sprays the stub's ports too, and only the resolver is under test.
async fn ask_long(local: SocketAddr, qname: &str) -> Message {
    let ask = common::Ask {
        recursion_desired: true,
        ..Default::default()
    };
    let query = query_message(&name(qname), RecordType::A, &ask);
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    socket.connect(local).await.expect("connect");
    socket
        .send(&query.to_vec().expect("encodes"))
        .await
        .expect("send");
    let mut buffer = vec![0u8; 65_535];
    let wait = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            let length = socket.recv(&mut buffer).await.expect("a reply");
            match Message::from_vec(&buffer[..length]) {
                Ok(reply) if reply.id == query.id => return reply,
                _ => continue,
            }
        }
    });
    wait.await
        .unwrap_or_else(|_| panic!("no reply for {qname}"))
}

/// A resolver for the world, patient enough for the held replies.
fn patient_resolver(lab: &Lab) -> Local {
    let mut config = config_for(lab);
    config.resolver.query_timeout = 30.0;
    config.limits.resolution_timeout = 30.0;
    Local::start(&config)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_reply_to_the_right_port_from_another_address_is_refused_by_the_kernel() {
    let (_dir, lab) = world();
    let seen: Seen = Arc::default();
    let (release, held) = watch::channel(false);
    let refused = Arc::new(Mutex::new(Vec::new()));
    let outcomes = refused.clone();
    // The strongest attacker off the path: told the port and the ID.
    let forge = move |client: SocketAddr, query: Message| {
        let outcomes = outcomes.clone();
        async move {
            let forger = UdpSocket::bind((ip(ATTACKER), 0)).await.expect("bind");
            forger.connect(client).await.expect("connect");
            let bytes = reply_with(&query, POISON).to_vec().expect("encodes");
            forger.send(&bytes).await.expect("send");
            let mut buffer = [0u8; 512];
            let answer = tokio::time::timeout(REPLY_TIMEOUT, forger.recv(&mut buffer)).await;
            let was_refused =
                matches!(answer, Ok(Err(ref e)) if e.kind() == io::ErrorKind::ConnectionRefused);
            outcomes.lock().expect("not poisoned").push(was_refused);
        }
    };
    let _server = slow_server(lab.port, seen.clone(), held, forge).await;
    let local = patient_resolver(&lab);
    // The reply is held until the forgery has been sent and its fate known.
    let asking = tokio::spawn(async move {
        let reply = ask_long(local.address, "www.slow.test.").await;
        (local, reply)
    });
    for _ in 0..500 {
        if !refused.lock().expect("not poisoned").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // polling a condition, bounded
    }
    release.send(true).expect("the server listens");
    let (local, reply) = asking.await.expect("no panic");
    assert_eq!(addresses(&reply.answers), ["192.0.2.10"], "the real answer");
    let cached = ask_long(local.address, "www.slow.test.").await;
    assert_eq!(
        addresses(&cached.answers),
        ["192.0.2.10"],
        "the real answer, cached"
    );
    let refused = refused.lock().expect("not poisoned").clone();
    println!(
        "forgeries to the right port and ID from {ATTACKER}: {refused:?} refused by the kernel"
    );
    assert!(!refused.is_empty(), "the forgery was sent");
    assert!(
        refused.iter().all(|r| *r),
        "the kernel refused the forgery (ICMP port unreachable): it never reached the resolver"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_forged_replies_from_off_path_finds_no_upstream_port_and_poisons_nothing() {
    const NAMES: usize = 20;
    let (_dir, lab) = world();
    let seen: Seen = Arc::default();
    let (release, held) = watch::channel(false);
    let _server = slow_server(lab.port, seen.clone(), held, |_, _| async {}).await;
    let local = Arc::new(patient_resolver(&lab));
    let names: Vec<String> = (0..NAMES).map(|i| format!("www{i}.slow.test.")).collect();
    let mut asking = tokio::task::JoinSet::new();
    for host in names.clone() {
        let address = local.address;
        asking.spawn(async move { (host.clone(), ask_long(address, &host).await) });
    }
    // Attack while every query waits for the real server.
    for _ in 0..500 {
        if seen.lock().expect("not poisoned").len() >= NAMES {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // polling a condition, bounded
    }
    let upstream_ports: HashSet<u16> = seen
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(client, _)| client.port())
        .collect();
    assert_eq!(upstream_ports.len(), NAMES, "every query is waiting");
    let forgeries: Vec<Vec<u8>> = names
        .iter()
        .map(|host| {
            let question = mock::question(host, RecordType::A);
            reply_with(&question, POISON).to_vec().expect("encodes")
        })
        .collect();
    let targets = upstream_ports.clone();
    let (attempts, found) = tokio::task::spawn_blocking(move || spray(&forgeries, &targets))
        .await
        .expect("no panic");
    release.send(true).expect("the server listens");
    let mut poisoned = 0;
    while let Some(done) = asking.join_next().await {
        let (host, reply) = done.expect("no panic");
        let cached = ask_long(local.address, &host).await;
        for reply in [&reply, &cached] {
            if addresses(&reply.answers) != ["192.0.2.10"] {
                poisoned += 1;
            }
        }
    }
    println!(
        "off-path flood from {ATTACKER}: {attempts} forged replies over the ephemeral range with \
         random IDs; upstream ports found open: {}; poisoned answers: {poisoned}",
        found.len()
    );
    assert!(attempts > 1000, "the range was sprayed");
    assert!(
        found.is_empty(),
        "no upstream port of the resolver accepts a datagram from elsewhere: {found:?}"
    );
    assert_eq!(
        poisoned, 0,
        "nothing poisoned, nothing cached from the attacker"
    );
}

/// Sends one forged reply (a random name's, a random ID) to every port of the
/// ephemeral range on 127.0.0.1 from [`ATTACKER`], each from a socket
/// connected there, so that the kernel's verdict comes back: ECONNREFUSED
/// for a port that takes nothing from us. Returns the datagrams sent and the
/// ports among `targets` that took one.
fn spray(forgeries: &[Vec<u8>], targets: &HashSet<u16>) -> (usize, Vec<u16>) {
    const CHUNK: usize = 512;
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .expect("Linux says its ephemeral range");
    let bounds: Vec<u16> = range
        .split_whitespace()
        .map(|n| n.parse().expect("a port"))
        .collect();
    let ports: Vec<u16> = (bounds[0]..=bounds[1]).collect();
    let (mut attempts, mut undecided) = (0, Vec::new());
    for chunk in ports.chunks(CHUNK) {
        let mut probes = Vec::with_capacity(CHUNK);
        for &port in chunk {
            let Ok(probe) = std::net::UdpSocket::bind((ip(ATTACKER), 0)) else {
                continue;
            };
            if probe.connect(("127.0.0.1", port)).is_err() {
                continue;
            }
            let mut forged = forgeries[rand::random_range(0..forgeries.len())].clone();
            forged[..2].copy_from_slice(&rand::random::<u16>().to_be_bytes());
            if probe.send(&forged).is_ok() {
                attempts += 1;
                probe.set_nonblocking(true).expect("non-blocking");
                probes.push((port, probe));
            }
        }
        // Keep only the resolver's ports that have not (yet) been refused.
        undecided.extend(
            probes
                .into_iter()
                .filter(|(port, probe)| targets.contains(port) && !refused(probe)),
        );
    }
    // Loopback answers at once; a little grace for a late ICMP, bounded.
    for _ in 0..50 {
        undecided.retain(|(_, probe)| !refused(probe));
        if undecided.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (
        attempts,
        undecided.into_iter().map(|(port, _)| port).collect(),
    )
}

/// True when the kernel has answered the probe with a port unreachable.
fn refused(probe: &std::net::UdpSocket) -> bool {
    let mut buffer = [0u8; 512];
    matches!(probe.recv(&mut buffer), Err(e) if e.kind() == io::ErrorKind::ConnectionRefused)
}
