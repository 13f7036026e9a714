//! A denial from held NSEC records (RFC 8198 §5.1, §5.2): the NSEC at or
//! before QNAME and before the wildcard at each of its ancestors, in
//! canonical order (RFC 4034 §6.1), and the fewest of them that prove it.

use std::collections::BTreeMap;

use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::Instant;

use super::{Absent, Held, firsts, gather};
use crate::names::label_count;
use crate::validator::{Security, nsec};

/// NXDOMAIN or NODATA for `qname`/`qtype` in `zone`, and the NSEC records
/// (with their RRSIGs) that prove it; `None` when the held ones do not.
pub(super) fn prove(
    zone: &Name,
    held: &BTreeMap<Name, Held>,
    qname: &Name,
    qtype: RecordType,
    now: Instant,
) -> Option<(Absent, Vec<Record>)> {
    if held.is_empty() {
        return None;
    }
    let mut wanted = vec![qname.clone()];
    for labels in label_count(zone)..label_count(qname) {
        if let Ok(wildcard) = qname.trim_to(labels).prepend_label("*") {
            wanted.push(wildcard);
        }
    }
    let at_or_before = |name: &Name| {
        held.range(..=name.clone())
            .next_back()
            .map(|(_, held)| held)
    };
    let rrsets = gather(wanted.iter().map(at_or_before), now);
    // The fewest records that prove it, as an authority would send them.
    let singles = (0..rrsets.len()).map(|one| vec![one]);
    let pairs =
        (0..rrsets.len()).flat_map(|one| (one + 1..rrsets.len()).map(move |two| vec![one, two]));
    for subset in singles.chain(pairs) {
        let chosen: Vec<Vec<Record>> = subset.iter().map(|&index| rrsets[index].clone()).collect();
        let nsecs = firsts(&chosen);
        let outcome = match (
            nsec::prove_nxdomain(qname, zone, &nsecs),
            nsec::prove_nodata(qname, qtype, zone, &nsecs),
        ) {
            (Security::Secure(()), _) => Absent::Name,
            (_, Security::Secure(())) => Absent::Type,
            _ => continue,
        };
        return Some((outcome, chosen.into_iter().flatten().collect()));
    }
    None
}
