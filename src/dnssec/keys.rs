//! The lab's signing keys: one combined signing key per zone (flags 257,
//! zone key and secure entry point, RFC 4034 §2.1.1), kept in
//! `ZONE_DIR/keys/ORIGIN.key` and made by `resolver lab keygen`.
//!
//! A key file is TOML, its header comment says what it holds:
//!
//! ```text
//! # ... the DNSKEY and DS, for reading only ...
//! zone = "umass.edu."
//! algorithm = 15                 # 15 Ed25519 (RFC 8080), 13 ECDSA P-256 SHA-256 (RFC 6605)
//! flags = 257                    # zone key + secure entry point (RFC 4034 §2.1.1)
//! private_key = "MC4CAQ..."      # PKCS#8 (RFC 5208) DER, base64 (RFC 4648 §4)
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey};
use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::dnssec::{Algorithm, DigestType, DnssecSigner, SigningKey};
use hickory_proto::rr::Name;
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde::Deserialize;

use super::{KeyError, KeyErrorKind};

/// The DNSKEY flags of the lab's keys: zone key (bit 7) and secure entry point (bit 15) (RFC 4034 §2.1.1).
pub const COMBINED_SIGNING_KEY_FLAGS: u16 = 257;

/// The folder of a zone folder that holds its keys.
pub const KEYS_FOLDER: &str = "keys";

/// The extension of key files in `ZONE_DIR/keys/`.
pub const KEY_EXTENSION: &str = "key";

/// How long a signature made at load is valid (RFC 4034 §3.1.5): 30 days
/// from an hour before the load (the hour absorbs clocks a little behind).
pub const SIGNATURE_VALIDITY: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// How far before the load a signature's inception is put (RFC 4034 §3.1.5).
pub const INCEPTION_OFFSET: u32 = 3600;

/// A key file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    zone: String,
    algorithm: u8,
    flags: u16,
    private_key: String,
}

/// The signing key of one zone: the signer hickory-proto signs with, and its DNSKEY.
pub struct ZoneKey {
    /// The zone's apex (the signer's name, RFC 4034 §3.1.7).
    pub zone: Name,
    /// The key file it was read from.
    pub file: PathBuf,
    signer: DnssecSigner,
    key_tag: u16,
}

impl std::fmt::Debug for ZoneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneKey")
            .field("zone", &self.zone)
            .field("key_tag", &self.key_tag)
            .finish_non_exhaustive()
    }
}

impl ZoneKey {
    /// Reads a key file's text; `file` names it in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self, KeyError> {
        let fail = |kind: KeyErrorKind| KeyError {
            file: file.to_path_buf(),
            kind,
        };
        let parsed: KeyFile =
            toml::from_str(text).map_err(|error| fail(KeyErrorKind::Syntax(error)))?;
        let zone = Name::from_ascii(&parsed.zone)
            .map_err(|_| fail(KeyErrorKind::BadZone(parsed.zone.clone())))?
            .to_lowercase();
        let der = data_encoding::BASE64
            .decode(parsed.private_key.trim().as_bytes())
            .map_err(|error| fail(KeyErrorKind::NotBase64(error)))?;
        let der = PrivatePkcs8KeyDer::from(der);
        let bad_key = |error| {
            fail(KeyErrorKind::BadPrivateKey {
                algorithm: parsed.algorithm,
                error,
            })
        };
        let algorithm = Algorithm::from_u8(parsed.algorithm);
        let key: Box<dyn SigningKey> = match algorithm {
            Algorithm::ED25519 => Box::new(Ed25519SigningKey::from_pkcs8(&der).map_err(bad_key)?),
            Algorithm::ECDSAP256SHA256 => {
                Box::new(EcdsaSigningKey::from_pkcs8(&der, algorithm).map_err(bad_key)?)
            }
            _ => return Err(fail(KeyErrorKind::UnsupportedAlgorithm(parsed.algorithm))),
        };
        if parsed.flags & 0x0100 == 0 {
            return Err(fail(KeyErrorKind::NotAZoneKey(parsed.flags)));
        }
        Self::from_signing_key(zone, file.to_path_buf(), key, parsed.flags)
            .map_err(|error| fail(KeyErrorKind::PublicKey(error)))
    }

    fn from_signing_key(
        zone: Name,
        file: PathBuf,
        key: Box<dyn SigningKey>,
        flags: u16,
    ) -> Result<Self, hickory_proto::dnssec::DnsSecError> {
        let dnskey = DNSKEY::with_flags(flags, key.to_public_key()?);
        let signer = DnssecSigner::new(dnskey, key, zone.clone(), SIGNATURE_VALIDITY);
        let key_tag = signer.calculate_key_tag()?;
        Ok(ZoneKey {
            zone,
            file,
            signer,
            key_tag,
        })
    }

    /// The public key, as published at the apex (RFC 4034 §2).
    pub fn dnskey(&self) -> &DNSKEY {
        self.signer.dnskey()
    }

    /// The key's algorithm (RFC 4034 §2.1.3).
    pub fn algorithm(&self) -> Algorithm {
        self.signer.key().algorithm()
    }

    /// The key tag (RFC 4034 Appendix B).
    pub fn key_tag(&self) -> u16 {
        self.key_tag
    }

    /// The signer hickory-proto signs with.
    pub fn signer(&self) -> &DnssecSigner {
        &self.signer
    }

    /// The DS record of this key, SHA-256 digest (RFC 4034 §5.1.4, RFC 4509).
    pub fn ds(&self) -> Result<DS, KeyError> {
        let digest = self
            .dnskey()
            .to_digest(&self.zone, DigestType::SHA256)
            .map_err(|error| KeyError {
                file: self.file.clone(),
                kind: KeyErrorKind::Digest(error),
            })?;
        Ok(DS::new(
            self.key_tag,
            self.algorithm(),
            DigestType::SHA256,
            digest.as_ref().to_vec(),
        ))
    }
}

/// The file name of a zone's key: `ORIGIN.key` (`root.key` for the root).
pub fn key_file_name(origin: &Name) -> String {
    if origin.is_root() {
        format!("root.{KEY_EXTENSION}")
    } else {
        format!("{}{KEY_EXTENSION}", crate::names::canonical(origin))
    }
}

/// A new key for `zone` as the text of its key file (RFC 5208 PKCS#8, base64).
pub fn generate(zone: &Name, algorithm: Algorithm) -> Result<String, KeyError> {
    let file = PathBuf::from(key_file_name(zone));
    let der = match algorithm {
        Algorithm::ED25519 => Ed25519SigningKey::generate_pkcs8(),
        _ => EcdsaSigningKey::generate_pkcs8(algorithm),
    }
    .map_err(|error| KeyError {
        file: file.clone(),
        kind: KeyErrorKind::Generate(error),
    })?;
    let private_key = data_encoding::BASE64.encode(der.secret_pkcs8_der());
    let body = format!(
        "zone = \"{zone}\"\nalgorithm = {}\nflags = {COMBINED_SIGNING_KEY_FLAGS}\nprivate_key = \"{private_key}\"\n",
        u8::from(algorithm)
    );
    let key = ZoneKey::parse(&file, &body)?;
    let ds = key.ds()?;
    Ok(format!(
        "# The DNSSEC signing key of the lab zone {zone}, made by `resolver lab keygen`.\n\
         # One combined signing key: flags 257 = zone key + secure entry point (RFC 4034 §2.1.1);\n\
         # algorithm 15 = Ed25519 (RFC 8080), 13 = ECDSA P-256 with SHA-256 (RFC 6605).\n\
         # private_key: the private key as PKCS#8 (RFC 5208) DER, in base64 (RFC 4648 §4).\n\
         # A lab key, published on purpose: never sign a real zone with it.\n\
         # Its public half, for reading (the zone serves it; its parent serves the DS):\n\
         #   {zone} IN DNSKEY {}\n\
         #   {zone} IN DS {ds}\n\
         {body}",
        key.dnskey()
    ))
}

/// The keys of a zone folder, by zone apex.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: HashMap<Name, ZoneKey>,
}

impl Keyring {
    /// No keys: every zone is left unsigned.
    pub fn empty() -> Self {
        Keyring::default()
    }

    /// Every `*.key` file of `dir` (no folder: no keys).
    pub fn load_dir(dir: &Path) -> Result<Self, Vec<KeyError>> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(Keyring::empty());
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == KEY_EXTENSION))
            .collect();
        files.sort();
        let mut texts = Vec::new();
        let mut errors = Vec::new();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => texts.push((file, text)),
                Err(error) => errors.push(KeyError {
                    file,
                    kind: KeyErrorKind::Read(error),
                }),
            }
        }
        match Self::from_texts(texts) {
            Ok(keyring) if errors.is_empty() => Ok(keyring),
            Ok(_) => Err(errors),
            Err(mut more) => {
                errors.append(&mut more);
                Err(errors)
            }
        }
    }

    /// Key files given as (path, text); `path` names the file in errors.
    pub fn from_texts(
        files: impl IntoIterator<Item = (PathBuf, String)>,
    ) -> Result<Self, Vec<KeyError>> {
        let mut keyring = Keyring::empty();
        let mut errors = Vec::new();
        for (file, text) in files {
            match ZoneKey::parse(&file, &text) {
                Ok(key) if keyring.keys.contains_key(&key.zone) => errors.push(KeyError {
                    file,
                    kind: KeyErrorKind::Duplicate(key.zone),
                }),
                Ok(key) => {
                    keyring.keys.insert(key.zone.clone(), key);
                }
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(keyring)
        } else {
            Err(errors)
        }
    }

    /// The key of a zone, if there is one.
    pub fn get(&self, zone: &Name) -> Option<&ZoneKey> {
        self.keys.get(zone)
    }
}
