//! The form of a cache entry: its key (kind, type, the name in wire form,
//! lower case) and its value (expiry, content, credibility, the TTL it was
//! cached with, its provenance, then the records in wire form).
//!
//! ```text
//! value: expiry (8, ms since the cache's epoch) | content (1) | credibility (1)
//!        | TTL as cached (4) | provenance length (2) | provenance | records
//! provenance: family (1: 4 or 6) | address (4 or 16) | port (2) | question type (2) | question name
//!             | the server's NS name, when known (absent: nothing follows)
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding,
};

use crate::names::push_wire_form;

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
    /// The RRSIGs over one RRset (by owner and type covered), for clients
    /// that set DO (RFC 4035 §3.2.1).
    Signatures = 5,
    /// The DNSSEC records that prove a negative answer to one name and type
    /// (the SOA's RRSIG, NSEC or NSEC3 records and theirs: RFC 4035 §3.1.3).
    Denial = 6,
}

/// The longest key: kind, type, and a name of at most 255 octets.
const KEY_CAPACITY: usize = 3 + 255;

/// What a key starts with: kind and type (its name follows).
const KEY_PREFIX: usize = 3;

/// A key built on the stack: kind, type (RRsets), then the name in wire
/// form, lower case. Looked up as a byte slice, so a lookup allocates nothing.
pub(super) struct KeyBuf {
    bytes: [u8; KEY_CAPACITY],
    length: usize,
}

impl KeyBuf {
    pub(super) fn new(kind: Kind, record_type: RecordType, name: &Name) -> Self {
        let mut key = KeyBuf::of_name(name);
        key.set_prefix(0, kind, record_type);
        key
    }

    /// The name's wire form after room for the prefix, lower case; the
    /// prefix is written by the caller.
    fn of_name(name: &Name) -> Self {
        let mut key = KeyBuf {
            bytes: [0; KEY_CAPACITY],
            length: KEY_PREFIX,
        };
        for label in name.iter() {
            let start = key.length + 1;
            let end = start + label.len();
            // A name is at most 255 octets in wire form, so this always holds.
            if end >= KEY_CAPACITY {
                break;
            }
            key.bytes[key.length] = label.len() as u8;
            key.bytes[start..end].copy_from_slice(label);
            key.bytes[start..end].make_ascii_lowercase();
            key.length = end;
        }
        key.bytes[key.length] = 0; // the root
        key.length += 1;
        key
    }

    /// The key of the same name for another kind and type.
    pub(super) fn retarget(&mut self, kind: Kind, record_type: RecordType) {
        self.set_prefix(0, kind, record_type);
    }

    /// Writes kind and type in the three octets at `at`.
    fn set_prefix(&mut self, at: usize, kind: Kind, record_type: RecordType) {
        let [high, low] = u16::from(record_type).to_be_bytes();
        self.bytes[at..at + KEY_PREFIX].copy_from_slice(&[kind as u8, high, low]);
    }

    /// Calls `look` with the key of `kind`/`record_type` for `name` and for
    /// each of its ancestors in turn, the deepest first, with the ancestor's
    /// label count, until it returns something: one encoding of the name
    /// for every level (each ancestor's key is a suffix of the name's, its
    /// prefix written over the label before it).
    pub(super) fn find_in_ancestors<T>(
        kind: Kind,
        record_type: RecordType,
        name: &Name,
        mut look: impl FnMut(usize, &[u8]) -> Option<T>,
    ) -> Option<T> {
        let mut key = KeyBuf::of_name(name);
        // Where each label starts, the name's own first.
        let mut starts = [0u16; 128];
        let (mut count, mut at) = (0, KEY_PREFIX);
        while at + 1 < key.length && count < starts.len() {
            starts[count] = at as u16; // at most 258
            count += 1;
            at += 1 + usize::from(key.bytes[at]);
        }
        let labels = count;
        // The root's key: its single zero octet.
        let ends = starts[..count]
            .iter()
            .map(|start| usize::from(*start))
            .chain([key.length - 1]);
        for (depth, start) in ends.enumerate() {
            key.set_prefix(start - KEY_PREFIX, kind, record_type);
            if let Some(found) = look(labels - depth, &key.bytes[start - KEY_PREFIX..key.length]) {
                return Some(found);
            }
        }
        None
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

impl std::ops::Deref for KeyBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
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

    /// The rank in words, as `trace` and the control endpoint say it.
    pub fn words(self) -> &'static str {
        match self {
            Credibility::AuthoritativeAnswer => "authoritative answer",
            Credibility::NonAuthoritativeAnswer => "non-authoritative answer",
            Credibility::Referral => "referral",
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

/// Who gave an entry's data, in answer to which question: "why is this
/// the answer" for `trace` and the control endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The server whose reply carried it.
    pub server: SocketAddr,
    /// Its NS name, when the walk knew it (not for root hints given as addresses).
    pub server_name: Option<Name>,
    /// The question that reply answered.
    pub question: Name,
    /// Its type.
    pub question_type: RecordType,
}

/// Where data comes from: its rank and, when a server gave it, which server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Its rank (RFC 2181 §5.4.1).
    pub credibility: Credibility,
    /// The server and question, when learned from a reply (not for hints
    /// or configured data).
    pub provenance: Option<Provenance>,
}

impl From<Credibility> for Origin {
    fn from(credibility: Credibility) -> Self {
        Origin {
            credibility,
            provenance: None,
        }
    }
}

/// The fixed part of a value: expiry (8 octets), content, credibility, the
/// TTL as cached (4) and the provenance's length (2).
pub(super) const HEADER: usize = 16;

/// A value taken apart (see the module's diagram).
pub(super) struct Value<'a> {
    /// Milliseconds since the cache's epoch at which it expires.
    pub expires: u64,
    /// What it holds (an unknown byte is `None`).
    pub content: Option<Content>,
    /// Its rank.
    pub credibility: Credibility,
    /// The TTL it was cached with.
    pub ttl: u32,
    /// The encoded provenance (empty when none).
    pub provenance: &'a [u8],
    /// The records in wire form.
    pub records: &'a [u8],
}

impl<'a> Value<'a> {
    /// Splits a value; `None` if it is shorter than its header says.
    pub(super) fn split(value: &'a [u8]) -> Option<Self> {
        let (expires, rest) = value.split_first_chunk::<8>()?;
        let ([content, credibility], rest) = rest.split_first_chunk::<2>()?;
        let (ttl, rest) = rest.split_first_chunk::<4>()?;
        let (length, rest) = rest.split_first_chunk::<2>()?;
        let (provenance, records) =
            rest.split_at_checked(usize::from(u16::from_be_bytes(*length)))?;
        Some(Value {
            expires: u64::from_be_bytes(*expires),
            content: Content::from_byte(*content),
            credibility: Credibility::from_byte(*credibility),
            ttl: u32::from_be_bytes(*ttl),
            provenance,
            records,
        })
    }
}

/// Appends the header of a value: expiry, content, origin, TTL; the records follow.
pub(super) fn write_header(
    value: &mut Vec<u8>,
    expires: u64,
    content: Content,
    origin: &Origin,
    ttl: u32,
) {
    value.extend_from_slice(&expires.to_be_bytes());
    value.push(content as u8);
    value.push(origin.credibility as u8);
    value.extend_from_slice(&ttl.to_be_bytes());
    let mark = value.len();
    value.extend_from_slice(&[0, 0]);
    if let Some(provenance) = &origin.provenance
        && encode_provenance(provenance, value).is_none()
    {
        value.truncate(mark + 2); // a name that does not encode: no provenance
    }
    // An encoded provenance is at most 1 + 16 + 2 + 2 + 255 octets.
    let length = u16::try_from(value.len() - mark - 2).unwrap_or(0);
    value[mark..mark + 2].copy_from_slice(&length.to_be_bytes());
}

/// Appends a provenance in its encoded form; `None` if its name does not
/// encode (the caller drops what was appended).
fn encode_provenance(provenance: &Provenance, into: &mut Vec<u8>) -> Option<()> {
    match provenance.server.ip() {
        IpAddr::V4(v4) => {
            into.push(4);
            into.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            into.push(6);
            into.extend_from_slice(&v6.octets());
        }
    }
    into.extend_from_slice(&provenance.server.port().to_be_bytes());
    into.extend_from_slice(&u16::from(provenance.question_type).to_be_bytes());
    push_wire_form(&provenance.question, into)?;
    if let Some(name) = &provenance.server_name {
        push_wire_form(name, into)?;
    }
    Some(())
}

/// The provenance encoded in `bytes`, if any.
pub(super) fn decode_provenance(bytes: &[u8]) -> Option<Provenance> {
    let (family, rest) = bytes.split_first()?;
    let (ip, rest) = match family {
        4 => {
            let (octets, rest) = rest.split_first_chunk::<4>()?;
            (IpAddr::V4(Ipv4Addr::from(*octets)), rest)
        }
        6 => {
            let (octets, rest) = rest.split_first_chunk::<16>()?;
            (IpAddr::V6(Ipv6Addr::from(*octets)), rest)
        }
        _ => return None,
    };
    let (port, rest) = rest.split_first_chunk::<2>()?;
    let (question_type, rest) = rest.split_first_chunk::<2>()?;
    let mut decoder = BinDecoder::new(rest);
    let question = Name::read(&mut decoder).ok()?;
    let server_name = match decoder.is_empty() {
        true => None,
        false => Name::read(&mut decoder).ok(),
    };
    Some(Provenance {
        server: SocketAddr::new(ip, u16::from_be_bytes(*port)),
        server_name,
        question,
        question_type: RecordType::from(u16::from_be_bytes(*question_type)),
    })
}
