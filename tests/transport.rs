//! The upstream transport as a user of the resolver sees it: entropy of
//! ports and IDs (RFC 5452 §9.2), one deadline and one budget for every
//! retry, oversized and truncated replies over TCP (RFC 6891 §7, RFC 7766),
//! garbage skipped while waiting, ICMP refusals, and 0x20 with its fallback.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, authoritative, qname, rcode, reply_to, script};
use common::*;
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::RecordType;
use resolver::keepalive::{self, Keepalive};
use resolver::resolver::iterate::ede;
use resolver::transport::{Ask, Transport};

/// A world: a root zone at 127.0.8.1 with these delegations (zone, NS, glue).
fn world(delegations: &[(&str, &str, Option<&str>)]) -> (tempfile::TempDir, Lab) {
    let root = root_zone(delegations);
    let dir = zone_dir(&[("root.toml", &root)]);
    let lab = Lab::start_dir(dir.path());
    (dir, lab)
}

/// Asks the resolver over UDP, waiting up to `wait`; the reply and how long it took.
async fn timed_ask(local: &Local, qname: &str, wait: Duration) -> (Option<Message>, Duration) {
    let ask = common::Ask {
        recursion_desired: true,
        ..Default::default()
    };
    let bytes = query_message(&name(qname), RecordType::A, &ask)
        .to_vec()
        .expect("encodes");
    let started = Instant::now();
    let reply = exchange_udp_bytes(local.address, &bytes, wait).await;
    let reply = reply.map(|bytes| Message::from_vec(&bytes).expect("the reply decodes"));
    (reply, started.elapsed())
}

/// The Extended DNS Error codes of a reply (RFC 8914 §2: option 15).
fn extended_errors(message: &Message) -> Vec<u16> {
    use hickory_proto::rr::rdata::opt::EdnsOption;
    message
        .edns
        .iter()
        .flat_map(|edns| edns.options().options.iter())
        .filter_map(|(_, option)| match option {
            EdnsOption::Unknown(15, data) if data.len() >= 2 => {
                Some(u16::from_be_bytes([data[0], data[1]]))
            }
            _ => None,
        })
        .collect()
}

/// The expected number of distinct values in `draws` uniform draws from `range` values.
fn expected_distinct(range: f64, draws: f64) -> f64 {
    range * (1.0 - (-draws / range).exp())
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_upstream_queries_come_from_random_ports_with_random_ids() {
    const QUERIES: usize = 10_000;
    const CONCURRENT: usize = 50;
    // A server on loopback that notes the source port and ID of each query
    // and answers it; it stops with its socket (read time-out, bounded).
    let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a read time-out");
    let address = server.local_addr().expect("bound");
    let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let noted = seen.clone();
    let echo = std::thread::spawn(move || {
        let mut buffer = [0u8; 1024];
        for _ in 0..QUERIES {
            let Ok((length, from)) = server.recv_from(&mut buffer) else {
                return;
            };
            let mut seen = noted.lock().expect("not poisoned");
            seen.0.push(from.port());
            seen.1.push(u16::from_be_bytes([buffer[0], buffer[1]]));
            drop(seen);
            buffer[2] |= 0x80; // QR: the query, echoed, is its own reply
            let _ = server.send_to(&buffer[..length], from);
        }
    });
    let transport = Arc::new(Transport::new(None, None));
    let ask = Ask {
        query: Query::query(name("www.example.com."), RecordType::A),
        recursion_desired: false,
        edns: true,
        randomize_case: false,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENT {
        let (transport, ask) = (transport.clone(), ask.clone());
        tasks.spawn(async move {
            let mut answered = 0;
            for _ in 0..QUERIES / CONCURRENT {
                let exchange = transport.exchange(address, &ask, Duration::from_secs(5));
                answered += usize::from(exchange.await.is_ok());
            }
            answered
        });
    }
    let mut answered = 0;
    while let Some(task) = tasks.join_next().await {
        answered += task.expect("no panic");
    }
    echo.join().expect("the server thread ends");
    assert_eq!(answered, QUERIES, "every query answered");
    let (ports, ids) = seen.lock().expect("not poisoned").clone();
    let ports: HashSet<u16> = ports.into_iter().collect();
    let ids: HashSet<u16> = ids.into_iter().collect();
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .expect("Linux says its ephemeral range");
    let [low, high] = range
        .split_whitespace()
        .map(|n| n.parse::<f64>().expect("a number"))
        .collect::<Vec<_>>()[..]
    else {
        panic!("two numbers: {range}");
    };
    let ports_expected = expected_distinct(high - low + 1.0, QUERIES as f64);
    let ids_expected = expected_distinct(65_536.0, QUERIES as f64);
    println!(
        "{QUERIES} upstream queries: {} distinct source ports (uniform over {low}–{high}: \
         {ports_expected:.0} expected), {} distinct IDs ({ids_expected:.0} expected)",
        ports.len(),
        ids.len()
    );
    assert!(
        ports.len() as f64 >= 0.85 * ports_expected,
        "source ports as random as the ephemeral range allows: {} of {ports_expected:.0}",
        ports.len()
    );
    assert!(
        ids.len() as f64 >= 0.95 * ids_expected,
        "IDs as random as 16 bits allow: {} of {ids_expected:.0}",
        ids.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn formerr_then_tc_then_a_silent_tcp_costs_no_more_than_the_resolution_timeout() {
    let (_dir, lab) = world(&[("slow.test.", "ns.slow.test.", Some("127.0.8.60"))]);
    const PAUSE: Duration = Duration::from_millis(1500);
    // FORMERR to EDNS, TC without: each after a pause; over TCP, silence.
    let udp = script(|q| {
        let reply = if q.edns.is_some() {
            rcode(q, ResponseCode::FormErr)
        } else {
            let mut truncated = reply_to(q);
            truncated.metadata.truncation = true;
            truncated
        };
        vec![Action::Wait(PAUSE), Action::Reply(reply)]
    });
    let server = Mock::start_split("127.0.8.60", lab.port, udp, mock::silent()).await;
    let mut config = config_for(&lab);
    config.resolver.query_timeout = 3.0;
    config.limits.resolution_timeout = 3.0;
    let local = Local::start(&config);
    let (reply, took) = timed_ask(&local, "www.slow.test.", Duration::from_secs(15)).await;
    let reply = reply.expect("an answer, not silence");
    println!("FORMERR, TC, silent TCP: SERVFAIL after {took:?} (resolution_timeout 3 s)");
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(
        took <= Duration::from_millis(3000 + 1500),
        "the three tries share one deadline: {took:?}"
    );
    assert!(
        server.count() >= 2,
        "the server was asked with and without EDNS"
    );
}

/// A server that refuses EDNS, truncates the plain reply and answers over TCP: three messages.
fn refuses_then_truncates() -> (mock::Script, mock::Script) {
    let udp = script(|q| {
        let reply = if q.edns.is_some() {
            rcode(q, ResponseCode::FormErr)
        } else {
            let mut truncated = reply_to(q);
            truncated.metadata.truncation = true;
            truncated
        };
        vec![Action::Reply(reply)]
    });
    let tcp = script(|q| {
        vec![Action::Reply(authoritative(
            q,
            vec![mock::a(&qname(q), [192, 0, 2, 61])],
        ))]
    });
    (udp, tcp)
}

#[tokio::test]
async fn every_retry_is_paid_for_so_messages_never_exceed_max_upstream_queries() {
    let (_dir, lab) = world(&[("costly.test.", "ns.costly.test.", Some("127.0.8.61"))]);
    let (udp, tcp) = refuses_then_truncates();
    let _server = Mock::start_split("127.0.8.61", lab.port, udp, tcp).await;
    // The root, then EDNS, plain and TCP to the server: four messages.
    for (budget, answered) in [(2, false), (3, false), (4, true)] {
        let mut config = config_for(&lab);
        config.limits.max_upstream_queries = budget;
        let local = Local::start(&config);
        let reply = local.ask("www.costly.test.", RecordType::A).await;
        let sent = local.upstream_queries();
        println!(
            "max_upstream_queries = {budget}: {sent} sent, {}",
            reply.response_code
        );
        assert!(
            sent <= budget,
            "{sent} messages sent with a budget of {budget}"
        );
        if answered {
            assert_eq!(addresses(&reply.answers), ["192.0.2.61"]);
        } else {
            assert_eq!(
                reply.response_code,
                ResponseCode::ServFail,
                "budget {budget}"
            );
        }
    }
}

/// An authoritative answer to `query` of at least `octets` octets (A records).
fn answer_of_size(query: &Message, octets: usize) -> Message {
    let mut reply = authoritative(query, Vec::new());
    let mut i = 0u16;
    while reply.to_vec().expect("encodes").len() < octets {
        let [high, low] = i.to_be_bytes();
        reply
            .answers
            .push(mock::a(&qname(query), [10, 9, high, low]));
        i += 1;
    }
    reply
}

/// The size asked for by the first label: `s1500` → 1500 octets.
fn size_in(query: &Message) -> usize {
    let name = qname(query).to_string();
    name[1..name.find('.').expect("a label")]
        .parse()
        .expect("a size")
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_bigger_than_we_take_over_udp_are_asked_again_over_tcp_at_once() {
    let (_dir, lab) = world(&[("big.test.", "ns.big.test.", Some("127.0.8.62"))]);
    // Over UDP the whole reply, however big (no TC); over TCP the same.
    let whole = script(|q| {
        let bytes = answer_of_size(q, size_in(q)).to_vec().expect("encodes");
        vec![Action::Raw(bytes)]
    });
    let server = Mock::start_split("127.0.8.62", lab.port, whole.clone(), whole).await;
    let mut config = config_for(&lab);
    config.resolver.query_timeout = 3.0;
    let local = Local::start(&config);
    for octets in [1500, 3000] {
        let question = mock::question(&format!("s{octets}.big.test."), RecordType::A);
        let expected = answer_of_size(&question, octets);
        let mut question = question;
        question.metadata.recursion_desired = true;
        let before = server.count();
        let started = Instant::now();
        let reply = tcp(local.address, &question).await;
        let took = started.elapsed();
        println!(
            "a {}-octet reply over UDP: {} records over TCP after {took:?}",
            expected.to_vec().expect("encodes").len(),
            reply.answers.len()
        );
        assert_eq!(reply.response_code, ResponseCode::NoError, "{octets}");
        assert_eq!(
            reply.answers.len(),
            expected.answers.len(),
            "the whole answer ({octets} octets)"
        );
        assert!(
            took < Duration::from_millis(1500),
            "at once, not after the 3 s time-out: {took:?}"
        );
        assert_eq!(server.count() - before, 2, "once over UDP, once over TCP");
    }
}

#[tokio::test]
async fn garbage_with_our_id_is_skipped_and_the_real_reply_after_it_is_taken() {
    let (_dir, lab) = world(&[("noisy.test.", "ns.noisy.test.", Some("127.0.8.63"))]);
    let _server = Mock::start(
        "127.0.8.63",
        lab.port,
        script(|q| {
            let [high, low] = q.id.to_be_bytes();
            let mut garbage = vec![high, low, 0x84, 0x00, 0xff, 0xff];
            garbage.extend((0..40).map(|i: u8| i.wrapping_mul(37)));
            vec![
                Action::Raw(garbage),
                Action::Reply(authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 63])])),
            ]
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("www.noisy.test.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.63"]);
}

#[tokio::test]
async fn a_port_where_nothing_listens_is_unreachable_at_once_not_after_a_time_out() {
    // Glue to an address where nothing listens: ICMP port unreachable.
    let (_dir, lab) = world(&[("dead.test.", "ns.dead.test.", Some("127.0.8.64"))]);
    let mut config = config_for(&lab);
    config.resolver.query_timeout = 3.0;
    let local = Local::start(&config);
    let (reply, took) = timed_ask(&local, "www.dead.test.", Duration::from_secs(10)).await;
    let reply = reply.expect("an answer");
    println!("a port where nothing listens: SERVFAIL after {took:?}");
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert_eq!(extended_errors(&reply), [ede::NETWORK_ERROR]);
    assert!(
        took < Duration::from_millis(1500),
        "the refusal is taken at once: {took:?}"
    );
}

#[tokio::test]
async fn a_server_that_does_not_echo_0x20_is_asked_again_without_it_and_remembered() {
    let (_dir, lab) = world(&[("careless.test.", "ns.careless.test.", Some("127.0.8.65"))]);
    // Answers with the question (and the answer's owner) lower-cased.
    let server = Mock::start(
        "127.0.8.65",
        lab.port,
        script(|q| {
            let owner = qname(q).to_lowercase();
            let mut reply = authoritative(q, vec![mock::a(&owner, [192, 0, 2, 65])]);
            reply.queries[0].name = owner;
            vec![Action::Reply(reply)]
        }),
    )
    .await;
    let mut config = config_for(&lab);
    config.resolver.randomize_case = Some(true);
    let local = Local::start(&config);
    let reply = local.ask("www.careless.test.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.65"]);
    let asked: Vec<String> = server
        .queries()
        .iter()
        .map(|q| qname(q).to_string())
        .collect();
    assert_eq!(asked.len(), 2, "0x20, then without: {asked:?}");
    assert_ne!(asked[0], "www.careless.test.", "the first with random case");
    assert_eq!(asked[1], "www.careless.test.", "the retry as asked");
    let reply = local.ask("mail.careless.test.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.65"]);
    let asked = server.queries();
    assert_eq!(asked.len(), 3, "the server is remembered: one query");
    assert_eq!(qname(&asked[2]).to_string(), "mail.careless.test.");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tcp_connection_closed_before_the_reply_is_tried_once_more() {
    let (_dir, lab) = world(&[("busy.test.", "ns.busy.test.", Some("127.0.8.65"))]);
    let address = std::net::SocketAddr::new(ip("127.0.8.65"), lab.port);
    // Over UDP every answer is truncated; over TCP the first connection is
    // closed at once (a server with its TCP slots full), later ones answered.
    let (connections, _closed, server) =
        tcp_only_server(address, TcpServer::FirstClosedThenOneEach).await;
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("www.busy.test.", RecordType::A).await;
    server.abort();
    assert_eq!(addresses(&reply.answers), ["192.0.2.66"], "{reply:?}");
    assert_eq!(
        *connections.lock().expect("not poisoned"),
        2,
        "closed once, then answered"
    );
}

/// How a [`tcp_only_server`] treats its TCP connections.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TcpServer {
    /// Each answers until the client closes it.
    AnswersAll,
    /// Each is closed after one answer (a short idle timeout).
    OneAnswerEach,
    /// The first is closed before anything is read (the server's TCP slots
    /// full), then each is closed after one answer.
    FirstClosedThenOneEach,
    /// Each answers one query, stays open, and is closed when the next
    /// query arrives (its idle timer firing as the query comes); the first
    /// two connections answer only once both are open.
    ClosesOnTheSecondQuery,
    /// Each answers until the client closes it; to a query that carries
    /// the edns-tcp-keepalive option (empty), the answer carries this
    /// idle timeout, in 100 ms units (RFC 7828 §3.3.2).
    AdvertisesKeepalive(u16),
    /// Each answers until the client closes it, FORMERR to a query that
    /// carries the edns-tcp-keepalive option (a server broken so).
    RefusesKeepalive,
}

/// A server on `address` whose UDP answers are all truncated and whose TCP
/// connections answer as `how` says; counts the connections it accepted and
/// says on `closed` each time it has closed one.
async fn tcp_only_server(
    address: std::net::SocketAddr,
    how: TcpServer,
) -> (
    Arc<Mutex<usize>>,
    tokio::sync::mpsc::UnboundedReceiver<()>,
    tokio::task::JoinHandle<()>,
) {
    let udp = tokio::net::UdpSocket::bind(address)
        .await
        .expect("bind UDP");
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .expect("bind TCP");
    let (closing, closed) = tokio::sync::mpsc::unbounded_channel();
    let connections = Arc::new(Mutex::new(0usize));
    let seen = connections.clone();
    let both_open = Arc::new(tokio::sync::Barrier::new(2));
    let server = tokio::spawn(async move {
        let mut buffer = vec![0u8; 4096];
        loop {
            tokio::select! {
                Ok((length, client)) = udp.recv_from(&mut buffer) => {
                    let query = Message::from_vec(&buffer[..length]).expect("a query");
                    let mut reply = reply_to(&query);
                    reply.metadata.authoritative = true;
                    reply.metadata.truncation = true;
                    let _ = udp.send_to(&reply.to_vec().expect("encodes"), client).await;
                }
                Ok((mut stream, _)) = listener.accept() => {
                    let number = {
                        let mut count = seen.lock().expect("not poisoned");
                        *count += 1;
                        *count
                    };
                    let first = number == 1;
                    if how == TcpServer::FirstClosedThenOneEach && first {
                        drop(stream); // closed before anything is read
                        let _ = closing.send(());
                        continue;
                    }
                    let closing = closing.clone();
                    let both_open = both_open.clone();
                    tokio::spawn(async move {
                        let mut answered = 0;
                        while let Ok(bytes) = read_tcp_message(&mut stream).await {
                            if how == TcpServer::ClosesOnTheSecondQuery {
                                if answered == 1 {
                                    break;
                                }
                                if number <= 2 {
                                    both_open.wait().await;
                                }
                            }
                            let query = Message::from_vec(&bytes).expect("decodes");
                            let mut reply = authoritative(&query, vec![mock::a(&qname(&query), [192, 0, 2, 66])]);
                            if let TcpServer::AdvertisesKeepalive(timeout) = how
                                && asks_keepalive(&query)
                            {
                                let mut edns = hickory_proto::op::Edns::new();
                                let told = Duration::from_millis(u64::from(timeout) * 100);
                                edns.options_mut().insert(keepalive::option(Keepalive::Told(told)));
                                reply.edns = Some(edns);
                            }
                            if how == TcpServer::RefusesKeepalive && asks_keepalive(&query) {
                                reply = rcode(&query, ResponseCode::FormErr);
                            }
                            let _ = write_tcp_message(&mut stream, &reply.to_vec().expect("encodes")).await;
                            answered += 1;
                            if matches!(how, TcpServer::OneAnswerEach | TcpServer::FirstClosedThenOneEach) {
                                break;
                            }
                        }
                        drop(stream);
                        let _ = closing.send(());
                    });
                }
            }
        }
    });
    (connections, closed, server)
}

/// Whether a query carries the edns-tcp-keepalive option, empty, as a
/// client must send it (RFC 7828 §3.2.1).
fn asks_keepalive(query: &Message) -> bool {
    query.edns.as_ref().and_then(keepalive::in_opt) == Some(Keepalive::Asked)
}

/// The TCP queries among the upstream messages since the last look.
fn tcp_queries(local: &Local) -> usize {
    local
        .upstream()
        .iter()
        .filter(|(datagram, message)| {
            datagram.protocol == resolver::capture::Protocol::Tcp
                && message.message_type == hickory_proto::op::MessageType::Query
        })
        .count()
}

/// Asks three names of `zone`, one after the other, of a [`tcp_only_server`]
/// on `server_ip` (with [`TcpServer::OneAnswerEach`], each after the server
/// closed the last connection); each answer must come. Returns the
/// connections it accepted and the TCP queries the resolver sent.
async fn three_questions_over_tcp(zone: &str, server_ip: &str, how: TcpServer) -> (usize, usize) {
    let (_dir, lab) = world(&[(zone, &format!("ns.{zone}"), Some(server_ip))]);
    let address = std::net::SocketAddr::new(ip(server_ip), lab.port);
    let (connections, mut closed, server) = tcp_only_server(address, how).await;
    let local = Local::start(&config_for(&lab));
    for label in ["a", "b", "c"] {
        let reply = local.ask(&format!("{label}.{zone}"), RecordType::A).await;
        assert_eq!(
            addresses(&reply.answers),
            ["192.0.2.66"],
            "{label}: {reply:?}"
        );
        if how == TcpServer::OneAnswerEach {
            tokio::time::timeout(Duration::from_secs(5), closed.recv())
                .await
                .expect("the server closes the connection after its answer");
        }
    }
    server.abort();
    let accepted = *connections.lock().expect("not poisoned");
    (accepted, tcp_queries(&local))
}

#[tokio::test(flavor = "multi_thread")]
async fn questions_over_tcp_to_one_server_share_a_connection() {
    let (connections, queries) =
        three_questions_over_tcp("kept.test.", "127.0.8.68", TcpServer::AnswersAll).await;
    assert_eq!(
        (connections, queries),
        (1, 3),
        "three questions, one after the other, over one connection (RFC 7766 §6.2.1)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_the_server_closed_while_idle_is_not_reused() {
    let (connections, queries) =
        three_questions_over_tcp("brief.test.", "127.0.8.69", TcpServer::OneAnswerEach).await;
    assert_eq!(
        (connections, queries),
        (3, 3),
        "each question on a new connection, none written on a closed one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_is_not_used_again_when_the_server_says_keepalive_0() {
    let (connections, queries) = three_questions_over_tcp(
        "shed.test.",
        "127.0.8.73",
        TcpServer::AdvertisesKeepalive(0),
    )
    .await;
    assert_eq!(
        (connections, queries),
        (3, 3),
        "asked for the keepalive and told 0: a new connection for each question (RFC 7828 §3.2.2)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_refuses_the_keepalive_option_is_asked_again_without_it() {
    let (connections, queries) =
        three_questions_over_tcp("strict.test.", "127.0.8.75", TcpServer::RefusesKeepalive).await;
    assert_eq!(
        (connections, queries),
        (1, 6),
        "each question answered, asked again without the option on the same connection"
    );
}

/// The control for the test above it: told a long timeout, the connection
/// is used again (what closing after every exchange would fail).
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_is_used_again_within_the_keepalive_the_server_advertised() {
    let (connections, queries) = three_questions_over_tcp(
        "held.test.",
        "127.0.8.74",
        TcpServer::AdvertisesKeepalive(300),
    )
    .await;
    assert_eq!(
        (connections, queries),
        (1, 3),
        "told 30 s: the three questions share one connection"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kept_connections_closed_as_the_query_comes_cost_a_new_connection_not_the_answer() {
    let (_dir, lab) = world(&[("stale.test.", "ns.stale.test.", Some("127.0.8.72"))]);
    let address = std::net::SocketAddr::new(ip("127.0.8.72"), lab.port);
    let (connections, _closed, server) =
        tcp_only_server(address, TcpServer::ClosesOnTheSecondQuery).await;
    let local = Local::start(&config_for(&lab));
    // Two at once: two connections (the server answers once both are
    // open), both kept.
    let (a, b) = tokio::join!(
        local.ask("a.stale.test.", RecordType::A),
        local.ask("b.stale.test.", RecordType::A)
    );
    // The third meets a kept one closing as it arrives; the other kept one
    // would close too: it is asked on a new connection instead.
    let c = local.ask("c.stale.test.", RecordType::A).await;
    server.abort();
    for reply in [a, b, c] {
        assert_eq!(addresses(&reply.answers), ["192.0.2.66"], "{reply:?}");
    }
    assert_eq!(*connections.lock().expect("not poisoned"), 3);
}
