//! The validating core of DNSSEC (RFC 4033–4035, 5155, 6840, 9276): pure
//! functions over records the resolver already holds, each taking `now` and
//! the question's [`ValidationBudget`].
//!
//! ```text
//! trust anchor (anchors) ──▶ trust_dnskeys(". DNSKEY")           RFC 4035 §5.2
//!   DS "edu." ◀── verify_rrset(with ". keys") ◀─────────┘         RFC 4035 §5.3
//!   └──▶ trust_dnskeys("edu. DNSKEY") ──▶ … ──▶ verify_rrset(answer)
//!                                                 └─ wildcard? ─▶ prove_no_closer_match
//! no DS at a delegation ─▶ nsec / nsec3::prove_insecure_delegation  (Insecure)
//! NXDOMAIN / NODATA      ─▶ nsec / nsec3::prove_nxdomain, prove_nodata
//! every result: Security::{Secure, Insecure(why), Bogus(why)} ─▶ Bogus::info_code (RFC 8914)
//! ```
//!
//! How the iterator uses it, per question: one [`ValidationBudget`]; from
//! the trust anchor for the root ([`iana_root_anchors`] or configured,
//! [`parse_trust_anchors`]) call [`trust_dnskeys`] on the root's DNSKEY
//! RRset; at each referral verify the DS RRset with the parent's
//! [`TrustedKeys`] and [`trust_dnskeys`] the child's DNSKEY RRset with those
//! DS as [`Anchor::Ds`], or, without DS, prove the delegation unsigned (the
//! proof's NSEC/NSEC3 first verified with [`verify_rrset`]); every answer
//! RRset goes through [`verify_rrset`], a wildcard one also through
//! `prove_no_closer_match`; negative answers through `prove_nxdomain` or
//! `prove_nodata`. Bogus ⇒ SERVFAIL with [`Bogus::info_code`] as EDE;
//! Insecure ⇒ the answer without AD.
//!
//! The cryptography and canonical forms are hickory-proto's (`TBS`,
//! `Verifier`, `DS::covers`, `Nsec3HashAlgorithm::hash`); the rules, the
//! key-set check and the denial proofs are ours. The NSEC and NSEC3 records
//! given to the proofs must already have been verified with [`verify_rrset`],
//! the zone passed being their signer.

mod anchors;
mod budget;
mod dnskey;
pub mod nsec;
pub mod nsec3;
mod nsec3_chain;
mod reason;
mod rrset;

pub use anchors::{
    Anchor, AnchorError, IANA_ROOT_TRUST_ANCHORS, TrustAnchor, iana_root_anchors,
    parse_trust_anchor, parse_trust_anchors,
};
pub use budget::{
    MAX_DS_DIGESTS_PER_DNSKEY_SET, MAX_NSEC3_HASHES, MAX_SIGNATURES_PER_QUESTION,
    MAX_SIGNATURES_PER_RRSET, ValidationBudget,
};
pub use dnskey::trust_dnskeys;
pub use nsec3::MAX_NSEC3_ITERATIONS;
pub use reason::{Bogus, BudgetKind, Insecure, Security};
pub use rrset::{TrustedKeys, Verified, verify_rrset};

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
