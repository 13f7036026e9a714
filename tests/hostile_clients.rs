//! Hostile and heavy clients: malformed queries, TCP abuse, floods. Every
//! bound the network drives is exceeded here, and other clients stay served.

mod common;

use futures::StreamExt;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// Sends a query from a given local address and waits briefly for the reply.
async fn ask_from(
    local: &str,
    server: SocketAddr,
    message: &Message,
    wait: Duration,
) -> Option<Message> {
    let socket = UdpSocket::bind((ip(local), 0))
        .await
        .expect("bind a client");
    socket
        .send_to(&message.to_vec().expect("encodes"), server)
        .await
        .expect("send");
    let mut buffer = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // A late reply to an earlier client on this port is not the reply.
        match tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer)).await {
            Ok(Ok((length, source))) if source == server => {
                return Message::from_vec(&buffer[..length]).ok();
            }
            Ok(Ok(_)) => continue,
            _ => return None,
        }
    }
}

fn recursive(qname: &str, record_type: RecordType) -> Message {
    query_message(
        &name(qname),
        record_type,
        &Ask {
            recursion_desired: true,
            edns: Some(1232),
        },
    )
}

/// Connects over TCP from a given local address.
async fn connect_from(local: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(SocketAddr::new(ip(local), 0)).expect("bind");
    socket.connect(server).await.expect("connect")
}

/// True when the server has closed the connection (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    // Replies written before the close may still be waiting: read past them.
    let mut buffer = vec![0u8; 64 * 1024];
    let drained = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(wait, drained).await.is_ok()
}

/// One query over an open TCP connection, answered within `wait`?
async fn tcp_ask(stream: &mut TcpStream, message: &Message, wait: Duration) -> Option<Message> {
    write_tcp_message(stream, &message.to_vec().expect("encodes"))
        .await
        .ok()?;
    let reply = tokio::time::timeout(wait, read_tcp_message(stream))
        .await
        .ok()?
        .ok()?;
    Message::from_vec(&reply).ok()
}

#[tokio::test]
async fn malformed_and_odd_queries_get_formerr_notimp_refused_or_nothing() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let server = local.address;
    let short = Duration::from_millis(200);
    assert!(
        exchange_udp_bytes(server, &[0xde, 0xad], short)
            .await
            .is_none(),
        "short header: dropped"
    );
    let two_questions = {
        let mut message = recursive("gaia.cs.umass.edu.", RecordType::A);
        message.add_query(hickory_proto::op::Query::query(
            name("umass.edu."),
            RecordType::NS,
        ));
        message
    };
    assert_eq!(
        udp(server, &two_questions).await.response_code,
        ResponseCode::FormErr
    );
    let mut no_question = recursive("gaia.cs.umass.edu.", RecordType::A);
    no_question.queries.clear();
    assert_eq!(
        udp(server, &no_question).await.response_code,
        ResponseCode::FormErr
    );
    let mut looped = vec![0x00, 0x09, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    looped.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]);
    let reply = exchange_udp_bytes(server, &looped, REPLY_TIMEOUT)
        .await
        .expect("a reply");
    assert_eq!(
        Message::from_vec(&reply).expect("decodes").response_code,
        ResponseCode::FormErr
    );
    let mut notify = recursive("umass.edu.", RecordType::SOA);
    notify.metadata.op_code = OpCode::Notify;
    assert_eq!(
        udp(server, &notify).await.response_code,
        ResponseCode::NotImp
    );
    let mut chaos = recursive("version.bind.", RecordType::TXT);
    chaos.queries[0].query_class = DNSClass::CH;
    assert_eq!(
        udp(server, &chaos).await.response_code,
        ResponseCode::Refused
    );
    let mut response = recursive("gaia.cs.umass.edu.", RecordType::A);
    response.metadata.message_type = hickory_proto::op::MessageType::Response;
    let bytes = response.to_vec().expect("encodes");
    assert!(
        exchange_udp_bytes(server, &bytes, short).await.is_none(),
        "a response as a query: dropped"
    );
    // An unknown type is resolved like any other: here the name has none.
    let unknown = udp(
        server,
        &recursive("gaia.cs.umass.edu.", RecordType::Unknown(65280)),
    )
    .await;
    assert_eq!(unknown.response_code, ResponseCode::NoError);
    assert_eq!(summary(&unknown.authorities), ["umass.edu. 300 SOA"]);
    for seed in 0..300u32 {
        let junk: Vec<u8> = (0..(seed % 80 + 1))
            .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 97) >> 9) as u8)
            .collect();
        let _ = exchange_udp_bytes(server, &junk, Duration::from_millis(5)).await;
    }
    let reply = local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(
        addresses(&reply.answers),
        ["128.119.245.12"],
        "still serving"
    );
}

#[tokio::test]
async fn one_client_cannot_hold_every_tcp_connection() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.tcp_connections_per_client = 4;
    config.server.tcp_connections = 8;
    let local = Local::start(&config);
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect_from("127.0.0.1", local.address).await);
    }
    let mut closed = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_millis(300)).await {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 6,
        "beyond 4 connections, one client's are closed at once"
    );
    let mut other = connect_from("127.0.0.2", local.address).await;
    let reply = tcp_ask(
        &mut other,
        &recursive("gaia.cs.umass.edu.", RecordType::A),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(
        addresses(&reply.expect("another client is served").answers),
        ["128.119.245.12"]
    );
}

#[tokio::test]
async fn a_client_sending_a_byte_at_a_time_is_closed_and_others_are_served() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.tcp_idle_timeout = 0.5;
    let local = Local::start(&config);
    let mut slow = connect_from("127.0.0.1", local.address).await;
    let bytes = recursive("gaia.cs.umass.edu.", RecordType::A)
        .to_vec()
        .expect("encodes");
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    let started = Instant::now();
    let dribble = async {
        for byte in framed {
            if slow.write_all(&[byte]).await.is_err() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            if started.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        started.elapsed()
    };
    let others = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut fast = connect_from("127.0.0.2", local.address).await;
        let t = Instant::now();
        let reply = tcp_ask(
            &mut fast,
            &recursive("www.umass.edu.", RecordType::A),
            Duration::from_secs(2),
        )
        .await;
        (reply, t.elapsed())
    };
    let (gave_up, (reply, fast_time)) = tokio::join!(dribble, others);
    assert!(
        gave_up < Duration::from_secs(3),
        "the slow client was cut off after {gave_up:?}"
    );
    assert!(
        reply.is_some() && fast_time < Duration::from_millis(500),
        "{fast_time:?}"
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_closed_and_others_are_served() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.tcp_idle_timeout = 0.5;
    let local = Local::start(&config);
    local.ask("gaia.cs.umass.edu.", RecordType::A).await; // cached: answered as fast as asked
    let mut greedy = connect_from("127.0.0.1", local.address).await;
    let bytes = recursive("gaia.cs.umass.edu.", RecordType::A)
        .to_vec()
        .expect("encodes");
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    let batch: Vec<u8> = framed
        .iter()
        .copied()
        .cycle()
        .take(framed.len() * 1000)
        .collect();
    let started = Instant::now();
    let mut cut_off = false;
    while started.elapsed() < Duration::from_secs(20) {
        match tokio::time::timeout(Duration::from_secs(2), greedy.write_all(&batch)).await {
            Ok(Ok(())) => continue,
            Ok(Err(_)) => {
                cut_off = true;
                break;
            }
            Err(_) => {
                // Our writes block: the server stopped reading. Is it still there?
                cut_off = closed_within(&mut greedy, Duration::from_secs(2)).await;
                break;
            }
        }
    }
    assert!(cut_off, "a client that never reads is closed");
    let reply = local.ask("www.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["128.119.8.148"]);
}

#[tokio::test]
async fn a_flooding_client_is_rate_limited_and_its_neighbours_are_not() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.rate_limit = 20;
    config.server.rate_limit_exempt = Vec::new();
    let local = Local::start(&config);
    local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    let query = recursive("gaia.cs.umass.edu.", RecordType::A);
    // A burst of 100 queries, then every reply that comes within 300 ms.
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    for _ in 0..100 {
        let bytes = query.to_vec().expect("encodes");
        socket.send_to(&bytes, local.address).await.expect("send");
    }
    let (mut answered, mut slipped) = (0, 0);
    let mut buffer = vec![0u8; 4096];
    while let Ok(Ok((length, _))) =
        tokio::time::timeout(Duration::from_millis(300), socket.recv_from(&mut buffer)).await
    {
        let reply = Message::from_vec(&buffer[..length]).expect("decodes");
        if reply.truncation && reply.answers.is_empty() {
            slipped += 1;
        } else {
            answered += 1;
        }
    }
    let dropped = 100 - answered - slipped;
    println!(
        "rate limit 20/s: {answered} answered, {slipped} slipped (TC), {dropped} dropped of 100"
    );
    assert!((18..=25).contains(&answered), "{answered} answered");
    assert!(
        slipped > 0 && dropped > 0,
        "{slipped} slipped, {dropped} dropped"
    );
    let neighbour = ask_from("127.0.1.5", local.address, &query, Duration::from_secs(2)).await;
    assert_eq!(
        addresses(&neighbour.expect("another network is answered").answers),
        ["128.119.245.12"]
    );
}

#[tokio::test]
async fn loopback_is_not_rate_limited_by_default() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let query = recursive("gaia.cs.umass.edu.", RecordType::A);
    local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    for _ in 0..300 {
        let reply = ask_from("127.0.0.1", local.address, &query, Duration::from_secs(2)).await;
        assert_eq!(
            addresses(&reply.expect("answered").answers),
            ["128.119.245.12"]
        );
    }
}

/// A world with slow.test at a mock that answers after `delay`.
async fn slow_world(delay: Duration) -> (tempfile::TempDir, Lab, Mock) {
    let dir = zone_dir(&[(
        "root.toml",
        &root_zone(&[("slow.test.", "ns.slow.test.", Some("127.0.8.60"))]),
    )]);
    let lab = Lab::start_dir(dir.path());
    let slow = Mock::start(
        "127.0.8.60",
        lab.port,
        script(move |q| {
            vec![
                Action::Wait(delay),
                Action::Reply(authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 60])])),
            ]
        }),
    )
    .await;
    (dir, lab, slow)
}

#[tokio::test(flavor = "multi_thread")]
async fn beyond_pending_answers_questions_get_servfail_at_once() {
    let (_dir, lab, _slow) = slow_world(Duration::from_millis(600)).await;
    let mut config = config_for(&lab);
    config.server.pending_answers = 2;
    let local = Local::start(&config);
    let asks = ["a", "b", "c"].map(|host| {
        let server = local.address;
        async move {
            let t = Instant::now();
            let reply = ask_recursive(server, &format!("{host}.slow.test."), RecordType::A).await;
            (reply.response_code, t.elapsed())
        }
    });
    let results = futures::future::join_all(asks).await;
    let failed: Vec<_> = results
        .iter()
        .filter(|(code, _)| *code == ResponseCode::ServFail)
        .collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert!(
        failed[0].1 < Duration::from_millis(300),
        "SERVFAIL at once: {results:?}"
    );
    assert_eq!(
        results
            .iter()
            .filter(|(code, _)| *code == ResponseCode::NoError)
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_client_cannot_take_every_pending_answer() {
    let (_dir, lab, _slow) = slow_world(Duration::from_millis(600)).await;
    let mut config = config_for(&lab);
    config.server.pending_per_client = 1;
    let local = Local::start(&config);
    let server = local.address;
    let same = |host: &'static str| async move {
        ask_from(
            "127.0.0.1",
            server,
            &recursive(host, RecordType::A),
            Duration::from_secs(3),
        )
        .await
    };
    let (first, second, other) = tokio::join!(
        same("a.slow.test."),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            same("b.slow.test.").await
        },
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            ask_from(
                "127.0.0.2",
                server,
                &recursive("c.slow.test.", RecordType::A),
                Duration::from_secs(3),
            )
            .await
        }
    );
    assert_eq!(first.expect("a reply").response_code, ResponseCode::NoError);
    assert_eq!(
        second.expect("a reply").response_code,
        ResponseCode::ServFail,
        "the client's second"
    );
    assert_eq!(
        other.expect("a reply").response_code,
        ResponseCode::NoError,
        "another client"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_holds_no_more_bytes_than_its_size() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.cache.size = 1 << 20;
    let local = Local::start(&config);
    let names = 3_000;
    let asks = (0..names).map(|i| {
        let local = &local;
        async move {
            let reply = local
                .ask(&format!("nosuch{i}.umass.edu."), RecordType::A)
                .await;
            assert_eq!(reply.response_code, ResponseCode::NXDomain);
        }
    });
    // Ten at a time: bounded, and quick on a loaded machine.
    futures::stream::iter(asks)
        .buffer_unordered(10)
        .collect::<Vec<()>>()
        .await;
    let cache = local.resolver.cache();
    let (bytes, entries) = (cache.weighted_size(), cache.entry_count());
    let share = (1 << 20) - resolver::resolver::replay_share(&config);
    assert!(bytes <= share, "{bytes} bytes held for a share of {share}");
    assert!(entries > 0 && entries < names, "{entries} entries");
}
