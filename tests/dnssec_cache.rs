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
use resolver::config::Config;

/// The tests of this binary that move the process-wide clock: one at a time.
static CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A configuration validating `lab` from its root's key.
fn validating(lab: &Lab) -> Config {
    let mut config = config_for(lab);
    config.dnssec.trust_anchors = resolver::lab::root_trust_anchors(&lab.zones);
    config
}

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
