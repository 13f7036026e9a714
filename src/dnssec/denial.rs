//! The records that prove a negative answer in a signed zone: which NSEC
//! or NSEC3 records, with their RRSIGs, an authoritative server adds to
//! NXDOMAIN, NODATA, wildcard answers and referrals to unsigned children
//! (RFC 4035 §3.1.3, §3.1.4; RFC 5155 §7.2). An unsigned zone proves nothing.

use hickory_proto::rr::{Name, Record, RecordType};

use super::nsec3::{Nsec3Chain, Nsec3Entry};
use super::{Denial, Security};
use crate::names::label_count;
use crate::zone::Zone;

/// The proof that `name` does not exist: NSEC covering it and the
/// wildcard (RFC 4035 §3.1.3.2), or the NSEC3 closest encloser proof and
/// the NSEC3 covering the wildcard (RFC 5155 §7.2.2).
pub fn name_error(zone: &Zone, name: &Name) -> Vec<Record> {
    let Some(security) = zone.security() else {
        return Vec::new();
    };
    let encloser = closest_encloser(zone, name);
    let Ok(wildcard) = encloser.prepend_label("*") else {
        return Vec::new();
    };
    let mut proof = match security.denial {
        Denial::Nsec => {
            let mut proof = covering_nsec(zone, security, name);
            proof.extend(covering_nsec(zone, security, &wildcard));
            proof
        }
        Denial::Nsec3 => {
            let mut proof = closest_encloser_proof(security, name, &encloser);
            proof.extend(nsec3_records(security, |chain| chain.covering(&wildcard)));
            proof
        }
    };
    dedup(&mut proof);
    proof
}

/// The proof that `name` has no RRset of the type asked: the NSEC or NSEC3
/// at the name (RFC 4035 §3.1.3.1, RFC 5155 §7.2.3); for a name only a
/// wildcard matches, that the name does not exist and that the wildcard
/// lacks the type (RFC 4035 §3.1.3.4, RFC 5155 §7.2.5).
pub fn no_data(zone: &Zone, name: &Name) -> Vec<Record> {
    let Some(security) = zone.security() else {
        return Vec::new();
    };
    let node = zone.node(name);
    let mut proof = match (security.denial, node) {
        (Denial::Nsec, Some(node)) if node.is_empty() => covering_nsec(zone, security, name),
        (Denial::Nsec, Some(_)) => nsec_at(zone, name),
        (Denial::Nsec3, Some(_)) => nsec3_records(security, |chain| chain.matching(name)),
        (denial, None) => {
            let encloser = closest_encloser(zone, name);
            let Ok(wildcard) = encloser.prepend_label("*") else {
                return Vec::new();
            };
            match denial {
                Denial::Nsec => {
                    let mut proof = covering_nsec(zone, security, name);
                    proof.extend(nsec_at(zone, &wildcard));
                    proof
                }
                Denial::Nsec3 => {
                    let mut proof = closest_encloser_proof(security, name, &encloser);
                    proof.extend(nsec3_records(security, |chain| chain.matching(&wildcard)));
                    proof
                }
            }
        }
    };
    dedup(&mut proof);
    proof
}

/// The proof that no closer name than the wildcard matched `name`, for an
/// answer synthesised from a wildcard: the NSEC covering the name (RFC 4035
/// §3.1.3.3), or the NSEC3 covering the next closer name (RFC 5155 §7.2.6).
pub fn wildcard_answer(zone: &Zone, name: &Name) -> Vec<Record> {
    let Some(security) = zone.security() else {
        return Vec::new();
    };
    match security.denial {
        Denial::Nsec => covering_nsec(zone, security, name),
        Denial::Nsec3 => {
            let encloser = closest_encloser(zone, name);
            let next_closer = name.trim_to(label_count(&encloser) + 1);
            nsec3_records(security, |chain| chain.covering(&next_closer))
        }
    }
}

/// The proof that a delegation has no DS, for a referral to an unsigned
/// child: the NSEC or NSEC3 at the delegation point, whose bitmap has NS
/// and no DS (RFC 4035 §3.1.4, RFC 5155 §7.2.7; no opt-out here).
pub fn no_ds(zone: &Zone, cut: &Name) -> Vec<Record> {
    let Some(security) = zone.security() else {
        return Vec::new();
    };
    match security.denial {
        Denial::Nsec => nsec_at(zone, cut),
        Denial::Nsec3 => nsec3_records(security, |chain| chain.matching(cut)),
    }
}

/// The nearest ancestor of `name` (or `name`) that exists in the zone (RFC 5155 §1.3).
pub fn closest_encloser(zone: &Zone, name: &Name) -> Name {
    let apex = label_count(zone.origin());
    (apex..=label_count(name))
        .rev()
        .map(|labels| name.trim_to(labels))
        .find(|ancestor| zone.node(ancestor).is_some())
        .unwrap_or_else(|| zone.origin().clone())
}

/// The NSEC3 matching the closest encloser and the one covering the next closer name (RFC 5155 §7.2.1).
fn closest_encloser_proof(security: &Security, name: &Name, encloser: &Name) -> Vec<Record> {
    let next_closer = name.trim_to(label_count(encloser) + 1);
    let mut proof = nsec3_records(security, |chain| chain.matching(encloser));
    proof.extend(nsec3_records(security, |chain| {
        chain.covering(&next_closer)
    }));
    proof
}

fn nsec3_records<'s>(
    security: &'s Security,
    find: impl FnOnce(&'s Nsec3Chain) -> Option<&'s Nsec3Entry>,
) -> Vec<Record> {
    security
        .nsec3
        .as_ref()
        .and_then(find)
        .map(|entry| Nsec3Chain::with_signatures(entry).collect())
        .unwrap_or_default()
}

/// The NSEC at a name with its RRSIG, if it has one.
fn nsec_at(zone: &Zone, name: &Name) -> Vec<Record> {
    zone.rrset(name, RecordType::NSEC)
        .map(|rrset| {
            rrset
                .records
                .iter()
                .chain(&rrset.signatures)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The NSEC whose owner comes last at or before `name` in canonical order:
/// the one covering a name that is not an owner (RFC 4034 §4.1.1).
fn covering_nsec(zone: &Zone, security: &Security, name: &Name) -> Vec<Record> {
    let owners = &security.nsec_owners;
    let after = owners.partition_point(|owner| owner <= name);
    let Some(owner) = after
        .checked_sub(1)
        .or_else(|| owners.len().checked_sub(1))
        .and_then(|index| owners.get(index))
    else {
        return Vec::new();
    };
    nsec_at(zone, owner)
}

fn dedup(records: &mut Vec<Record>) {
    let mut seen: Vec<Record> = Vec::with_capacity(records.len());
    records.retain(|record| {
        if seen.contains(record) {
            false
        } else {
            seen.push(record.clone());
            true
        }
    });
}
