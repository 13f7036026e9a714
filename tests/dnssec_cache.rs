//! Validation of what the cache holds (RFC 4035 §4.3, §5): data that
//! outlives the delegation it came through, and cache hits that come
//! without a verdict. Against a copy of the signed lab over real sockets;
//! the clock is moved, never waited out (the shift is process-wide, so the
//! tests of this binary that move it take turns).

mod common;

use std::time::Duration;

use common::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

/// The tests of this binary that move the process-wide clock: one at a time.
static CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn shift(seconds: u64) {
    resolver::clock::shift(Duration::from_secs(seconds));
}

/// The queries of `local`'s upstream messages since the last look, as
/// `name type` text.
fn asked(local: &Local) -> Vec<String> {
    local
        .upstream()
        .iter()
        .filter(|(_, message)| message.message_type == hickory_proto::op::MessageType::Query)
        .filter_map(|(_, message): &(_, Message)| message.queries.first().cloned())
        .map(|query| format!("{} {}", query.name, query.query_type))
        .collect()
}

/// com.'s delegation of the unsigned enterprise.com. lives 60 s, its data a
/// day. Once the delegation has expired, the cached address is still
/// insecure, not bogus: the zone cut is found again from com. down (its DS
/// asked, or com.'s proof of none still kept from the referral: RFC 4035
/// §5.2), not taken to be com., which is signed.
#[tokio::test]
async fn unsigned_data_outliving_its_delegation_is_still_insecure() {
    let _turn = CLOCK.lock().await;
    let dir = lab_copy("com.toml", |text| {
        text.replace(
            "name = \"enterprise\"\ntype = \"NS\"\nvalue = \"dns.umass.edu.\"",
            "name = \"enterprise\"\ntype = \"NS\"\nvalue = \"dns.umass.edu.\"\nttl = 60",
        )
    });
    let lab = Lab::start_dir(dir.path());
    let local = Local::start(&validating(&lab));
    let first = local.ask("www.enterprise.com.", RecordType::A).await;
    assert_eq!(first.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&first.answers), ["203.0.113.10"]);
    assert!(!first.authentic_data, "insecure");
    asked(&local);

    shift(120);
    // The address is cached (from the CNAME's target) with no verdict of
    // its own: it is validated from the cache, its delegation gone.
    let later = local
        .ask("relay1.west-coast.enterprise.com.", RecordType::A)
        .await;
    assert_eq!(
        later.response_code,
        ResponseCode::NoError,
        "insecure, not bogus: {:?}",
        extended_errors(&later)
    );
    assert_eq!(addresses(&later.answers), ["203.0.113.10"]);
    assert!(!later.authentic_data, "insecure: no AD");
    let queries = asked(&local);
    assert!(
        !queries.contains(&"relay1.west-coast.enterprise.com. A".to_string()),
        "the address came from the cache: {queries:?}"
    );
}

/// Asks `local` with RD clear (from its cache only) and AD set.
async fn ask_cache_only(local: &Local, qname: &str, qtype: RecordType) -> Message {
    let mut query = query_message(&name(qname), qtype, &Ask::default());
    query.metadata.authentic_data = true;
    udp(local.address, &query).await
}

/// A question with RD clear is answered from the cache; cached data that
/// has no verdict yet (here an NS name's address, looked up on the way and
/// never asked by a client) is validated from the cache alone, and refused
/// when that needs the network, never handed out unvalidated.
#[tokio::test]
async fn a_cache_hit_without_recursion_is_validated_from_the_cache_alone() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    let insecure = local.ask("www.enterprise.com.", RecordType::A).await;
    assert_eq!(insecure.response_code, ResponseCode::NoError);
    asked(&local);

    // dns.umass.edu.'s address was looked up to reach enterprise.com.'s
    // server, but umass.edu.'s keys are not cached yet.
    let unchecked = ask_cache_only(&local, "dns.umass.edu.", RecordType::A).await;
    assert_eq!(
        unchecked.response_code,
        ResponseCode::Refused,
        "not validated, so not given: {:?}",
        summary(&unchecked.answers)
    );
    assert_eq!(
        asked(&local),
        Vec::<String>::new(),
        "RD clear: nothing asked"
    );

    // Once umass.edu.'s keys are cached, the same address validates.
    let secure = local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(secure.response_code, ResponseCode::NoError);
    asked(&local);
    let checked = ask_cache_only(&local, "dns.umass.edu.", RecordType::A).await;
    assert_eq!(checked.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&checked.answers), ["127.0.3.1"]);
    assert!(checked.authentic_data, "validated from the cache: AD");
    // The CNAME's target, cached without a verdict of its own, is insecure.
    let target = ask_cache_only(&local, "relay1.west-coast.enterprise.com.", RecordType::A).await;
    assert_eq!(target.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&target.answers), ["203.0.113.10"]);
    assert!(!target.authentic_data, "insecure: no AD");
    assert_eq!(
        asked(&local),
        Vec::<String>::new(),
        "RD clear: nothing asked"
    );
}

/// Asks `local` recursively with DO.
async fn ask_do(local: &Local, qname: &str, qtype: RecordType) -> Message {
    let ask = Ask {
        recursion_desired: true,
        ..Ask::default()
    };
    let mut query = query_message(&name(qname), qtype, &ask);
    if let Some(edns) = query.edns.as_mut() {
        edns.set_dnssec_ok(true);
    }
    udp(local.address, &query).await
}

/// The types of the records of a section, in order.
fn types(records: &[hickory_proto::rr::Record]) -> Vec<RecordType> {
    records.iter().map(|record| record.record_type()).collect()
}

/// RFC 8198: once umass.edu.'s NSEC records have proven one name absent
/// (and one type absent at a name), another name in the same span, and
/// another type at the same name, are answered from them with AD and the
/// proof, without asking; emptying the cache forgets them.
#[tokio::test]
async fn names_and_types_that_validated_nsecs_prove_absent_are_answered_without_asking() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    let first = ask_do(&local, "nothere.umass.edu.", RecordType::A).await;
    assert_eq!(first.response_code, ResponseCode::NXDomain);
    assert!(first.authentic_data);
    let nodata = ask_do(&local, "gaia.cs.umass.edu.", RecordType::MX).await;
    assert_eq!(nodata.response_code, ResponseCode::NoError);
    assert!(nodata.authentic_data && nodata.answers.is_empty());
    asked(&local);

    let synthesised = ask_do(&local, "nothere2.umass.edu.", RecordType::A).await;
    assert_eq!(synthesised.response_code, ResponseCode::NXDomain);
    assert!(synthesised.authentic_data, "proven: AD");
    let proof = types(&synthesised.authorities);
    assert!(
        proof.contains(&RecordType::SOA) && proof.contains(&RecordType::NSEC),
        "{proof:?}"
    );
    let other_type = ask_do(&local, "gaia.cs.umass.edu.", RecordType::TXT).await;
    assert_eq!(other_type.response_code, ResponseCode::NoError);
    assert!(other_type.answers.is_empty() && other_type.authentic_data);
    assert_eq!(asked(&local), Vec::<String>::new(), "nothing asked");
    // Data the NSECs do not deny is still asked for.
    let there = ask_do(&local, "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&there.answers), ["128.119.245.12"]);

    local.resolver.cache().clear();
    asked(&local);
    let after_flush = ask_do(&local, "nothere3.umass.edu.", RecordType::A).await;
    assert_eq!(after_flush.response_code, ResponseCode::NXDomain);
    assert!(
        asked(&local).contains(&"nothere3.umass.edu. A".to_string()),
        "emptied with the cache"
    );
}

/// RFC 8198 with NSEC3 (poly.edu.): once the NSEC3 matching a name has
/// proven one type absent there, another type is answered from it.
#[tokio::test]
async fn a_type_a_validated_nsec3_proves_absent_is_answered_without_asking() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    let first = ask_do(&local, "cis.poly.edu.", RecordType::MX).await;
    assert_eq!(first.response_code, ResponseCode::NoError);
    assert!(first.answers.is_empty() && first.authentic_data);
    asked(&local);
    let other_type = ask_do(&local, "cis.poly.edu.", RecordType::TXT).await;
    assert_eq!(other_type.response_code, ResponseCode::NoError);
    assert!(other_type.answers.is_empty() && other_type.authentic_data);
    assert!(types(&other_type.authorities).contains(&RecordType::NSEC3));
    assert_eq!(asked(&local), Vec::<String>::new(), "nothing asked");
}

/// RFC 8198 §5.3: a wildcard answer that validated (*.people.umass.edu.,
/// added to a copy of the lab) answers another name below it, its NSEC
/// proving no closer name, without asking; with AD and the RRSIG.
#[tokio::test]
async fn a_name_a_validated_wildcard_covers_is_answered_without_asking() {
    let dir = lab_copy("umass.edu.toml", |text| {
        format!("{text}\n[[records]]\nname = \"*.people\"\ntype = \"A\"\nvalue = \"128.119.1.1\"\n")
    });
    let lab = Lab::start_dir(dir.path());
    let local = Local::start(&validating(&lab));
    let first = ask_do(&local, "alice.people.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&first.answers), ["128.119.1.1"]);
    assert!(first.authentic_data);
    asked(&local);
    let synthesised = ask_do(&local, "bob.people.umass.edu.", RecordType::A).await;
    assert_eq!(synthesised.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&synthesised.answers), ["128.119.1.1"]);
    assert!(synthesised.authentic_data, "proven: AD");
    assert!(types(&synthesised.answers).contains(&RecordType::RRSIG));
    assert_eq!(asked(&local), Vec::<String>::new(), "nothing asked");
    // A name that exists beside the wildcard is not masked by it.
    let www = ask_do(&local, "www.umass.edu.", RecordType::A).await;
    assert_eq!(www.response_code, ResponseCode::NoError);
    assert!(!addresses(&www.answers).contains(&"128.119.1.1".to_string()));
}
