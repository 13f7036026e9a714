//! Authenticated denial of existence with NSEC (RFC 4035 §5.4, RFC 6840
//! §4): pure proofs over NSEC records whose RRSIGs the caller verified
//! (the zone passed is their signer).
//!
//! ```text
//! NXDOMAIN   an NSEC covers QNAME, and one covers *.<closest encloser>   RFC 4035 §3.1.3.2
//! NODATA     the NSEC at QNAME lacks QTYPE and CNAME (an empty            RFC 4035 §3.1.3.1
//!            non-terminal: covered, next name below QNAME), or QNAME is
//!            covered and the NSEC at *.<closest encloser> lacks them      RFC 4035 §3.1.3.4
//! wildcard   an NSEC covers QNAME, its closest encloser = the source's    RFC 4035 §5.3.4
//! no DS      the NSEC at the delegation has NS, no DS, no SOA            RFC 4035 §5.2
//! ```
//!
//! An NSEC owned by a delegation point (NS without SOA) or a DNAME proves
//! nothing about names below it: the parent is not authoritative there
//! (RFC 6840 §4.1).

use hickory_proto::dnssec::rdata::NSEC;
use hickory_proto::rr::{Name, Record, RecordData, RecordType};

use super::reason::{Bogus, Insecure, Security};

/// Proves QNAME does not exist (RFC 4035 §5.4, §3.1.3.2): an NSEC covers
/// it (and it is no empty non-terminal), and an NSEC covers the wildcard at
/// its closest encloser.
pub fn prove_nxdomain(qname: &Name, zone: &Name, nsecs: &[Record]) -> Security<()> {
    let chain = chain(zone, nsecs);
    if !zone.zone_of(qname) {
        return Security::Bogus(Bogus::NsecMissing);
    }
    let Some(cover) = covering(&chain, qname) else {
        return Security::Bogus(Bogus::NsecMissing);
    };
    let wildcard = match wildcard_at(&closest_encloser(qname, zone, cover)) {
        Some(wildcard) => wildcard,
        None => return Security::Bogus(Bogus::NsecMissing),
    };
    match covering(&chain, &wildcard) {
        Some(_) => Security::Secure(()),
        None => Security::Bogus(Bogus::NsecMissing),
    }
}

/// Proves QNAME exists without QTYPE (RFC 4035 §5.4, §3.1.3.1, §3.1.3.4):
/// the NSEC at QNAME lacks QTYPE and CNAME; or QNAME is an empty
/// non-terminal; or QNAME is covered and the wildcard at its closest
/// encloser lacks QTYPE and CNAME. For DS the NSEC must be the parent's
/// (no SOA); for other types it must not be a delegation's (NS without SOA).
pub fn prove_nodata(
    qname: &Name,
    qtype: RecordType,
    zone: &Name,
    nsecs: &[Record],
) -> Security<()> {
    let chain = chain(zone, nsecs);
    if !zone.zone_of(qname) {
        return Security::Bogus(Bogus::NsecMissing);
    }
    if let Some(&(_, nsec)) = chain.iter().find(|(owner, _)| *owner == qname) {
        return if lacks(nsec, qname, qtype) {
            Security::Secure(())
        } else {
            Security::Bogus(Bogus::NsecMissing)
        };
    }
    // An empty non-terminal: the next name is below QNAME (RFC 4035 §3.1.3.2).
    let empty_non_terminal = chain.iter().any(|&(owner, nsec)| {
        let next = nsec.next_domain_name();
        owner < qname && qname < next && is_strictly_below(next, qname)
    });
    if empty_non_terminal {
        return Security::Secure(());
    }
    let Some(cover) = covering(&chain, qname) else {
        return Security::Bogus(Bogus::NsecMissing);
    };
    let Some(wildcard) = wildcard_at(&closest_encloser(qname, zone, cover)) else {
        return Security::Bogus(Bogus::NsecMissing);
    };
    match chain.iter().find(|(owner, _)| **owner == wildcard) {
        Some(&(_, nsec)) if lacks(nsec, &wildcard, qtype) => Security::Secure(()),
        _ => Security::Bogus(Bogus::NsecMissing),
    }
}

/// Proves a wildcard answer had no closer match (RFC 4035 §5.3.4): QNAME,
/// answered from `source` (`*.<closest encloser>`, [`Verified::wildcard`](super::Verified)),
/// is covered by an NSEC whose closest encloser is the source's parent.
pub fn prove_no_closer_match(
    qname: &Name,
    source: &Name,
    zone: &Name,
    nsecs: &[Record],
) -> Security<()> {
    let chain = chain(zone, nsecs);
    let encloser = source.base_name();
    if !source.is_wildcard() || !zone.zone_of(&encloser) || !is_strictly_below(qname, &encloser) {
        return Security::Bogus(Bogus::NsecMissing);
    }
    match covering(&chain, qname) {
        Some(cover) if closest_encloser(qname, zone, cover) == encloser => Security::Secure(()),
        _ => Security::Bogus(Bogus::NsecMissing),
    }
}

/// Proves a delegation is unsigned (RFC 4035 §5.2): the NSEC at the
/// delegation has NS and neither DS nor SOA. Success is
/// [`Insecure::UnsignedDelegation`].
pub fn prove_insecure_delegation(delegation: &Name, zone: &Name, nsecs: &[Record]) -> Security<()> {
    let chain = chain(zone, nsecs);
    match chain.iter().find(|(owner, _)| *owner == delegation) {
        Some(&(_, nsec))
            if delegation != zone
                && has(nsec, RecordType::NS)
                && !has(nsec, RecordType::DS)
                && !has(nsec, RecordType::SOA) =>
        {
            Security::Insecure(Insecure::UnsignedDelegation)
        }
        _ => Security::Bogus(Bogus::NsecMissing),
    }
}

/// The NSEC records of `zone` among `nsecs`, with their owners.
fn chain<'a>(zone: &Name, nsecs: &'a [Record]) -> Vec<(&'a Name, &'a NSEC)> {
    nsecs
        .iter()
        .filter(|record| zone.zone_of(&record.name))
        .filter_map(|record| Some((&record.name, NSEC::try_borrow(&record.data)?)))
        .collect()
}

/// The NSEC that covers `name` (RFC 4034 §6.1 order: owner < name < next,
/// the last NSEC wrapping to the apex), usable for it (RFC 6840 §4.1).
fn covering<'a>(chain: &[(&'a Name, &'a NSEC)], name: &Name) -> Option<(&'a Name, &'a NSEC)> {
    chain.iter().copied().find(|&(owner, nsec)| {
        let next = nsec.next_domain_name();
        let between = if owner < next {
            owner < name && name < next
        } else {
            owner < name
        };
        let empty_non_terminal = is_strictly_below(next, name);
        let above_cut = owner.zone_of(name) && nsec.is_ancestor_delegation();
        between && !empty_non_terminal && !above_cut
    })
}

/// The closest encloser a covering NSEC shows (RFC 4035 §5.4, RFC 5155
/// §1.3): the longest ancestor QNAME shares with the NSEC's owner or next
/// name, and never above the zone.
fn closest_encloser(qname: &Name, zone: &Name, (owner, nsec): (&Name, &NSEC)) -> Name {
    let shared = common_labels(qname, owner).max(common_labels(qname, nsec.next_domain_name()));
    qname.trim_to(shared.max(label_count(zone)))
}

/// Whether the NSEC at `owner` denies `qtype` there (RFC 4035 §3.1.3.1,
/// RFC 6840 §4.3 for the DS and delegation cases).
fn lacks(nsec: &NSEC, owner: &Name, qtype: RecordType) -> bool {
    if has(nsec, qtype) || has(nsec, RecordType::CNAME) {
        return false;
    }
    if qtype == RecordType::DS {
        // The child's apex NSEC says nothing about the parent's DS.
        owner.is_root() || !has(nsec, RecordType::SOA)
    } else {
        // A delegation's NSEC: the child would answer, not the parent.
        !has(nsec, RecordType::NS) || has(nsec, RecordType::SOA)
    }
}

/// Whether the type bitmap has `record_type`.
fn has(nsec: &NSEC, record_type: RecordType) -> bool {
    nsec.type_set().contains(record_type)
}

/// `*.<name>`, if that is a name.
pub(super) fn wildcard_at(name: &Name) -> Option<Name> {
    name.prepend_label("*").ok()
}

/// Whether `name` is below `ancestor` and not `ancestor` itself.
pub(super) fn is_strictly_below(name: &Name, ancestor: &Name) -> bool {
    ancestor.zone_of(name) && label_count(name) > label_count(ancestor)
}

/// The labels of a name, a leading `*` included (unlike `Name::num_labels`).
pub(super) fn label_count(name: &Name) -> usize {
    name.iter().count()
}

/// How many rightmost labels two names share (case-insensitive).
fn common_labels(a: &Name, b: &Name) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
        .count()
}
