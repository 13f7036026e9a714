//! The validating resolver (RFC 4035 §4–5, RFC 6840, RFC 8914) against the
//! signed lab over real sockets: AD on what validated, SERVFAIL with an
//! Extended DNS Error on what did not, CD honoured, insecure kept apart
//! from bogus.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use hickory_proto::dnssec::rdata::{DNSSECRData, DS, RRSIG};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use resolver::validator::parse_trust_anchor;
use tokio::net::UdpSocket;

/// Asks `server` recursively, with DO, CD and AD as given.
async fn ask_with(
    server: SocketAddr,
    qname: &str,
    qtype: RecordType,
    (dnssec_ok, checking_disabled, authentic_data): (bool, bool, bool),
) -> Message {
    let ask = Ask {
        recursion_desired: true,
        ..Ask::default()
    };
    let mut query = query_message(&name(qname), qtype, &ask);
    query.metadata.checking_disabled = checking_disabled;
    query.metadata.authentic_data = authentic_data;
    if let Some(edns) = query.edns.as_mut() {
        edns.set_dnssec_ok(dnssec_ok);
    }
    udp(server, &query).await
}

const DO: (bool, bool, bool) = (true, false, false);
const PLAIN: (bool, bool, bool) = (false, false, false);
const CD: (bool, bool, bool) = (false, true, false);

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

/// Relays queries to `upstream`, letting `change` alter each reply (a
/// record changed after it was signed); counts the replies it changed.
async fn relay(
    listen: SocketAddr,
    upstream: SocketAddr,
    change: impl Fn(&mut Message) -> bool + Send + 'static,
) -> (tokio::task::JoinHandle<()>, Arc<AtomicUsize>) {
    let socket = UdpSocket::bind(listen).await.expect("bind the relay");
    let changed = Arc::new(AtomicUsize::new(0));
    let count = changed.clone();
    let task = tokio::spawn(async move {
        let mut buffer = vec![0u8; 65_535];
        // Bounded: a test asks a handful of questions.
        for _ in 0..200 {
            let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let wait = Duration::from_secs(2);
            let Some(reply) = exchange_udp_bytes(upstream, &buffer[..length], wait).await else {
                continue;
            };
            let Ok(mut message) = Message::from_vec(&reply) else {
                continue;
            };
            if change(&mut message) {
                count.fetch_add(1, Ordering::SeqCst);
            }
            let bytes = message.to_vec().expect("re-encodes");
            let _ = socket.send_to(&bytes, client).await;
        }
    });
    (task, changed)
}

/// Changes the digest of every DS record of a reply (answers and referrals).
fn change_ds_digests(message: &mut Message) -> bool {
    let mut changed = false;
    for record in message.answers.iter_mut().chain(&mut message.authorities) {
        if let RData::DNSSEC(DNSSECRData::DS(ds)) = &record.data {
            let mut digest = ds.digest().to_vec();
            digest[0] ^= 0xff;
            let other = DS::new(ds.key_tag(), ds.algorithm(), ds.digest_type(), digest);
            record.data = RData::DNSSEC(DNSSECRData::DS(other));
            changed = true;
        }
    }
    changed
}

/// A change that gives every A record of `owner` in an answer another address.
fn change_addresses_of(owner: &'static str) -> impl Fn(&mut Message) -> bool + Send + 'static {
    move |message| {
        let mut changed = false;
        for record in &mut message.answers {
            if record.name == name(owner) && record.record_type() == RecordType::A {
                record.data = RData::A(hickory_proto::rr::rdata::A::new(192, 0, 2, 66));
                changed = true;
            }
        }
        changed
    }
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

/// The lab with a second server for umass.edu., dns2.umass.edu. at
/// 127.0.8.50 (in edu.'s referral only, so the lab does not serve it).
fn umass_with_a_second_server() -> tempfile::TempDir {
    lab_copy("edu.toml", |text| {
        format!(
            "{text}\n[[records]]\nname = \"umass\"\ntype = \"NS\"\nvalue = \"dns2.umass.edu.\"\n\n\
             [[records]]\nname = \"dns2.umass\"\ntype = \"A\"\nvalue = \"127.0.8.50\"\n"
        )
    })
}

/// A change that breaks the RRSIG over every DNSKEY RRset of an answer
/// (one bit of the signature flipped).
fn break_dnskey_signatures(message: &mut Message) -> bool {
    let mut changed = false;
    for record in &mut message.answers {
        if let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &record.data
            && rrsig.input().type_covered == RecordType::DNSKEY
        {
            let mut signature = rrsig.sig().to_vec();
            signature[0] ^= 0x01;
            let broken = RRSIG::from_sig(rrsig.input().clone(), signature);
            record.data = RData::DNSSEC(DNSSECRData::RRSIG(broken));
            changed = true;
        }
    }
    changed
}

/// One of umass.edu.'s two servers breaks the signature over the zone's
/// DNSKEY RRset and is asked first: the key set is fetched again from the
/// other server, and the zone's answers validate (as Unbound retries).
#[tokio::test]
async fn a_bogus_key_set_is_fetched_again_from_another_server_of_the_zone() {
    let dir = umass_with_a_second_server();
    let lab = Lab::start_dir(dir.path());
    let relay_address = SocketAddr::new(ip("127.0.8.50"), lab.port);
    let relayed = relay(relay_address, lab.at("127.0.3.1"), break_dnskey_signatures);
    let (_relay, changed) = relayed.await;
    let local = Local::start(&validating(&lab));
    let slow = std::time::Duration::from_secs(5);
    local
        .resolver
        .server_stats()
        .record_lame(ip("127.0.3.1"), slow);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::NoError,
        "{:?}",
        extended_errors(&reply)
    );
    assert!(reply.authentic_data, "the sound key set validated");
    assert_eq!(
        changed.load(Ordering::SeqCst),
        1,
        "the broken one was asked first"
    );
}

/// One of edu.'s two servers (b.edu-servers.net. at 127.0.8.51, in the
/// root's referral only) changes the DS digests it gives, umass.edu.'s
/// among them, and is asked first: umass.edu.'s DS is fetched again from
/// the other server, and the zone's answers validate.
#[tokio::test]
async fn a_bogus_ds_is_fetched_again_from_another_server_of_the_parent() {
    let dir = lab_copy("root.toml", |text| {
        format!(
            "{text}\n[[records]]\nname = \"edu.\"\ntype = \"NS\"\nvalue = \"b.edu-servers.net.\"\nttl = 172800\n\n\
             [[records]]\nname = \"b.edu-servers.net.\"\ntype = \"A\"\nvalue = \"127.0.8.51\"\nttl = 172800\n"
        )
    });
    let lab = Lab::start_dir(dir.path());
    let relay_address = SocketAddr::new(ip("127.0.8.51"), lab.port);
    let (_relay, changed) = relay(relay_address, lab.at("127.0.2.1"), change_ds_digests).await;
    let local = Local::start(&validating(&lab));
    let slow = std::time::Duration::from_secs(5);
    local
        .resolver
        .server_stats()
        .record_lame(ip("127.0.2.1"), slow);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::NoError,
        "{:?}",
        extended_errors(&reply)
    );
    assert!(reply.authentic_data, "the sound DS validated");
    assert!(
        changed.load(Ordering::SeqCst) >= 1,
        "the tampering server was asked first"
    );
}

/// One of umass.edu.'s two servers changes gaia's address; it is asked
/// first (the other is made to look slow), its answer is bogus, and the
/// question is asked again of the other server: the client gets the signed
/// address with AD, not SERVFAIL (as Unbound retries at other servers).
#[tokio::test]
async fn a_bogus_answer_is_asked_again_of_another_server_of_the_zone() {
    let dir = umass_with_a_second_server();
    let lab = Lab::start_dir(dir.path());
    let relay_address = SocketAddr::new(ip("127.0.8.50"), lab.port);
    let change = change_addresses_of("gaia.cs.umass.edu.");
    let (_relay, changed) = relay(relay_address, lab.at("127.0.3.1"), change).await;
    let local = Local::start(&validating(&lab));
    // The sound server looks slow: the tampering one is asked first.
    let slow = std::time::Duration::from_secs(5);
    local
        .resolver
        .server_stats()
        .record_lame(ip("127.0.3.1"), slow);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::NoError,
        "{:?}",
        extended_errors(&reply)
    );
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert!(reply.authentic_data, "the sound server's answer validated");
    assert_eq!(
        changed.load(Ordering::SeqCst),
        1,
        "the tampering server was asked first, once"
    );
}

/// Data bogus at every server (the lab's bogus name, served by both
/// umass.edu. servers) is asked again a bounded number of times, each
/// server once, then SERVFAIL with DNSSEC Bogus.
#[tokio::test]
async fn a_name_bogus_at_every_server_is_servfail_after_a_bounded_number_of_tries() {
    let dir = umass_with_a_second_server();
    let lab = Lab::start_dir(dir.path());
    let relay_address = SocketAddr::new(ip("127.0.8.50"), lab.port);
    let unchanged = |_: &mut Message| false;
    let (_relay, _) = relay(relay_address, lab.at("127.0.3.1"), unchanged).await;
    let local = Local::start(&validating(&lab));
    let reply = ask_with(local.address, "bogus.umass.edu.", RecordType::A, DO).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    let errors = extended_errors(&reply);
    assert_eq!(errors.first().map(|e| e.0), Some(6), "{errors:?}");
    let asked: Vec<_> = local
        .upstream()
        .into_iter()
        .filter(|(_, m)| m.message_type == hickory_proto::op::MessageType::Query)
        .filter(|(_, m)| {
            m.queries.first().is_some_and(|q| {
                q.name == name("bogus.umass.edu.") && q.query_type == RecordType::A
            })
        })
        // The root's and edu.'s servers are asked it too (referrals).
        .filter(|(d, _)| [ip("127.0.3.1"), ip("127.0.8.50")].contains(&d.to.ip()))
        .collect();
    let servers: Vec<_> = asked.iter().map(|(d, _)| (d.to, d.protocol)).collect();
    assert_eq!(asked.len(), 2, "each of the two servers once: {servers:?}");
    assert!(asked.len() <= 1 + resolver::resolver::bogus::MAX_BOGUS_RETRIES);
}
