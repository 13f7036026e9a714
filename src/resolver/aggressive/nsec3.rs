//! A denial from held NSEC3 records (RFC 8198 §5.1, §5.2, RFC 5155 §8):
//! the record matching QNAME's hash (NODATA), or the closest encloser's,
//! the one covering the next closer name's and the one matching or
//! covering the wildcard's (NXDOMAIN, or a wildcard's NODATA).

use std::collections::BTreeMap;

use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::Instant;

use super::{Absent, Hashed, Held, firsts, gather};
use crate::names::label_count;
use crate::validator::{Security, ValidationBudget, nsec3};

/// NXDOMAIN or NODATA for `qname`/`qtype` in `zone`, and the NSEC3 records
/// (with their RRSIGs) that prove it; `None` when the held ones do not (an
/// opt-out span proves nothing secure).
pub(super) fn prove(
    zone: &Name,
    chain: &Hashed,
    qname: &Name,
    qtype: RecordType,
    now: Instant,
) -> Option<(Absent, Vec<Record>)> {
    if chain.records.is_empty() {
        return None;
    }
    let hash = |name: &Name| chain.hash(name);
    let records = &chain.records;
    let wanted = match records.get(&hash(qname)?) {
        Some(matching) => vec![Some(matching)],
        None => {
            // The closest encloser: the nearest ancestor with an NSEC3.
            let (labels, encloser) = (label_count(zone)..label_count(qname))
                .rev()
                .find_map(|labels| Some((labels, records.get(&hash(&qname.trim_to(labels))?)?)))?;
            let next_closer = hash(&qname.trim_to(labels + 1))?;
            let wildcard = hash(&qname.trim_to(labels).prepend_label("*").ok()?)?;
            vec![
                Some(encloser),
                covering(records, &next_closer),
                records
                    .get(&wildcard)
                    .or_else(|| covering(records, &wildcard)),
            ]
        }
    };
    let rrsets = gather(wanted, now);
    let nsec3s = firsts(&rrsets);
    let mut budget = ValidationBudget::default();
    let outcome = match (
        nsec3::prove_nxdomain(qname, zone, &nsec3s, &mut budget),
        nsec3::prove_nodata(qname, qtype, zone, &nsec3s, &mut budget),
    ) {
        (Security::Secure(()), _) => Absent::Name,
        (_, Security::Secure(())) => Absent::Type,
        _ => return None,
    };
    Some((outcome, rrsets.into_iter().flatten().collect()))
}

/// The held NSEC3 whose span holds `hash`: the last owner hash before it,
/// or, before the first, the last of all (its span wraps round).
pub(super) fn covering<'a>(records: &'a BTreeMap<Vec<u8>, Held>, hash: &[u8]) -> Option<&'a Held> {
    records
        .range::<[u8], _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(hash)))
        .next_back()
        .or_else(|| records.iter().next_back())
        .map(|(_, held)| held)
}
