//! Why a validation ended where it did, and the Extended DNS Error
//! (RFC 8914 §4) a SERVFAIL or an insecure answer carries for it.

use hickory_proto::rr::RecordType;

/// The security status of validated data (RFC 4035 §4.3), with what a
/// secure result proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security<T> {
    /// Authenticated by an unbroken chain of signed DNSKEY and DS RRsets
    /// from a trust anchor (RFC 4035 §4.3 "Secure").
    Secure(T),
    /// Proven to be outside any secure chain: an unsigned delegation, an
    /// opt-out span, or only algorithms we cannot check (RFC 4035 §4.3
    /// "Insecure", RFC 8624 §3, RFC 9276 §3.2).
    Insecure(Insecure),
    /// Should have been secure but failed to validate (RFC 4035 §4.3
    /// "Bogus"): the resolver answers SERVFAIL with the reason's EDE.
    Bogus(Bogus),
}

impl<T> Security<T> {
    /// Whether this is [`Security::Secure`].
    pub fn is_secure(&self) -> bool {
        matches!(self, Security::Secure(_))
    }

    /// Whether this is [`Security::Insecure`].
    pub fn is_insecure(&self) -> bool {
        matches!(self, Security::Insecure(_))
    }

    /// Whether this is [`Security::Bogus`].
    pub fn is_bogus(&self) -> bool {
        matches!(self, Security::Bogus(_))
    }

    /// The Extended DNS Error for an insecure or bogus result (RFC 8914 §4);
    /// `None` when secure, or insecure by a proven unsigned delegation.
    pub fn extended_error(&self) -> Option<(u16, &'static str)> {
        match self {
            Security::Secure(_) => None,
            Security::Insecure(reason) => reason.info_code().map(|code| (code, reason.text())),
            Security::Bogus(reason) => Some((reason.info_code(), reason.text())),
        }
    }
}

/// Why data is insecure rather than secure (RFC 4035 §4.3, §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Insecure {
    /// No DS or anchor has an algorithm we support (RFC 4035 §5.2, RFC 6840
    /// §5.2, RFC 8624 §3.1): the zone is treated as unsigned.
    #[error("unsupported DNSKEY algorithm {0}")]
    UnsupportedDnskeyAlgorithm(u8),
    /// No DS has a digest type we support (RFC 4035 §5.2, RFC 8624 §3.3).
    #[error("unsupported DS digest type {0}")]
    UnsupportedDsDigestType(u8),
    /// The NSEC3 chain uses more iterations than we compute (RFC 9276 §3.2).
    #[error("NSEC3 iterations {0} above the limit")]
    Nsec3IterationsTooHigh(u16),
    /// The delegation is proven to have no DS (RFC 4035 §5.2: NS present,
    /// DS and SOA absent in the matching NSEC or NSEC3 bitmap).
    #[error("unsigned delegation")]
    UnsignedDelegation,
    /// The name falls in an opt-out span of the NSEC3 chain, where unsigned
    /// delegations need not appear (RFC 5155 §6, §8.6, §9.2).
    #[error("NSEC3 opt-out span")]
    OptOut,
    /// No trust anchor is configured at or above the name (RFC 4035 §4.3:
    /// nothing to validate from).
    #[error("no trust anchor above the name")]
    NoTrustAnchor,
    /// The name is at or below a negative trust anchor (RFC 7646 §2).
    #[error("negative trust anchor")]
    NegativeTrustAnchor,
}

impl Insecure {
    /// The EDE INFO-CODE (RFC 8914 §4), if there is one for this reason.
    pub fn info_code(&self) -> Option<u16> {
        match self {
            Insecure::UnsupportedDnskeyAlgorithm(_) => Some(1),
            Insecure::UnsupportedDsDigestType(_) => Some(2),
            // Registered by RFC 9276 §3.2 (EDE 27).
            Insecure::Nsec3IterationsTooHigh(_) => Some(27),
            Insecure::UnsignedDelegation
            | Insecure::OptOut
            | Insecure::NoTrustAnchor
            | Insecure::NegativeTrustAnchor => None,
        }
    }

    /// A short EXTRA-TEXT for the EDE (RFC 8914 §2).
    pub fn text(&self) -> &'static str {
        match self {
            Insecure::UnsupportedDnskeyAlgorithm(_) => "Unsupported DNSKEY Algorithm",
            Insecure::UnsupportedDsDigestType(_) => "Unsupported DS Digest Type",
            Insecure::Nsec3IterationsTooHigh(_) => "Unsupported NSEC3 Iterations Value",
            Insecure::UnsignedDelegation => "unsigned delegation",
            Insecure::OptOut => "NSEC3 opt-out",
            Insecure::NoTrustAnchor => "no trust anchor",
            Insecure::NegativeTrustAnchor => "negative trust anchor",
        }
    }
}

/// Which count of the [`ValidationBudget`](super::ValidationBudget) ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetKind {
    /// Signature verifications for one RRset (KeyTrap, CVE-2023-50387).
    SignaturesPerRrset,
    /// Signature verifications for the whole question (CVE-2023-50387).
    SignaturesPerQuestion,
    /// DS digests for one DNSKEY RRset (KeyTrap's hashing variant).
    DsDigests,
    /// NSEC3 hash computations for the question (CVE-2023-50868).
    Nsec3Hashes,
}

/// Why data failed to validate (RFC 4035 §5.3–5.4), named after the RFC 8914
/// §4 codes where one fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Bogus {
    /// Every usable RRSIG has expired (RFC 4035 §5.3.1; EDE 7).
    #[error("signature expired")]
    SignatureExpired,
    /// Every usable RRSIG has its inception in the future (RFC 4035 §5.3.1; EDE 8).
    #[error("signature not yet valid")]
    SignatureNotYetValid,
    /// No DNSKEY matches the DS, or the RRSIG's key tag and algorithm
    /// (RFC 4035 §5.2, §5.3.1; EDE 9).
    #[error("DNSKEY missing")]
    DnskeyMissing,
    /// The RRset has no RRSIG of its type from its zone (RFC 4035 §5.3; EDE 10).
    #[error("RRSIGs missing for {0}")]
    RrsigsMissing(RecordType),
    /// The only matching DNSKEYs lack the Zone Key flag (RFC 4034 §2.1.1; EDE 11).
    #[error("no zone key bit set")]
    NoZoneKeyBitSet,
    /// The NSEC or NSEC3 records given do not prove the denial (RFC 4035
    /// §5.4, RFC 5155 §8; EDE 12).
    #[error("NSEC missing")]
    NsecMissing,
    /// The signature does not verify over the RRset (RFC 4035 §5.3.3; EDE 6).
    #[error("signature does not verify")]
    SignatureInvalid,
    /// The RRSIG's Signer's Name is not the zone of the RRset
    /// (RFC 4035 §5.3.1; EDE 6).
    #[error("signer name is not the zone of the RRset")]
    SignerNameMismatch,
    /// The RRSIG's Labels field exceeds the owner's labels (RFC 4035 §5.3.1; EDE 6).
    #[error("RRSIG labels exceed the owner's labels")]
    LabelsExceedOwner,
    /// The RRSIG's Labels field puts the wildcard it was expanded from
    /// above the zone (RFC 4035 §5.3.1: the signer is the RRset's zone; EDE 6).
    #[error("wildcard source outside the zone")]
    WildcardOutsideZone,
    /// The records given are not one RRset: empty, or of several owners,
    /// types or classes (RFC 2181 §5; EDE 6).
    #[error("records do not form one RRset")]
    NotOneRrset,
    /// A trust point was given with no DS or anchor to match (RFC 4035 §5.2; EDE 6).
    #[error("no DS or trust anchor")]
    NoTrustAnchor,
    /// Validation stopped because it would cost more than the question may
    /// spend (CVE-2023-50387, CVE-2023-50868; EDE 0 with text).
    #[error("validation budget exhausted ({0:?})")]
    BudgetExhausted(BudgetKind),
}

impl Bogus {
    /// The EDE INFO-CODE (RFC 8914 §4) for this reason.
    pub fn info_code(&self) -> u16 {
        match self {
            Bogus::SignatureExpired => 7,
            Bogus::SignatureNotYetValid => 8,
            Bogus::DnskeyMissing => 9,
            Bogus::RrsigsMissing(_) => 10,
            Bogus::NoZoneKeyBitSet => 11,
            Bogus::NsecMissing => 12,
            Bogus::SignatureInvalid
            | Bogus::SignerNameMismatch
            | Bogus::LabelsExceedOwner
            | Bogus::WildcardOutsideZone
            | Bogus::NotOneRrset
            | Bogus::NoTrustAnchor => 6,
            // Not a verdict on the data, so not "DNSSEC Bogus": "Other"
            // with a text that says why (RFC 8914 §4.1).
            Bogus::BudgetExhausted(_) => 0,
        }
    }

    /// A short EXTRA-TEXT for the EDE (RFC 8914 §2).
    pub fn text(&self) -> &'static str {
        match self {
            Bogus::SignatureExpired => "Signature Expired",
            Bogus::SignatureNotYetValid => "Signature Not Yet Valid",
            Bogus::DnskeyMissing => "DNSKEY Missing",
            Bogus::RrsigsMissing(_) => "RRSIGs Missing",
            Bogus::NoZoneKeyBitSet => "No Zone Key Bit Set",
            Bogus::NsecMissing => "NSEC Missing",
            Bogus::SignatureInvalid => "DNSSEC Bogus: signature does not verify",
            Bogus::SignerNameMismatch => "DNSSEC Bogus: signer is not the zone",
            Bogus::LabelsExceedOwner => "DNSSEC Bogus: RRSIG labels exceed the owner's",
            Bogus::WildcardOutsideZone => "DNSSEC Bogus: wildcard outside the zone",
            Bogus::NotOneRrset => "DNSSEC Bogus: not one RRset",
            Bogus::NoTrustAnchor => "DNSSEC Bogus: no DS or trust anchor",
            Bogus::BudgetExhausted(BudgetKind::SignaturesPerRrset) => {
                "validation budget: too many signatures for one RRset"
            }
            Bogus::BudgetExhausted(BudgetKind::SignaturesPerQuestion) => {
                "validation budget: too many signatures for the question"
            }
            Bogus::BudgetExhausted(BudgetKind::DsDigests) => {
                "validation budget: too many DS digests for one DNSKEY set"
            }
            Bogus::BudgetExhausted(BudgetKind::Nsec3Hashes) => {
                "validation budget: too many NSEC3 hashes"
            }
        }
    }
}

impl<T> From<Bogus> for Security<T> {
    fn from(reason: Bogus) -> Self {
        Security::Bogus(reason)
    }
}
