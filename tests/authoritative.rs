//! The authoritative server on loopback, queried over real sockets: one test
//! per behaviour of RFC 1034 §4.3.2, RFC 1035, RFC 2308 and RFC 6891.

mod common;

use std::time::Duration;

use common::*;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use tokio::net::TcpStream;

#[tokio::test]
async fn an_authoritative_answer_has_aa_and_the_zone_ttl() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.authoritative, "AA must be set");
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert_eq!(reply.answers[0].ttl, 600);
}

#[tokio::test]
async fn the_question_is_echoed_as_asked() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "GaIa.CS.UMass.Edu.", RecordType::A).await;
    assert!(reply.queries[0].name.eq_case(&name("GaIa.CS.UMass.Edu.")));
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
}

#[tokio::test]
async fn the_root_refers_to_edu_with_glue() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.1.1"), "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(!reply.authoritative, "a referral is not authoritative");
    assert!(reply.answers.is_empty());
    assert_eq!(summary(&reply.authorities), ["edu. 172800 NS"]);
    assert_eq!(summary(&reply.additionals), ["a.edu-servers.net. 172800 A"]);
    assert_eq!(addresses(&reply.additionals), ["127.0.2.1"]);
}

#[tokio::test]
async fn a_name_below_a_delegation_gets_a_referral_with_in_bailiwick_glue() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.2.1"), "gaia.cs.umass.edu.", RecordType::A).await;
    assert!(!reply.authoritative);
    assert_eq!(summary(&reply.authorities), ["umass.edu. 172800 NS"]);
    assert_eq!(addresses(&reply.additionals), ["127.0.3.1"]);
    // The delegation point itself is a referral too, even for NS.
    let reply = ask(lab.at("127.0.2.1"), "umass.edu.", RecordType::NS).await;
    assert!(!reply.authoritative);
    assert!(reply.answers.is_empty());
    assert_eq!(summary(&reply.authorities), ["umass.edu. 172800 NS"]);
}

#[tokio::test]
async fn a_delegation_without_glue_refers_with_no_additional() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.5.1"), "www.enterprise.com.", RecordType::A).await;
    assert_eq!(summary(&reply.authorities), ["enterprise.com. 172800 NS"]);
    assert!(reply.additionals.is_empty(), "dns.umass.edu is not in com.");
}

#[tokio::test]
async fn a_cname_is_chased_within_the_zones_of_the_server() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "www.cs.umass.edu.", RecordType::A).await;
    assert!(reply.authoritative);
    assert_eq!(
        summary(&reply.answers),
        ["www.cs.umass.edu. 3600 CNAME", "gaia.cs.umass.edu. 600 A"]
    );
    // A target in a zone this server does not hold: the chain stops at the CNAME.
    let reply = ask(lab.at("127.0.4.1"), "www.poly.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.authoritative);
    assert_eq!(summary(&reply.answers), ["www.poly.edu. 3600 CNAME"]);
}

#[tokio::test]
async fn a_cname_is_chased_across_zones_held_by_one_server() {
    let dir = zone_dir(&[
        (
            "a.toml",
            r#"origin = "a.test."
[soa]
mname = "ns.a.test."
rname = "h.a.test."
serial = 1
refresh = 1
retry = 1
expire = 1
minimum = 60
[[records]]
name = "@"
type = "NS"
value = "ns"
[[records]]
name = "ns"
type = "A"
value = "127.0.9.1"
[[records]]
name = "www"
type = "CNAME"
value = "host.b.test."
"#,
        ),
        (
            "b.toml",
            r#"origin = "b.test."
[soa]
mname = "ns.a.test."
rname = "h.a.test."
serial = 1
refresh = 1
retry = 1
expire = 1
minimum = 60
[[records]]
name = "@"
type = "NS"
value = "ns.a.test."
[[records]]
name = "host"
type = "A"
value = "192.0.2.7"
"#,
        ),
    ]);
    let lab = Lab::start_dir(dir.path());
    let reply = ask(lab.at("127.0.9.1"), "www.a.test.", RecordType::A).await;
    assert!(reply.authoritative);
    assert_eq!(
        summary(&reply.answers),
        ["www.a.test. 3600 CNAME", "host.b.test. 3600 A"]
    );
    // The chain ends at a name with no AAAA: NODATA with the SOA of the last zone.
    let reply = ask(lab.at("127.0.9.1"), "www.a.test.", RecordType::AAAA).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(summary(&reply.answers), ["www.a.test. 3600 CNAME"]);
    assert_eq!(summary(&reply.authorities), ["b.test. 60 SOA"]);
}

#[tokio::test]
async fn nxdomain_carries_the_soa_with_the_negative_ttl() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "nosuch.umass.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NXDomain);
    assert!(reply.authoritative);
    assert!(reply.answers.is_empty());
    // RFC 2308 §3: the SOA's TTL is min(SOA TTL 86400, MINIMUM 300).
    assert_eq!(summary(&reply.authorities), ["umass.edu. 300 SOA"]);
}

#[tokio::test]
async fn nodata_carries_the_soa() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "gaia.cs.umass.edu.", RecordType::AAAA).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.authoritative);
    assert!(reply.answers.is_empty());
    assert_eq!(summary(&reply.authorities), ["umass.edu. 300 SOA"]);
    // An empty non-terminal (128.in-addr.arpa. exists only because
    // 119.128.in-addr.arpa. does) is NODATA, not NXDOMAIN.
    let reply = ask(lab.at("127.0.7.1"), "128.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::NoError,
        "empty non-terminal"
    );
}

#[tokio::test]
async fn mx_answers_carry_the_exchange_address() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "umass.edu.", RecordType::MX).await;
    assert_eq!(summary(&reply.answers), ["umass.edu. 86400 MX"]);
    assert_eq!(addresses(&reply.additionals), ["128.119.8.150"]);
}

#[tokio::test]
async fn names_outside_the_zones_of_an_address_are_refused() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "www.ibm.com.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::Refused);
    assert!(reply.answers.is_empty());
    // The root server holds "." and so answers for everything; edu's does not.
    let reply = ask(lab.at("127.0.2.1"), "www.ibm.com.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::Refused);
}

#[tokio::test]
async fn an_opt_in_the_query_gets_an_opt_in_the_reply() {
    let lab = Lab::start();
    let server = lab.at("127.0.3.1");
    let with = udp(
        server,
        &query_message(
            &name("gaia.cs.umass.edu."),
            RecordType::A,
            &Ask {
                edns: Some(4096),
                ..Ask::default()
            },
        ),
    )
    .await;
    let edns = with.edns.expect("an OPT in the reply");
    assert_eq!(edns.max_payload(), 1232);
    assert_eq!(edns.version(), 0);
    let without = udp(
        server,
        &query_message(
            &name("gaia.cs.umass.edu."),
            RecordType::A,
            &Ask {
                edns: None,
                ..Ask::default()
            },
        ),
    )
    .await;
    assert!(without.edns.is_none(), "no OPT without one in the query");
}

#[tokio::test]
async fn an_edns_version_other_than_0_gets_badvers() {
    let lab = Lab::start();
    let mut query = query_message(&name("gaia.cs.umass.edu."), RecordType::A, &Ask::default());
    let mut edns = Edns::new();
    edns.set_version(1);
    query.edns = Some(edns);
    let reply = udp(lab.at("127.0.3.1"), &query).await;
    // BADVERS is 16, an extended RCODE (hickory decodes 16 as BADSIG, its twin).
    assert_eq!(u16::from(reply.response_code), 16);
    assert_eq!(reply.edns.expect("BADVERS comes in an OPT").version(), 0);
}

/// A zone with an RRset too big for 512 octets.
fn big_zone() -> tempfile::TempDir {
    let mut text = String::from(
        r#"origin = "big.test."
[soa]
mname = "ns.big.test."
rname = "h.big.test."
serial = 1
refresh = 1
retry = 1
expire = 1
minimum = 60
[[records]]
name = "@"
type = "NS"
value = "ns"
[[records]]
name = "ns"
type = "A"
value = "127.0.9.2"
"#,
    );
    for i in 0..40 {
        text.push_str(&format!(
            "[[records]]\nname = \"many\"\ntype = \"A\"\nvalue = \"192.0.2.{i}\"\n"
        ));
    }
    zone_dir(&[("big.toml", &text)])
}

#[tokio::test]
async fn an_answer_too_big_for_udp_is_truncated_and_whole_over_tcp() {
    let dir = big_zone();
    let lab = Lab::start_dir(dir.path());
    let server = lab.at("127.0.9.2");
    let query = query_message(
        &name("many.big.test."),
        RecordType::A,
        &Ask {
            edns: None,
            ..Ask::default()
        },
    );
    let over_udp = udp(server, &query).await;
    assert!(over_udp.truncation, "TC must be set");
    assert!(over_udp.to_vec().expect("encodes").len() <= 512);
    let over_tcp = tcp(server, &query).await;
    assert!(!over_tcp.truncation);
    assert_eq!(over_tcp.answers.len(), 40);
    // With EDNS and a 1232-octet payload, 40 A records fit over UDP.
    let with_edns = udp(
        server,
        &query_message(&name("many.big.test."), RecordType::A, &Ask::default()),
    )
    .await;
    assert!(!with_edns.truncation);
    assert_eq!(with_edns.answers.len(), 40);
}

#[tokio::test]
async fn tcp_serves_several_queries_on_one_connection() {
    let lab = Lab::start();
    let mut stream = TcpStream::connect(lab.at("127.0.3.1"))
        .await
        .expect("connect");
    for host in ["gaia.cs.umass.edu.", "www.umass.edu.", "mail.umass.edu."] {
        let query = query_message(&name(host), RecordType::A, &Ask::default());
        write_tcp_message(&mut stream, &query.to_vec().expect("encodes"))
            .await
            .expect("write");
        let reply = read_tcp_message(&mut stream).await.expect("a reply");
        let reply = Message::from_vec(&reply).expect("decodes");
        assert_eq!(reply.id, query.id);
        assert_eq!(reply.answers.len(), 1, "{host}");
    }
}

#[tokio::test]
async fn idle_tcp_connections_are_closed() {
    use resolver::authority::{Authority, Catalog};
    use resolver::server::{Limits, serve};
    use std::sync::Arc;

    let zones = resolver::zone::ZoneSet::load_dir(&lab_zones_dir()).expect("lab zones");
    let umass = zones.get(&name("umass.edu.")).expect("umass.edu").clone();
    let listener = common::bind_listener_below_ephemeral_ports();
    let address = listener.local_addr();
    let running = Running::new();
    let limits = Limits {
        tcp_idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    running.tasks.spawn(serve(
        listener,
        Arc::new(Authority::new(Catalog::new([umass]))),
        limits,
        None,
        running.shutdown.clone(),
    ));
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let closed = tokio::time::timeout(Duration::from_secs(3), read_tcp_message(&mut stream)).await;
    assert!(
        matches!(closed, Ok(Err(_))),
        "the server closes an idle connection: {closed:?}"
    );
}

#[tokio::test]
async fn malformed_queries_get_formerr_or_are_dropped_and_serving_goes_on() {
    let lab = Lab::start();
    let server = lab.at("127.0.3.1");
    let short = Duration::from_millis(300);
    // Fewer than 12 octets: not even a header, dropped.
    assert!(
        exchange_udp_bytes(server, &[0x12, 0x34, 0x01], short)
            .await
            .is_none()
    );
    // A header that promises a question that is not there: FORMERR.
    let header_only = [0xab, 0xcd, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    let reply = exchange_udp_bytes(server, &header_only, REPLY_TIMEOUT)
        .await
        .expect("FORMERR reply");
    let reply = Message::from_vec(&reply).expect("decodes");
    assert_eq!(reply.id, 0xabcd);
    assert_eq!(reply.response_code, ResponseCode::FormErr);
    // QDCOUNT 0: FORMERR.
    let no_question = [0x00, 0x07, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    let reply = exchange_udp_bytes(server, &no_question, REPLY_TIMEOUT)
        .await
        .expect("FORMERR reply");
    assert_eq!(
        Message::from_vec(&reply).expect("decodes").response_code,
        ResponseCode::FormErr
    );
    // A compression pointer that points at itself: FORMERR, no loop.
    let mut looped = vec![0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    looped.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]);
    let reply = exchange_udp_bytes(server, &looped, REPLY_TIMEOUT)
        .await
        .expect("FORMERR reply");
    assert_eq!(
        Message::from_vec(&reply).expect("decodes").response_code,
        ResponseCode::FormErr
    );
    // A response sent as a query: dropped.
    let mut response = query_message(&name("gaia.cs.umass.edu."), RecordType::A, &Ask::default());
    response.metadata.message_type = MessageType::Response;
    let bytes = response.to_vec().expect("encodes");
    assert!(exchange_udp_bytes(server, &bytes, short).await.is_none());
    // Random junk, many times: whatever happens, the server still answers.
    for seed in 0..200u32 {
        let junk: Vec<u8> = (0..(seed % 60 + 1))
            .map(|i| (seed.wrapping_mul(2654435761).wrapping_add(i * 40503) >> 7) as u8)
            .collect();
        let _ = exchange_udp_bytes(server, &junk, Duration::from_millis(20)).await;
    }
    let reply = ask(server, "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
}

#[tokio::test]
async fn unknown_opcodes_get_notimp() {
    let lab = Lab::start();
    let mut query = query_message(&name("umass.edu."), RecordType::SOA, &Ask::default());
    query.metadata.op_code = OpCode::Notify;
    let reply = udp(lab.at("127.0.3.1"), &query).await;
    assert_eq!(reply.response_code, ResponseCode::NotImp);
    assert_eq!(reply.op_code, OpCode::Notify);
}

#[tokio::test]
async fn the_soa_and_txt_are_served() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "umass.edu.", RecordType::SOA).await;
    assert!(reply.authoritative);
    let RData::SOA(soa) = &reply.answers[0].data else {
        panic!("an SOA answer: {reply:?}");
    };
    assert_eq!(soa.minimum, 300);
    let reply = ask(lab.at("127.0.3.1"), "umass.edu.", RecordType::TXT).await;
    assert_eq!(summary(&reply.answers), ["umass.edu. 86400 TXT"]);
    let reply = ask(
        lab.at("127.0.3.1"),
        "12.245.119.128.in-addr.arpa.",
        RecordType::PTR,
    )
    .await;
    let RData::PTR(ptr) = &reply.answers[0].data else {
        panic!("a PTR answer: {reply:?}");
    };
    assert_eq!(ptr.0, name("gaia.cs.umass.edu."));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    use std::process::{Command, Stdio};
    let port = rand::random_range(32_100..32_700);
    let mut child = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .args(["auth", "--config"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("resolver.toml"))
        .args(["--port", &port.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start resolver auth");
    // Wait until it answers, then ask it to stop.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = std::net::SocketAddr::new(ip("127.0.3.1"), port);
    let query = query_message(&name("gaia.cs.umass.edu."), RecordType::A, &Ask::default());
    let bytes = query.to_vec().expect("encodes");
    let answered = (0..50).any(|_| {
        runtime
            .block_on(exchange_udp_bytes(
                server,
                &bytes,
                Duration::from_millis(100),
            ))
            .is_some()
    });
    assert!(answered, "resolver auth answers once started");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "a clean exit: {exit:?}");
}

#[tokio::test]
async fn wildcards_synthesise_answers_for_names_that_do_not_exist() {
    let dir = zone_dir(&[(
        "w.toml",
        &served_zone(
            "w.test.",
            "127.0.9.3",
            &[
                ("*", "A", "192.0.2.9", 300),
                ("real", "A", "192.0.2.1", 300),
                ("*.deep", "CNAME", "real", 300),
            ],
        ),
    )]);
    let lab = Lab::start_dir(dir.path());
    let server = lab.at("127.0.9.3");
    let reply = ask(server, "anything.w.test.", RecordType::A).await;
    assert!(reply.authoritative);
    assert_eq!(
        summary(&reply.answers),
        ["anything.w.test. 300 A"],
        "owner = the name asked"
    );
    assert_eq!(addresses(&reply.answers), ["192.0.2.9"]);
    let reply = ask(server, "a.b.w.test.", RecordType::A).await;
    assert_eq!(
        addresses(&reply.answers),
        ["192.0.2.9"],
        "the closest encloser is w.test."
    );
    let reply = ask(server, "anything.w.test.", RecordType::MX).await;
    assert_eq!(
        (reply.response_code, reply.answers.len()),
        (ResponseCode::NoError, 0),
        "NODATA"
    );
    let reply = ask(server, "real.w.test.", RecordType::TXT).await;
    assert_eq!(
        (reply.response_code, reply.answers.len()),
        (ResponseCode::NoError, 0),
        "no wildcard for a name that exists"
    );
    let reply = ask(server, "sub.real.w.test.", RecordType::A).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::NXDomain,
        "*.real.w.test. does not exist"
    );
    let reply = ask(server, "x.deep.w.test.", RecordType::A).await;
    assert_eq!(
        summary(&reply.answers),
        ["x.deep.w.test. 300 CNAME", "real.w.test. 300 A"]
    );
}
