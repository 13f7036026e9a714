//! DNSKEY RRset trust (RFC 4035 §5.2): a zone's DNSKEY RRset is trusted
//! when a DS from its parent (or a configured anchor) matches one of its
//! keys AND that very key's RRSIG over the whole DNSKEY RRset verifies.
//!
//! ```text
//! DS / anchors ─▶ the ones we can check (algorithm, digest type: RFC 8624)
//!                 none left ─▶ Insecure (unsupported algorithm / digest)
//!              ─▶ keys of the DNSKEY RRset they match (DS::covers, Zone Key flag)
//!                 none ─▶ Bogus: DNSKEY Missing
//!              ─▶ the RRSIG by one of those keys over the DNSKEY RRset verifies?
//!                 yes ─▶ Secure(TrustedKeys)   no ─▶ Bogus(why)
//! ```
//!
//! Hickory's own validator once trusted a whole DNSKEY set because one key
//! matched an anchor, without checking that key's signature over the set;
//! here the signature is checked with the matched key only.

use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::dnssec::{DigestType, PublicKey, Verifier};
use hickory_proto::rr::{Name, Record, RecordData, RecordType};

use super::anchors::Anchor;
use super::budget::{MAX_DS_DIGESTS_PER_DNSKEY_SET, ValidationBudget};
use super::reason::{Bogus, BudgetKind, Insecure, Security};
use super::rrset::{TrustedKeys, most_telling, rrset_identity, verify_with};

/// Establishes trust in the DNSKEY RRset of `zone` (`dnskeys`, with their
/// `rrsigs`) from `anchors`: the validated DS RRset of the parent, or the
/// configured trust anchors for the zone (RFC 4035 §5.2).
///
/// Insecure when no anchor has an algorithm and digest type we support
/// (RFC 4035 §5.2 "no supported DS", RFC 6840 §5.2, RFC 8624 §3); a SHA-1 DS
/// is ignored when a SHA-256 or SHA-384 one can be used (RFC 4509 §3).
pub fn trust_dnskeys(
    zone: &Name,
    dnskeys: &[Record],
    rrsigs: &[Record],
    anchors: &[Anchor],
    now: u32,
    budget: &mut ValidationBudget,
) -> Security<TrustedKeys> {
    if anchors.is_empty() {
        return Security::Bogus(Bogus::NoTrustAnchor);
    }
    let usable = match usable_anchors(anchors) {
        Ok(usable) => usable,
        Err(insecure) => return Security::Insecure(insecure),
    };
    if dnskeys.is_empty() {
        return Security::Bogus(Bogus::DnskeyMissing);
    }
    match rrset_identity(dnskeys) {
        Ok((owner, RecordType::DNSKEY, _)) if owner == zone => {}
        _ => return Security::Bogus(Bogus::NotOneRrset),
    }
    let keys: Vec<&DNSKEY> = dnskeys
        .iter()
        .filter_map(|record| DNSKEY::try_borrow(&record.data))
        .collect();
    let entry_points = match secure_entry_points(&keys, &usable, zone) {
        Ok(entry_points) => entry_points,
        Err(reason) => return Security::Bogus(reason),
    };
    if entry_points.is_empty() {
        return Security::Bogus(Bogus::DnskeyMissing);
    }
    if let Some(unusable) = entry_points.iter().find(|key| !key_size_supported(key))
        && entry_points.iter().all(|key| !key_size_supported(key))
    {
        // The keys exist and match, but the crypto library cannot check
        // their signatures: as an unsupported algorithm (RFC 4035 §5.2).
        return Security::Insecure(Insecure::UnsupportedDnskeyAlgorithm(u8::from(
            unusable.algorithm(),
        )));
    }
    let mut done = 0;
    let mut failure = Bogus::RrsigsMissing(RecordType::DNSKEY);
    // One key at a time: the signature must be by a key the anchor matched.
    for entry_point in entry_points {
        match verify_with(
            dnskeys,
            rrsigs,
            zone,
            &[entry_point],
            now,
            budget,
            &mut done,
        ) {
            Ok(verified) if verified.wildcard.is_none() => {
                let keys = keys.into_iter().cloned().collect();
                return Security::Secure(TrustedKeys::new(zone.clone(), keys, verified.ttl));
            }
            // A DNSKEY RRset is at the apex, never expanded from a wildcard.
            Ok(_) => failure = most_telling(failure, Bogus::WildcardOutsideZone),
            Err(reason @ Bogus::BudgetExhausted(_)) => return Security::Bogus(reason),
            Err(reason) => failure = most_telling(failure, reason),
        }
    }
    Security::Bogus(failure)
}

/// The least RSA modulus ring verifies with, in bits.
const MIN_RSA_MODULUS_BITS: usize = 1024;

/// Whether signatures by `key` can be checked: an RSA key's modulus
/// (RFC 3110 §2: exponent length, exponent, modulus) must be at least
/// [`MIN_RSA_MODULUS_BITS`] long; other algorithms have fixed sizes.
fn key_size_supported(key: &DNSKEY) -> bool {
    // RSASHA1, RSASHA1-NSEC3-SHA1, RSASHA256, RSASHA512 (RFC 8624 §3.1).
    let rsa = matches!(u8::from(key.algorithm()), 5 | 7 | 8 | 10);
    if !rsa {
        return true;
    }
    let bytes = key.public_key().public_bytes();
    let (header, exponent) = match bytes {
        [0, high, low, ..] => (3, usize::from(*high) << 8 | usize::from(*low)),
        [length, ..] => (1, usize::from(*length)),
        [] => return false,
    };
    let modulus = bytes.len().saturating_sub(header + exponent);
    modulus * 8 >= MIN_RSA_MODULUS_BITS
}

/// The anchors we can check, or why none is (RFC 4035 §5.2, RFC 8624 §3).
fn usable_anchors(anchors: &[Anchor]) -> Result<Vec<&Anchor>, Insecure> {
    let supported = |anchor: &&Anchor| match anchor {
        Anchor::Ds(ds) => ds.algorithm().is_supported() && ds.digest_type().is_supported(),
        Anchor::Dnskey(key) => key.algorithm().is_supported(),
    };
    let mut usable: Vec<&Anchor> = anchors.iter().filter(supported).collect();
    // RFC 4509 §3: with a usable SHA-2 DS, SHA-1 DS records are ignored.
    let sha2 = usable.iter().any(|anchor| {
        matches!(anchor, Anchor::Ds(ds) if matches!(ds.digest_type(), DigestType::SHA256 | DigestType::SHA384))
    });
    if sha2 {
        usable.retain(
            |anchor| !matches!(anchor, Anchor::Ds(ds) if ds.digest_type() == DigestType::SHA1),
        );
    }
    if !usable.is_empty() {
        return Ok(usable);
    }
    let algorithm = anchors.iter().find_map(|anchor| {
        let algorithm = match anchor {
            Anchor::Ds(ds) => ds.algorithm(),
            Anchor::Dnskey(key) => key.algorithm(),
        };
        (!algorithm.is_supported()).then(|| u8::from(algorithm))
    });
    match algorithm {
        Some(algorithm) => Err(Insecure::UnsupportedDnskeyAlgorithm(algorithm)),
        None => {
            let digest = anchors.iter().find_map(|anchor| match anchor {
                Anchor::Ds(ds) => Some(u8::from(ds.digest_type())),
                Anchor::Dnskey(_) => None,
            });
            Err(Insecure::UnsupportedDsDigestType(digest.unwrap_or(0)))
        }
    }
}

/// The keys of the set some anchor designates, at most
/// [`MAX_DS_DIGESTS_PER_DNSKEY_SET`] digests computed to find them.
fn secure_entry_points<'a>(
    keys: &[&'a DNSKEY],
    usable: &[&Anchor],
    zone: &Name,
) -> Result<Vec<&'a DNSKEY>, Bogus> {
    let mut digests = 0;
    let mut entry_points = Vec::new();
    for &key in keys {
        for anchor in usable {
            if matches(anchor, zone, key, &mut digests)? {
                entry_points.push(key);
                break;
            }
        }
    }
    Ok(entry_points)
}

/// Whether `anchor` designates `key` of `zone` as a secure entry point: a DS
/// of its key tag, algorithm and digest (RFC 4034 §5.2, RFC 4035 §5.2), or
/// the same public key; a zone key (RFC 4034 §2.1.1), not revoked (RFC 5011 §2.1).
fn matches(anchor: &Anchor, zone: &Name, key: &DNSKEY, digests: &mut u32) -> Result<bool, Bogus> {
    if !key.zone_key() || key.revoke() {
        return Ok(false);
    }
    Ok(match anchor {
        Anchor::Ds(ds) => {
            if ds.algorithm() != key.algorithm()
                || key.calculate_key_tag().ok() != Some(ds.key_tag())
            {
                return Ok(false);
            }
            if *digests >= MAX_DS_DIGESTS_PER_DNSKEY_SET {
                return Err(Bogus::BudgetExhausted(BudgetKind::DsDigests));
            }
            *digests += 1;
            ds.covers(zone, key).unwrap_or(false)
        }
        Anchor::Dnskey(trusted) => {
            trusted.algorithm() == key.algorithm()
                && trusted.public_key().public_bytes() == key.public_key().public_bytes()
        }
    })
}
