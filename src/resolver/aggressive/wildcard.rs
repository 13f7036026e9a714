//! An answer made from a held wildcard (RFC 8198 §5.3): a wildcard RRset
//! that validated once, with its RRSIGs, answers another name below its
//! closest encloser once the held NSEC or NSEC3 records prove that no
//! closer name exists (RFC 4035 §5.3.4, RFC 5155 §8.8).

use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::Instant;

use super::{Zone, firsts, gather, nsec3};
use crate::names::label_count;
use crate::validator::{Security, ValidationBudget, nsec, nsec3 as nsec3_proof};

/// A held wildcard's answer for `qname`: its records (CNAME when `qtype`
/// has none and a CNAME is held) and RRSIGs renamed to `qname`, and the
/// NSEC/NSEC3 records (with RRSIGs) proving no closer name exists.
pub(super) struct Expanded {
    /// The RRset, then its RRSIGs, owned by QNAME.
    pub records: Vec<Record>,
    /// The proof.
    pub proof: Vec<Record>,
}

/// The answer the held wildcards of `zone` give `qname`/`qtype`, nearest
/// closest encloser first, if a held proof shows no closer name.
pub(super) fn expand(
    zone_name: &Name,
    zone: &Zone,
    qname: &Name,
    qtype: RecordType,
    now: Instant,
) -> Option<Expanded> {
    if zone.wildcards.is_empty() {
        return None;
    }
    for labels in (label_count(zone_name)..label_count(qname)).rev() {
        let source = qname.trim_to(labels).prepend_label("*").ok()?;
        let held = [qtype, RecordType::CNAME]
            .into_iter()
            .find_map(|record_type| zone.wildcards.get(&(source.clone(), record_type)));
        let Some(rrset) = held.and_then(|held| held.live(now)) else {
            continue;
        };
        let proof = no_closer_name(zone_name, zone, qname, &source, now)?;
        let records = rrset
            .into_iter()
            .map(|mut record| {
                record.name = qname.clone();
                record
            })
            .collect();
        return Some(Expanded { records, proof });
    }
    None
}

/// The held NSEC (else NSEC3) records proving that no name closer to
/// `qname` than `source`'s closest encloser exists.
fn no_closer_name(
    zone_name: &Name,
    zone: &Zone,
    qname: &Name,
    source: &Name,
    now: Instant,
) -> Option<Vec<Record>> {
    let cover = zone
        .nsecs
        .range(..=qname.clone())
        .next_back()
        .map(|(_, held)| held);
    let rrsets = gather([cover], now);
    let nsecs = firsts(&rrsets);
    if nsec::prove_no_closer_match(qname, source, zone_name, &nsecs) == Security::Secure(()) {
        return Some(rrsets.into_iter().flatten().collect());
    }
    let chain = &zone.nsec3s;
    let next_closer = qname.trim_to(label_count(&source.base_name()) + 1);
    let hash = chain.hash(&next_closer)?;
    let rrsets = gather([nsec3::covering(&chain.records, &hash)], now);
    let nsec3s = firsts(&rrsets);
    let mut budget = ValidationBudget::default();
    let proven = nsec3_proof::prove_no_closer_match(qname, source, zone_name, &nsec3s, &mut budget);
    (proven == Security::Secure(())).then(|| rrsets.into_iter().flatten().collect())
}
