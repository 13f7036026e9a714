//! The validating resolver (RFC 4035 §4–5, RFC 6840, RFC 8914) against the
//! signed lab over real sockets: AD on what validated, SERVFAIL with an
//! Extended DNS Error on what did not, CD honoured, insecure kept apart
//! from bogus.

mod common;

use std::net::SocketAddr;

use common::*;
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use resolver::validator::parse_trust_anchor;

fn rrsig_types(records: &[hickory_proto::rr::Record]) -> Vec<RecordType> {
    records
        .iter()
        .filter_map(|record| match &record.data {
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => Some(rrsig.input().type_covered),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_signed_answer_has_ad_for_clients_that_ask_with_do_or_ad_and_its_rrsig_with_do() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.authentic_data, "validated: AD (RFC 4035 §3.2.3)");
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert_eq!(rrsig_types(&reply.answers), [RecordType::A]);
    // From the cache, with the verdict kept beside the data.
    let asked_ad = ask_with(
        local.address,
        "gaia.cs.umass.edu.",
        RecordType::A,
        (false, false, true),
    )
    .await;
    assert!(
        asked_ad.authentic_data,
        "AD for a client that set AD (RFC 6840 §5.7)"
    );
    assert!(
        rrsig_types(&asked_ad.answers).is_empty(),
        "no RRSIG without DO"
    );
    let plain = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, PLAIN).await;
    assert!(
        !plain.authentic_data,
        "no AD for a client that asked for neither"
    );
    assert_eq!(addresses(&plain.answers), ["128.119.245.12"]);
}

#[tokio::test]
async fn nxdomain_is_proven_by_nsec_and_by_nsec3_and_nodata_too() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    // umass.edu. denies with NSEC, poly.edu. with NSEC3 (RFC 5155).
    for missing in ["nothere.umass.edu.", "nothere.poly.edu."] {
        let reply = ask_with(local.address, missing, RecordType::A, DO).await;
        assert_eq!(reply.response_code, ResponseCode::NXDomain, "{missing}");
        assert!(reply.authentic_data, "{missing}: the denial is proven");
    }
    let nodata = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::MX, DO).await;
    assert_eq!(nodata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert!(
        nodata.authentic_data,
        "NODATA proven by the NSEC at the name"
    );
}

#[tokio::test]
async fn an_unsigned_child_is_insecure_answered_without_ad_not_bogus() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    // enterprise.com. is not signed; com. proves it has no DS.
    let reply = ask_with(local.address, "www.enterprise.com.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(!reply.answers.is_empty());
    assert!(!reply.authentic_data, "insecure: no AD");
    // A signed sibling under the same parent still validates.
    let signed = ask_with(local.address, "www.ibm.com.", RecordType::A, DO).await;
    assert!(signed.authentic_data, "ibm.com. (ECDSA P-256) is secure");
}

#[tokio::test]
async fn an_expired_signature_is_servfail_with_signature_expired() {
    let lab = Lab::start();
    let mut config = validating(&lab);
    // 40 days on: the lab's signatures last 30 days (RFC 4034 §3.1.5).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    config.dnssec.date = Some((now + 40 * 86_400) as u32);
    let local = Local::start(&config);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, PLAIN).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(reply.answers.is_empty());
    let errors = extended_errors(&reply);
    assert_eq!(errors.first().map(|e| e.0), Some(7), "{errors:?}");
    assert!(errors[0].1.contains("Signature Expired"), "{errors:?}");
}

#[tokio::test]
async fn a_wrong_trust_anchor_makes_signed_answers_bogus_but_cd_still_answers() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    // edu.'s key, claimed for the root: it signs none of the root's data.
    let edu_key = lab
        .zones
        .get(&name("edu."))
        .and_then(|zone| zone.rrset(&name("edu."), RecordType::DNSKEY))
        .expect("edu. is signed")
        .records[0]
        .data
        .to_string();
    let anchor = parse_trust_anchor(&format!(". IN DNSKEY {edu_key}")).expect("an anchor");
    config.dnssec.trust_anchors = vec![anchor];
    let local = Local::start(&config);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    let errors = extended_errors(&reply);
    assert_eq!(
        errors.first().map(|e| e.0),
        Some(9),
        "DNSKEY Missing: {errors:?}"
    );
    // The bogus verdict is kept: asked again, the same.
    let again = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, PLAIN).await;
    assert_eq!(again.response_code, ResponseCode::ServFail);
    // CD: the client validates, so it gets the data (RFC 4035 §3.2.2).
    let unchecked = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, CD).await;
    assert_eq!(unchecked.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&unchecked.answers), ["128.119.245.12"]);
    assert!(!unchecked.authentic_data);
    assert!(
        unchecked.checking_disabled,
        "CD is copied (RFC 4035 §3.1.6)"
    );
}

#[tokio::test]
async fn a_negative_trust_anchor_is_answered_without_validation() {
    let lab = Lab::start();
    let mut config = validating(&lab);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    config.dnssec.date = Some((now + 40 * 86_400) as u32); // every signature expired
    config.dnssec.negative_trust_anchors = vec![name("umass.edu.")];
    let local = Local::start(&config);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::NoError, "RFC 7646 §2");
    assert!(!reply.authentic_data);
    let outside = ask_with(local.address, "www.poly.edu.", RecordType::A, DO).await;
    assert_eq!(
        outside.response_code,
        ResponseCode::ServFail,
        "only below the NTA"
    );
}

#[tokio::test]
async fn a_record_changed_after_signing_is_servfail_with_dnssec_bogus() {
    let lab = Lab::start();
    let mut config = validating(&lab);
    // The resolver's only root is a relay that changes DS records.
    let relay_address = SocketAddr::new(ip("127.0.1.9"), lab.port);
    let _relay = relay(relay_address, lab.at("127.0.1.1"), change_ds_digests).await;
    config.resolver.roots = Some(resolver::config::Roots::Addresses(vec![relay_address.ip()]));
    let local = Local::start(&config);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    let errors = extended_errors(&reply);
    assert_eq!(
        errors.first().map(|e| e.0),
        Some(6),
        "DNSSEC Bogus: {errors:?}"
    );
    assert!(errors[0].1.contains("DNSSEC Bogus"), "{errors:?}");
    // Data outside the broken link is not touched: the root's own is secure.
    let root = ask_with(local.address, ".", RecordType::SOA, DO).await;
    assert_eq!(root.response_code, ResponseCode::NoError);
    assert!(root.authentic_data);
}

#[tokio::test]
async fn the_labs_bogus_name_is_servfail_with_dnssec_bogus_and_cd_passes_it_on() {
    let lab = Lab::start();
    let local = Local::start(&validating(&lab));
    // umass.edu.'s broken_signatures: its RRSIG was broken after signing.
    let reply = ask_with(local.address, "bogus.umass.edu.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    let errors = extended_errors(&reply);
    assert_eq!(errors.first().map(|e| e.0), Some(6), "{errors:?}");
    let unchecked = ask_with(local.address, "bogus.umass.edu.", RecordType::A, CD).await;
    assert_eq!(addresses(&unchecked.answers), ["128.119.245.66"]);
    // Its neighbours in the same zone are untouched.
    let gaia = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert!(gaia.authentic_data);
}

#[test]
fn broken_signatures_must_name_data_of_the_zone() {
    let mut text = zone_text("example.", &[("@", "NS", "ns.example.", 3600)]);
    text = text.replacen(
        "ttl = 3600\n",
        "ttl = 3600\nbroken_signatures = [\"nowhere\"]\n",
        1,
    );
    let dir = zone_dir(&[("example.toml", &text)]);
    let error = resolver::zone::ZoneSet::load_dir(dir.path()).expect_err("no such name");
    let message = error.to_string();
    assert!(message.contains("example.toml"), "{message}");
    assert!(message.contains("nowhere.example."), "{message}");
}
