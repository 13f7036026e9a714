//! The DNSSEC records of an answer, for a query with the DO bit (RFC 4035
//! §3.1, RFC 3225): the RRSIGs of each answer and authority RRset (and of
//! additional data the zone holds with authority, not glue), the
//! NSEC/NSEC3 proofs of NXDOMAIN, NODATA and wildcard answers, and the DS
//! (or the proof there is none) of a referral. Without DO nothing changes.
//!
//! ```text
//! Answer ─▶ answer RRsets + RRSIG (a wildcard's, with the proof no closer name exists)
//!        ─▶ referral: NS + DS + RRSIG, or NS + the NSEC/NSEC3 saying there is no DS
//!        ─▶ NXDOMAIN / NODATA: SOA + RRSIG + the NSEC/NSEC3 proof
//! ```

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::{Answer, Catalog, Outcome};
use crate::dnssec::denial;
use crate::zone::Zone;

/// Adds the DNSSEC records of RFC 4035 §3.1 to `answer`, a lookup of `qname`
/// in `catalog`; zones that are not signed add nothing.
pub fn add_dnssec_records(catalog: &Catalog, answer: &mut Answer, qname: &Name) {
    let mut authorities = Vec::new();
    let mut answers = Vec::with_capacity(answer.answers.len() * 2);
    for rrset in rrsets(&answer.answers) {
        answers.extend_from_slice(rrset);
        if let Some(first) = rrset.first() {
            let (signatures, proof) = answer_signatures(catalog, first);
            answers.extend(signatures);
            authorities.extend(proof);
        }
    }
    answer.answers = answers;
    let mut additionals = Vec::with_capacity(answer.additionals.len() * 2);
    for rrset in rrsets(&answer.additionals) {
        additionals.extend_from_slice(rrset);
        additionals.extend(
            rrset
                .first()
                .map(|first| additional_signatures(catalog, first))
                .unwrap_or_default(),
        );
    }
    answer.additionals = additionals;

    match answer.outcome {
        Outcome::Referral => {
            if let Some(cut) = answer.authorities.first().map(|ns| ns.name.clone())
                && let Some(zone) = catalog.zone_for(&cut)
            {
                authorities.extend(delegation_records(zone, &cut));
            }
        }
        Outcome::NoData | Outcome::NxDomain => {
            let last = last_name(&answer.answers).unwrap_or_else(|| qname.clone());
            let zone = answer
                .authorities
                .first()
                .and_then(|soa| catalog.zone(&soa.name));
            if let Some(zone) = zone {
                authorities.extend(soa_signatures(zone, answer.authorities.first()));
                authorities.extend(if answer.outcome == Outcome::NxDomain {
                    denial::name_error(zone, &last)
                } else {
                    denial::no_data(zone, &last)
                });
            }
        }
        Outcome::Data | Outcome::YxDomain => {}
    }
    for record in authorities {
        if !answer.authorities.contains(&record) {
            answer.authorities.push(record);
        }
    }
}

/// The answer section cut into RRsets: runs of records of one name and type.
fn rrsets(records: &[Record]) -> Vec<&[Record]> {
    let mut sets = Vec::new();
    let mut start = 0;
    for index in 1..=records.len() {
        let ends = records.get(index).is_none_or(|next| {
            next.name != records[start].name || next.record_type() != records[start].record_type()
        });
        if ends {
            sets.push(&records[start..index]);
            start = index;
        }
    }
    sets
}

/// The RRSIGs of the answer RRset starting with `first`, and for one
/// synthesised from a wildcard the proof that no closer name exists
/// (RFC 4035 §3.1.3.3). A CNAME synthesised from a DNAME is unsigned (RFC 6672 §5.3).
fn answer_signatures(catalog: &Catalog, first: &Record) -> (Vec<Record>, Vec<Record>) {
    let Some(zone) = catalog
        .zone_for(&first.name)
        .filter(|zone| zone.is_signed())
    else {
        return (Vec::new(), Vec::new());
    };
    let record_type = first.record_type();
    if let Some(rrset) = zone.rrset(&first.name, record_type) {
        return (rrset.signatures.clone(), Vec::new());
    }
    if zone.node(&first.name).is_some() || zone.dname_above(&first.name).is_some() {
        return (Vec::new(), Vec::new());
    }
    let encloser = denial::closest_encloser(zone, &first.name);
    let Some(rrset) = encloser
        .prepend_label("*")
        .ok()
        .and_then(|wildcard| zone.rrset(&wildcard, record_type))
    else {
        return (Vec::new(), Vec::new());
    };
    let signatures = rrset
        .signatures
        .iter()
        .map(|signature| {
            let mut signature = signature.clone();
            signature.name = first.name.clone();
            signature
        })
        .collect();
    (signatures, denial::wildcard_answer(zone, &first.name))
}

/// The RRSIGs of an additional RRset held as authoritative data (RFC 4035
/// §3.1.1); glue has none.
fn additional_signatures(catalog: &Catalog, first: &Record) -> Vec<Record> {
    catalog
        .zone_for(&first.name)
        .and_then(|zone| zone.rrset(&first.name, first.record_type()))
        .map(|rrset| rrset.signatures.clone())
        .unwrap_or_default()
}

/// The DS of a delegation with its RRSIG, or the proof that it has none (RFC 4035 §3.1.4).
fn delegation_records(zone: &Zone, cut: &Name) -> Vec<Record> {
    if !zone.is_signed() {
        return Vec::new();
    }
    match zone.rrset(cut, RecordType::DS) {
        Some(ds) => ds.records.iter().chain(&ds.signatures).cloned().collect(),
        None => denial::no_ds(zone, cut),
    }
}

/// The RRSIGs of the SOA, with the negative answer's TTL (RFC 4035 §3.1.3, RFC 2308 §3).
fn soa_signatures(zone: &Zone, soa: Option<&Record>) -> Vec<Record> {
    let ttl = soa.map_or(zone.soa().ttl, |soa| soa.ttl);
    zone.rrset(zone.origin(), RecordType::SOA)
        .map(|rrset| {
            rrset
                .signatures
                .iter()
                .map(|signature| {
                    let mut signature = signature.clone();
                    signature.ttl = ttl;
                    signature
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The name a CNAME chain ends at: the target of its last CNAME.
fn last_name(answers: &[Record]) -> Option<Name> {
    answers.iter().rev().find_map(|record| match &record.data {
        RData::CNAME(target) => Some(target.0.clone()),
        _ => None,
    })
}
