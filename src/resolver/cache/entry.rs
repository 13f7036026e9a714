//! The form of a cache entry: its key (kind, type, the name in wire form,
//! lower case) and its value (expiry, content, credibility, then the
//! records in wire form).

use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding,
};

/// What an entry is about: the first byte of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    /// The RRset (or NODATA) of one name and type.
    RRset = 1,
    /// The name does not exist, whatever the type (RFC 2308 §5).
    NxDomain = 2,
    /// The delegation (NS names and glue) of a zone, from its parent's referral.
    Delegation = 3,
    /// The authority and additional records that came with the answer to
    /// one name and type (context.rs), for responses that are not minimal.
    Sections = 4,
}

/// The longest key: kind, type, and a name of at most 255 octets.
const KEY_CAPACITY: usize = 3 + 255;

/// A key built on the stack: kind, type (RRsets), then the name in wire
/// form, lower case. Looked up as a byte slice, so a lookup allocates nothing.
pub(super) struct KeyBuf {
    bytes: [u8; KEY_CAPACITY],
    length: usize,
}

impl KeyBuf {
    pub(super) fn new(kind: Kind, record_type: RecordType, name: &Name) -> Self {
        let mut key = KeyBuf {
            bytes: [0; KEY_CAPACITY],
            length: 0,
        };
        key.push(kind as u8);
        key.extend(&u16::from(record_type).to_be_bytes());
        for label in name.iter() {
            key.push(label.len() as u8);
            for byte in label {
                key.push(byte.to_ascii_lowercase());
            }
        }
        key.push(0);
        key
    }

    fn push(&mut self, byte: u8) {
        // A name is at most 255 octets in wire form, so the buffer never overflows.
        if self.length < KEY_CAPACITY {
            self.bytes[self.length] = byte;
            self.length += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&byte| self.push(byte));
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

/// Records in wire form, names uncompressed: a few dozen octets where
/// decoded records take hundreds. Decoded (by hickory-proto) when read.
pub(super) fn pack(records: &[Record], into: &mut Vec<u8>) -> Option<()> {
    let start = into.len() as u32; // after what `into` already holds
    let mut encoder = BinEncoder::with_offset(into, start);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    for record in records {
        record.emit(&mut encoder).ok()?;
    }
    Some(())
}

/// The records packed in `bytes`, each with `ttl`.
pub(super) fn unpack(bytes: &[u8], ttl: u32) -> Vec<Record> {
    let mut decoder = BinDecoder::new(bytes);
    let mut records = Vec::new();
    while !decoder.is_empty() {
        // What was encoded decodes; stop quietly if it ever did not.
        let Ok(mut record) = Record::read(&mut decoder) else {
            break;
        };
        record.ttl = ttl;
        records.push(record);
    }
    records
}

/// What an entry holds: the byte after its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Content {
    /// The RRset's records.
    RRset = 1,
    /// The SOA of a NODATA answer.
    NoData = 2,
    /// The SOA of an NXDOMAIN answer.
    NxDomain = 3,
    /// A delegation: the NS records, then the glue.
    Delegation = 4,
    /// Sections: the time they were stored, their count in authority, then
    /// the records with their own TTLs.
    Sections = 5,
}

impl Content {
    pub(super) fn from_byte(byte: u8) -> Option<Self> {
        [
            Content::RRset,
            Content::NoData,
            Content::NxDomain,
            Content::Delegation,
            Content::Sections,
        ]
        .into_iter()
        .find(|content| *content as u8 == byte)
    }
}

/// How far data is to be believed, by where it came from (RFC 2181 §5.4.1),
/// lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Credibility {
    /// The authority section of a referral and its glue: the parent's view.
    Referral = 1,
    /// The answer section of a reply without AA (from a server that offers
    /// no recursion, so not a cache talking).
    NonAuthoritativeAnswer = 2,
    /// The answer (or negative answer) of a server authoritative for the name.
    AuthoritativeAnswer = 3,
}

impl Credibility {
    /// The rank of the answer section of a reply with this AA bit.
    pub fn of_answer(authoritative: bool) -> Self {
        if authoritative {
            Credibility::AuthoritativeAnswer
        } else {
            Credibility::NonAuthoritativeAnswer
        }
    }

    pub(super) fn from_byte(byte: u8) -> Self {
        match byte {
            3 => Credibility::AuthoritativeAnswer,
            2 => Credibility::NonAuthoritativeAnswer,
            _ => Credibility::Referral,
        }
    }
}

/// Where an entry's records start: after its expiry (8 octets), its content
/// byte and its credibility byte.
pub(super) const HEADER: usize = 10;
