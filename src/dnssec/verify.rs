//! `resolver check` on signed zones: every authoritative RRset has an RRSIG
//! that hickory-proto's verifier accepts with the apex DNSKEY (RFC 4035
//! §5.3), the NSEC or NSEC3 chain is complete and closed (RFC 4034 §4.1.1,
//! RFC 5155 §7.1), and each DS in a parent matches its child's DNSKEY
//! (RFC 4034 §5.2).

use std::path::PathBuf;

use hickory_proto::dnssec::Verifier;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::nsec3;
use super::sign::{Standing, standing};
use super::{Denial, Security};
use crate::zone::{Zone, ZoneSet};

/// One problem found in a signed zone, with its file and record.
#[derive(Debug, thiserror::Error)]
#[error("{}: {record}: {kind}", file.display())]
pub struct VerifyError {
    /// The zone file.
    pub file: PathBuf,
    /// The record or RRset (`name TYPE`).
    pub record: String,
    /// What is wrong.
    pub kind: VerifyErrorKind,
}

/// What can be wrong in a signed zone.
#[derive(Debug, thiserror::Error)]
pub enum VerifyErrorKind {
    /// The zone is signed but its apex has no DNSKEY.
    #[error("no DNSKEY at the apex (RFC 4035 §2.1)")]
    NoDnskey,
    /// An authoritative RRset without an RRSIG (RFC 4035 §2.2).
    #[error("no RRSIG (RFC 4035 §2.2)")]
    Unsigned,
    /// No RRSIG of the set verifies with the apex DNSKEY (RFC 4035 §5.3).
    #[error("the RRSIG does not verify with the zone's DNSKEY (RFC 4035 §5.3): {0}")]
    BadSignature(String),
    /// A name with data but no NSEC or NSEC3 (RFC 4035 §2.3, RFC 5155 §7.1).
    #[error("no {0} record for this name")]
    MissingDenial(RecordType),
    /// The chain does not go through every name once and back to the apex.
    #[error("the {0} chain is broken here: {1}")]
    BrokenChain(RecordType, String),
    /// A DS that matches none of the child's DNSKEYs (RFC 4034 §5.2).
    #[error("no DS matches the DNSKEY of the child zone {0} (RFC 4034 §5.2)")]
    DsMismatch(Name),
}

/// Verifies every signed zone of the set; an empty list when all is well.
pub fn verify_zones(zones: &ZoneSet) -> Vec<VerifyError> {
    let mut errors = Vec::new();
    for zone in zones.zones() {
        if let Some(security) = zone.security() {
            verify_zone(zone, security, &mut errors);
        }
        verify_delegations(zones, zone, &mut errors);
    }
    errors
}

fn error(zone: &Zone, name: &Name, record_type: RecordType, kind: VerifyErrorKind) -> VerifyError {
    VerifyError {
        file: zone.file().to_path_buf(),
        record: format!("{name} {record_type}"),
        kind,
    }
}

/// The DNSKEYs at the apex.
fn apex_keys(zone: &Zone) -> Vec<DNSKEY> {
    zone.rrset(zone.origin(), RecordType::DNSKEY)
        .map(|rrset| {
            rrset
                .records
                .iter()
                .filter_map(|record| match &record.data {
                    RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the RRSIGs over one RRset; `None` when one verifies.
fn check_signatures(
    keys: &[DNSKEY],
    records: &[Record],
    signatures: &[Record],
) -> Option<VerifyErrorKind> {
    let first = records.first()?;
    if signatures.is_empty() {
        return Some(VerifyErrorKind::Unsigned);
    }
    let mut last = String::from("no key with the RRSIG's key tag");
    for signature in signatures {
        let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &signature.data else {
            continue;
        };
        for key in keys {
            match verify_one(key, first, rrsig, records) {
                Ok(()) => return None,
                Err(reason) => last = reason,
            }
        }
    }
    Some(VerifyErrorKind::BadSignature(last))
}

fn verify_one(
    key: &DNSKEY,
    first: &Record,
    rrsig: &RRSIG,
    records: &[Record],
) -> Result<(), String> {
    if key.calculate_key_tag().ok() != Some(rrsig.input().key_tag) {
        return Err("no key with the RRSIG's key tag".to_string());
    }
    key.verify_rrsig(&first.name, DNSClass::IN, rrsig, records.iter())
        .map_err(|error| error.to_string())
}

fn verify_zone(zone: &Zone, security: &Security, errors: &mut Vec<VerifyError>) {
    let origin = zone.origin();
    let keys = apex_keys(zone);
    if keys.is_empty() {
        errors.push(error(
            zone,
            origin,
            RecordType::DNSKEY,
            VerifyErrorKind::NoDnskey,
        ));
        return;
    }
    let mut names: Vec<(&Name, Standing)> = zone
        .nodes()
        .map(|(name, _)| (name, standing(zone, name)))
        .filter(|(_, standing)| *standing != Standing::Glue)
        .collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, standing) in &names {
        let Some(node) = zone.node(name) else {
            continue;
        };
        let broken_on_purpose = zone.broken_signatures().contains(name);
        for rrset in node.rrsets() {
            let signed = *standing == Standing::Authoritative
                || matches!(rrset.record_type(), RecordType::DS | RecordType::NSEC);
            let signed = signed && (!broken_on_purpose || rrset.record_type() == RecordType::NSEC);
            if signed && let Some(kind) = check_signatures(&keys, &rrset.records, &rrset.signatures)
            {
                errors.push(error(zone, name, rrset.record_type(), kind));
            }
        }
    }
    match security.denial {
        Denial::Nsec => verify_nsec_chain(zone, &names, errors),
        Denial::Nsec3 => verify_nsec3_chain(zone, security, &keys, &names, errors),
    }
}

/// From the apex, each NSEC names the next name with data, every such name once, and the last names the apex.
fn verify_nsec_chain(zone: &Zone, names: &[(&Name, Standing)], errors: &mut Vec<VerifyError>) {
    let owners: Vec<&Name> = names
        .iter()
        .filter(|(name, _)| zone.node(name).is_some_and(|node| !node.is_empty()))
        .map(|(name, _)| *name)
        .collect();
    for (index, owner) in owners.iter().enumerate() {
        let expected = owners[(index + 1) % owners.len()];
        let next = zone
            .rrset(owner, RecordType::NSEC)
            .and_then(|rrset| rrset.records.first())
            .and_then(|record| match &record.data {
                RData::DNSSEC(DNSSECRData::NSEC(nsec)) => Some(nsec.next_domain_name().clone()),
                _ => None,
            });
        match next {
            None => errors.push(error(
                zone,
                owner,
                RecordType::NSEC,
                VerifyErrorKind::MissingDenial(RecordType::NSEC),
            )),
            Some(next) if &next != expected => errors.push(error(
                zone,
                owner,
                RecordType::NSEC,
                VerifyErrorKind::BrokenChain(
                    RecordType::NSEC,
                    format!("next is {next}, the next name with data is {expected}"),
                ),
            )),
            Some(_) => {}
        }
    }
}

/// Every name has its NSEC3, each names the next hash (the last the first), and each is signed.
fn verify_nsec3_chain(
    zone: &Zone,
    security: &Security,
    keys: &[DNSKEY],
    names: &[(&Name, Standing)],
    errors: &mut Vec<VerifyError>,
) {
    let chain = security.nsec3.as_ref();
    let entries = chain
        .map(|chain| chain.entries.as_slice())
        .unwrap_or_default();
    for (name, _) in names {
        if chain.and_then(|chain| chain.matching(name)).is_none() {
            let kind = VerifyErrorKind::MissingDenial(RecordType::NSEC3);
            errors.push(error(zone, name, RecordType::NSEC3, kind));
        }
    }
    for (index, entry) in entries.iter().enumerate() {
        let expected = &entries[(index + 1) % entries.len()].hash;
        let next = match &entry.record.data {
            RData::DNSSEC(DNSSECRData::NSEC3(data)) => data.next_hashed_owner_name(),
            _ => &[],
        };
        let owner_ok =
            nsec3::owner(&entry.hash, zone.origin()).ok().as_ref() == Some(&entry.record.name);
        if next != expected.as_slice() || !owner_ok {
            let kind = VerifyErrorKind::BrokenChain(
                RecordType::NSEC3,
                "the next hashed owner name is not the next hash".to_string(),
            );
            errors.push(error(zone, &entry.record.name, RecordType::NSEC3, kind));
        }
        let records = std::slice::from_ref(&entry.record);
        if let Some(kind) = check_signatures(keys, records, &entry.signatures) {
            errors.push(error(zone, &entry.record.name, RecordType::NSEC3, kind));
        }
    }
}

/// Each DS of a delegation matches a DNSKEY of the child, when the child is loaded.
fn verify_delegations(zones: &ZoneSet, zone: &Zone, errors: &mut Vec<VerifyError>) {
    for (name, node) in zone.nodes() {
        let Some(ds_set) = node.rrset(RecordType::DS) else {
            continue;
        };
        let Some(child) = zones.get(name) else {
            continue;
        };
        let keys = apex_keys(child);
        if !ds_set
            .records
            .iter()
            .any(|record| ds_covers(record, name, &keys))
        {
            let kind = VerifyErrorKind::DsMismatch(name.clone());
            errors.push(error(zone, name, RecordType::DS, kind));
        }
    }
}

fn ds_covers(record: &Record, name: &Name, keys: &[DNSKEY]) -> bool {
    let RData::DNSSEC(DNSSECRData::DS(ds)) = &record.data else {
        return false;
    };
    keys.iter().any(|key| covers(ds, name, key))
}

fn covers(ds: &DS, name: &Name, key: &DNSKEY) -> bool {
    ds.covers(name, key).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use hickory_proto::rr::rdata::A;

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("valid")
    }

    /// The lab's zones, each a copy `edit` may change after signing.
    fn lab_edited(edit: impl Fn(&mut Zone)) -> ZoneSet {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones");
        let lab = ZoneSet::load_dir(&dir).expect("the lab loads");
        let zones = lab
            .zones()
            .map(|zone| {
                let mut zone = Zone::clone(zone);
                edit(&mut zone);
                zone
            })
            .collect();
        ZoneSet::from_zones(zones).expect("the zones fit together")
    }

    fn messages(zones: &ZoneSet) -> Vec<String> {
        verify_zones(zones)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_signed_lab_verifies() {
        assert_eq!(messages(&lab_edited(|_| {})), Vec::<String>::new());
    }

    #[test]
    fn a_record_changed_after_signing_is_named_with_its_file() {
        let zones = lab_edited(|zone| {
            let gaia = name("gaia.cs.umass.edu.");
            for (owner, node) in zone.nodes_mut() {
                for rrset in node.rrsets_mut() {
                    if owner == &gaia && rrset.record_type() == RecordType::A {
                        rrset.records[0].data = RData::A(A::new(10, 6, 6, 6));
                    }
                }
            }
        });
        let found = messages(&zones);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("umass.edu.toml"), "{found:?}");
        assert!(found[0].contains("gaia.cs.umass.edu. A"), "{found:?}");
        assert!(found[0].contains("does not verify"), "{found:?}");
    }

    #[test]
    fn a_missing_nsec_breaks_the_chain() {
        let zones = lab_edited(|zone| {
            for (owner, node) in zone.nodes_mut() {
                if owner == &name("mail.umass.edu.") {
                    for rrset in node.rrsets_mut() {
                        if rrset.record_type() == RecordType::NSEC {
                            rrset.records[0].data = RData::A(A::new(10, 0, 0, 1));
                            rrset.signatures.clear();
                        }
                    }
                }
            }
        });
        let found = messages(&zones);
        assert!(
            found
                .iter()
                .any(|error| error.contains("mail.umass.edu. NSEC")
                    && error.contains("no NSEC record")),
            "{found:?}"
        );
    }

    #[test]
    fn a_ds_that_matches_no_child_key_is_named_in_the_parent() {
        let apex = name("umass.edu.");
        let zones = lab_edited(|zone| {
            if zone.origin() == &apex {
                for (owner, node) in zone.nodes_mut() {
                    if owner == &apex {
                        for rrset in node.rrsets_mut() {
                            if rrset.record_type() == RecordType::DNSKEY
                                && let RData::DNSSEC(DNSSECRData::DNSKEY(key)) =
                                    &rrset.records[0].data
                            {
                                let flags = key.flags() | 0x0080; // another key tag and digest
                                let other = DNSKEY::with_flags(flags, key.public_key().clone());
                                rrset.records[0].data = RData::DNSSEC(DNSSECRData::DNSKEY(other));
                            }
                        }
                    }
                }
            }
        });
        let found = messages(&zones);
        assert!(
            found
                .iter()
                .any(|error| error.contains("edu.toml") && error.contains("umass.edu. DS")),
            "{found:?}"
        );
    }
}
