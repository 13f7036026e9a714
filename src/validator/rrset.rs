//! RRset verification (RFC 4035 §5.3, RFC 6840 §5): one RRSIG that passes
//! every rule of §5.3.1 and whose signature verifies with a DNSKEY of the
//! zone's trusted set makes the RRset secure.
//!
//! ```text
//! RRset + RRSIGs ─▶ for each RRSIG: owner/class, type covered, signer = zone,
//!                   labels, validity window (RFC 1982), algorithm supported
//!                 ─▶ DNSKEYs with its key tag + algorithm + Zone Key flag
//!                 ─▶ verify (hickory's TBS + key), each try paid from the budget
//!                 ─▶ Verified { ttl cap, wildcard source } | Bogus(reason)
//! ```

use hickory_proto::dnssec::Verifier;
use hickory_proto::dnssec::rdata::{DNSKEY, RRSIG};
use hickory_proto::rr::{DNSClass, Name, Record, RecordData, RecordType, SerialNumber};

use super::budget::ValidationBudget;
use super::reason::Bogus;

/// A DNSKEY RRset whose trust was established by a DS or trust anchor and
/// its own signature (RFC 4035 §5.2); the keys RRsets of the zone are
/// verified with ([`verify_rrset`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKeys {
    zone: Name,
    keys: Vec<DNSKEY>,
    ttl: u32,
}

impl TrustedKeys {
    /// Only the DNSKEY-set check of RFC 4035 §5.2 makes these.
    pub(super) fn new(zone: Name, keys: Vec<DNSKEY>, ttl: u32) -> Self {
        TrustedKeys { zone, keys, ttl }
    }

    /// The zone the keys are the apex DNSKEY RRset of.
    pub fn zone(&self) -> &Name {
        &self.zone
    }

    /// The whole DNSKEY RRset, every key of which may sign the zone's data.
    pub fn keys(&self) -> &[DNSKEY] {
        &self.keys
    }

    /// How long the trust may be cached (RFC 4035 §5.3.3, as [`Verified::ttl`]).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }
}

/// What a verified RRSIG proved about its RRset (RFC 4035 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key tag of the DNSKEY that verified the signature.
    pub key_tag: u16,
    /// The TTL the RRset may be cached with: the least of the records'
    /// TTLs, the RRSIG's TTL, its Original TTL, and the time left before
    /// its Signature Expiration (RFC 4035 §5.3.3).
    pub ttl: u32,
    /// The wildcard the RRset was expanded from, when the RRSIG's Labels is
    /// less than the owner's (RFC 4035 §5.3.2, §5.3.4): the answer is secure
    /// only once the caller proves that no closer match exists
    /// (`nsec::prove_no_closer_match` or `nsec3::prove_no_closer_match`).
    pub wildcard: Option<Name>,
}

/// Verifies one RRset (`records`, all of one owner, type and class) against
/// its RRSIGs (records of type RRSIG; others are ignored) with the zone's
/// trusted DNSKEY set, at `now` (seconds since the epoch).
///
/// Secure when one RRSIG passes RFC 4035 §5.3.1 (same owner and class,
/// type covered, Signer's Name = the keys' zone and an ancestor-or-self of
/// the owner, Labels ≤ the owner's labels, now within inception and
/// expiration by RFC 1982 serial arithmetic, a DNSKEY of that algorithm and
/// key tag with the Zone Key flag) and its signature verifies (§5.3.3).
/// RRSIGs of algorithms we do not support are skipped (RFC 6840 §5.2).
/// Every signature check is paid from `budget`, at most
/// [`MAX_SIGNATURES_PER_RRSET`](super::MAX_SIGNATURES_PER_RRSET) for the RRset.
pub fn verify_rrset(
    records: &[Record],
    rrsigs: &[Record],
    keys: &TrustedKeys,
    now: u32,
    budget: &mut ValidationBudget,
) -> Result<Verified, Bogus> {
    let candidates: Vec<&DNSKEY> = keys.keys.iter().collect();
    let mut done = 0;
    verify_with(
        records,
        rrsigs,
        &keys.zone,
        &candidates,
        now,
        budget,
        &mut done,
    )
}

/// The owner, type and class of `records` if they are one non-empty RRset
/// (RFC 2181 §5); RRSIGs are never an RRset to validate (RFC 4035 §2.2).
pub(super) fn rrset_identity(records: &[Record]) -> Result<(&Name, RecordType, DNSClass), Bogus> {
    let first = records.first().ok_or(Bogus::NotOneRrset)?;
    let record_type = first.record_type();
    if record_type == RecordType::RRSIG {
        return Err(Bogus::NotOneRrset);
    }
    let same = |record: &Record| {
        record.name == first.name
            && record.record_type() == record_type
            && record.dns_class == first.dns_class
    };
    if !records.iter().all(same) {
        return Err(Bogus::NotOneRrset);
    }
    Ok((&first.name, record_type, first.dns_class))
}

/// [`verify_rrset`] with the signing keys narrowed to `candidates` (the DNSKEY
/// set check of RFC 4035 §5.2 narrows them to the keys a DS matched);
/// `done` counts the signature checks already made for this RRset.
pub(super) fn verify_with(
    records: &[Record],
    rrsigs: &[Record],
    zone: &Name,
    candidates: &[&DNSKEY],
    now: u32,
    budget: &mut ValidationBudget,
    done: &mut u32,
) -> Result<Verified, Bogus> {
    let (owner, record_type, class) = rrset_identity(records)?;
    let canonical = canonical_rrset(records);
    let tagged: Vec<(u16, &DNSKEY)> = candidates
        .iter()
        .filter_map(|key| Some((key.calculate_key_tag().ok()?, *key)))
        .collect();
    let mut failure = Bogus::RrsigsMissing(record_type);
    for record in rrsigs {
        let Some(rrsig) = RRSIG::try_borrow(&record.data) else {
            continue;
        };
        // RFC 4035 §5.3.1: same owner and class; the RRSIG covers this type.
        if record.name != *owner
            || record.dns_class != class
            || rrsig.input().type_covered != record_type
        {
            continue;
        }
        // RFC 6840 §5.2: a signature by an unsupported algorithm is skipped.
        if !rrsig.input().algorithm.is_supported() {
            continue;
        }
        let attempt = check_rules(rrsig, owner, zone, now)
            .and_then(|()| verify_signature(&canonical, class, rrsig, &tagged, budget, done));
        match attempt {
            Ok(key_tag) => {
                return Ok(Verified {
                    key_tag,
                    ttl: authenticated_ttl(records, record.ttl, rrsig, now),
                    wildcard: wildcard_source(owner, rrsig.input().num_labels)?,
                });
            }
            Err(reason @ Bogus::BudgetExhausted(_)) => return Err(reason),
            Err(reason) => failure = most_telling(failure, reason),
        }
    }
    Err(failure)
}

/// The RRset as it was signed (RFC 4034 §6.3): duplicates removed, and one
/// TTL for all (the signed form carries the Original TTL; hickory's canonical
/// sort would otherwise order by the received TTLs before the RDATA).
fn canonical_rrset(records: &[Record]) -> Vec<Record> {
    let mut canonical: Vec<Record> = records
        .iter()
        .map(|record| {
            let mut record = record.clone();
            record.ttl = 0;
            record
        })
        .collect();
    canonical.sort();
    canonical.dedup_by(|a, b| a.data == b.data);
    canonical
}

/// The RRSIG rules of RFC 4035 §5.3.1 that need no cryptography.
fn check_rules(rrsig: &RRSIG, owner: &Name, zone: &Name, now: u32) -> Result<(), Bogus> {
    let input = rrsig.input();
    // The Signer's Name is the zone of the RRset, and so an ancestor-or-self
    // of the owner (label-aware, case-insensitive).
    if input.signer_name != *zone || !zone.zone_of(owner) {
        return Err(Bogus::SignerNameMismatch);
    }
    // A DS RRset is the parent's (RFC 4035 §5.2, RFC 4034 §5): the child's
    // own keys cannot vouch for it.
    if input.type_covered == RecordType::DS && owner == zone && !zone.is_root() {
        return Err(Bogus::SignerNameMismatch);
    }
    if input.num_labels > owner.num_labels() {
        return Err(Bogus::LabelsExceedOwner);
    }
    // A wildcard `*.<Labels labels of owner>` must lie within the zone.
    if input.num_labels < zone.num_labels() {
        return Err(Bogus::WildcardOutsideZone);
    }
    // RFC 4035 §5.3.1, RFC 1982 §3.2: inception ≤ now ≤ expiration; a time
    // exactly 2^31 away compares as undefined and fails.
    let now = SerialNumber::new(now);
    if !matches!(
        now.partial_cmp(&input.sig_expiration),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    ) {
        return Err(Bogus::SignatureExpired);
    }
    if !matches!(
        now.partial_cmp(&input.sig_inception),
        Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
    ) {
        return Err(Bogus::SignatureNotYetValid);
    }
    Ok(())
}

/// Tries the signature with every candidate key of its key tag and
/// algorithm (tags collide: RFC 4034 §5.3.1 "key tag ... not unique"), each
/// try paid from the budget; the key tag that verified.
fn verify_signature(
    records: &[Record],
    class: DNSClass,
    rrsig: &RRSIG,
    tagged: &[(u16, &DNSKEY)],
    budget: &mut ValidationBudget,
    done: &mut u32,
) -> Result<u16, Bogus> {
    let input = rrsig.input();
    let mut failure = Bogus::DnskeyMissing;
    for &(tag, key) in tagged {
        if tag != input.key_tag || key.algorithm() != input.algorithm {
            continue;
        }
        // RFC 4034 §2.1.1: only a zone key may verify zone data.
        if !key.zone_key() {
            failure = most_telling(failure, Bogus::NoZoneKeyBitSet);
            continue;
        }
        // RFC 5011 §2.1: a revoked key signs only its own DNSKEY RRset.
        if key.revoke() && input.type_covered != RecordType::DNSKEY {
            continue;
        }
        budget.take_signature(*done)?;
        *done += 1;
        let Some(first) = records.first() else {
            return Err(Bogus::NotOneRrset);
        };
        if key
            .verify_rrsig(&first.name, class, rrsig, records.iter())
            .is_ok()
        {
            return Ok(tag);
        }
        failure = Bogus::SignatureInvalid;
    }
    Err(failure)
}

/// The TTL of RFC 4035 §5.3.3: the least of the RRset's TTLs, the RRSIG's,
/// its Original TTL and the seconds left until its expiration.
fn authenticated_ttl(records: &[Record], rrsig_ttl: u32, rrsig: &RRSIG, now: u32) -> u32 {
    let input = rrsig.input();
    let left = input.sig_expiration.get().wrapping_sub(now);
    records
        .iter()
        .map(|record| record.ttl)
        .fold(rrsig_ttl, u32::min)
        .min(input.original_ttl)
        .min(left)
}

/// The wildcard an RRset was expanded from (RFC 4035 §5.3.2): `*.` and the
/// rightmost `labels` labels of the owner, when that is fewer than the owner has.
fn wildcard_source(owner: &Name, labels: u8) -> Result<Option<Name>, Bogus> {
    if labels >= owner.num_labels() {
        return Ok(None);
    }
    owner
        .trim_to(usize::from(labels))
        .prepend_label("*")
        .map(Some)
        // Cannot happen: the result is shorter than the owner.
        .map_err(|_| Bogus::LabelsExceedOwner)
}

/// Of two reasons for failing, the one that says more to the client
/// (a bad signature over a missing one; RFC 8914 §4's specific codes over
/// the generic).
pub(super) fn most_telling(a: Bogus, b: Bogus) -> Bogus {
    fn rank(reason: &Bogus) -> u8 {
        match reason {
            Bogus::RrsigsMissing(_) => 0,
            Bogus::DnskeyMissing => 1,
            Bogus::NoZoneKeyBitSet => 2,
            Bogus::SignerNameMismatch
            | Bogus::LabelsExceedOwner
            | Bogus::WildcardOutsideZone
            | Bogus::NotOneRrset
            | Bogus::NoTrustAnchor
            | Bogus::NsecMissing => 3,
            Bogus::SignatureNotYetValid | Bogus::SignatureExpired => 4,
            Bogus::SignatureInvalid => 5,
            Bogus::BudgetExhausted(_) => 6,
        }
    }
    if rank(&b) >= rank(&a) { b } else { a }
}
