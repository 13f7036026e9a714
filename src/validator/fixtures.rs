//! Test fixtures: zone keys made and used by hickory-proto itself (Ed25519
//! with ring), RRsets signed with them, and the records proofs read.

use std::net::Ipv4Addr;

use hickory_proto::dnssec::crypto::Ed25519SigningKey;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, NSEC3, RRSIG, SigInput};
use hickory_proto::dnssec::{Algorithm, DigestType, Nsec3HashAlgorithm, SigningKey, TBS};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};

use super::{Anchor, Security, TrustedKeys, ValidationBudget, trust_dnskeys};

/// The clock of the tests: 2023-11-14.
pub const NOW: u32 = 1_700_000_000;

/// A name from text (the tests' names are well formed).
pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a test name")
}

/// An A record.
pub fn a(owner: &str, last: u8) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::A(Ipv4Addr::new(192, 0, 2, last).into()),
    )
}

/// A zone's key: the private half with hickory's Ed25519 and its DNSKEY.
pub struct ZoneKey {
    pub zone: Name,
    pub signing: Ed25519SigningKey,
    pub dnskey: DNSKEY,
}

impl ZoneKey {
    /// A fresh key for `zone` with the Zone Key and SEP flags (257).
    pub fn new(zone: &str) -> Self {
        ZoneKey::with_flags(zone, 257)
    }

    /// A fresh key with these DNSKEY flags.
    pub fn with_flags(zone: &str, flags: u16) -> Self {
        let pkcs8 = Ed25519SigningKey::generate_pkcs8().expect("ring makes a key");
        let signing = Ed25519SigningKey::from_pkcs8(&pkcs8).expect("ring reads its key");
        let public = signing.to_public_key().expect("an Ed25519 public key");
        ZoneKey {
            zone: name(zone),
            signing,
            dnskey: DNSKEY::with_flags(flags, public),
        }
    }

    /// The key tag (RFC 4034 Appendix B).
    pub fn tag(&self) -> u16 {
        self.dnskey.calculate_key_tag().expect("a key tag")
    }

    /// The SHA-256 DS of the key, as the parent publishes it.
    pub fn ds(&self) -> DS {
        let digest = self
            .dnskey
            .to_digest(&self.zone, DigestType::SHA256)
            .expect("a digest");
        DS::new(
            self.tag(),
            Algorithm::ED25519,
            DigestType::SHA256,
            digest.as_ref().to_vec(),
        )
    }

    /// An RRSIG over `records`, valid an hour either side of [`NOW`].
    pub fn sign(&self, records: &[Record]) -> Record {
        self.sign_with(records, |_| {})
    }

    /// An RRSIG over `records` with its fields changed by `adjust` first.
    pub fn sign_with(&self, records: &[Record], adjust: impl FnOnce(&mut SigInput)) -> Record {
        let first = &records[0];
        let mut input = SigInput {
            type_covered: first.record_type(),
            algorithm: Algorithm::ED25519,
            num_labels: first.name.num_labels(),
            original_ttl: first.ttl,
            sig_expiration: SerialNumber::new(NOW + 3600),
            sig_inception: SerialNumber::new(NOW - 3600),
            key_tag: self.tag(),
            signer_name: self.zone.clone(),
        };
        adjust(&mut input);
        let tbs =
            TBS::from_input(&first.name, DNSClass::IN, &input, records.iter()).expect("a TBS");
        let signature = self.signing.sign(&tbs).expect("a signature");
        let rrsig = RRSIG::from_sig(input, signature);
        Record::from_rdata(
            first.name.clone(),
            first.ttl,
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)),
        )
    }
}

/// The RRSIG record with its fields changed after signing (the signature
/// no longer matches; for fields hickory refuses to sign with).
pub fn tampered(rrsig: &Record, adjust: impl FnOnce(&mut SigInput)) -> Record {
    let RData::DNSSEC(DNSSECRData::RRSIG(signed)) = &rrsig.data else {
        panic!("an RRSIG, not {rrsig:?}");
    };
    let mut input = signed.input().clone();
    adjust(&mut input);
    let mut record = rrsig.clone();
    record.data = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
        input,
        signed.sig().to_vec(),
    )));
    record
}

/// The DNSKEY RRset of a zone holding these keys.
pub fn dnskey_rrset(zone: &str, keys: &[&DNSKEY]) -> Vec<Record> {
    keys.iter()
        .map(|key| {
            Record::from_rdata(
                name(zone),
                3600,
                RData::DNSSEC(DNSSECRData::DNSKEY((*key).clone())),
            )
        })
        .collect()
}

/// The trusted key set of a zone with one key that signs everything.
pub fn trusted(key: &ZoneKey) -> TrustedKeys {
    let zone = key.zone.to_ascii();
    let keys = dnskey_rrset(&zone, &[&key.dnskey]);
    let rrsigs = [key.sign(&keys)];
    let anchors = [Anchor::Ds(key.ds())];
    match trust_dnskeys(
        &key.zone,
        &keys,
        &rrsigs,
        &anchors,
        NOW,
        &mut ValidationBudget::default(),
    ) {
        Security::Secure(trusted) => trusted,
        other => panic!("a fixture's keys are trusted, not {other:?}"),
    }
}

/// An NSEC record.
pub fn nsec(owner: &str, next: &str, types: &[RecordType]) -> Record {
    let rdata = NSEC::new(name(next), types.iter().copied());
    Record::from_rdata(name(owner), 300, RData::DNSSEC(DNSSECRData::NSEC(rdata)))
}

/// NSEC3 parameters of a test chain: SHA-1, this salt and iterations.
#[derive(Clone)]
pub struct Nsec3Params {
    pub salt: Vec<u8>,
    pub iterations: u16,
}

impl Nsec3Params {
    /// RFC 9276 §3.1's advice: no salt, no extra iterations.
    pub fn recommended() -> Self {
        Nsec3Params {
            salt: Vec::new(),
            iterations: 0,
        }
    }

    /// The NSEC3 hash of `owner` (hickory's).
    pub fn hash(&self, owner: &str) -> Vec<u8> {
        Nsec3HashAlgorithm::SHA1
            .hash(&self.salt, &name(owner), self.iterations)
            .expect("a hash")
            .as_ref()
            .to_vec()
    }

    /// An NSEC3 chain for the names of `zone`, each with its types (the
    /// owner's hash label written by hickory's own Base32hex encoder).
    pub fn chain(&self, zone: &str, names: &[(&str, &[RecordType])], opt_out: bool) -> Vec<Record> {
        let mut hashed: Vec<(Vec<u8>, &[RecordType])> = names
            .iter()
            .map(|(owner, types)| (self.hash(owner), *types))
            .collect();
        hashed.sort();
        (0..hashed.len())
            .map(|index| {
                let (hash, types) = &hashed[index];
                let next = &hashed[(index + 1) % hashed.len()].0;
                self.record(zone, hash, next, types, opt_out)
            })
            .collect()
    }

    /// One NSEC3 record owned by `<hash>.<zone>`.
    pub fn record(
        &self,
        zone: &str,
        hash: &[u8],
        next: &[u8],
        types: &[RecordType],
        opt_out: bool,
    ) -> Record {
        let rdata = NSEC3::new(
            Nsec3HashAlgorithm::SHA1,
            opt_out,
            self.iterations,
            self.salt.clone(),
            next.to_vec(),
            types.iter().copied(),
        );
        let label = base32(hash);
        let owner = name(&format!("{label}.{zone}"));
        Record::from_rdata(owner, 300, RData::DNSSEC(DNSSECRData::NSEC3(rdata)))
    }
}

/// Base32hex as hickory writes an NSEC3's next hashed owner name.
pub fn base32(hash: &[u8]) -> String {
    let rdata = NSEC3::new(
        Nsec3HashAlgorithm::SHA1,
        false,
        0,
        Vec::new(),
        hash.to_vec(),
        [],
    );
    rdata
        .next_hashed_owner_name_base32()
        .expect("a base32 label")
        .to_ascii()
}
