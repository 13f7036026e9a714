//! What the signed lab's answers are checked with: queries with the DO bit,
//! hickory-proto's verifier over each RRset, and NSEC/NSEC3 coverage
//! (RFC 4034 §4.1.1, §6.1; RFC 5155 §7.2.1).

use std::net::SocketAddr;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, NSEC, NSEC3, RRSIG};
use hickory_proto::dnssec::{Nsec3HashAlgorithm, Verifier};
use hickory_proto::op::Message;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::common::*;

/// Asks over UDP with the DO bit, as a validator does (RFC 3225, RFC 4035 §3.2.1).
pub async fn ask_dnssec(server: SocketAddr, qname: &str, qtype: RecordType) -> Message {
    udp(server, &dnssec_query(qname, qtype, 1232)).await
}

pub fn dnssec_query(qname: &str, qtype: RecordType, payload: u16) -> Message {
    let ask = Ask {
        edns: Some(payload),
        ..Ask::default()
    };
    let mut query = query_message(&name(qname), qtype, &ask);
    if let Some(edns) = query.edns.as_mut() {
        edns.set_dnssec_ok(true);
    }
    query
}

/// The DNSKEY of a zone, asked of its server.
pub async fn dnskey(server: SocketAddr, zone: &str) -> DNSKEY {
    let reply = ask_dnssec(server, zone, RecordType::DNSKEY).await;
    let key = reply.answers.iter().find_map(|record| match &record.data {
        RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key.clone()),
        _ => None,
    });
    let key = key.unwrap_or_else(|| panic!("no DNSKEY for {zone}"));
    // The DNSKEY set is self-signed (RFC 4035 §2.1).
    assert_signed(&reply.answers, RecordType::DNSKEY, &key);
    key
}

pub fn rrsig_of(record: &Record) -> Option<&RRSIG> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => Some(rrsig),
        _ => None,
    }
}

/// Every RRset of `section` of type `record_type` has an RRSIG there that verifies with `key`.
pub fn assert_signed(section: &[Record], record_type: RecordType, key: &DNSKEY) {
    let mut owners: Vec<&Name> = section
        .iter()
        .filter(|record| record.record_type() == record_type)
        .map(|record| &record.name)
        .collect();
    owners.dedup();
    assert!(!owners.is_empty(), "no {record_type} in {section:?}");
    for owner in owners {
        let rrset: Vec<Record> = section
            .iter()
            .filter(|record| &record.name == owner && record.record_type() == record_type)
            .cloned()
            .collect();
        let signatures: Vec<&RRSIG> = section
            .iter()
            .filter(|record| &record.name == owner)
            .filter_map(rrsig_of)
            .filter(|rrsig| rrsig.input().type_covered == record_type)
            .collect();
        assert!(!signatures.is_empty(), "{owner} {record_type} has no RRSIG");
        let verified = signatures.iter().any(|rrsig| {
            key.verify_rrsig(owner, DNSClass::IN, rrsig, rrset.iter())
                .is_ok()
        });
        assert!(verified, "{owner} {record_type}: no RRSIG verifies");
    }
}

pub fn nsec_records(section: &[Record]) -> Vec<(Name, NSEC)> {
    section
        .iter()
        .filter_map(|record| match &record.data {
            RData::DNSSEC(DNSSECRData::NSEC(nsec)) => Some((record.name.clone(), nsec.clone())),
            _ => None,
        })
        .collect()
}

pub fn nsec3_records(section: &[Record]) -> Vec<(Vec<u8>, NSEC3)> {
    section
        .iter()
        .filter_map(|record| match &record.data {
            RData::DNSSEC(DNSSECRData::NSEC3(nsec3)) => {
                let label = record.name.iter().next().expect("a hashed label");
                let hash = data_encoding::BASE32_DNSSEC
                    .decode(&label.to_ascii_lowercase())
                    .expect("base32hex");
                Some((hash, nsec3.clone()))
            }
            _ => None,
        })
        .collect()
}

/// True when an NSEC's owner and next name surround `name` (RFC 4034 §4.1.1; the last wraps to the apex).
pub fn nsec_covers(owner: &Name, nsec: &NSEC, name: &Name) -> bool {
    let next = nsec.next_domain_name();
    owner < name && (name < next || next <= owner)
}

pub fn nsec3_hash(text: &str) -> Vec<u8> {
    Nsec3HashAlgorithm::SHA1
        .hash(&[], &name(text), 0)
        .expect("hashes")
        .as_ref()
        .to_vec()
}

pub fn nsec3_covers(hash: &[u8], nsec3: &NSEC3, target: &[u8]) -> bool {
    let next = nsec3.next_hashed_owner_name();
    (hash < target && target < next) || (next <= hash && (hash < target || target < next))
}

pub fn has_rrsig(section: &[Record]) -> bool {
    section
        .iter()
        .any(|record| record.record_type() == RecordType::RRSIG)
}
