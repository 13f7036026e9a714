//! What validating one question may cost: signature verifications and NSEC3
//! hashes, each counted and capped, so a zone built to be expensive (many
//! keys sharing a key tag, many RRSIGs, long NSEC3 closest-encloser walks)
//! ends as bogus instead of burning the CPU (KeyTrap, CVE-2023-50387;
//! NSEC3-encloser, CVE-2023-50868).

use super::reason::{Bogus, BudgetKind};

/// Signature verifications tried for one RRset, over all its RRSIGs and all
/// the DNSKEYs whose key tag and algorithm match them (Unbound's bound
/// after CVE-2023-50387 is 8 as well).
pub const MAX_SIGNATURES_PER_RRSET: u32 = 8;

/// Signature verifications for one question, all RRsets and the DNSKEY sets
/// of the chain together.
pub const MAX_SIGNATURES_PER_QUESTION: u32 = 64;

/// DS digests computed to find the keys a DS RRset designates in one DNSKEY
/// RRset (only pairs of equal key tag and algorithm are hashed; colliding
/// tags could otherwise make it DS count × key count).
pub const MAX_DS_DIGESTS_PER_DNSKEY_SET: u32 = 64;

/// NSEC3 hash computations (each up to 1 + [`MAX_NSEC3_ITERATIONS`]
/// SHA-1 rounds) for one question.
///
/// [`MAX_NSEC3_ITERATIONS`]: super::MAX_NSEC3_ITERATIONS
pub const MAX_NSEC3_HASHES: u32 = 128;

/// The validation work one question may still do, with what it did so far.
#[derive(Debug, Clone)]
pub struct ValidationBudget {
    max_signatures_per_rrset: u32,
    max_signatures: u32,
    max_nsec3_hashes: u32,
    signatures: u32,
    nsec3_hashes: u32,
}

impl Default for ValidationBudget {
    fn default() -> Self {
        ValidationBudget::new(
            MAX_SIGNATURES_PER_RRSET,
            MAX_SIGNATURES_PER_QUESTION,
            MAX_NSEC3_HASHES,
        )
    }
}

impl ValidationBudget {
    /// A fresh budget with these limits (the defaults are the `MAX_` constants).
    pub fn new(max_signatures_per_rrset: u32, max_signatures: u32, max_nsec3_hashes: u32) -> Self {
        ValidationBudget {
            max_signatures_per_rrset,
            max_signatures,
            max_nsec3_hashes,
            signatures: 0,
            nsec3_hashes: 0,
        }
    }

    /// Signature verifications done so far for the question.
    pub fn signatures(&self) -> u32 {
        self.signatures
    }

    /// NSEC3 hashes computed so far for the question.
    pub fn nsec3_hashes(&self) -> u32 {
        self.nsec3_hashes
    }

    /// Takes one signature verification, the `done_for_rrset`-th plus one
    /// for the current RRset; refused once either limit is reached.
    pub(super) fn take_signature(&mut self, done_for_rrset: u32) -> Result<(), Bogus> {
        if done_for_rrset >= self.max_signatures_per_rrset {
            return Err(Bogus::BudgetExhausted(BudgetKind::SignaturesPerRrset));
        }
        if self.signatures >= self.max_signatures {
            return Err(Bogus::BudgetExhausted(BudgetKind::SignaturesPerQuestion));
        }
        self.signatures += 1;
        Ok(())
    }

    /// Takes one NSEC3 hash computation; refused once the limit is reached.
    pub(super) fn take_nsec3_hash(&mut self) -> Result<(), Bogus> {
        if self.nsec3_hashes >= self.max_nsec3_hashes {
            return Err(Bogus::BudgetExhausted(BudgetKind::Nsec3Hashes));
        }
        self.nsec3_hashes += 1;
        Ok(())
    }
}
