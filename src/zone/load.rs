//! One TOML zone file → one validated [`Zone`], or every error found in it.
//!
//! Each record is the textbook's 4-tuple (Name, Value, Type, TTL). Names are
//! relative to the origin unless they end in a dot; `@` is the apex.

// Errors carry the names they are about; loading is a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::path::Path;

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record};
use serde::Deserialize;
use toml::Spanned;

use super::Zone;
use super::assemble::{Assembler, Source, file_error};
use super::error::{ZoneError, ZoneErrorKind};
use super::record::{RecordEntry, checked_ttl, parse_name, record_from_entry};

/// The TTL of records when neither the record nor the zone gives one.
pub const DEFAULT_TTL: u32 = 3600;

/// A zone file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneFile {
    origin: Spanned<String>,
    ttl: Option<Spanned<i64>>,
    soa: Option<Spanned<SoaTable>>,
    #[serde(default)]
    records: Vec<Spanned<RecordEntry>>,
    /// DNSSEC: `false` leaves the zone unsigned, `true` requires its key;
    /// absent, the zone is signed when its key exists (RFC 4035 §2).
    signed: Option<bool>,
    /// DNSSEC: `"nsec"` (the default, RFC 4034 §4) or `"nsec3"` (RFC 5155).
    denial: Option<crate::dnssec::Denial>,
    /// DNSSEC: the algorithm `resolver lab keygen` makes the zone's key
    /// with: 15 Ed25519 (the default, RFC 8080) or 13 ECDSA P-256 (RFC 6605).
    algorithm: Option<Spanned<u8>>,
    /// DNSSEC, for teaching: names whose RRSIGs are broken on purpose after
    /// signing, so that a validating resolver finds them bogus.
    broken_signatures: Option<Spanned<Vec<String>>>,
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

/// Reads and validates one zone file, returning the zone or every error in it.
pub fn load_zone_file(path: &Path) -> Result<Zone, Vec<ZoneError>> {
    let text = std::fs::read_to_string(path).map_err(|error| vec![file_error(path, error)])?;
    parse_zone(path, &text)
}

/// Parses and validates the text of a zone file; `path` names it in errors.
pub(super) fn parse_zone(path: &Path, text: &str) -> Result<Zone, Vec<ZoneError>> {
    let file: ZoneFile = toml::from_str(text).map_err(|error| vec![file_error(path, error)])?;
    let mut loader = Loader {
        newlines: text.match_indices('\n').map(|(at, _)| at).collect(),
        out: Assembler::new(path),
    };
    let zone = loader.build(file);
    match zone {
        Some(zone) if loader.out.errors.is_empty() => Ok(zone),
        _ => Err(loader.out.errors),
    }
}

struct Loader<'a> {
    /// Where each line ends, to turn byte offsets into line numbers.
    newlines: Vec<usize>,
    out: Assembler<'a>,
}

impl Loader<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&at| at < offset) + 1
    }

    /// Builds the zone, collecting errors; `None` when it cannot even start (bad origin).
    fn build(&mut self, file: ZoneFile) -> Option<Zone> {
        let origin_line = self.line_of(file.origin.span().start);
        let origin = match parse_name(file.origin.get_ref(), &Name::root()) {
            Ok(origin) => origin,
            Err(kind) => {
                self.out.error_at(origin_line, kind);
                return None;
            }
        };
        let default_ttl = match &file.ttl {
            Some(ttl) => {
                let line = self.line_of(ttl.span().start);
                self.check_ttl(*ttl.get_ref())
                    .map_err(|kind| self.out.error_at(line, kind))
                    .unwrap_or(DEFAULT_TTL)
            }
            None => DEFAULT_TTL,
        };

        let mut records: Vec<(Record, Source)> = Vec::new();
        if let Some(soa) = &file.soa {
            let line = self.line_of(soa.span().start);
            if let Some(record) = self.soa_from_table(soa.get_ref(), &origin, default_ttl, line) {
                let what = format!("{origin} SOA");
                records.push((
                    record,
                    Source {
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
            let origin_of = Source {
                line,
                index: position + 1,
                what: format!("{} {}", entry.name, entry.record_type),
            };
            match record_from_entry(entry, &origin, default_ttl) {
                Ok(record) => records.push((record, origin_of)),
                Err(kind) => self.out.record_error(&origin_of, kind),
            }
        }
        let algorithm = match &file.algorithm {
            None => crate::dnssec::KeyAlgorithm::default(),
            Some(value) => match crate::dnssec::KeyAlgorithm::from_number(*value.get_ref()) {
                Some(algorithm) => algorithm,
                None => {
                    let line = self.line_of(value.span().start);
                    self.out
                        .error_at(line, ZoneErrorKind::BadAlgorithm(*value.get_ref()));
                    crate::dnssec::KeyAlgorithm::default()
                }
            },
        };
        let options = super::ZoneOptions {
            signed: file.signed,
            denial: file.denial.unwrap_or_default(),
            algorithm,
        };
        let mut broken = Vec::new();
        let listed = file.broken_signatures.iter();
        for (text, span) in listed.flat_map(|list| list.get_ref().iter().map(|t| (t, list.span())))
        {
            let line = self.line_of(span.start);
            match parse_name(text, &origin) {
                Ok(name) if records.iter().any(|(record, _)| record.name == name) => {
                    broken.push(name)
                }
                Ok(name) => self
                    .out
                    .error_at(line, ZoneErrorKind::BrokenSignatureName(name.to_string())),
                Err(kind) => self.out.error_at(line, kind),
            }
        }
        self.out.assemble(origin, records).map(|mut zone| {
            zone.options = options;
            zone.broken_signatures = broken;
            zone
        })
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
                self.out.error_at(line, kind);
                None
            }
        }
    }
}
