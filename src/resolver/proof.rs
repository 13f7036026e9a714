//! The DNSSEC records validation reads beside what they sign (RFC 4035
//! §5.3, §5.4): the RRSIGs over an RRset and the zone that signed them,
//! and a denial's NSEC or NSEC3 RRsets, each verified before any proof
//! uses it.

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::validator::{Bogus, TrustedKeys, verify_rrset};

/// Whether `record` is an RRSIG over `type_covered` (RFC 4034 §3.1.1).
pub(super) fn signs(record: &Record, type_covered: RecordType) -> bool {
    match &record.data {
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => rrsig.input().type_covered == type_covered,
        _ => false,
    }
}

/// The RRSIGs over `type_covered` among `records`.
pub(super) fn signatures_over(records: &[Record], type_covered: RecordType) -> Vec<Record> {
    records
        .iter()
        .filter(|record| signs(record, type_covered))
        .cloned()
        .collect()
}

/// The Signer's Name of the first of `rrsigs`.
pub(super) fn signer(rrsigs: &[Record]) -> Option<Name> {
    rrsigs.iter().find_map(|record| match &record.data {
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => Some(rrsig.input().signer_name.to_lowercase()),
        _ => None,
    })
}

/// The NSEC or NSEC3 records of a denial proof, each RRset verified.
pub(super) enum Denial {
    /// NSEC records (RFC 4035 §5.4).
    Nsec(Vec<Record>),
    /// NSEC3 records (RFC 5155 §8).
    Nsec3(Vec<Record>),
}

/// Verifies every NSEC (else NSEC3) RRset of `proof` with `keys`: the
/// records a proof may then use (RFC 4035 §5.4: only authenticated NSECs).
pub(super) fn verified_denial(
    proof: &[Record],
    keys: &TrustedKeys,
    now: u32,
    budget: &mut crate::validator::ValidationBudget,
) -> Result<Denial, Bogus> {
    let of_type = |record_type| -> Vec<Record> {
        proof
            .iter()
            .filter(|record| record.record_type() == record_type)
            .cloned()
            .collect()
    };
    let (nsecs, nsec3s) = (of_type(RecordType::NSEC), of_type(RecordType::NSEC3));
    let (records, record_type) = match nsecs.is_empty() {
        false => (nsecs, RecordType::NSEC),
        true if !nsec3s.is_empty() => (nsec3s, RecordType::NSEC3),
        true => return Err(Bogus::NsecMissing),
    };
    let rrsigs = signatures_over(proof, record_type);
    let mut owners: Vec<&Name> = records.iter().map(|record| &record.name).collect();
    owners.sort();
    owners.dedup();
    for owner in owners {
        let rrset: Vec<Record> = records
            .iter()
            .filter(|record| record.name == *owner)
            .cloned()
            .collect();
        let signatures: Vec<Record> = rrsigs
            .iter()
            .filter(|rrsig| rrsig.name == *owner)
            .cloned()
            .collect();
        verify_rrset(&rrset, &signatures, keys, now, budget)?;
    }
    Ok(match record_type {
        RecordType::NSEC => Denial::Nsec(records),
        _ => Denial::Nsec3(records),
    })
}
