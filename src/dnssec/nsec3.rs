//! The NSEC3 chain of a zone (RFC 5155 §7.1), with RFC 9276's parameters:
//! SHA-1, no extra iterations, an empty salt, no opt-out. The records live
//! here, sorted by hash, not among the zone's names: no query reaches a
//! hashed owner name through the ordinary lookup.

use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC3, NSEC3PARAM};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::SignError;

/// Additional hash iterations: none (RFC 9276 §3.1).
pub const ITERATIONS: u16 = 0;

/// The salt: empty (RFC 9276 §3.1).
pub const SALT: &[u8] = &[];

/// One NSEC3 record with its signature.
#[derive(Debug, Clone)]
pub struct Nsec3Entry {
    /// The hash of the original owner name.
    pub hash: Vec<u8>,
    /// The NSEC3 record, at `base32hex(hash).apex`.
    pub record: Record,
    /// Its RRSIG.
    pub signatures: Vec<Record>,
}

/// The NSEC3 records of one zone, in hash order (RFC 5155 §3.1.7).
#[derive(Debug, Clone, Default)]
pub struct Nsec3Chain {
    /// The entries, sorted by hash.
    pub entries: Vec<Nsec3Entry>,
}

/// The NSEC3 hash of a name with the zone's parameters (RFC 5155 §5).
pub fn hash(name: &Name) -> Result<Vec<u8>, SignError> {
    Nsec3HashAlgorithm::SHA1
        .hash(SALT, name, ITERATIONS)
        .map(|digest| digest.as_ref().to_vec())
        .map_err(|error| SignError::Nsec3(Box::new(error)))
}

/// The owner name of the NSEC3 record of a hash: its base32hex label over the apex (RFC 5155 §3).
pub fn owner(hash: &[u8], apex: &Name) -> Result<Name, SignError> {
    let label = data_encoding::BASE32_DNSSEC.encode(hash);
    apex.prepend_label(label.as_str())
        .map_err(|error| SignError::Nsec3(Box::new(error)))
}

/// The NSEC3PARAM record at the apex (RFC 5155 §4).
pub fn param_record(apex: &Name) -> Record {
    let param = NSEC3PARAM::new(Nsec3HashAlgorithm::SHA1, false, ITERATIONS, SALT.to_vec());
    Record::from_rdata(
        apex.clone(),
        0,
        RData::DNSSEC(DNSSECRData::NSEC3PARAM(param)),
    )
}

impl Nsec3Chain {
    /// The chain over `names` (each original owner name with the types of
    /// its bitmap), unsigned, each record with TTL `ttl` (RFC 5155 §7.1).
    pub fn build(
        apex: &Name,
        names: Vec<(Name, Vec<RecordType>)>,
        ttl: u32,
    ) -> Result<Self, SignError> {
        let mut hashed = Vec::with_capacity(names.len());
        for (name, types) in names {
            hashed.push((hash(&name)?, types));
        }
        hashed.sort_by(|a, b| a.0.cmp(&b.0));
        hashed.dedup_by(|a, b| a.0 == b.0);
        let mut entries = Vec::with_capacity(hashed.len());
        for (index, (hash, types)) in hashed.iter().enumerate() {
            let next = &hashed[(index + 1) % hashed.len()].0;
            let data = NSEC3::new(
                Nsec3HashAlgorithm::SHA1,
                false,
                ITERATIONS,
                SALT.to_vec(),
                next.clone(),
                types.iter().copied(),
            );
            let record = Record::from_rdata(
                owner(hash, apex)?,
                ttl,
                RData::DNSSEC(DNSSECRData::NSEC3(data)),
            );
            entries.push(Nsec3Entry {
                hash: hash.clone(),
                record,
                signatures: Vec::new(),
            });
        }
        Ok(Nsec3Chain { entries })
    }

    /// The NSEC3 record whose owner is the hash of `name` (RFC 5155 §7.2.1's "matches").
    pub fn matching(&self, name: &Name) -> Option<&Nsec3Entry> {
        let hash = hash(name).ok()?;
        self.entries
            .binary_search_by(|entry| entry.hash.cmp(&hash))
            .ok()
            .map(|index| &self.entries[index])
    }

    /// The NSEC3 record whose owner and next hash surround the hash of
    /// `name` (RFC 5155 §7.2.1's "covers"; the last covers past the end).
    pub fn covering(&self, name: &Name) -> Option<&Nsec3Entry> {
        let hash = hash(name).ok()?;
        let after = self.entries.partition_point(|entry| entry.hash < hash);
        if self
            .entries
            .get(after)
            .is_some_and(|entry| entry.hash == hash)
        {
            return None; // matched, not covered
        }
        let index = after
            .checked_sub(1)
            .unwrap_or(self.entries.len().checked_sub(1)?);
        self.entries.get(index)
    }

    /// The records of the entry with their signatures, as put in a reply.
    pub fn with_signatures(entry: &Nsec3Entry) -> impl Iterator<Item = Record> + '_ {
        std::iter::once(entry.record.clone()).chain(entry.signatures.iter().cloned())
    }
}
