//! Replaying answers: the bytes of an answer already given, sent again to
//! the same question with the new query's ID and flags (and, for cached
//! data, the TTLs counted down). A layer the server owns in front of its
//! handler, as Unbound's message cache and NSD's precompiled answers are:
//! the hot path does no message building and no encoding. The handler only
//! says whether its answers may be replayed ([`Lifetime`]) and which
//! version of its data they come from: a template remembered under another
//! version (the cache was emptied, the zones reloaded) is never replayed.
//!
//! The key is the question in lower case (so that one client cannot mint a
//! key per spelling of a name), whether an OPT came with it, the OPT's DO
//! bit and the size limit of the transport; a replay echoes the question
//! as this query spelt it, byte for byte (RFC 4343, 0x20 clients).
//!
//! Bounded in bytes (store.rs): each template weighs its bytes plus the
//! store's per-entry bookkeeping.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{EdnsFlags, Header, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::opt::EdnsCode;
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use quick_cache::Weighter;
use tokio::time::Instant;

use super::request::{CLASSIC_UDP_SIZE, UDP_PAYLOAD};
use super::{Protocol, wire};
use crate::keepalive;
use crate::store::{ARC_COUNTS, Store, entry_weight, store};

/// A DNS header's size: the question follows it (RFC 1035 §4.1.1).
const HEADER_SIZE: usize = 12;

/// A query understood just enough to look its answer up; it borrows the
/// query's bytes and keeps its key on the stack.
#[derive(Debug, Clone)]
pub struct QuickQuery<'a> {
    /// The question (name in lower case), OPT presence, the DO, CD and AD bits, and the size limit.
    pub key: QuickKey,
    /// The question exactly as asked, echoed in a replay.
    pub question: &'a [u8],
    /// The query's ID.
    pub id: u16,
    /// The query's RD bit, copied into the answer.
    pub recursion_desired: bool,
    /// The query's CD bit, copied into the answer.
    pub checking_disabled: bool,
    /// Whether its OPT carries the edns-tcp-keepalive option, empty: a
    /// client asking for the connection's idle timeout (RFC 7828 §3.2.1).
    pub keepalive_asked: bool,
}

/// The longest key: a question (a name of at most 255 octets, type and
/// class), the flags octet and the size limit.
const KEY_CAPACITY: usize = 255 + 4 + 1 + 2;

/// A replay key built on the stack, looked up as a byte slice.
#[derive(Clone)]
pub struct QuickKey {
    bytes: [u8; KEY_CAPACITY],
    length: usize,
}

impl QuickKey {
    /// The key's octets.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    /// Appends `octets`; `None` past the capacity (not a question read whole).
    fn extend(&mut self, octets: &[u8]) -> Option<()> {
        let end = self.length + octets.len();
        self.bytes
            .get_mut(self.length..end)?
            .copy_from_slice(octets);
        self.length = end;
        Some(())
    }
}

impl PartialEq for QuickKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for QuickKey {}

impl std::fmt::Debug for QuickKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("QuickKey").field(&self.as_slice()).finish()
    }
}

/// Reads the header, the one question and the optional OPT of a query, with
/// hickory-proto's decoder; `None` for anything unusual (which then takes
/// the ordinary path, where every rule is applied).
pub fn quick(bytes: &[u8], protocol: Protocol) -> Option<QuickQuery<'_>> {
    let mut decoder = BinDecoder::new(bytes);
    let header = Header::read(&mut decoder).ok()?;
    let counts = header.counts;
    let metadata = header.metadata;
    if metadata.message_type != MessageType::Query
        || metadata.op_code != OpCode::Query
        || counts.queries != 1
        || counts.answers != 0
        || counts.authorities != 0
        || counts.additionals > 1
    {
        return None;
    }
    let question_start = decoder.index();
    Query::read(&mut decoder).ok()?;
    let question_end = decoder.index();
    let opt = match counts.additionals {
        1 => Some(read_opt(&mut decoder, protocol)?),
        _ => None,
    };
    if !decoder.is_empty() {
        return None;
    }
    let limit: u16 = match (protocol, &opt) {
        (Protocol::Tcp, _) => u16::MAX,
        (Protocol::Udp, None) => CLASSIC_UDP_SIZE as u16,
        (Protocol::Udp, Some(opt)) => opt.max_payload.clamp(CLASSIC_UDP_SIZE as u16, UDP_PAYLOAD),
    };
    let question = &bytes[question_start..question_end];
    let mut key = QuickKey {
        bytes: [0; KEY_CAPACITY],
        length: 0,
    };
    // The name in a question read whole is uncompressed: its letters can be
    // folded without reading the labels (length octets are below 64, never letters).
    let name_length = question.len() - 4;
    key.extend(question)?;
    key.bytes[..name_length].make_ascii_lowercase();
    // CD and AD change a validating resolver's answer (RFC 4035 §3.2.2,
    // RFC 6840 §5.8): each asks its own.
    let edns_flags = match &opt {
        None => 0,
        Some(opt) if opt.dnssec_ok => 2,
        Some(_) => 1,
    };
    let checking_disabled = u8::from(metadata.checking_disabled) << 2;
    let authentic_data = u8::from(metadata.authentic_data) << 3;
    key.extend(&[edns_flags | checking_disabled | authentic_data])?;
    key.extend(&limit.to_be_bytes())?;
    Some(QuickQuery {
        key,
        question,
        id: metadata.id,
        recursion_desired: metadata.recursion_desired,
        checking_disabled: metadata.checking_disabled,
        keepalive_asked: opt.is_some_and(|opt| opt.keepalive_asked),
    })
}

/// What the key needs of a query's OPT record (RFC 6891 §6.1.2, §6.1.3).
struct OptFields {
    /// The requestor's UDP payload size.
    max_payload: u16,
    /// The DO bit (RFC 3225 §3).
    dnssec_ok: bool,
    /// An edns-tcp-keepalive option, empty (RFC 7828 §3.2.1).
    keepalive_asked: bool,
}

/// Reads the OPT record at `decoder` field by field with hickory-proto's
/// decoder, its options framed but not decoded nor kept (a cookie, say,
/// is not copied). `None`, for the ordinary path, where every rule is
/// applied, unless it is an OPT of version 0 owned by the root, well
/// framed, with no option hickory-proto reads and may refuse (NSID, DAU,
/// client subnet) and, over TCP, no edns-tcp-keepalive option with data.
fn read_opt(decoder: &mut BinDecoder<'_>, protocol: Protocol) -> Option<OptFields> {
    if !Name::read(decoder).ok()?.is_root() || RecordType::read(decoder).ok()? != RecordType::OPT {
        return None;
    }
    let max_payload = decoder.read_u16().ok()?.unverified(/* any size: clamped by the caller */);
    // The TTL field: EXTENDED-RCODE, VERSION, then DO and Z (RFC 6891 §6.1.3).
    let ttl = decoder.read_u32().ok()?.unverified(/* each part checked below */);
    let [_, version, flags @ ..] = ttl.to_be_bytes();
    if version != 0 {
        return None; // BADVERS: the ordinary path answers it
    }
    let length = decoder.read_u16().ok()?.unverified(/* bounded by read_slice */);
    let options = decoder.read_slice(usize::from(length)).ok()?;
    let mut options = BinDecoder::new(options.unverified(/* framed below */));
    let mut keepalive_asked = false;
    while !options.is_empty() {
        let code = EdnsCode::from(options.read_u16().ok()?.unverified(/* any code */));
        let length = options.read_u16().ok()?.unverified(/* bounded by read_slice */);
        let data = options.read_slice(usize::from(length)).ok()?.unverified(/* not read */);
        let refusable = matches!(code, EdnsCode::NSID | EdnsCode::DAU | EdnsCode::Subnet);
        if refusable || (protocol == Protocol::Tcp && keepalive::malformed_option(code, data)) {
            return None; // the ordinary path decodes it (FORMERR, if it must)
        }
        keepalive_asked |= keepalive::asked_option(code, data);
    }
    Some(OptFields {
        max_payload,
        dnssec_ok: EdnsFlags::from(u16::from_be_bytes(flags)).dnssec_ok,
        keepalive_asked,
    })
}

/// How long an answer may be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// As long as the data behind it does not change (authoritative zones).
    Static,
    /// While its TTLs last; they are counted down in every replay.
    CountingDown,
    /// As `CountingDown`, but for nine tenths of its least TTL only, so
    /// that a question in the last tenth reaches the handler, which
    /// prefetches the data (`[cache] prefetch`, resolver/prefetch.rs).
    UntilPrefetch,
}

/// One remembered answer.
#[derive(Debug)]
struct Template {
    bytes: Box<[u8]>,
    /// Where each TTL field is, and its value when remembered.
    ttls: Box<[(usize, u32)]>,
    /// Where the RDLENGTH of its OPT is, if the OPT is its last record (an
    /// option can be added there, wire.rs).
    opt_at_end: Option<usize>,
    stored: Instant,
    expires: Option<Instant>,
    /// The version of the handler's data the answer came from.
    version: u64,
}

/// Remembered answers, by question; bounded in bytes.
#[derive(Clone)]
pub struct AnswerCache {
    entries: Store<Arc<Template>, Weigh>,
}

impl AnswerCache {
    /// A cache of answers weighing at most `bytes` in all.
    pub fn new(bytes: u64) -> Self {
        AnswerCache {
            entries: store(bytes, Weigh),
        }
    }

    /// The remembered answer to this question, patched for this query, if
    /// any, still alive at the time `now` reads (read only for an answer that
    /// ages) and from this `version` of the data; telling the `keepalive`
    /// idle timeout if given (a TCP query that asked, RFC 7828 §3.3.2).
    pub fn get(
        &self,
        query: &QuickQuery,
        now: impl Fn() -> Instant,
        version: u64,
        keepalive: Option<Duration>,
    ) -> Option<Vec<u8>> {
        let template = self.entries.get(query.key.as_slice())?;
        // The clock is read only for an answer that ages (an authority's does not).
        let now = (template.expires.is_some() || !template.ttls.is_empty()).then(now);
        let expired = template
            .expires
            .zip(now)
            .is_some_and(|(expires, now)| now >= expires);
        if template.version != version || expired {
            // Only this template: another thread may have put a fresh one since.
            self.entries
                .remove_if(query.key.as_slice(), |kept| Arc::ptr_eq(kept, &template));
            return None;
        }
        let mut bytes = Vec::with_capacity(template.bytes.len() + wire::KEEPALIVE_SIZE);
        bytes.extend_from_slice(&template.bytes);
        let question = HEADER_SIZE..HEADER_SIZE + query.question.len();
        // The answer echoes the question as the first asker spelt it; this
        // query's spelling goes in its place only if it is the same question
        // but for letter case, octet for octet (a question written with a
        // compression pointer is echoed in another form: not replayed).
        let echoed = bytes.get_mut(question)?;
        if !echoed.eq_ignore_ascii_case(query.question) {
            return None;
        }
        echoed.copy_from_slice(query.question);
        bytes[..2].copy_from_slice(&query.id.to_be_bytes());
        set_bit(&mut bytes[2], 0x01, query.recursion_desired);
        set_bit(&mut bytes[3], 0x10, query.checking_disabled);
        if let Some(now) = now
            && !template.ttls.is_empty()
        {
            let elapsed = now.saturating_duration_since(template.stored).as_secs() as u32;
            for &(offset, ttl) in template.ttls.iter() {
                let remaining = ttl.saturating_sub(elapsed);
                bytes[offset..offset + 4].copy_from_slice(&remaining.to_be_bytes());
            }
        }
        if let (Some(idle), Some(opt)) = (keepalive, template.opt_at_end) {
            wire::add_keepalive_at(&mut bytes, opt, idle);
        }
        Some(bytes)
    }

    /// Remembers an answer just sent to this question, from `version` of the data.
    pub fn put(
        &self,
        query: &QuickQuery,
        encoded: &[u8],
        lifetime: Lifetime,
        now: Instant,
        version: u64,
    ) {
        let Some(Fields { ttls, opt_at_end }) = fields(encoded) else {
            return;
        };
        let (ttls, expires) = match lifetime {
            Lifetime::Static => (Vec::new(), None),
            Lifetime::CountingDown | Lifetime::UntilPrefetch => {
                let Some(least) = ttls.iter().map(|&(_, ttl)| ttl).min() else {
                    return; // nothing to count down: nothing to remember
                };
                let mut lasts = Duration::from_secs(u64::from(least));
                if lifetime == Lifetime::UntilPrefetch {
                    lasts = lasts * 9 / 10;
                }
                if lasts.is_zero() {
                    return;
                }
                (ttls, Some(now + lasts))
            }
        };
        let template = Template {
            bytes: encoded.into(),
            ttls: ttls.into_boxed_slice(),
            opt_at_end,
            stored: now,
            expires,
            version,
        };
        self.entries
            .insert(query.key.as_slice().into(), Arc::new(template));
    }

    /// Forgets everything (the data behind the answers changed).
    pub fn clear(&self) {
        self.entries.clear();
    }
}

/// Weighs templates: their bytes, TTL offsets and bookkeeping.
#[derive(Clone, Copy)]
struct Weigh;

impl Weighter<Box<[u8]>, Arc<Template>> for Weigh {
    fn weight(&self, key: &Box<[u8]>, template: &Arc<Template>) -> u64 {
        let ttls = template.ttls.len() * std::mem::size_of::<(usize, u32)>();
        // The key, the Arc (two counts and the template), its bytes, its TTLs.
        entry_weight(&[
            key.len(),
            ARC_COUNTS + std::mem::size_of::<Template>(),
            template.bytes.len(),
            ttls,
        ])
    }
}

fn set_bit(byte: &mut u8, mask: u8, on: bool) {
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
}

/// What a template needs to know of where the fields of its message lie.
struct Fields {
    /// The offset and value of every record's TTL field (the OPT's is not a TTL).
    ttls: Vec<(usize, u32)>,
    /// The offset of the OPT's RDLENGTH, if the OPT is the last record.
    opt_at_end: Option<usize>,
}

/// The [`Fields`] of an encoded message.
fn fields(bytes: &[u8]) -> Option<Fields> {
    let mut ttls = Vec::new();
    let mut opt_at_end = None;
    wire::records(bytes, |record| {
        opt_at_end = None;
        if record.record_type == RecordType::OPT {
            opt_at_end = Some(record.rdlength_offset());
        } else {
            ttls.push((record.ttl_offset, record.ttl));
        }
    })?;
    Some(Fields { ttls, opt_at_end })
}

#[cfg(test)]
mod tests;
