//! The resolver against the lab (and small worlds of its own) on loopback:
//! the walk, the cache, the safety rules and the limits.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use resolver::server::Protocol;
use tokio::net::UdpSocket;

#[tokio::test]
async fn a_name_is_resolved_from_the_root_down_with_ra_set() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.recursion_available, "RA must be set");
    assert!(
        !reply.authoritative,
        "a resolver's answer is not authoritative"
    );
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert_eq!(reply.answers[0].ttl, 600);
    // Root, edu, umass.edu: three iterative queries, none with RD.
    let upstream = local.upstream();
    let queries: Vec<&Message> = upstream
        .iter()
        .filter(|(_, m)| m.message_type == MessageType::Query)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(queries.len(), 3);
    assert!(queries.iter().all(|q| !q.recursion_desired));
    assert!(
        queries
            .iter()
            .all(|q| q.edns.as_ref().map(|e| e.max_payload()) == Some(1232))
    );
}

#[tokio::test]
async fn negative_answers_are_cached_with_the_soa() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let first = local.ask("nosuch.umass.edu.", RecordType::A).await;
    assert_eq!(first.response_code, ResponseCode::NXDomain);
    assert_eq!(summary(&first.authorities), ["umass.edu. 300 SOA"]);
    assert!(local.upstream_queries() > 0);
    // NXDOMAIN holds for every type of the name (RFC 2308 §5).
    for record_type in [RecordType::A, RecordType::MX] {
        let again = local.ask("nosuch.umass.edu.", record_type).await;
        assert_eq!(again.response_code, ResponseCode::NXDomain);
        assert_eq!(summary(&again.authorities), ["umass.edu. 300 SOA"]);
    }
    assert_eq!(local.upstream_queries(), 0, "NXDOMAIN came from the cache");

    let nodata = local.ask("gaia.cs.umass.edu.", RecordType::AAAA).await;
    assert_eq!(nodata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert_eq!(summary(&nodata.authorities), ["umass.edu. 300 SOA"]);
    assert_eq!(
        local.upstream_queries(),
        1,
        "the umass.edu delegation was cached"
    );
    local.ask("gaia.cs.umass.edu.", RecordType::AAAA).await;
    assert_eq!(local.upstream_queries(), 0, "NODATA came from the cache");
}

#[tokio::test]
async fn a_cname_chain_across_zones_is_followed_and_given_whole() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("www.poly.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(
        summary(&reply.answers),
        [
            "www.poly.edu. 3600 CNAME",
            "www.ibm.com. 3600 CNAME",
            "servereast.backup2.ibm.com. 3600 A"
        ]
    );
    assert_eq!(addresses(&reply.answers), ["129.42.38.10"]);
    assert!(local.upstream_queries() > 0);
    // The whole chain is cached: asking again sends nothing.
    let again = local.ask("www.poly.edu.", RecordType::A).await;
    assert_eq!(again.answers.len(), 3);
    assert_eq!(local.upstream_queries(), 0);
}

#[tokio::test]
async fn a_glueless_delegation_is_resolved_by_looking_up_the_nameserver() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("www.enterprise.com.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["203.0.113.10"]);
    let upstream = local.upstream();
    let asked_for_ns = upstream.iter().any(|(_, m)| {
        m.message_type == MessageType::Query && m.queries[0].name == name("dns.umass.edu.")
    });
    assert!(asked_for_ns, "the resolver looked up dns.umass.edu first");
}

#[tokio::test]
async fn reverse_names_resolve_through_glueless_reverse_zones() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let reply = local
        .ask("12.245.119.128.in-addr.arpa.", RecordType::PTR)
        .await;
    let RData::PTR(ptr) = &reply.answers[0].data else {
        panic!("a PTR answer: {reply:?}");
    };
    assert_eq!(ptr.0, name("gaia.cs.umass.edu."));
}

#[tokio::test]
async fn identical_questions_in_flight_share_one_resolution() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let asks = (0..20).map(|_| local.ask("gaia.cs.umass.edu.", RecordType::A));
    let replies = futures::future::join_all(asks).await;
    assert!(
        replies
            .iter()
            .all(|r| addresses(&r.answers) == ["128.119.245.12"])
    );
    assert_eq!(local.upstream_queries(), 3, "one walk for twenty clients");
}

#[tokio::test]
async fn clients_outside_allow_are_refused_without_upstream_traffic() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.allow = vec!["10.0.0.0/8".parse().expect("valid")];
    let local = Local::start(&config);
    let query = query_message(
        &name("gaia.cs.umass.edu."),
        RecordType::A,
        &Ask {
            recursion_desired: true,
            edns: None,
        },
    );
    let query_size = query.to_vec().expect("encodes").len();
    let reply_bytes = exchange_udp_bytes(
        local.address,
        &query.to_vec().expect("encodes"),
        REPLY_TIMEOUT,
    )
    .await
    .expect("a reply");
    let reply = Message::from_vec(&reply_bytes).expect("decodes");
    assert_eq!(reply.response_code, ResponseCode::Refused);
    assert!(reply_bytes.len() <= query_size, "no amplification");
    assert_eq!(local.upstream_queries(), 0);
}

#[tokio::test]
async fn queries_without_rd_are_answered_from_the_cache_only() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let not_cached = udp(
        local.address,
        &query_message(&name("gaia.cs.umass.edu."), RecordType::A, &Ask::default()),
    )
    .await;
    assert_eq!(not_cached.response_code, ResponseCode::Refused);
    assert_eq!(local.upstream_queries(), 0);
    local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    let cached = udp(
        local.address,
        &query_message(&name("gaia.cs.umass.edu."), RecordType::A, &Ask::default()),
    )
    .await;
    assert_eq!(addresses(&cached.answers), ["128.119.245.12"]);
}

#[tokio::test]
async fn a_dead_nameserver_is_passed_over_and_then_avoided() {
    // test. has two servers: ns1 (127.0.8.2) never answers, ns2 (127.0.8.3) does.
    let mut root = root_zone(&[
        ("test.", "ns1.test.", Some("127.0.8.2")),
        ("test.", "ns2.test.", Some("127.0.8.3")),
    ]);
    root.push('\n');
    let test = zone_text(
        "test.",
        &[
            ("@", "NS", "ns2", 3600),
            ("ns2", "A", "127.0.8.3", 3600),
            ("www", "A", "192.0.2.80", 3600),
            ("mail", "A", "192.0.2.25", 3600),
        ],
    );
    let dir = zone_dir(&[("root.toml", &root), ("test.toml", &test)]);
    let lab = Lab::start_dir(dir.path());
    let dead = SocketAddr::new(ip("127.0.8.2"), lab.port);
    let _blackhole = UdpSocket::bind(dead).await.expect("bind the dead server");
    let mut config = config_for(&lab);
    config.resolver.query_timeout = 0.3;

    // A fresh resolver picks either server at random: run until the dead one
    // has been tried (forty starts miss it with odds 2^-40), at least five times.
    let mut dead_tried = 0;
    for run in 0..40 {
        if dead_tried > 0 && run >= 5 {
            break;
        }
        let local = Local::start(&config);
        let started = Instant::now();
        let reply = local.ask("www.test.", RecordType::A).await;
        assert_eq!(addresses(&reply.answers), ["192.0.2.80"]);
        assert!(started.elapsed() < Duration::from_secs(2));
        let first = local.upstream();
        if first.iter().any(|(d, _)| d.to == dead) {
            dead_tried += 1;
        }
        // From now on the live server is asked first.
        for _ in 0..3 {
            local.ask("mail.test.", RecordType::A).await;
            local.ask("nosuch.test.", RecordType::A).await;
        }
        let later = local.upstream();
        assert!(!later.is_empty());
        assert!(
            later.iter().all(|(d, _)| d.to != dead),
            "the dead server is avoided"
        );
    }
    assert!(
        dead_tried > 0,
        "the dead server was tried at least once in forty runs"
    );
}

#[tokio::test]
async fn a_truncated_reply_is_retried_over_tcp() {
    let mut records = vec![("@", "NS", "ns", 3600), ("ns", "A", "127.0.8.4", 3600)];
    let values: Vec<String> = (0..100).map(|i| format!("192.0.2.{i}")).collect();
    for value in &values {
        records.push(("many", "A", value, 3600));
    }
    let dir = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[("big.test.", "ns.big.test.", Some("127.0.8.4"))]),
        ),
        ("big.toml", &zone_text("big.test.", &records)),
    ]);
    let lab = Lab::start_dir(dir.path());
    let local = Local::start(&config_for(&lab));
    let query = query_message(
        &name("many.big.test."),
        RecordType::A,
        &Ask {
            recursion_desired: true,
            edns: Some(1232),
        },
    );
    let over_udp = udp(local.address, &query).await;
    assert!(over_udp.truncation, "too big for the client's UDP: TC");
    let over_tcp = tcp(local.address, &query).await;
    assert_eq!(over_tcp.answers.len(), 100);
    let upstream = local.upstream();
    assert!(
        upstream
            .iter()
            .any(|(d, m)| d.protocol == Protocol::Tcp && m.answers.len() == 100),
        "the resolver fetched the RRset over TCP"
    );
}

/// A fake root server that sends spoofed replies before the real one.
async fn spoofing_root(socket: UdpSocket, other: UdpSocket) {
    let mut buffer = vec![0u8; 4096];
    loop {
        let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
            return;
        };
        let Ok(query) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        let answer = |id: u16, qname: &Name, last: u8| {
            let mut reply = Message::response(id, query.op_code);
            reply.metadata.authoritative = true;
            reply.add_query(hickory_proto::op::Query::query(
                qname.clone(),
                RecordType::A,
            ));
            reply.add_answer(Record::from_rdata(
                query.queries[0].name.clone(),
                300,
                RData::A(A::new(192, 0, 2, last)),
            ));
            reply.to_vec().expect("encodes")
        };
        let qname = query.queries[0].name.clone();
        let poison = 66;
        // Wrong ID; right ID with another question; right everything from another address.
        let _ = socket
            .send_to(&answer(query.id.wrapping_add(1), &qname, poison), client)
            .await;
        let _ = socket
            .send_to(&answer(query.id, &name("other.example."), poison), client)
            .await;
        let _ = other
            .send_to(&answer(query.id, &qname, poison), client)
            .await;
        // Then the real reply.
        let _ = socket.send_to(&answer(query.id, &qname, 1), client).await;
    }
}

#[tokio::test]
async fn spoofed_and_mismatched_replies_are_ignored() {
    let socket = UdpSocket::bind("127.0.8.10:0").await.expect("bind");
    let port = socket.local_addr().expect("bound").port();
    let other = UdpSocket::bind("127.0.8.11:0").await.expect("bind");
    let server = tokio::spawn(spoofing_root(socket, other));
    let mut config = resolver::config::Config::parse("").expect("defaults");
    config.resolver.roots = Some(resolver::config::Roots::Addresses(vec![ip("127.0.8.10")]));
    config.resolver.port = Some(port);
    let local = Local::start(&config);
    for host in ["www.example.", "mail.example.", "www.example."] {
        let reply = local.ask(host, RecordType::A).await;
        assert_eq!(
            addresses(&reply.answers),
            ["192.0.2.1"],
            "{host}: the real answer"
        );
    }
    server.abort();
}

/// A lab with the zone `limits.test.` (at 127.0.8.5) holding `records`.
fn limits_lab(records: &[(&str, &str, &str, u32)]) -> (tempfile::TempDir, Lab) {
    let mut all = vec![("@", "NS", "ns", 3600), ("ns", "A", "127.0.8.5", 3600)];
    all.extend_from_slice(records);
    let dir = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[("limits.test.", "ns.limits.test.", Some("127.0.8.5"))]),
        ),
        ("limits.toml", &zone_text("limits.test.", &all)),
    ]);
    let lab = Lab::start_dir(dir.path());
    (dir, lab)
}

#[tokio::test]
async fn a_cname_chain_over_the_limit_fails_quickly() {
    let names: Vec<String> = (0..15).map(|i| format!("c{i}")).collect();
    let targets: Vec<String> = (1..16).map(|i| format!("c{i}")).collect();
    let mut records: Vec<(&str, &str, &str, u32)> = names
        .iter()
        .zip(&targets)
        .map(|(n, t)| (n.as_str(), "CNAME", t.as_str(), 3600))
        .collect();
    records.push(("c15", "A", "192.0.2.15", 3600));
    let (_dir, lab) = limits_lab(&records);
    let local = Local::start(&config_for(&lab));
    let started = Instant::now();
    let reply = local.ask("c0.limits.test.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(2));
    // Within the limit (10 by default) it resolves.
    let reply = local.ask("c6.limits.test.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 10);
}

#[tokio::test]
async fn a_cname_loop_fails_quickly() {
    let (_dir, lab) = limits_lab(&[
        ("a", "CNAME", "b", 3600),
        ("b", "CNAME", "c", 3600),
        ("c", "CNAME", "a", 3600),
    ]);
    let local = Local::start(&config_for(&lab));
    let started = Instant::now();
    let reply = local.ask("a.limits.test.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn zones_served_only_by_each_others_names_fail_quickly() {
    // a.test is served by ns.b.test, b.test by ns.a.test, and the root gives no glue.
    let dir = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[
                ("a.test.", "ns.b.test.", None),
                ("b.test.", "ns.a.test.", None),
            ]),
        ),
        (
            "a.toml",
            &zone_text(
                "a.test.",
                &[
                    ("@", "NS", "ns.b.test.", 3600),
                    ("ns", "A", "127.0.8.22", 3600),
                    ("www", "A", "192.0.2.1", 3600),
                ],
            ),
        ),
        (
            "b.toml",
            &zone_text(
                "b.test.",
                &[
                    ("@", "NS", "ns.a.test.", 3600),
                    ("ns", "A", "127.0.8.21", 3600),
                ],
            ),
        ),
    ]);
    let lab = Lab::start_dir(dir.path());
    let local = Local::start(&config_for(&lab));
    let started = Instant::now();
    let reply = local.ask("www.a.test.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(local.upstream_queries() <= 8, "the loop is cut early");
}

#[tokio::test]
async fn a_server_that_never_answers_gives_servfail_by_the_deadline() {
    let silent = UdpSocket::bind("127.0.8.30:0").await.expect("bind");
    let port = silent.local_addr().expect("bound").port();
    let mut config = resolver::config::Config::parse("").expect("defaults");
    config.resolver.roots = Some(resolver::config::Roots::Addresses(vec![ip("127.0.8.30")]));
    config.resolver.port = Some(port);
    config.resolver.query_timeout = 0.2;
    config.limits.resolution_timeout = 1.0;
    let local = Local::start(&config);
    let started = Instant::now();
    let reply = local.ask("www.example.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn emptying_the_cache_also_stops_the_replay_of_answers_made_from_it() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    local.ask("gaia.cs.umass.edu.", RecordType::A).await; // resolved
    local.ask("gaia.cs.umass.edu.", RecordType::A).await; // from the cache: remembered
    local.upstream();
    let replayed = local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&replayed.answers), ["128.119.245.12"]);
    assert_eq!(local.upstream_queries(), 0, "replayed, not resolved");
    local.resolver.cache().clear();
    let after = local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&after.answers), ["128.119.245.12"]);
    assert!(
        local.upstream_queries() > 0,
        "resolved again: no answer replayed from the emptied cache"
    );
}
