//! The record lines of an entry's SECTIONs, in zone-file text, to hickory
//! values and back to text.
//!
//! A line is `owner [ttl] [class] type rdata` (TTL and class in either
//! order, as in RFC 1035 §5.1); in SECTION QUESTION it has no rdata. Names
//! are relative to the root, TTL defaults to 3600 and class to IN (as in
//! Deckard and testbound). RDATA is read by hickory's zone-file parser;
//! DNAME, which that parser does not know, is kept as an RFC 3597 opaque
//! record whose bytes are hickory's encoding of the target name. The DNSSEC
//! types hickory's parser does not read (DNSKEY, RRSIG, NSEC, NSEC3, …,
//! RFC 4034 §2.2, §3.2, §4.2, RFC 5155 §3.3) are read by NLnet Labs'
//! `domain` zone-file parser into wire form, which hickory decodes.

use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use hickory_proto::serialize::txt::{Parser, parse_ttl};

/// The TTL of a record line that gives none.
pub const DEFAULT_TTL: u32 = 3600;

/// The fields before the RDATA.
struct Head<'a> {
    owner: Name,
    ttl: Option<u32>,
    class: DNSClass,
    record_type: RecordType,
    rdata: &'a str,
}

/// A SECTION QUESTION line: `name [class] type`.
pub fn question(line: &str) -> Result<Query, String> {
    let head = head(line)?;
    if !head.rdata.is_empty() {
        return Err(format!("a question has no data: {:?}", head.rdata));
    }
    let mut query = Query::query(head.owner, head.record_type);
    query.query_class = head.class;
    Ok(query)
}

/// A record line of SECTION ANSWER, AUTHORITY or ADDITIONAL.
pub fn record(line: &str) -> Result<Record, String> {
    let head = head(line)?;
    if head.rdata.is_empty() {
        return Err(format!("{} record without data", head.record_type));
    }
    let data = rdata(head.record_type, head.rdata)?;
    let mut record = Record::from_rdata(head.owner, head.ttl.unwrap_or(DEFAULT_TTL), data);
    record.dns_class = head.class;
    Ok(record)
}

/// Splits a line into owner, TTL, class, type and the RDATA text.
fn head(line: &str) -> Result<Head<'_>, String> {
    let (owner, mut rest) = next_word(line);
    let owner = Name::parse(owner, Some(&Name::root()))
        .map_err(|error| format!("bad owner name {owner:?}: {error}"))?;
    let (mut ttl, mut class) = (None, None);
    loop {
        let (word, after) = next_word(rest);
        if word.is_empty() {
            return Err("no record type".to_string());
        }
        rest = after;
        let upper = word.to_ascii_uppercase();
        if ttl.is_none() && word.starts_with(|c: char| c.is_ascii_digit()) {
            ttl = Some(parse_ttl(word).map_err(|error| format!("bad TTL {word:?}: {error}"))?);
        } else if let (None, Ok(parsed)) = (class, DNSClass::from_str(&upper)) {
            class = Some(parsed);
        } else {
            let record_type =
                record_type(&upper).ok_or_else(|| format!("bad record type {word:?}"))?;
            return Ok(Head {
                owner,
                ttl,
                class: class.unwrap_or(DNSClass::IN),
                record_type,
                rdata: rest.trim(),
            });
        }
    }
}

/// A type by its mnemonic or as `TYPEnnn` (RFC 3597 §5).
fn record_type(upper: &str) -> Option<RecordType> {
    match upper.strip_prefix("TYPE") {
        Some(number) if !number.is_empty() => number.parse::<u16>().ok().map(RecordType::from),
        _ => RecordType::from_str(upper).ok(),
    }
}

/// The first whitespace-separated word and the text after it.
fn next_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// RDATA text of one type, relative names taken from the root.
fn rdata(record_type: RecordType, text: &str) -> Result<RData, String> {
    if let Some(generic) = text.strip_prefix("\\#") {
        return opaque(record_type, generic);
    }
    if record_type == RecordType::DNAME {
        return dname(text);
    }
    if PRESENTED_BY_DOMAIN.contains(&record_type) {
        return dnssec_rdata(record_type, text);
    }
    let zone_line = format!(". 0 IN {record_type} {text}\n");
    let (_, sets) = Parser::new(zone_line, None, Some(Name::root()))
        .parse()
        .map_err(|error| format!("bad {record_type} data {text:?}: {error}"))?;
    sets.values()
        .flat_map(|set| set.records_without_rrsigs())
        .map(|record| record.data.clone())
        .next()
        .ok_or_else(|| format!("no {record_type} data in {text:?}"))
}

/// The types whose presentation form hickory's zone-file parser does not read.
const PRESENTED_BY_DOMAIN: [RecordType; 7] = [
    RecordType::DNSKEY,
    RecordType::CDNSKEY,
    RecordType::CDS,
    RecordType::RRSIG,
    RecordType::NSEC,
    RecordType::NSEC3,
    RecordType::NSEC3PARAM,
];

/// DNSSEC RDATA text: parsed by `domain` into wire form, decoded by hickory.
fn dnssec_rdata(record_type: RecordType, text: &str) -> Result<RData, String> {
    use domain::base::rdata::ComposeRecordData;
    use domain::zonefile::inplace::{Entry, Zonefile};
    use hickory_proto::serialize::binary::{BinDecoder, Restrict};

    let bad = |why: String| format!("bad {record_type} data {text:?}: {why}");
    let text = &lenient(record_type, text);
    let mut zone = Zonefile::new();
    zone.extend_from_slice(format!(". 0 IN {record_type} {text}\n").as_bytes());
    zone.set_origin(domain::base::Name::root_bytes());
    let record = match zone.next_entry().map_err(|e| bad(e.to_string()))? {
        Some(Entry::Record(record)) => record,
        _ => return Err(bad("not a record".to_string())),
    };
    let mut wire: Vec<u8> = Vec::new();
    record
        .data()
        .compose_rdata(&mut wire)
        .map_err(|e| bad(format!("{e:?}")))?;
    let length = u16::try_from(wire.len()).map_err(|_| bad("too long".to_string()))?;
    let mut decoder = BinDecoder::new(&wire);
    // What hickory will not decode (a DNSKEY of protocol 2, say) goes to the
    // wire as written, for the resolver to make of it what it will.
    Ok(
        RData::read(&mut decoder, record_type, Restrict::new(length)).unwrap_or(RData::Unknown {
            code: record_type,
            rdata: NULL::with(wire),
        }),
    )
}

/// DNSSEC RDATA text as the scenarios write it, in the form `domain` reads:
/// an algorithm mnemonic (RFC 4034 Appendix A.1) as its number, and a
/// signature's or key's base64 with its surplus padding dropped (as
/// Deckard's dnspython reads `UNUSABLE==`).
fn lenient(record_type: RecordType, text: &str) -> String {
    // (the algorithm's word, the words before the base64)
    let (algorithm_at, fields) = match record_type {
        RecordType::RRSIG => (1, 8),
        RecordType::DNSKEY | RecordType::CDNSKEY => (2, 3),
        _ => return text.to_string(),
    };
    let text = text.replace(['(', ')'], " ");
    let mut words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    if let Some(word) = words.get_mut(algorithm_at)
        && let Some(number) = algorithm_number(word)
    {
        *word = number.to_string();
    }
    if words.len() > fields {
        let base64: String = words.split_off(fields).concat();
        let digits = base64.trim_end_matches('=');
        let padding = match digits.len() % 4 {
            2 => "==",
            3 => "=",
            _ => "",
        };
        words.push(format!("{digits}{padding}"));
    }
    words.join(" ")
}

/// The number of a DNSSEC algorithm mnemonic (RFC 4034 Appendix A.1, RFC 8624).
fn algorithm_number(mnemonic: &str) -> Option<u8> {
    let number = match mnemonic.to_ascii_uppercase().as_str() {
        "RSAMD5" => 1,
        "DH" => 2,
        "DSA" => 3,
        "RSASHA1" => 5,
        "DSA-NSEC3-SHA1" => 6,
        "RSASHA1-NSEC3-SHA1" => 7,
        "RSASHA256" => 8,
        "RSASHA512" => 10,
        "ECC-GOST" => 12,
        "ECDSAP256SHA256" => 13,
        "ECDSAP384SHA384" => 14,
        "ED25519" => 15,
        "ED448" => 16,
        "PRIVATEDNS" => 253,
        "PRIVATEOID" => 254,
        _ => return None,
    };
    Some(number)
}

/// RFC 3597 §5 generic RDATA: `length hex…` after `\#`, kept as is.
fn opaque(record_type: RecordType, text: &str) -> Result<RData, String> {
    let (length, hex) = next_word(text);
    let length: usize = length
        .parse()
        .map_err(|_| format!("bad generic RDATA length {length:?}"))?;
    let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = decode_hex(&digits).ok_or_else(|| format!("bad generic RDATA {digits:?}"))?;
    if bytes.len() != length || bytes.is_empty() {
        return Err(format!(
            "generic RDATA of {} bytes, said to be {length}",
            bytes.len()
        ));
    }
    Ok(RData::Unknown {
        code: record_type,
        rdata: NULL::with(bytes),
    })
}

/// Bytes from hex digits (`None` if they are not an even number of hex digits).
pub fn decode_hex(digits: &str) -> Option<Vec<u8>> {
    if !digits.len().is_multiple_of(2) || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

/// DNAME data (RFC 6672) as an opaque record: the target name's wire form.
fn dname(text: &str) -> Result<RData, String> {
    let target = Name::parse(text, Some(&Name::root()))
        .map_err(|error| format!("bad DNAME target {text:?}: {error}"))?;
    let bytes = target
        .to_bytes()
        .map_err(|error| format!("cannot encode {target}: {error}"))?;
    Ok(RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(bytes),
    })
}

/// A record as a zone-file line: `owner ttl class type data`.
pub fn record_text(record: &Record) -> String {
    let data = match &record.data {
        RData::Unknown { code, rdata } if *code == RecordType::DNAME => {
            let bytes = &rdata.anything;
            Name::from_bytes(bytes)
                .map(|name| name.to_string())
                .unwrap_or_else(|_| format!("<undecodable {bytes:02x?}>"))
        }
        RData::Unknown { rdata, .. } => {
            format!("\\# {} {}", rdata.anything.len(), hex(&rdata.anything))
        }
        RData::TXT(txt) => {
            let strings: Vec<String> = txt
                .txt_data
                .iter()
                .map(|string| format!("{:?}", String::from_utf8_lossy(string)))
                .collect();
            strings.join(" ")
        }
        data => data.to_string(),
    };
    format!(
        "{} {} {} {} {}",
        record.name,
        record.ttl,
        record.dns_class,
        record.record_type(),
        data
    )
}

/// Bytes as hex digits.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// RCODE mnemonics of REPLY lines (RFC 1035 §4.1.1, RFC 2136 §2.2, RFC 6891 §9).
const RCODES: [(&str, ResponseCode); 12] = [
    ("NOERROR", ResponseCode::NoError),
    ("FORMERR", ResponseCode::FormErr),
    ("SERVFAIL", ResponseCode::ServFail),
    ("NXDOMAIN", ResponseCode::NXDomain),
    ("NOTIMPL", ResponseCode::NotImp),
    ("REFUSED", ResponseCode::Refused),
    ("YXDOMAIN", ResponseCode::YXDomain),
    ("YXRRSET", ResponseCode::YXRRSet),
    ("NXRRSET", ResponseCode::NXRRSet),
    ("NOTAUTH", ResponseCode::NotAuth),
    ("NOTZONE", ResponseCode::NotZone),
    ("BADVERS", ResponseCode::BADVERS),
];

/// OPCODE mnemonics of REPLY lines (RFC 1035 §4.1.1, RFC 1996, RFC 2136).
const OPCODES: [(&str, OpCode); 5] = [
    ("QUERY", OpCode::Query),
    ("IQUERY", OpCode::Unknown(1)),
    ("STATUS", OpCode::Status),
    ("NOTIFY", OpCode::Notify),
    ("UPDATE", OpCode::Update),
];

/// The RCODE a REPLY word names (`NOTIMP` is accepted for `NOTIMPL`).
pub fn rcode_from_name(word: &str) -> Option<ResponseCode> {
    let word = if word == "NOTIMP" { "NOTIMPL" } else { word };
    RCODES
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, code)| *code)
}

/// The REPLY word of an RCODE (its number when it has none).
pub fn rcode_name(code: ResponseCode) -> String {
    RCODES
        .iter()
        .find(|(_, known)| *known == code)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| format!("RCODE{}", u16::from(code)))
}

/// The OPCODE a REPLY word names.
pub fn opcode_from_name(word: &str) -> Option<OpCode> {
    OPCODES
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, code)| *code)
}

/// The header flags that are set, in the order of REPLY lines (QR AA TC RD RA AD CD).
pub fn flags_text(message: &Message) -> String {
    let header = &message.metadata;
    let flags = [
        (header.message_type == MessageType::Response, "QR"),
        (header.authoritative, "AA"),
        (header.truncation, "TC"),
        (header.recursion_desired, "RD"),
        (header.recursion_available, "RA"),
        (header.authentic_data, "AD"),
        (header.checking_disabled, "CD"),
    ];
    let set: Vec<&str> = flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
    set.join(" ")
}

/// The Extended DNS Errors of a message (RFC 8914 §2: option 15, info code, text).
pub fn extended_errors(message: &Message) -> impl Iterator<Item = (u16, String)> + '_ {
    const EDE_OPTION: u16 = 15;
    message
        .edns
        .iter()
        .flat_map(|edns| edns.options().options.iter())
        .filter_map(|(_, option)| match option {
            EdnsOption::Unknown(EDE_OPTION, data) if data.len() >= 2 => Some((
                u16::from_be_bytes([data[0], data[1]]),
                String::from_utf8_lossy(&data[2..]).into_owned(),
            )),
            _ => None,
        })
}

/// A question as a SECTION QUESTION line.
pub fn question_text(query: &Query) -> String {
    format!("{} {} {}", query.name, query.query_class, query.query_type)
}

/// A query as a client sends it: the question, then its flags.
pub fn query_text(message: &Message) -> String {
    let questions: Vec<String> = message.queries.iter().map(question_text).collect();
    let mut flags = flags_text(message);
    if dnssec_ok(message) {
        flags.push_str(" DO");
    }
    format!("{} (flags: {})", questions.join("; "), flags.trim())
}

/// True when the message's EDNS has the DO bit.
fn dnssec_ok(message: &Message) -> bool {
    message
        .edns
        .as_ref()
        .is_some_and(|edns| edns.flags().dnssec_ok)
}

/// A message in the entry notation: REPLY line, then each non-empty SECTION.
pub fn message_text(message: &Message) -> String {
    let mut text = format!(
        "REPLY {} {}",
        flags_text(message),
        rcode_name(message.metadata.response_code)
    );
    if dnssec_ok(message) {
        text.push_str(" DO");
    }
    for (code, reason) in extended_errors(message) {
        text.push_str(&format!("\nEDE {code} {reason:?}"));
    }
    if !message.queries.is_empty() {
        text.push_str("\nSECTION QUESTION");
        for query in &message.queries {
            text.push('\n');
            text.push_str(&question_text(query));
        }
    }
    let sections = [
        ("ANSWER", &message.answers),
        ("AUTHORITY", &message.authorities),
        ("ADDITIONAL", &message.additionals),
    ];
    for (name, records) in sections {
        if !records.is_empty() {
            text.push_str(&format!("\nSECTION {name}"));
            for record in records {
                text.push('\n');
                text.push_str(&record_text(record));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_and_class_are_optional_and_names_are_absolute() {
        let ns = record("example.com IN NS ns.example.com").expect("parses");
        assert_eq!(ns.name, Name::from_ascii("example.com.").expect("valid"));
        assert_eq!(ns.ttl, DEFAULT_TTL);
        assert_eq!(ns.dns_class, DNSClass::IN);
        assert_eq!(record_text(&ns), "example.com. 3600 IN NS ns.example.com.");

        let a = record("www.example.com.\t300\tA\t10.20.30.40").expect("parses");
        assert_eq!(record_text(&a), "www.example.com. 300 IN A 10.20.30.40");
        let soa = record(". IN SOA . . 0 0 0 0 0").expect("parses");
        assert_eq!(soa.record_type(), RecordType::SOA);
        let txt = record("t. TXT \"one\" \"two words\"").expect("parses");
        assert_eq!(record_text(&txt), "t. 3600 IN TXT \"one\" \"two words\"");
    }

    #[test]
    fn dname_round_trips_through_its_opaque_form() {
        let dname = record("x. IN DNAME example.com.").expect("parses");
        assert_eq!(dname.record_type(), RecordType::DNAME);
        assert_eq!(record_text(&dname), "x. 3600 IN DNAME example.com.");
    }

    #[test]
    fn generic_rdata_is_kept_even_when_wrong_for_its_type() {
        let short = record("www.example.com. IN A \\# 3 030405").expect("parses");
        assert_eq!(short.record_type(), RecordType::A);
        assert_eq!(
            record_text(&short),
            "www.example.com. 3600 IN A \\# 3 030405"
        );
        assert!(record("www.example.com. IN A \\# 4 030405").is_err());
    }

    #[test]
    fn dnssec_records_are_read_as_the_scenarios_write_them() {
        use hickory_proto::dnssec::rdata::DNSSECRData;
        let rrsig = record(
            "example.com. 3600 IN RRSIG DNSKEY DSA 2 3600 20070926134150 20070829134150 2854 \
             example.com. MCwCFBQRtlR4BEv9ohi+PGFjp+AHsJuHAhRCvz0shggvnvI88DFnBDCczHUcVA==",
        )
        .expect("an algorithm mnemonic is read");
        let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &rrsig.data else {
            panic!("not an RRSIG: {rrsig:?}");
        };
        assert_eq!(u8::from(sig.input().algorithm), 3);
        assert_eq!(sig.input().key_tag, 2854);
        assert_eq!(sig.input().type_covered, RecordType::DNSKEY);

        let key = record("x. IN DNSKEY 256 3 8 AwEAAaetidLz ( sAD0QPWU+wzt89ep )")
            .expect("base64 over several words, in parentheses");
        assert_eq!(key.record_type(), RecordType::DNSKEY);
        let unusable = record(
            "test. IN RRSIG SOA 253 1 86400 20170815084229 20170716084229 12062 test. UNUSABLE==",
        )
        .expect("surplus padding is dropped, as dnspython does");
        assert_eq!(unusable.record_type(), RecordType::RRSIG);
        let nsec3 = record("a.example. IN NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG")
            .expect("NSEC3 parses");
        assert_eq!(nsec3.record_type(), RecordType::NSEC3);
        let private = record("x. IN TYPE65534 \\# 1 00").expect("TYPEnnn (RFC 3597 §5)");
        assert_eq!(private.record_type(), RecordType::from(65534));
    }

    #[test]
    fn questions_have_no_data_and_records_need_some() {
        let query = question("www.example.com. IN AAAA").expect("parses");
        assert_eq!(query.query_type, RecordType::AAAA);
        assert!(question("www.example.com. IN A 1.2.3.4").is_err());
        assert!(record("www.example.com. IN A").is_err());
        assert!(record("www.example.com. IN BOGUS 1").is_err());
    }
}
