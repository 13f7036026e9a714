//! One TOML zone file → one validated [`Zone`], or every error found in it.
//!
//! Each record is the textbook's 4-tuple (Name, Value, Type, TTL). Names are
//! relative to the origin unless they end in a dot; `@` is the apex.

// Errors carry the names they are about; loading is a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::Deserialize;
use toml::Spanned;

use super::{Node, RRset, Zone};
use crate::names::{canonical, in_bailiwick, label_count, strictly_below};

/// The largest TTL a record may carry (RFC 2181 §8: 2^31 - 1).
pub const MAX_TTL: i64 = 2_147_483_647;

/// The TTL of records when neither the record nor the zone gives one.
pub const DEFAULT_TTL: u32 = 3600;

/// The largest character-string in a TXT record (RFC 1035 §3.3).
const MAX_CHARACTER_STRING: usize = 255;

/// One problem found in a zone file, with where it is.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {kind}", file.display(), location(*line, *record, what.as_deref()))]
pub struct ZoneError {
    /// The zone file.
    pub file: PathBuf,
    /// The line of the record or key, when known.
    pub line: Option<usize>,
    /// The record's position among the file's `[[records]]`, from 1.
    pub record: Option<usize>,
    /// The record as written (`name type`), when the error is about one.
    pub what: Option<String>,
    /// What is wrong.
    pub kind: ZoneErrorKind,
}

fn location(line: Option<usize>, record: Option<usize>, what: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(line) = line {
        text.push_str(&format!(":{line}"));
    }
    if let Some(record) = record {
        text.push_str(&format!(": record {record}"));
    }
    if let Some(what) = what {
        text.push_str(&format!(" ({what})"));
    }
    text
}

/// What can be wrong in a zone file.
#[derive(Debug, thiserror::Error)]
pub enum ZoneErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    /// The file is not valid TOML or has keys the format does not know.
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    /// A domain name that is not one.
    #[error("bad name {name:?}: {reason}")]
    BadName {
        /// The name as written.
        name: String,
        /// Why it is not a valid name.
        reason: &'static str,
    },
    /// An A value that is not an IPv4 address, or an AAAA value that is not IPv6.
    #[error("bad {family} address {value:?}")]
    BadAddress {
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// The value as written.
        value: String,
    },
    /// A value that does not fit its type.
    #[error("bad {record_type} value {value:?}: expected {expected}")]
    BadValue {
        /// The record's type.
        record_type: RecordType,
        /// The value as written.
        value: String,
        /// What the type's value looks like.
        expected: &'static str,
    },
    /// A type this server does not load.
    #[error("unknown type {0:?} (known: A, AAAA, NS, CNAME, DNAME, MX, TXT, PTR, SOA)")]
    UnknownType(String),
    /// A TTL outside 0..=2147483647 (RFC 2181 §8).
    #[error("TTL {0} is outside 0..=2147483647")]
    TtlOutOfRange(i64),
    /// A record whose name is not at or below the origin.
    #[error("{name} is outside the zone's origin {origin}")]
    OutsideOrigin {
        /// The record's owner name.
        name: Name,
        /// The zone's apex.
        origin: Name,
    },
    /// A CNAME beside other data at the same name (RFC 1034 §3.6.2).
    #[error("{0} has a CNAME and other data; a CNAME must stand alone (RFC 1034 §3.6.2)")]
    CnameAndOtherData(Name),
    /// More than one CNAME at one name.
    #[error("{0} has more than one CNAME")]
    MultipleCnames(Name),
    /// More than one DNAME at one name: DNAME is a singleton (RFC 6672 §2.4).
    #[error("{0} has more than one DNAME; one name redirects one way (RFC 6672 §2.4)")]
    MultipleDnames(Name),
    /// A DNAME and a CNAME at one name (RFC 6672 §2.4).
    #[error("{0} has a DNAME and a CNAME; they cannot share a name (RFC 6672 §2.4)")]
    DnameAndCname(Name),
    /// A DNAME at a delegation point: beside NS only at the apex (RFC 6672 §2.3).
    #[error("{0} has a DNAME beside NS records; only the apex may (RFC 6672 §2.3)")]
    DnameAtDelegation(Name),
    /// A zone whose apex is at or below a DNAME of another loaded zone: no
    /// query can reach it (RFC 6672 §2.4).
    #[error("the zone {origin} is at or below the DNAME at {dname} in {}: no query can reach it (RFC 6672 §2.4)", file.display())]
    ZoneBelowDname {
        /// The zone's apex.
        origin: Name,
        /// The DNAME's owner.
        dname: Name,
        /// The file of the zone that holds the DNAME.
        file: PathBuf,
    },
    /// Data below a DNAME, which no query could reach (RFC 6672 §2.4).
    #[error("{name} is below the DNAME at {dname}: no data may be there (RFC 6672 §2.4)")]
    BelowDname {
        /// The owner name of the unreachable record.
        name: Name,
        /// The DNAME's owner above it.
        dname: Name,
    },
    /// Records of one RRset with different TTLs.
    #[error("the {record_type} records of {name} have different TTLs (RFC 2181 §5.2)")]
    TtlMismatch {
        /// The owner name.
        name: Name,
        /// The RRset's type.
        record_type: RecordType,
    },
    /// A nameserver inside the zone with no A or AAAA record in it.
    #[error("nameserver {0} is inside the zone but has no A or AAAA record here")]
    NsWithoutAddress(Name),
    /// Data hidden below a delegation point that is not glue (RFC 1034 §4.2.1).
    #[error("{name} is below the delegation point {cut}: only A/AAAA glue may be there")]
    Occluded {
        /// The owner name of the hidden record.
        name: Name,
        /// The delegation point above it.
        cut: Name,
    },
    /// No SOA: neither a `[soa]` table nor an SOA record.
    #[error("the zone has no SOA: add a [soa] table")]
    MissingSoa,
    /// More than one SOA.
    #[error("the zone has more than one SOA")]
    DuplicateSoa,
    /// An SOA record elsewhere than at the apex.
    #[error("an SOA record must be at the apex {0}")]
    SoaNotAtApex(Name),
    /// No NS records at the apex: nobody would serve the zone.
    #[error("the apex {0} has no NS records")]
    NoApexNs(Name),
    /// Two files for one origin.
    #[error("origin {origin} is also loaded from {}", other.display())]
    DuplicateOrigin {
        /// The origin both files claim.
        origin: Name,
        /// The other file.
        other: PathBuf,
    },
    /// No nameserver of the zone has an address in any loaded zone.
    #[error("no nameserver of {0} has an address in the loaded zones, so no server can serve it")]
    Unserved(Name),
}

/// A zone file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneFile {
    origin: Spanned<String>,
    ttl: Option<Spanned<i64>>,
    soa: Option<Spanned<SoaTable>>,
    #[serde(default)]
    records: Vec<Spanned<RecordEntry>>,
}

/// The `[soa]` table (RFC 1035 §3.3.13).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SoaTable {
    mname: String,
    rname: String,
    serial: u32,
    refresh: i32,
    retry: i32,
    expire: i32,
    minimum: u32,
    ttl: Option<i64>,
}

/// One `[[records]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordEntry {
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    value: Value,
    ttl: Option<i64>,
}

/// A record's value: one string, or for TXT a list of character-strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Value {
    One(String),
    Many(Vec<String>),
}

impl Value {
    fn display(&self) -> String {
        match self {
            Value::One(text) => text.clone(),
            Value::Many(parts) => parts.join(" "),
        }
    }
}

/// Reads and validates one zone file, returning the zone or every error in it.
pub fn load_zone_file(path: &Path) -> Result<Zone, Vec<ZoneError>> {
    let text = std::fs::read_to_string(path).map_err(|error| vec![file_error(path, error)])?;
    parse_zone(path, &text)
}

fn file_error(path: &Path, kind: impl Into<ZoneErrorKind>) -> ZoneError {
    ZoneError {
        file: path.to_path_buf(),
        line: None,
        record: None,
        what: None,
        kind: kind.into(),
    }
}

/// Parses and validates the text of a zone file; `path` names it in errors.
pub(super) fn parse_zone(path: &Path, text: &str) -> Result<Zone, Vec<ZoneError>> {
    let file: ZoneFile = toml::from_str(text).map_err(|error| vec![file_error(path, error)])?;
    let mut loader = Loader {
        path,
        newlines: text.match_indices('\n').map(|(at, _)| at).collect(),
        errors: Vec::new(),
    };
    let zone = loader.build(file);
    match zone {
        Some(zone) if loader.errors.is_empty() => Ok(zone),
        _ => Err(loader.errors),
    }
}

/// Where a record came from, for error messages.
#[derive(Debug, Clone)]
struct Origin {
    line: usize,
    index: usize,
    what: String,
}

struct Loader<'a> {
    path: &'a Path,
    /// Where each line ends, to turn byte offsets into line numbers.
    newlines: Vec<usize>,
    errors: Vec<ZoneError>,
}

impl Loader<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&at| at < offset) + 1
    }

    fn error_at(&mut self, line: usize, kind: ZoneErrorKind) {
        self.errors.push(ZoneError {
            file: self.path.to_path_buf(),
            line: Some(line),
            record: None,
            what: None,
            kind,
        });
    }

    fn record_error(&mut self, origin: &Origin, kind: ZoneErrorKind) {
        self.errors.push(ZoneError {
            file: self.path.to_path_buf(),
            line: Some(origin.line),
            record: Some(origin.index),
            what: Some(origin.what.clone()),
            kind,
        });
    }

    fn zone_error(&mut self, kind: ZoneErrorKind) {
        self.errors.push(file_error(self.path, kind));
    }

    /// Builds the zone, collecting errors; `None` when it cannot even start (bad origin).
    fn build(&mut self, file: ZoneFile) -> Option<Zone> {
        let origin_line = self.line_of(file.origin.span().start);
        let origin = match parse_name(file.origin.get_ref(), &Name::root()) {
            Ok(origin) => origin,
            Err(kind) => {
                self.error_at(origin_line, kind);
                return None;
            }
        };
        let default_ttl = match &file.ttl {
            Some(ttl) => {
                let line = self.line_of(ttl.span().start);
                self.check_ttl(*ttl.get_ref())
                    .map_err(|kind| self.error_at(line, kind))
                    .unwrap_or(DEFAULT_TTL)
            }
            None => DEFAULT_TTL,
        };

        let mut records: Vec<(Record, Origin)> = Vec::new();
        if let Some(soa) = &file.soa {
            let line = self.line_of(soa.span().start);
            if let Some(record) = self.soa_from_table(soa.get_ref(), &origin, default_ttl, line) {
                let what = format!("{origin} SOA");
                records.push((
                    record,
                    Origin {
                        line,
                        index: 0,
                        what,
                    },
                ));
            }
        }
        for (position, entry) in file.records.iter().enumerate() {
            let line = self.line_of(entry.span().start);
            let entry = entry.get_ref();
            let origin_of = Origin {
                line,
                index: position + 1,
                what: format!("{} {}", entry.name, entry.record_type),
            };
            match record_from_entry(entry, &origin, default_ttl) {
                Ok(record) => records.push((record, origin_of)),
                Err(kind) => self.record_error(&origin_of, kind),
            }
        }
        self.assemble(origin, records)
    }

    fn check_ttl(&self, ttl: i64) -> Result<u32, ZoneErrorKind> {
        checked_ttl(ttl)
    }

    fn soa_from_table(
        &mut self,
        table: &SoaTable,
        origin: &Name,
        default_ttl: u32,
        line: usize,
    ) -> Option<Record> {
        let names = parse_name(&table.mname, origin)
            .and_then(|mname| Ok((mname, parse_name(&table.rname, origin)?)));
        let ttl = table.ttl.map(checked_ttl).unwrap_or(Ok(default_ttl));
        match (names, ttl) {
            (Ok((mname, rname)), Ok(ttl)) => {
                let soa = SOA::new(
                    mname,
                    rname,
                    table.serial,
                    table.refresh,
                    table.retry,
                    table.expire,
                    table.minimum,
                );
                Some(Record::from_rdata(origin.clone(), ttl, RData::SOA(soa)))
            }
            (Err(kind), _) | (_, Err(kind)) => {
                self.error_at(line, kind);
                None
            }
        }
    }

    /// Groups records into RRsets and checks the rules that span records.
    fn assemble(&mut self, origin: Name, records: Vec<(Record, Origin)>) -> Option<Zone> {
        let mut soa: Option<Record> = None;
        let mut sets: HashMap<(Name, RecordType), (RRset, Origin)> = HashMap::new();
        let mut order: Vec<(Name, RecordType)> = Vec::new();
        let record_count = records.len();

        for (record, source) in records {
            if !in_bailiwick(&record.name, &origin) {
                let kind = ZoneErrorKind::OutsideOrigin {
                    name: record.name.clone(),
                    origin: origin.clone(),
                };
                self.record_error(&source, kind);
                continue;
            }
            if record.record_type() == RecordType::SOA {
                if record.name != origin {
                    self.record_error(&source, ZoneErrorKind::SoaNotAtApex(origin.clone()));
                } else if soa.is_some() {
                    self.record_error(&source, ZoneErrorKind::DuplicateSoa);
                } else {
                    soa = Some(record.clone());
                }
            }
            let key = (record.name.clone(), record.record_type());
            match sets.get_mut(&key) {
                Some((rrset, _)) => {
                    if rrset.records.iter().any(|r| r.data == record.data) {
                        continue; // an exact duplicate says nothing new
                    }
                    if key.1 == RecordType::CNAME {
                        self.record_error(&source, ZoneErrorKind::MultipleCnames(key.0.clone()));
                    } else if key.1 == RecordType::DNAME {
                        self.record_error(&source, ZoneErrorKind::MultipleDnames(key.0.clone()));
                    } else if rrset.ttl() != record.ttl {
                        let kind = ZoneErrorKind::TtlMismatch {
                            name: key.0.clone(),
                            record_type: key.1,
                        };
                        self.record_error(&source, kind);
                    }
                    rrset.records.push(record);
                }
                None => {
                    order.push(key.clone());
                    let rrset = RRset {
                        records: vec![record],
                    };
                    sets.insert(key, (rrset, source));
                }
            }
        }

        let Some(soa) = soa else {
            self.zone_error(ZoneErrorKind::MissingSoa);
            return None;
        };

        let mut nodes: HashMap<Name, Node> = HashMap::new();
        let mut sources: HashMap<Name, Origin> = HashMap::new();
        for key in order {
            let (rrset, source) = sets.remove(&key).expect("every key in order was inserted");
            sources.entry(key.0.clone()).or_insert(source);
            nodes.entry(key.0).or_default().rrsets.push(rrset);
        }
        self.check_cnames(&nodes, &sources);
        self.check_cuts(&origin, &nodes, &sources);
        for (name, kind) in super::validate::dname_rules(&origin, &nodes) {
            self.record_error(&sources[&name], kind);
        }
        add_empty_non_terminals(&origin, &mut nodes);

        let zone = Zone {
            origin,
            file: self.path.to_path_buf(),
            soa,
            nodes,
            record_count,
        };
        self.check_nameservers(&zone, &sources);
        Some(zone)
    }

    fn check_cnames(&mut self, nodes: &HashMap<Name, Node>, sources: &HashMap<Name, Origin>) {
        for (name, node) in nodes {
            // A CNAME beside a DNAME breaks RFC 6672's rule first: validate.rs says so.
            let beside_dname = node.rrset(RecordType::DNAME).is_some();
            if node.rrset(RecordType::CNAME).is_some() && node.rrsets.len() > 1 && !beside_dname {
                self.record_error(
                    &sources[name],
                    ZoneErrorKind::CnameAndOtherData(name.clone()),
                );
            }
        }
    }

    /// Below a delegation point only glue (A, AAAA) may live (RFC 1034 §4.2.1).
    fn check_cuts(
        &mut self,
        origin: &Name,
        nodes: &HashMap<Name, Node>,
        sources: &HashMap<Name, Origin>,
    ) {
        let cuts: Vec<&Name> = nodes
            .iter()
            .filter(|(name, node)| *name != origin && node.rrset(RecordType::NS).is_some())
            .map(|(name, _)| name)
            .collect();
        for (name, node) in nodes {
            let Some(cut) = cuts.iter().find(|cut| strictly_below(name, cut)) else {
                continue;
            };
            let hidden = node
                .rrsets
                .iter()
                .any(|rrset| !matches!(rrset.record_type(), RecordType::A | RecordType::AAAA));
            if hidden {
                let kind = ZoneErrorKind::Occluded {
                    name: name.clone(),
                    cut: (*cut).clone(),
                };
                self.record_error(&sources[name], kind);
            }
        }
    }

    /// The apex needs NS records, and every nameserver inside the zone it
    /// serves (the apex's zone, or a delegated child: in-domain glue, RFC 9471)
    /// needs an address here.
    fn check_nameservers(&mut self, zone: &Zone, sources: &HashMap<Name, Origin>) {
        if zone.rrset(zone.origin(), RecordType::NS).is_none() {
            self.zone_error(ZoneErrorKind::NoApexNs(zone.origin().clone()));
        }
        for (owner, node) in &zone.nodes {
            for target in super::ns_targets(node.rrset(RecordType::NS)) {
                if in_bailiwick(&target, owner) && zone.addresses(&target).is_empty() {
                    self.record_error(&sources[owner], ZoneErrorKind::NsWithoutAddress(target));
                }
            }
        }
    }
}

/// Every ancestor of every owner name, down from the apex, exists (RFC 1034
/// §3.1): the ones with no data of their own are empty non-terminals.
fn add_empty_non_terminals(origin: &Name, nodes: &mut HashMap<Name, Node>) {
    let owners: Vec<Name> = nodes.keys().cloned().collect();
    for owner in owners {
        let mut name = owner;
        while label_count(&name) > label_count(origin) {
            name = name.base_name();
            nodes.entry(name.clone()).or_default();
        }
    }
}

fn checked_ttl(ttl: i64) -> Result<u32, ZoneErrorKind> {
    if (0..=MAX_TTL).contains(&ttl) {
        Ok(ttl as u32) // in range: 0..=2^31-1 fits u32
    } else {
        Err(ZoneErrorKind::TtlOutOfRange(ttl))
    }
}

/// Builds the record one `[[records]]` entry describes.
fn record_from_entry(
    entry: &RecordEntry,
    origin: &Name,
    default_ttl: u32,
) -> Result<Record, ZoneErrorKind> {
    let name = parse_name(&entry.name, origin)?;
    let record_type = parse_type(&entry.record_type)?;
    let ttl = entry.ttl.map(checked_ttl).unwrap_or(Ok(default_ttl))?;
    let data = parse_value(record_type, &entry.value, origin)?;
    Ok(Record::from_rdata(name, ttl, data))
}

fn parse_type(text: &str) -> Result<RecordType, ZoneErrorKind> {
    let record_type = RecordType::from_str(&text.to_ascii_uppercase())
        .map_err(|_| ZoneErrorKind::UnknownType(text.to_string()))?;
    match record_type {
        RecordType::A
        | RecordType::AAAA
        | RecordType::NS
        | RecordType::CNAME
        | RecordType::DNAME
        | RecordType::MX
        | RecordType::TXT
        | RecordType::PTR
        | RecordType::SOA => Ok(record_type),
        _ => Err(ZoneErrorKind::UnknownType(text.to_string())),
    }
}

/// Parses a value for one record type (RFC 1035 §3.3 and §3.4).
fn parse_value(
    record_type: RecordType,
    value: &Value,
    origin: &Name,
) -> Result<RData, ZoneErrorKind> {
    let bad_value = |expected| ZoneErrorKind::BadValue {
        record_type,
        value: value.display(),
        expected,
    };
    if record_type == RecordType::TXT {
        return Ok(RData::TXT(TXT::new(txt_strings(value))));
    }
    let Value::One(text) = value else {
        return Err(bad_value("one string"));
    };
    let text = text.trim();
    Ok(match record_type {
        RecordType::A => RData::A(A(Ipv4Addr::from_str(text).map_err(|_| {
            ZoneErrorKind::BadAddress {
                family: "IPv4",
                value: text.to_string(),
            }
        })?)),
        RecordType::AAAA => RData::AAAA(AAAA(Ipv6Addr::from_str(text).map_err(|_| {
            ZoneErrorKind::BadAddress {
                family: "IPv6",
                value: text.to_string(),
            }
        })?)),
        RecordType::NS => RData::NS(NS(parse_name(text, origin)?)),
        RecordType::CNAME => RData::CNAME(CNAME(parse_name(text, origin)?)),
        RecordType::PTR => RData::PTR(PTR(parse_name(text, origin)?)),
        RecordType::DNAME => crate::dname::rdata(&parse_name(text, origin)?),
        RecordType::MX => {
            let expected = "\"PREFERENCE EXCHANGE\", e.g. \"10 mail.umass.edu.\"";
            let mut parts = text.split_whitespace();
            let (Some(preference), Some(exchange), None) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad_value(expected));
            };
            let preference = preference.parse().map_err(|_| bad_value(expected))?;
            RData::MX(MX::new(preference, parse_name(exchange, origin)?))
        }
        RecordType::SOA => {
            let expected = "\"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\"";
            let parts: Vec<&str> = text.split_whitespace().collect();
            let [mname, rname, serial, refresh, retry, expire, minimum] = parts[..] else {
                return Err(bad_value(expected));
            };
            let number = |text: &str| text.parse::<u32>().map_err(|_| bad_value(expected));
            let signed = |text: &str| text.parse::<i32>().map_err(|_| bad_value(expected));
            RData::SOA(SOA::new(
                parse_name(mname, origin)?,
                parse_name(rname, origin)?,
                number(serial)?,
                signed(refresh)?,
                signed(retry)?,
                signed(expire)?,
                number(minimum)?,
            ))
        }
        _ => unreachable!("parse_type admits only the types matched above"),
    })
}

/// TXT data as character-strings of at most 255 octets each (RFC 1035 §3.3.14).
fn txt_strings(value: &Value) -> Vec<String> {
    let parts: Vec<&str> = match value {
        Value::One(text) => vec![text.as_str()],
        Value::Many(parts) => parts.iter().map(String::as_str).collect(),
    };
    parts
        .into_iter()
        .flat_map(split_character_strings)
        .collect()
}

fn split_character_strings(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if current.len() + ch.len_utf8() > MAX_CHARACTER_STRING {
            chunks.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    chunks.push(current);
    chunks
}

/// Parses a name as written in a zone file: `@` is the origin, a name ending
/// in a dot is absolute, any other is relative to the origin. The result is
/// lower case: names are case-insensitive (RFC 4343).
pub fn parse_name(text: &str, origin: &Name) -> Result<Name, ZoneErrorKind> {
    let text = text.trim();
    let bad = |reason| ZoneErrorKind::BadName {
        name: text.to_string(),
        reason,
    };
    if text == "@" {
        return Ok(origin.clone());
    }
    if text == "." {
        return Ok(Name::root());
    }
    if text.is_empty() {
        return Err(bad("empty"));
    }
    let absolute = text.ends_with('.');
    let body = text.strip_suffix('.').unwrap_or(text);
    for label in body.split('.') {
        check_label(label).map_err(bad)?;
    }
    let name = Name::from_ascii(body).map_err(|_| bad("not a valid domain name"))?;
    let name = if absolute {
        name
    } else {
        name.append_domain(origin)
            .map_err(|_| bad("longer than 255 octets once the origin is added"))?
    };
    if name.len() > 255 {
        return Err(bad("longer than 255 octets"));
    }
    Ok(canonical(&name))
}

/// A label of letters, digits, hyphens and underscores, at most 63 octets
/// (RFC 1035 §2.3.4), or the wildcard `*`.
fn check_label(label: &str) -> Result<(), &'static str> {
    if label.is_empty() {
        return Err("empty label (two dots in a row?)");
    }
    if label.len() > 63 {
        return Err("a label is longer than 63 octets");
    }
    if label == "*" {
        return Ok(());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/';
    if !label.chars().all(allowed) {
        return Err("only letters, digits, '-', '_' and '/' may appear in a label");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Name {
        Name::from_ascii("umass.edu.").expect("valid")
    }

    #[test]
    fn relative_absolute_and_apex_names() {
        assert_eq!(parse_name("@", &origin()).unwrap(), origin());
        assert_eq!(
            parse_name("gaia.cs", &origin()).unwrap().to_string(),
            "gaia.cs.umass.edu."
        );
        assert_eq!(
            parse_name("Dns.UMass.edu.", &origin()).unwrap().to_string(),
            "dns.umass.edu."
        );
    }

    #[test]
    fn bad_names_say_why() {
        for bad in ["a..b", "", "sp ace", &"x".repeat(64)] {
            assert!(
                matches!(
                    parse_name(bad, &origin()),
                    Err(ZoneErrorKind::BadName { .. })
                ),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn long_txt_is_split_into_character_strings() {
        let text = "y".repeat(600);
        let parts = split_character_strings(&text);
        assert_eq!(
            parts.iter().map(String::len).collect::<Vec<_>>(),
            [255, 255, 90]
        );
    }
}
