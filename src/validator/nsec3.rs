//! Authenticated denial of existence with NSEC3 (RFC 5155 §8, RFC 9276):
//! pure proofs over NSEC3 records whose RRSIGs the caller verified (the
//! zone passed is their signer), every hash paid from the budget.
//!
//! ```text
//! NXDOMAIN   closest-encloser proof + *.<closest encloser> covered     RFC 5155 §8.4
//! NODATA     NSEC3 matching QNAME lacks QTYPE and CNAME                RFC 5155 §8.5
//!            or the NSEC3 matching *.<closest encloser> lacks them     RFC 5155 §8.7
//!            or QNAME's next closer name in an opt-out span (insecure) RFC 5155 §8.6, §9.2
//! wildcard   the next closer name of the source is covered (opt-out:   RFC 5155 §8.8
//!            insecure)                                                 RFC 5155 §9.2
//! no DS      NSEC3 at the delegation: NS, no DS, no SOA; or opt-out    RFC 5155 §8.9
//! ```
//!
//! Chains with more than [`MAX_NSEC3_ITERATIONS`] iterations are insecure
//! (RFC 9276 §3.2); an opt-out span makes an NXDOMAIN proof insecure, as
//! Unbound does, since an unsigned delegation may hide in it (RFC 5155 §6).

use hickory_proto::dnssec::rdata::NSEC3;
use hickory_proto::rr::{Name, Record, RecordType};

use super::budget::ValidationBudget;
use super::nsec::{is_strictly_below, label_count, wildcard_at};
pub use super::nsec3_chain::MAX_NSEC3_ITERATIONS;
use super::nsec3_chain::{Chain, ChainError, Encloser};
use super::reason::{Bogus, Insecure, Security};

/// Proves QNAME does not exist (RFC 5155 §8.4): a closest-encloser proof
/// (its next closer name covered) and the wildcard at the closest encloser
/// covered. Insecure when the next closer name lies in an opt-out span.
pub fn prove_nxdomain(
    qname: &Name,
    zone: &Name,
    nsec3s: &[Record],
    budget: &mut ValidationBudget,
) -> Security<()> {
    let mut chain = match Chain::new(zone, nsec3s) {
        Ok(chain) => chain,
        Err(error) => return from_chain_error(error),
    };
    let (closest, cover) = match chain.closest_encloser(qname, zone, budget) {
        Ok(Encloser::Proven {
            closest,
            next_closer_cover,
        }) => (closest, next_closer_cover),
        Ok(Encloser::Exists(_)) => return Security::Bogus(Bogus::NsecMissing),
        Err(reason) => return Security::Bogus(reason),
    };
    match wildcard_covered(&mut chain, &closest, budget) {
        Ok(true) if cover.opt_out() => Security::Insecure(Insecure::OptOut),
        Ok(true) => Security::Secure(()),
        Ok(false) => Security::Bogus(Bogus::NsecMissing),
        Err(reason) => Security::Bogus(reason),
    }
}

/// Proves QNAME exists without QTYPE (RFC 5155 §8.5–8.7): the NSEC3
/// matching QNAME lacks QTYPE and CNAME (for DS it is the parent's: no SOA;
/// for other types no delegation's: not NS without SOA); for DS without a
/// match, QNAME's next closer name in an opt-out span (insecure); else the
/// NSEC3 matching the wildcard at the closest encloser lacks QTYPE and CNAME.
pub fn prove_nodata(
    qname: &Name,
    qtype: RecordType,
    zone: &Name,
    nsec3s: &[Record],
    budget: &mut ValidationBudget,
) -> Security<()> {
    let mut chain = match Chain::new(zone, nsec3s) {
        Ok(chain) => chain,
        Err(error) => return from_chain_error(error),
    };
    let (closest, cover) = match chain.closest_encloser(qname, zone, budget) {
        Ok(Encloser::Exists(nsec3)) => {
            return if lacks(nsec3, qname, qtype) {
                Security::Secure(())
            } else {
                Security::Bogus(Bogus::NsecMissing)
            };
        }
        Ok(Encloser::Proven {
            closest,
            next_closer_cover,
        }) => (closest, next_closer_cover),
        Err(reason) => return Security::Bogus(reason),
    };
    // DS is the parent's: no wildcard stands in for it (RFC 5155 §8.6).
    if qtype != RecordType::DS {
        let Some(wildcard) = wildcard_at(&closest) else {
            return Security::Bogus(Bogus::NsecMissing);
        };
        let hash = match chain.hash(&wildcard, budget) {
            Ok(hash) => hash,
            Err(reason) => return Security::Bogus(reason),
        };
        match chain.matching(&hash) {
            Some(nsec3) if !lacks(nsec3, &wildcard, qtype) => {
                return Security::Bogus(Bogus::NsecMissing);
            }
            Some(_) if cover.opt_out() => return Security::Insecure(Insecure::OptOut),
            Some(_) => return Security::Secure(()),
            None => {}
        }
    }
    // No match for QNAME nor its wildcard: only an opt-out span over the
    // next closer name explains it, an unsigned delegation possibly hiding
    // there (RFC 5155 §8.6, §9.2: no AD).
    match cover.opt_out() {
        true => Security::Insecure(Insecure::OptOut),
        false => Security::Bogus(Bogus::NsecMissing),
    }
}

/// Proves a wildcard answer had no closer match (RFC 5155 §8.8): the next
/// closer name of QNAME below the source's closest encloser (`source` is
/// `*.<closest encloser>`, [`Verified::wildcard`](super::Verified)) is
/// covered; insecure when the covering NSEC3 has opt-out (RFC 5155 §9.2).
pub fn prove_no_closer_match(
    qname: &Name,
    source: &Name,
    zone: &Name,
    nsec3s: &[Record],
    budget: &mut ValidationBudget,
) -> Security<()> {
    let encloser = source.base_name();
    if !source.is_wildcard() || !zone.zone_of(&encloser) || !is_strictly_below(qname, &encloser) {
        return Security::Bogus(Bogus::NsecMissing);
    }
    let mut chain = match Chain::new(zone, nsec3s) {
        Ok(chain) => chain,
        Err(error) => return from_chain_error(error),
    };
    let next_closer = qname.trim_to(label_count(&encloser) + 1);
    let hash = match chain.hash(&next_closer, budget) {
        Ok(hash) => hash,
        Err(reason) => return Security::Bogus(reason),
    };
    match chain.covering(&hash) {
        // An unsigned delegation may hide in an opt-out span (RFC 5155 §9.2).
        Some(cover) if cover.opt_out() => Security::Insecure(Insecure::OptOut),
        Some(_) => Security::Secure(()),
        None => Security::Bogus(Bogus::NsecMissing),
    }
}

/// Proves a delegation is unsigned (RFC 5155 §8.9, §8.6): the NSEC3
/// matching it has NS and neither DS nor SOA ([`Insecure::UnsignedDelegation`]),
/// or it lies in an opt-out span ([`Insecure::OptOut`]).
pub fn prove_insecure_delegation(
    delegation: &Name,
    zone: &Name,
    nsec3s: &[Record],
    budget: &mut ValidationBudget,
) -> Security<()> {
    if delegation == zone {
        return Security::Bogus(Bogus::NsecMissing);
    }
    let mut chain = match Chain::new(zone, nsec3s) {
        Ok(chain) => chain,
        Err(error) => return from_chain_error(error),
    };
    match chain.closest_encloser(delegation, zone, budget) {
        Ok(Encloser::Exists(nsec3))
            if has(nsec3, RecordType::NS)
                && !has(nsec3, RecordType::DS)
                && !has(nsec3, RecordType::SOA) =>
        {
            Security::Insecure(Insecure::UnsignedDelegation)
        }
        Ok(Encloser::Proven {
            next_closer_cover, ..
        }) if next_closer_cover.opt_out() => Security::Insecure(Insecure::OptOut),
        Ok(_) => Security::Bogus(Bogus::NsecMissing),
        Err(reason) => Security::Bogus(reason),
    }
}

/// Whether the wildcard at `closest` is covered (so does not exist).
fn wildcard_covered(
    chain: &mut Chain<'_>,
    closest: &Name,
    budget: &mut ValidationBudget,
) -> Result<bool, Bogus> {
    let wildcard = wildcard_at(closest).ok_or(Bogus::NsecMissing)?;
    let hash = chain.hash(&wildcard, budget)?;
    Ok(chain.covering(&hash).is_some())
}

/// Whether the NSEC3 matching `owner` denies `qtype` there (RFC 5155 §8.5,
/// §8.6; RFC 6840 §4.3 for the delegation case).
fn lacks(nsec3: &NSEC3, owner: &Name, qtype: RecordType) -> bool {
    if has(nsec3, qtype) || has(nsec3, RecordType::CNAME) {
        return false;
    }
    if qtype == RecordType::DS {
        owner.is_root() || !has(nsec3, RecordType::SOA)
    } else {
        !has(nsec3, RecordType::NS) || has(nsec3, RecordType::SOA)
    }
}

/// Whether the type bitmap has `record_type`.
fn has(nsec3: &NSEC3, record_type: RecordType) -> bool {
    nsec3.type_set().contains(record_type)
}

/// The result a chain that cannot be used gives.
fn from_chain_error(error: ChainError) -> Security<()> {
    match error {
        ChainError::Insecure(reason) => Security::Insecure(reason),
        ChainError::Bogus(reason) => Security::Bogus(reason),
    }
}
