//! The authority and additional sections that came with an answer, kept
//! for responses that are not minimal (Unbound's `minimal-responses: no`):
//! the zone's NS set and its servers' addresses, as the answering server
//! gave them, each record with its own TTL counting down.
//!
//! They are kept beside the answer, under its name and type, and live as
//! long as it; they are never served as an answer themselves (RFC 2181
//! §5.4.1: additional data is not to be returned as an answer).
//!
//! The DNSSEC records of an answer are kept the same way ([`Beside`]): the
//! RRSIGs over an RRset beside it, the proof of a negative answer beside
//! that (resolver/signatures.rs).

use std::sync::atomic::Ordering;

use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use tokio::time::Instant;

use super::entry::{Content, KeyBuf, Kind, Value, pack};
use super::{Cache, Credibility};

/// What came with an answer besides it (RFC 1035 §4.1: the authority and
/// additional sections).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sections {
    /// The NS records of the zone that answered.
    pub authority: Vec<Record>,
    /// Addresses of the names in those NS records.
    pub additional: Vec<Record>,
}

impl Sections {
    /// True when there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.authority.is_empty() && self.additional.is_empty()
    }
}

/// What is kept beside an answer, under the answer's name and type (see [`Kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beside {
    /// Its authority and additional sections (responses that are not minimal).
    Sections,
    /// The RRSIGs over the RRset, in `authority` (RFC 4035 §3.1.1).
    Signatures,
    /// The proof of a negative answer, in `authority` (RFC 4035 §3.1.3).
    Denial,
}

impl Beside {
    fn kind(self) -> Kind {
        match self {
            Beside::Sections => Kind::Sections,
            Beside::Signatures => Kind::Signatures,
            Beside::Denial => Kind::Denial,
        }
    }
}

impl Cache {
    /// Keeps `sections` beside the answer to `name`/`record_type`, for as
    /// long as the answer lives (`ttl`, already clamped); each record keeps
    /// its own TTL, within the cache's bounds.
    pub fn insert_sections(
        &self,
        name: &Name,
        record_type: RecordType,
        sections: &Sections,
        ttl: u32,
        now: Instant,
    ) {
        let what = (name, record_type);
        self.insert_beside(
            Beside::Sections,
            what,
            sections,
            ttl,
            Credibility::Referral,
            now,
        );
    }

    /// True once DNSSEC records have been kept beside an answer (since the
    /// cache was last emptied).
    pub fn holds_dnssec(&self) -> bool {
        self.signed.load(Ordering::Relaxed)
    }

    /// Keeps `sections` as what `beside` the answer to `name`/`record_type`
    /// is, for `ttl` (already clamped); empty, whatever was kept is removed,
    /// so that nothing outlives the answer it came with. DNSSEC records
    /// follow the rule of what they sign (RFC 2181 §5.4.1): a live entry of
    /// a higher `credibility` is neither replaced nor removed.
    pub fn insert_beside(
        &self,
        beside: Beside,
        (name, record_type): (&Name, RecordType),
        sections: &Sections,
        ttl: u32,
        credibility: Credibility,
        now: Instant,
    ) {
        let key = KeyBuf::new(beside.kind(), record_type, name);
        let dnssec = beside != Beside::Sections;
        // Until DNSSEC records are kept, there are none to outrank or remove.
        let dnssec_kept = dnssec && self.signed.load(Ordering::Relaxed);
        if dnssec_kept
            && self
                .credibility(&key, now)
                .is_some_and(|kept| kept > credibility)
        {
            return; // what they sign was not replaced either
        }
        if sections.is_empty() {
            if dnssec_kept {
                self.entries.remove(key.as_slice()); // signed before, not now: gone
            }
            return;
        }
        if dnssec {
            self.signed.store(true, Ordering::Relaxed);
        }
        let clamped = |records: &[Record]| -> Vec<Record> {
            records
                .iter()
                .map(|record| {
                    let mut record = record.clone();
                    record.ttl = self.clamp_ttl(record.ttl);
                    record
                })
                .collect()
        };
        let mut records = clamped(&sections.authority);
        records.extend(clamped(&sections.additional));
        let Ok(authority) = u16::try_from(sections.authority.len()) else {
            return;
        };
        if ttl == 0 {
            return; // nothing is cached for a TTL of 0, nor is this
        }
        // Sections are always replaced: they go with the answer last cached.
        let mut value = self.header(ttl, Content::Sections, &credibility.into(), now);
        value.extend_from_slice(&authority.to_be_bytes());
        if pack(&records, &mut value).is_some() {
            self.entries.insert(key.as_slice().into(), value.into());
        }
    }

    /// What came with the answer to `name`/`record_type`, while it lives,
    /// each record's TTL counted down (records whose TTL ran out are left out).
    pub fn sections(&self, name: &Name, record_type: RecordType, now: Instant) -> Sections {
        self.beside(Beside::Sections, name, record_type, now)
    }

    /// What is kept `beside` the answer to `name`/`record_type`, while it
    /// lives, each record's TTL counted down.
    pub fn beside(
        &self,
        beside: Beside,
        name: &Name,
        record_type: RecordType,
        now: Instant,
    ) -> Sections {
        if beside != Beside::Sections && !self.signed.load(Ordering::Relaxed) {
            return Sections::default();
        }
        let key = KeyBuf::new(beside.kind(), record_type, name);
        self.read_sections(&key, now, beside != Beside::Sections)
            .unwrap_or_default()
    }

    /// The sections under `key` while the entry lives; a record whose own
    /// TTL ran out is left out, unless `whole` (DNSSEC records: a signature
    /// or proof lives as long as what it signs or proves, shown with TTL 0).
    fn read_sections(&self, key: &KeyBuf, now: Instant, whole: bool) -> Option<Sections> {
        let value = self.entries.get(key.as_slice())?;
        let value = Value::split(&value)?;
        let expires = self.expiry(&value);
        // Whole seconds rounded up, as for the answer itself.
        let remaining = expires
            .checked_duration_since(now)?
            .as_millis()
            .div_ceil(1000);
        let remaining = u64::try_from(remaining).unwrap_or(u64::MAX);
        if value.content? != Content::Sections {
            return None;
        }
        let (authority, packed) = value.records.split_first_chunk::<2>()?;
        let elapsed = u64::from(value.ttl).saturating_sub(remaining);
        let elapsed = u32::try_from(elapsed).unwrap_or(u32::MAX);
        let authority = usize::from(u16::from_be_bytes(*authority));
        let mut decoder = BinDecoder::new(packed);
        let mut sections = Sections::default();
        for index in 0.. {
            if decoder.is_empty() {
                break;
            }
            // What was encoded decodes; stop quietly if it ever did not.
            let Ok(mut record) = Record::read(&mut decoder) else {
                break;
            };
            match record.ttl.checked_sub(elapsed).filter(|ttl| *ttl > 0) {
                Some(ttl) => record.ttl = ttl,
                None if whole => record.ttl = 0,
                None => continue, // this record ran out before the answer did
            }
            if index < authority {
                sections.authority.push(record);
            } else {
                sections.additional.push(record);
            }
        }
        Some(sections)
    }
}
