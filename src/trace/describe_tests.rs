//! Unit tests of describe.rs: replies classified as the resolver classifies them.

use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, Query};
use hickory_proto::rr::rdata::{A, NS};
use hickory_proto::rr::{RData, RecordType};

use super::*;

fn name(text: &str) -> Name {
    Name::from_str(text).expect("a valid name")
}

fn record(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

/// The query for gaia.cs.umass.edu A and its reply, as two datagrams
/// between the resolver and a server.
fn exchange(reply: impl FnOnce(&mut Message)) -> Vec<Datagram> {
    let resolver: SocketAddr = "127.0.4.1:40000".parse().expect("an address");
    let server: SocketAddr = "127.0.2.1:53".parse().expect("an address");
    let mut query = Message::query();
    query.add_query(Query::query(name("gaia.cs.umass.edu."), RecordType::A));
    let mut response = query.clone();
    response.metadata.message_type = MessageType::Response;
    reply(&mut response);
    vec![
        Datagram::new(
            resolver,
            server,
            Protocol::Udp,
            &query.to_vec().expect("encodes"),
        ),
        Datagram::new(
            server,
            resolver,
            Protocol::Udp,
            &response.to_vec().expect("encodes"),
        ),
    ]
}

fn kind(datagrams: &[Datagram], cast: &Cast) -> (Kind, Option<String>) {
    let views = describe(datagrams, cast);
    assert_eq!(views[0].kind, Kind::Query);
    (views[1].kind, views[1].reason.clone())
}

fn a_record() -> Record {
    record("gaia.cs.umass.edu.", RData::A(A::new(128, 119, 245, 12)))
}

#[test]
fn data_from_a_cache_asked_iteratively_is_lame_as_the_resolver_reads_it() {
    let datagrams = exchange(|m| {
        m.metadata.recursion_available = true;
        m.add_answer(a_record());
    });
    let (kind, reason) = kind(&datagrams, &Cast::default());
    assert_eq!(kind, Kind::Lame);
    assert!(reason.expect("a reason").contains("cache"));
}

#[test]
fn a_recursive_reply_is_the_answer_for_the_host() {
    let datagrams = exchange(|m| {
        m.metadata.recursion_desired = true;
        m.metadata.recursion_available = true;
        m.add_answer(a_record());
    });
    assert_eq!(kind(&datagrams, &Cast::default()).0, Kind::Answer);
}

#[test]
fn a_referral_to_the_zone_the_server_serves_is_upward_and_lame() {
    let referral = |m: &mut Message| {
        m.add_authority(record("edu.", RData::NS(NS(name("a.edu-servers.net.")))));
    };
    let datagrams = exchange(referral);
    // Asked as the root's server, NS for edu. is a referral down...
    assert_eq!(kind(&datagrams, &Cast::default()).0, Kind::Referral);
    // ...asked as edu.'s own server, it leads nowhere.
    let mut cast = Cast::default();
    cast.serves("127.0.2.1".parse().expect("an address"), name("edu."));
    assert_eq!(kind(&datagrams, &cast).0, Kind::Lame);
}

#[test]
fn the_glue_of_a_referral_teaches_which_zone_its_servers_serve() {
    let mut datagrams = exchange(|m| {
        m.add_authority(record("edu.", RData::NS(NS(name("a.edu-servers.net.")))));
        m.add_additional(record("a.edu-servers.net.", RData::A(A::new(127, 0, 2, 1))));
    });
    // The same server then refers to edu. again: upward, once it is known as edu.'s.
    datagrams.extend(exchange(|m| {
        m.add_authority(record("edu.", RData::NS(NS(name("a.edu-servers.net.")))));
    }));
    datagrams[0].to = "127.0.1.1:53".parse().expect("an address");
    datagrams[1].from = "127.0.1.1:53".parse().expect("an address");
    let views = describe(&datagrams, &Cast::default());
    let kinds: Vec<Kind> = views.iter().map(|v| v.kind).collect();
    assert_eq!(
        kinds,
        [Kind::Query, Kind::Referral, Kind::Query, Kind::Lame]
    );
}
