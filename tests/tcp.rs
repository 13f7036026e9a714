//! DNS over TCP as RFC 7766 asks: queries on one connection worked on at
//! once and answered as each is ready (§6.2.1.1), and a server that clients
//! who connect and stall cannot fill (§6.2.3, §10).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::EdnsOption;
use resolver::keepalive::{self, Keepalive};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

/// A name the resolver is asked for under a mock that answers after a delay.
const SLOW_NAME: &str = "slow.pipelined.test.";

/// A name in a zone the lab serves, asked once first so that it is cached.
const CACHED_NAME: &str = "www.cached.test.";

/// How long the mock takes: under the resolver's query time-out for a
/// server it has not heard from yet.
const SLOW: Duration = Duration::from_millis(600);

/// A world with cached.test served by the lab and pipelined.test at a mock
/// that answers after `delay`.
async fn pipelined_world(delay: Duration) -> (tempfile::TempDir, Lab, Mock) {
    let root = root_zone(&[
        ("pipelined.test.", "ns.pipelined.test.", Some("127.0.8.61")),
        ("cached.test.", "ns.cached.test.", Some("127.0.8.62")),
    ]);
    let cached = served_zone(
        "cached.test.",
        "127.0.8.62",
        &[("www", "A", "192.0.2.62", 3600)],
    );
    let dir = zone_dir(&[("root.toml", &root), ("cached.toml", &cached)]);
    let lab = Lab::start_dir(dir.path());
    let mock = Mock::start(
        "127.0.8.61",
        lab.port,
        script(move |q| {
            vec![
                Action::Wait(delay),
                Action::Reply(authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 61])])),
            ]
        }),
    )
    .await;
    (dir, lab, mock)
}

fn recursive(qname: &str, id: u16) -> Vec<u8> {
    let ask = Ask {
        recursion_desired: true,
        edns: Some(1232),
    };
    let mut message = query_message(&name(qname), RecordType::A, &ask);
    message.metadata.id = id;
    message.to_vec().expect("encodes")
}

async fn read_reply(stream: &mut TcpStream, wait: Duration) -> Message {
    let bytes = tokio::time::timeout(wait, read_tcp_message(stream))
        .await
        .expect("a reply in time")
        .expect("read");
    Message::from_vec(&bytes).expect("decodes")
}

/// Connects over TCP from a given local address.
async fn connect_from(local: std::net::IpAddr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(SocketAddr::new(local, 0)).expect("bind");
    socket.connect(server).await.expect("connect")
}

/// True when the server has closed the connection (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// Waits (bounded) until the mock has seen `count` queries.
async fn mock_saw(mock: &Mock, count: usize) {
    let started = Instant::now();
    while mock.count() < count {
        assert!(
            started.elapsed() < REPLY_TIMEOUT,
            "the mock was never asked"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_answer_overtakes_a_slow_one_on_the_same_connection() {
    let (_dir, lab, _mock) = pipelined_world(SLOW).await;
    let local = Local::start(&config_for(&lab));
    let cached = local.ask(CACHED_NAME, RecordType::A).await;
    assert_eq!(addresses(&cached.answers), ["192.0.2.62"]);

    let mut stream = TcpStream::connect(local.address).await.expect("connect");
    write_tcp_message(&mut stream, &recursive(SLOW_NAME, 1))
        .await
        .expect("write");
    write_tcp_message(&mut stream, &recursive(CACHED_NAME, 2))
        .await
        .expect("write");
    let first = read_reply(&mut stream, REPLY_TIMEOUT).await;
    let second = read_reply(&mut stream, REPLY_TIMEOUT).await;
    assert_eq!(
        (first.id, second.id),
        (2, 1),
        "the cached answer comes first, the slow one after (RFC 7766 §6.2.1.1)"
    );
    assert_eq!(addresses(&first.answers), ["192.0.2.62"]);
    assert_eq!(addresses(&second.answers), ["192.0.2.61"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_server_closes_the_connection_idle_longest_for_a_new_client() {
    let (_dir, lab, mock) = pipelined_world(Duration::from_millis(1500)).await;
    let mut config = config_for(&lab);
    config.server.tcp_connections = 2;
    config.resolver.query_timeout = 3.0;
    let local = Local::start(&config);
    local.ask(CACHED_NAME, RecordType::A).await;

    let mut idle = connect_from(ip("127.0.0.1"), local.address).await;
    let mut busy = connect_from(ip("127.0.0.2"), local.address).await;
    write_tcp_message(&mut busy, &recursive(SLOW_NAME, 7))
        .await
        .expect("write");
    mock_saw(&mock, 1).await; // the busy connection's query is being worked on

    let started = Instant::now();
    let mut newcomer = connect_from(ip("127.0.0.3"), local.address).await;
    write_tcp_message(&mut newcomer, &recursive(CACHED_NAME, 8))
        .await
        .expect("write");
    let reply = read_reply(&mut newcomer, Duration::from_secs(3)).await;
    let waited = started.elapsed();
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);
    assert!(
        waited < Duration::from_millis(1200),
        "admitted before the busy query finished: {waited:?}"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(1)).await,
        "the idle connection made way"
    );
    let slow = read_reply(&mut busy, REPLY_TIMEOUT).await;
    assert_eq!(
        (slow.id, addresses(&slow.answers)),
        (7, vec!["192.0.2.61".to_string()]),
        "the busy connection was kept and answered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_server_sheds_stalled_connections_without_waiting_the_idle_time_out() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.tcp_connections = 4;
    let local = Local::start(&config);
    let mut stalled = Vec::new();
    for host in 1..=4u8 {
        stalled.push(connect_from(ip(&format!("127.1.0.{host}")), local.address).await);
    }
    // Full, the idle time-out drops from 10 s to IDLE_FLOOR: a stalled client goes.
    let started = Instant::now();
    let mut shed = false;
    while !shed && started.elapsed() < Duration::from_secs(4) {
        for stream in &mut stalled {
            if closed_within(stream, Duration::from_millis(100)).await {
                shed = true;
                break;
            }
        }
    }
    assert!(
        shed,
        "a stalled client was closed within {:?}",
        started.elapsed()
    );
}

/// A handler whose answers all wait for the test to release them, counting
/// the queries it was given.
struct Gated {
    asked: std::sync::atomic::AtomicUsize,
    gate: Arc<tokio::sync::Semaphore>,
}

impl resolver::server::Handler for Gated {
    fn handle(&self, request: &resolver::server::Request) -> resolver::server::Response {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let gate = self.gate.clone();
        let response = request.response();
        resolver::server::Response::Later(Box::pin(async move {
            // The semaphore is never closed; a permit is spent per answer.
            gate.acquire().await.expect("open").forget();
            response
        }))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_connection_has_at_most_max_in_flight_queries_worked_on() {
    use resolver::server::{Limits, MAX_IN_FLIGHT, serve};
    let handler = Arc::new(Gated {
        asked: 0.into(),
        gate: Arc::new(tokio::sync::Semaphore::new(0)),
    });
    let listener = common::bind_listener_below_ephemeral_ports();
    let address = listener.local_addr();
    let running = Running::new();
    running.tasks.spawn(serve(
        listener,
        handler.clone(),
        Limits::default(),
        None,
        running.shutdown.clone(),
    ));
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let sent = MAX_IN_FLIGHT + 8;
    for id in 0..sent {
        let mut query = query_message(&name("x.test."), RecordType::A, &Ask::default());
        query.metadata.id = id as u16;
        write_tcp_message(&mut stream, &query.to_vec().expect("encodes"))
            .await
            .expect("write");
    }
    let asked = |count: usize| {
        let handler = handler.clone();
        async move {
            let started = Instant::now();
            while handler.asked.load(Ordering::SeqCst) < count {
                assert!(started.elapsed() < REPLY_TIMEOUT, "never reached {count}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    asked(MAX_IN_FLIGHT).await; // worked on at once, not one after another
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        handler.asked.load(Ordering::SeqCst),
        MAX_IN_FLIGHT,
        "no more read while {MAX_IN_FLIGHT} are in flight"
    );
    handler.gate.add_permits(1);
    read_reply(&mut stream, REPLY_TIMEOUT).await;
    asked(MAX_IN_FLIGHT + 1).await; // one answered: one more read
    handler.gate.add_permits(sent);
    for _ in 1..sent {
        read_reply(&mut stream, REPLY_TIMEOUT).await;
    }
    assert_eq!(handler.asked.load(Ordering::SeqCst), sent);
}

/// Stalled clients from this many addresses (each within its per-client share).
const STALLED: usize = 300;

#[tokio::test(flavor = "multi_thread")]
async fn stalled_clients_beyond_the_slots_do_not_keep_out_a_client_that_asks() {
    let lab = Lab::start();
    let config = config_for(&lab); // 128 TCP slots, 16 per client, 10 s idle
    assert!(STALLED > config.server.tcp_connections);
    let local = Local::start(&config);
    local.ask("gaia.cs.umass.edu.", RecordType::A).await; // cached: only TCP is measured

    let mut stalled = Vec::with_capacity(STALLED);
    for index in 0..STALLED {
        let address = ip(&format!("127.2.{}.{}", index / 200, index % 200 + 1));
        stalled.push(connect_from(address, local.address).await);
    }

    let started = Instant::now();
    let mut client = connect_from(ip("127.0.0.1"), local.address).await;
    write_tcp_message(&mut client, &recursive("gaia.cs.umass.edu.", 9))
        .await
        .expect("write");
    let reply = tokio::time::timeout(Duration::from_secs(3), read_tcp_message(&mut client)).await;
    let waited = started.elapsed();
    eprintln!("with {STALLED} stalled TCP clients, a new client was answered in {waited:?}");
    let reply = reply
        .unwrap_or_else(|_| panic!("no answer within 3 s behind {STALLED} stalled clients"))
        .expect("read");
    let reply = Message::from_vec(&reply).expect("decodes");
    assert_eq!(
        (reply.id, addresses(&reply.answers)),
        (9, vec!["128.119.245.12".to_string()])
    );
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_beyond_its_share_is_admitted_in_place_of_its_own_idle_connection() {
    let (_dir, lab, mock) = pipelined_world(Duration::from_millis(1500)).await;
    let mut config = config_for(&lab);
    config.server.tcp_connections_per_client = 2;
    config.resolver.query_timeout = 3.0;
    let local = Local::start(&config);
    local.ask(CACHED_NAME, RecordType::A).await;

    // One client (a resolver, say) holds its share: one connection idle
    // (done with, as far as it is concerned), one with a query in progress.
    let mut idle = connect_from(ip("127.0.0.1"), local.address).await;
    let mut busy = connect_from(ip("127.0.0.1"), local.address).await;
    write_tcp_message(&mut busy, &recursive(SLOW_NAME, 7))
        .await
        .expect("write");
    mock_saw(&mock, 1).await;

    let mut newcomer = connect_from(ip("127.0.0.1"), local.address).await;
    write_tcp_message(&mut newcomer, &recursive(CACHED_NAME, 8))
        .await
        .expect("write");
    let reply = read_reply(&mut newcomer, Duration::from_secs(3)).await;
    assert_eq!(
        addresses(&reply.answers),
        ["192.0.2.62"],
        "the newcomer is served"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(1)).await,
        "its idle connection made way"
    );
    let slow = read_reply(&mut busy, REPLY_TIMEOUT).await;
    assert_eq!(slow.id, 7, "the busy connection was kept and answered");
}

/// `qname` asked with RD, EDNS and the edns-tcp-keepalive option, empty
/// as a client sends it (RFC 7828 §3.2.1).
fn asking_keepalive(qname: &str) -> Message {
    let mut query = Message::from_vec(&recursive(qname, 9)).expect("decodes");
    let edns = query.edns.as_mut().expect("an OPT");
    edns.options_mut()
        .insert(keepalive::option(Keepalive::Asked));
    query
}

/// What a reply's edns-tcp-keepalive option says, if it has one.
fn keepalive_of(reply: &Message) -> Option<Keepalive> {
    reply.edns.as_ref().and_then(keepalive::in_opt)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_asks_over_tcp_is_told_the_idle_timeout_as_it_stands() {
    let (_dir, lab, _mock) = pipelined_world(SLOW).await;
    let mut config = config_for(&lab);
    config.server.tcp_connections = 2;
    config.server.tcp_connections_per_client = 2;
    let local = Local::start(&config);
    local.ask(CACHED_NAME, RecordType::A).await;

    let reply = tcp(local.address, &asking_keepalive(CACHED_NAME)).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);
    assert_eq!(
        keepalive_of(&reply),
        Some(Keepalive::Told(Duration::from_secs(10))),
        "one connection of two open: the configured 10 s"
    );
    let plain = Message::from_vec(&recursive(CACHED_NAME, 10)).expect("decodes");
    assert_eq!(
        keepalive_of(&tcp(local.address, &plain).await),
        None,
        "not asked, not told"
    );
    assert_eq!(
        keepalive_of(&udp(local.address, &asking_keepalive(CACHED_NAME)).await),
        None,
        "never over UDP (RFC 7828 §3.3.2)"
    );

    // Both slots taken: the server closes idle connections sooner, and
    // says so. A server of its own, so that no connection of the questions
    // above is still counted: one client asks and is answered, then
    // another connects and asks.
    let busy = Local::start(&config);
    busy.ask(CACHED_NAME, RecordType::A).await;
    let mut other = connect_from(ip("127.0.0.2"), busy.address).await;
    write_tcp_message(&mut other, &recursive(CACHED_NAME, 11))
        .await
        .expect("write");
    read_reply(&mut other, REPLY_TIMEOUT).await;
    let mut asking = connect_from(ip("127.0.0.3"), busy.address).await;
    let query = asking_keepalive(CACHED_NAME).to_vec().expect("encodes");
    write_tcp_message(&mut asking, &query).await.expect("write");
    let reply = read_reply(&mut asking, REPLY_TIMEOUT).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);
    let Some(Keepalive::Told(told)) = keepalive_of(&reply) else {
        panic!("told: {reply:?}");
    };
    assert!(
        told < Duration::from_secs(10),
        "every slot taken: less than the configured 10 s ({told:?})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_idle_timeout_is_told_however_the_answer_is_made_and_never_remembered() {
    let (_dir, lab, _mock) = pipelined_world(SLOW).await;
    let local = Local::start(&config_for(&lab));
    let ten = Some(Keepalive::Told(Duration::from_secs(10)));
    // Resolved (the answer comes later), then built from the cache and
    // remembered, then replayed: each told.
    for (id, made) in [(21, "resolved"), (22, "from the cache"), (23, "replayed")] {
        let mut asking = asking_keepalive(CACHED_NAME);
        asking.metadata.id = id;
        let reply = tcp(local.address, &asking).await;
        assert_eq!(
            (reply.id, addresses(&reply.answers)),
            (id, vec!["192.0.2.62".to_string()])
        );
        assert_eq!(keepalive_of(&reply), ten, "{made}");
    }
    // The remembered answer is replayed without the option to a query
    // that did not ask.
    let plain = Message::from_vec(&recursive(CACHED_NAME, 24)).expect("decodes");
    let reply = tcp(local.address, &plain).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);
    assert_eq!(keepalive_of(&reply), None, "not asked, not told");
    // An option the replay leaves to the ordinary path (NSID, RFC 5001):
    // the answer is built again, and told.
    let mut with_nsid = asking_keepalive(CACHED_NAME);
    let edns = with_nsid.edns.as_mut().expect("an OPT");
    edns.options_mut()
        .insert(EdnsOption::Unknown(3, Vec::new()));
    let reply = tcp(local.address, &with_nsid).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);
    assert_eq!(keepalive_of(&reply), ten, "built on the ordinary path");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_whose_keepalive_option_carries_a_timeout_is_a_format_error_over_tcp_only() {
    let (_dir, lab, _mock) = pipelined_world(SLOW).await;
    let local = Local::start(&config_for(&lab));
    local.ask(CACHED_NAME, RecordType::A).await;
    // Answered once over TCP, so that the answer is there to be replayed.
    let plain = Message::from_vec(&recursive(CACHED_NAME, 10)).expect("decodes");
    let reply = tcp(local.address, &plain).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);

    // A TIMEOUT is the server's to give: a client sends the option empty
    // (RFC 7828 §3.1, §3.2.1).
    let mut telling = Message::from_vec(&recursive(CACHED_NAME, 12)).expect("decodes");
    let told = keepalive::option(Keepalive::Told(Duration::from_secs(30)));
    let edns = telling.edns.as_mut().expect("an OPT");
    edns.options_mut().insert(told);
    let reply = tcp(local.address, &telling).await;
    assert_eq!(reply.response_code, ResponseCode::FormErr, "{reply:?}");
    assert_eq!(reply.id, 12);
    assert!(reply.answers.is_empty(), "not replayed: {reply:?}");
    assert!(reply.edns.is_some(), "with our OPT (RFC 6891 §6.1.1)");
    assert_eq!(keepalive_of(&reply), None);

    // Over UDP the option is ignored, whatever it holds (RFC 7828 §3.3.1).
    let reply = udp(local.address, &telling).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply.answers), ["192.0.2.62"]);
    assert_eq!(keepalive_of(&reply), None);
}
