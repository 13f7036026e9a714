//! The signed lab for validation tests: a validating configuration, a
//! copy of the lab's zones to edit, questions with DO, CD and AD, and a
//! relay that changes records after they were signed.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::dnssec::rdata::{DNSSECRData, DS};
use hickory_proto::op::Message;
use hickory_proto::rr::{RData, RecordType};
use tokio::net::UdpSocket;

use super::{Ask, Lab, config_for, exchange_udp_bytes, lab_zones_dir, name, query_message, udp};

/// A configuration for a resolver walking `lab` and validating it from
/// its root's key (RFC 4035 §5).
pub fn validating(lab: &Lab) -> resolver::config::Config {
    let mut config = config_for(lab);
    config.dnssec.trust_anchors = resolver::lab::root_trust_anchors(&lab.zones);
    assert!(
        !config.dnssec.trust_anchors.is_empty(),
        "the lab root is signed"
    );
    config
}

/// A copy of the lab's zones (and keys), with `edit` applied to the text
/// of `file`.
pub fn lab_copy(file: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&lab_zones_dir(), dir.path());
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).expect("a lab zone file");
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changes {file}");
    std::fs::write(&path, edited).expect("write the zone file");
    dir
}

/// Copies the folder `from` into `to`, sub-folders too.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("the lab's zones") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Asks `server` recursively, with DO, CD and AD as given.
pub async fn ask_with(
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

pub const DO: (bool, bool, bool) = (true, false, false);
pub const PLAIN: (bool, bool, bool) = (false, false, false);
pub const CD: (bool, bool, bool) = (false, true, false);

/// Relays queries to `upstream`, letting `change` alter each reply (a
/// record changed after it was signed); counts the replies it changed.
pub async fn relay(
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
pub fn change_ds_digests(message: &mut Message) -> bool {
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
