//! DNSSEC for the lab's zones: keys, online signing at load, the denial of
//! existence chains and the checks of `resolver check` (RFC 4033, 4034,
//! 4035, 5155, 9276). Every record type, the to-be-signed form, signing,
//! verification and NSEC3 hashing are hickory-proto's; this module decides
//! what is signed and which records prove what.
//!
//! ```text
//! zones/keys/ORIGIN.key ─▶ Keyring ─┐
//! zones/*.toml ─▶ Zone ─────────────┴─▶ sign::sign_zone: DNSKEY, DS of signed children,
//!                                        NSEC or NSEC3 chain, an RRSIG over every authoritative RRset
//! query with DO ─▶ authority ─▶ denial::* (the NSEC/NSEC3 records that prove a negative answer)
//! resolver check ─▶ verify::verify_zones (every signature, the chain, each DS)
//! ```
//!
//! Try: `resolver auth`, then `dig +dnssec @127.0.3.1 -p 5300 gaia.cs.umass.edu`.

pub mod denial;
pub mod keygen;
pub mod keys;
pub mod nsec3;
pub mod sign;
pub mod verify;

use std::path::PathBuf;

use hickory_proto::rr::{Name, RecordType};
use serde::Deserialize;

pub use keys::{Keyring, ZoneKey};
pub use nsec3::Nsec3Chain;

/// How a signed zone proves that names and types do not exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Denial {
    /// NSEC records naming the next owner name (RFC 4034 §4).
    #[default]
    Nsec,
    /// NSEC3 records over hashed names (RFC 5155), with RFC 9276's
    /// parameters: SHA-1, no extra iterations, no salt, no opt-out.
    Nsec3,
}

/// The algorithms the lab makes keys with (RFC 8624 §3.1: both recommended for signing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// 15, Ed25519 (RFC 8080).
    #[default]
    Ed25519,
    /// 13, ECDSA P-256 with SHA-256 (RFC 6605).
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The algorithm of an IANA number, if the lab makes keys with it.
    pub fn from_number(number: u8) -> Option<Self> {
        match number {
            15 => Some(KeyAlgorithm::Ed25519),
            13 => Some(KeyAlgorithm::EcdsaP256),
            _ => None,
        }
    }

    /// hickory-proto's name for it.
    pub fn algorithm(self) -> hickory_proto::dnssec::Algorithm {
        match self {
            KeyAlgorithm::Ed25519 => hickory_proto::dnssec::Algorithm::ED25519,
            KeyAlgorithm::EcdsaP256 => hickory_proto::dnssec::Algorithm::ECDSAP256SHA256,
        }
    }
}

/// What signing added to a zone that is not in its RRsets.
#[derive(Debug, Clone)]
pub struct Security {
    /// The key tag of the zone's key (RFC 4034 Appendix B).
    pub key_tag: u16,
    /// The key's algorithm (RFC 4034 §2.1.3).
    pub algorithm: hickory_proto::dnssec::Algorithm,
    /// How the zone proves non-existence.
    pub denial: Denial,
    /// The owner names of the NSEC chain in canonical order (RFC 4034 §6.1); empty with NSEC3.
    pub nsec_owners: Vec<Name>,
    /// The NSEC3 chain, for an NSEC3 zone.
    pub nsec3: Option<Nsec3Chain>,
}

/// The types signing adds to a zone; a zone file cannot give them.
pub fn is_signing_type(record_type: RecordType) -> bool {
    matches!(
        record_type,
        RecordType::DNSKEY
            | RecordType::RRSIG
            | RecordType::NSEC
            | RecordType::NSEC3
            | RecordType::NSEC3PARAM
    )
}

/// Why a key could not be read or made, with its key file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", file.display())]
pub struct KeyError {
    /// The key file (read, or to be written).
    pub file: PathBuf,
    /// What is wrong.
    pub kind: KeyErrorKind,
}

/// What can be wrong with a key file (`keys.rs` describes the format).
#[derive(Debug, thiserror::Error)]
pub enum KeyErrorKind {
    /// The file could not be read.
    #[error("cannot read the key file: {0}")]
    Read(std::io::Error),
    /// Not TOML, or keys the format does not know.
    #[error("{0}")]
    Syntax(toml::de::Error),
    /// `zone` is not a domain name.
    #[error("bad zone name {0:?}")]
    BadZone(String),
    /// `private_key` is not base64 (RFC 4648 §4).
    #[error("private_key is not base64: {0}")]
    NotBase64(data_encoding::DecodeError),
    /// An algorithm the lab does not sign with (RFC 8624 §3.1).
    #[error("algorithm {0} is not one the lab signs with: 15 (Ed25519) or 13 (ECDSA P-256)")]
    UnsupportedAlgorithm(u8),
    /// Flags without the zone key bit (RFC 4034 §2.1.1).
    #[error("flags {0} lack the zone key bit (RFC 4034 §2.1.1)")]
    NotAZoneKey(u16),
    /// `private_key` is not a PKCS#8 key of the algorithm (RFC 5208).
    #[error("private_key is not a PKCS#8 key of algorithm {algorithm}: {error}")]
    BadPrivateKey {
        /// The algorithm the file gives.
        algorithm: u8,
        /// hickory-proto's reason.
        error: hickory_proto::dnssec::DnsSecError,
    },
    /// The public key or key tag could not be derived (RFC 4034 §2, Appendix B).
    #[error("cannot derive the DNSKEY: {0}")]
    PublicKey(hickory_proto::dnssec::DnsSecError),
    /// The DS digest could not be computed (RFC 4034 §5.1.4).
    #[error("cannot compute the DS: {0}")]
    Digest(hickory_proto::ProtoError),
    /// A second key for one zone.
    #[error("a second key for {0} (one key per zone)")]
    Duplicate(Name),
    /// hickory-proto could not make a key.
    #[error("cannot make a key: {0}")]
    Generate(hickory_proto::dnssec::DnsSecError),
}

/// Why a zone could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// hickory-proto refused to sign an RRset (it could not encode it).
    #[error("cannot sign {name} {record_type}: {error}")]
    Rrset {
        /// The owner name.
        name: Name,
        /// The RRset's type.
        record_type: RecordType,
        /// hickory-proto's reason.
        error: Box<hickory_proto::ProtoError>,
    },
    /// An RRset without records (a bug: the zone never holds one).
    #[error("an empty RRset cannot be signed")]
    EmptyRrset,
    /// A name could not be hashed, or its hash made an owner name (RFC 5155 §5).
    #[error("NSEC3 hashing: {0}")]
    Nsec3(Box<hickory_proto::ProtoError>),
    /// A signing thread panicked (a bug): the zone is not served half-signed.
    #[error("a signing thread stopped")]
    ThreadPanicked,
}
