//! Scrub and classify on hand-made replies.

use super::*;
use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};
use std::net::Ipv4Addr;

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("valid")
}

fn a(owner: &str, last: u8) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::A(A(Ipv4Addr::new(192, 0, 2, last))),
    )
}

fn ns(owner: &str, target: &str) -> Record {
    Record::from_rdata(name(owner), 3600, RData::NS(NS(name(target))))
}

fn cname(owner: &str, target: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::CNAME(CNAME(name(target))))
}

fn soa(owner: &str) -> Record {
    let data = SOA::new(name("ns.x."), name("h.x."), 1, 1, 1, 1, 60);
    Record::from_rdata(name(owner), 600, RData::SOA(data))
}

fn reply(
    aa: bool,
    answers: Vec<Record>,
    authorities: Vec<Record>,
    additionals: Vec<Record>,
) -> Message {
    let mut message = Message::response(1, hickory_proto::op::OpCode::Query);
    message.metadata.authoritative = aa;
    message.answers = answers;
    message.authorities = authorities;
    message.additionals = additionals;
    message
}

#[test]
fn out_of_bailiwick_records_are_scrubbed_from_every_section() {
    let mut message = reply(
        true,
        vec![a("www.example.com.", 1), a("www.victim.org.", 2)],
        vec![
            ns("victim.org.", "ns.evil.net."),
            ns("example.com.", "ns.example.com."),
        ],
        vec![a("ns.evil.net.", 3), a("ns.example.com.", 4)],
    );
    let scrubbed = scrub(&mut message, &name("example.com."));
    assert_eq!(scrubbed.out_of_bailiwick, 3);
    assert!(
        message
            .all_sections()
            .all(|r| name("example.com.").zone_of(&r.name))
    );
}

#[test]
fn a_referral_takes_glue_only_for_its_nameservers() {
    let message = reply(
        false,
        vec![],
        vec![ns("umass.edu.", "dns.umass.edu.")],
        vec![a("dns.umass.edu.", 1), a("other.edu.", 2)],
    );
    let classified = classify(
        &message,
        &name("gaia.cs.umass.edu."),
        RecordType::A,
        &name("edu."),
    );
    let Classified::Referral { delegation, ttl } = classified else {
        panic!("a referral: {classified:?}");
    };
    assert_eq!(ttl, 3600);
    assert_eq!(delegation.zone, name("umass.edu."));
    assert_eq!(delegation.glue.len(), 1);
}

#[test]
fn a_referral_to_the_zone_itself_is_lame() {
    let message = reply(
        false,
        vec![],
        vec![ns("edu.", "a.edu-servers.net.")],
        vec![],
    );
    assert_eq!(
        classify(
            &message,
            &name("gaia.cs.umass.edu."),
            RecordType::A,
            &name("edu.")
        ),
        Classified::Lame(Lameness::UpwardReferral)
    );
    let upward = reply(false, vec![], vec![ns(".", "a.root-servers.net.")], vec![]);
    assert_eq!(
        classify(
            &upward,
            &name("www.umass.edu."),
            RecordType::A,
            &name("umass.edu.")
        ),
        Classified::Lame(Lameness::UpwardReferral)
    );
}

#[test]
fn data_without_aa_is_lame_from_a_recursive_server_only() {
    let mut message = reply(false, vec![a("www.t.", 1)], vec![], vec![]);
    message.metadata.recursion_available = true;
    assert_eq!(
        classify(&message, &name("www.t."), RecordType::A, &name("t.")),
        Classified::Lame(Lameness::NotAuthoritative)
    );
    message.metadata.recursion_available = false;
    assert!(matches!(
        classify(&message, &name("www.t."), RecordType::A, &name("t.")),
        Classified::Answer { .. }
    ));
}

#[test]
fn a_chain_leaving_the_zone_is_an_alias() {
    let message = reply(true, vec![cname("www.t.", "host.other.")], vec![], vec![]);
    assert_eq!(
        classify(&message, &name("www.t."), RecordType::A, &name("t.")),
        Classified::Alias {
            chain: vec![cname("www.t.", "host.other.")],
            target: name("host.other."),
        }
    );
}

#[test]
fn nxdomain_and_nodata_keep_the_soa() {
    let mut message = reply(true, vec![], vec![soa("t.")], vec![]);
    message.metadata.response_code = ResponseCode::NXDomain;
    assert!(matches!(
        classify(&message, &name("gone.t."), RecordType::A, &name("t.")),
        Classified::NxDomain { soa: Some(_), .. }
    ));
    message.metadata.response_code = ResponseCode::NoError;
    assert!(matches!(
        classify(&message, &name("www.t."), RecordType::AAAA, &name("t.")),
        Classified::NoData { soa: Some(_), .. }
    ));
}

#[test]
fn error_rcodes_are_lame() {
    let mut message = reply(false, vec![], vec![], vec![]);
    message.metadata.response_code = ResponseCode::Refused;
    assert_eq!(
        classify(&message, &name("www.t."), RecordType::A, &name("t.")),
        Classified::Lame(Lameness::Rcode(ResponseCode::Refused))
    );
}
