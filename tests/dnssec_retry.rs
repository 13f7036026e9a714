//! A bogus answer, DNSKEY or DS RRset is fetched again from another server
//! of its zone before it is SERVFAIL (as Unbound does), a bounded number
//! of times within the question's budget: the signed lab with a second
//! server for a zone, a relay that tampers with what the real one says,
//! over real sockets.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use common::*;
use hickory_proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

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

/// Asks a validating resolver for `lab` about gaia.cs.umass.edu. (with
/// DO), `sound` made to look slow so that the tampering server beside it
/// is asked first; the reply must be the signed answer, with AD.
async fn asked_with_the_sound_server_slow(lab: &Lab, sound: &str) -> Local {
    let local = Local::start(&validating(lab));
    let slow = std::time::Duration::from_secs(5);
    local.resolver.server_stats().record_lame(ip(sound), slow);
    let reply = ask_with(local.address, "gaia.cs.umass.edu.", RecordType::A, DO).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::NoError,
        "{:?}",
        extended_errors(&reply)
    );
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert!(reply.authentic_data, "the sound server's data validated");
    local
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
    asked_with_the_sound_server_slow(&lab, "127.0.3.1").await;
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
    asked_with_the_sound_server_slow(&lab, "127.0.2.1").await;
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
    asked_with_the_sound_server_slow(&lab, "127.0.3.1").await;
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
