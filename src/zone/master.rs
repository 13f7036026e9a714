//! RFC 1035 §5 master files in: a `*.zone` file (as NSD and BIND read
//! them) → one validated [`Zone`], by the same rules as a TOML zone
//! (present.rs writes them out).
//!
//! ```text
//! umass.edu.zone ─▶ entries (one per record, with its line) ─▶ hickory's txt::Parser, one record each
//!                ─▶ assemble (the rules of assemble.rs and validate.rs) ─▶ Zone
//! ```
//!
//! hickory-proto's `serialize::txt::Parser` reads the text but returns RRsets
//! without lines, merged, so each record is handed to it alone (with the
//! `$ORIGIN`, `$TTL` and owner in force at its line): every error names its
//! line, and two records of one RRset with different TTLs are still seen.
//! It cannot read DNAME (RFC 6672), so a DNAME is read as a CNAME (both hold
//! one name) and made a DNAME here. `$INCLUDE` is refused: a zone is one file.

// Errors carry the names they are about; loading is a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::path::Path;

use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::{Parser, parse_ttl};

use super::Zone;
use super::assemble::{Assembler, Source};
use super::error::{ZoneError, ZoneErrorKind};
use super::load::DEFAULT_TTL;
use super::record::{MAX_TTL, parse_type};
use crate::names::canonical;

/// The largest character-string in a TXT record (RFC 1035 §3.3).
const MAX_CHARACTER_STRING: usize = 255;

/// The origin a master file starts with before any `$ORIGIN`: its file
/// name without `.zone` (`umass.edu.zone` → `umass.edu.`, `root.zone` → `.`).
fn origin_from_file_name(path: &Path) -> Name {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.trim_end_matches('.');
    if stem == "root" || stem.is_empty() {
        return Name::root();
    }
    Name::from_ascii(format!("{stem}."))
        .map(|name| canonical(&name))
        .unwrap_or_else(|_| Name::root())
}

/// One logical line of a master file (parentheses may span lines), with
/// the line it starts on.
struct Entry<'a> {
    line: usize,
    text: &'a str,
}

/// Splits a master file into its entries, skipping blank and comment-only
/// lines: a line ends an entry unless it is inside parentheses or quotes.
fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut found = Vec::new();
    let (mut line, mut start_line, mut start) = (1, 1, 0);
    let (mut depth, mut quoted, mut escaped, mut comment, mut content) =
        (0usize, false, false, false, false);
    for (at, ch) in text.char_indices() {
        if ch == '\n' {
            line += 1;
            comment = false;
            if depth == 0 && !quoted {
                if content {
                    found.push(Entry {
                        line: start_line,
                        text: &text[start..at],
                    });
                }
                (start, start_line, content, escaped) = (at + 1, line, false, false);
            }
            continue;
        }
        if comment {
            continue;
        }
        if escaped {
            escaped = false;
            continue;
        }
        match ch {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => comment = true,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !comment && !ch.is_whitespace() {
            content = true;
        }
    }
    if content {
        found.push(Entry {
            line: start_line,
            text: &text[start..],
        });
    }
    found
}

/// The words of an entry up to its data's first quote, parenthesis or
/// comment, each with its byte offset: enough to find the owner, TTL, class and type.
fn head_words(text: &str) -> Vec<(usize, &str)> {
    let end = text.find(['"', '(', ';']).unwrap_or(text.len());
    let mut words = Vec::new();
    let mut from = None;
    for (at, ch) in text[..end].char_indices() {
        match (ch.is_whitespace(), from) {
            (false, None) => from = Some(at),
            (true, Some(begin)) => {
                words.push((begin, &text[begin..at]));
                from = None;
            }
            _ => {}
        }
    }
    if let Some(begin) = from {
        words.push((begin, &text[begin..end]));
    }
    words
}

/// What is in force at a line: the origin, `$TTL`, the last TTL and owner.
struct State {
    origin: Name,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    owner: Option<Name>,
}

/// Parses and validates a master file; `path` names it in errors.
pub(super) fn parse_master(path: &Path, text: &str) -> Result<Zone, Vec<ZoneError>> {
    let mut out = Assembler::new(path);
    let mut state = State {
        origin: origin_from_file_name(path),
        default_ttl: None,
        last_ttl: None,
        owner: None,
    };
    let mut records: Vec<(Record, Source)> = Vec::new();
    for entry in entries(text) {
        let words = head_words(entry.text);
        let directive = words
            .first()
            .filter(|(at, word)| *at == 0 && word.starts_with('$'));
        if let Some((_, directive)) = directive {
            let argument = words.get(1).map(|(_, word)| *word);
            if let Err(kind) = state.directive(directive, argument) {
                out.error_at(entry.line, kind);
            }
            continue;
        }
        let source = Source {
            line: entry.line,
            index: records.len() + 1,
            what: what_of(entry.text, &words),
        };
        match state.record(entry.text, &words) {
            Ok(record) => records.push((record, source)),
            Err(kind) => out.record_error(&source, kind),
        }
    }
    let origin = records
        .iter()
        .find(|(record, _)| record.record_type() == RecordType::SOA)
        .map(|(record, _)| record.name.clone());
    let Some(origin) = origin else {
        out.zone_error(ZoneErrorKind::MissingSoa);
        return Err(out.errors);
    };
    match out.assemble(origin, records) {
        Some(zone) if out.errors.is_empty() => Ok(zone),
        _ => Err(out.errors),
    }
}

/// The record as written, for messages: its owner (or the one in force) and type.
fn what_of(text: &str, words: &[(usize, &str)]) -> String {
    let implicit = text.starts_with(char::is_whitespace);
    let skip = usize::from(!implicit);
    let kind = words
        .iter()
        .skip(skip)
        .map(|(_, word)| *word)
        .find(|word| parse_ttl(word).is_err() && !is_class(word))
        .unwrap_or("?");
    let owner = match words.first() {
        Some((_, owner)) if !implicit => owner,
        _ => "(same owner)",
    };
    format!("{owner} {kind}")
}

fn is_class(word: &str) -> bool {
    ["IN", "CH", "HS", "CS", "NONE", "ANY"]
        .iter()
        .any(|class| word.eq_ignore_ascii_case(class))
}

impl State {
    /// `$ORIGIN NAME` or `$TTL TIME` (RFC 1035 §5.1, RFC 2308 §4).
    fn directive(&mut self, directive: &str, argument: Option<&str>) -> Result<(), ZoneErrorKind> {
        let missing = || ZoneErrorKind::BadDirective {
            directive: directive.to_string(),
            reason: "it needs a value",
        };
        match directive.to_ascii_uppercase().as_str() {
            "$ORIGIN" => {
                let text = argument.ok_or_else(missing)?;
                let name =
                    Name::parse(text, Some(&self.origin)).map_err(|_| ZoneErrorKind::BadName {
                        name: text.to_string(),
                        reason: "not a valid domain name",
                    })?;
                self.origin = canonical(&name);
            }
            "$TTL" => {
                let text = argument.ok_or_else(missing)?;
                let ttl = parse_ttl(text).map_err(|_| ZoneErrorKind::BadDirective {
                    directive: directive.to_string(),
                    reason: "not a TTL",
                })?;
                self.default_ttl = Some(checked(ttl)?);
            }
            _ => {
                return Err(ZoneErrorKind::BadDirective {
                    directive: directive.to_string(),
                    reason: "only $ORIGIN and $TTL are read ($INCLUDE is not: a zone is one file)",
                });
            }
        }
        Ok(())
    }

    /// One record, parsed by hickory with what is in force at its line.
    fn record(&mut self, text: &str, words: &[(usize, &str)]) -> Result<Record, ZoneErrorKind> {
        let implicit = text.starts_with(char::is_whitespace);
        let owner = match (&self.owner, implicit) {
            (Some(owner), true) => format!("{owner} "),
            (None, true) => return Err(ZoneErrorKind::NoOwner),
            (_, false) => String::new(),
        };
        let skip = usize::from(!implicit);
        let (type_at, type_word) = words
            .iter()
            .skip(skip)
            .find(|(_, word)| parse_ttl(word).is_err() && !is_class(word))
            .copied()
            .ok_or(ZoneErrorKind::NoType)?;
        let record_type = parse_type(type_word)?;
        let is_dname = record_type == RecordType::DNAME;
        // hickory reads no DNAME: read it as the CNAME it is shaped like.
        let body = if is_dname {
            let after = &text[type_at + type_word.len()..];
            format!("{}CNAME{after}", &text[..type_at])
        } else {
            text.to_string()
        };
        let body = decode_quoted_octets(&body).ok_or_else(|| ZoneErrorKind::BadValue {
            record_type,
            value: text.trim().to_string(),
            expected: "\\DDD escapes in quotes that spell UTF-8 text",
        })?;
        let ttl = self.default_ttl.or(self.last_ttl).unwrap_or(DEFAULT_TTL);
        let document = format!("$ORIGIN {}\n$TTL {ttl}\n{owner}{body}\n", self.origin);
        let (_, rrsets) = Parser::new(document, None, None)
            .parse()
            .map_err(ZoneErrorKind::MasterSyntax)?;
        let record = rrsets
            .into_values()
            .flat_map(|rrset| rrset.records_without_rrsigs().cloned().collect::<Vec<_>>())
            .next()
            .ok_or(ZoneErrorKind::NoType)?;
        if record.dns_class != DNSClass::IN {
            return Err(ZoneErrorKind::NotInternetClass(record.dns_class));
        }
        checked(record.ttl)?;
        let owner = canonical(&record.name);
        self.owner = Some(owner.clone());
        if self.default_ttl.is_none() {
            self.last_ttl = Some(record.ttl);
        }
        let data = match record.data {
            RData::CNAME(target) if is_dname => crate::dname::rdata(&target.0),
            RData::TXT(txt) => {
                if txt.txt_data.iter().any(|s| s.len() > MAX_CHARACTER_STRING) {
                    return Err(ZoneErrorKind::BadValue {
                        record_type,
                        value: text.trim().to_string(),
                        expected: "character-strings of at most 255 octets each",
                    });
                }
                RData::TXT(txt)
            }
            data => data,
        };
        Ok(Record::from_rdata(owner, record.ttl, data))
    }
}

/// The entry with every `\DDD` escape inside quotes (RFC 1035 §5.1: the
/// octet DDD, in decimal) replaced by the text it spells, escaped again only
/// for `"` and `\`: hickory's lexer reads `\DDD` in quotes wrongly (as
/// D<<16 + D<<8 + D), and takes any other character there as it is. Runs of
/// escapes are read together, so UTF-8 written octet by octet (as BIND and
/// NSD write it) comes out as its text. `None` when the octets are not UTF-8
/// (hickory keeps TXT strings as text). Names, outside quotes, are left to
/// hickory's name parser, which reads `\DDD` right.
fn decode_quoted_octets(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut octets = Vec::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let flush = |octets: &mut Vec<u8>, out: &mut String| -> Option<()> {
        for ch in std::str::from_utf8(octets).ok()?.chars() {
            if ch == '"' || ch == '\\' {
                out.push('\\');
            }
            out.push(ch);
        }
        octets.clear();
        Some(())
    };
    while let Some(ch) = chars.next() {
        if quoted && ch == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
                octets.push(digits.parse::<u8>().ok()?);
                chars.nth(2);
                continue;
            }
        }
        flush(&mut octets, &mut out)?;
        out.push(ch);
        match ch {
            '\\' => out.extend(chars.next()),
            '"' => quoted = !quoted,
            _ => {}
        }
    }
    flush(&mut octets, &mut out)?;
    Some(out)
}

fn checked(ttl: u32) -> Result<u32, ZoneErrorKind> {
    if i64::from(ttl) <= MAX_TTL {
        Ok(ttl)
    } else {
        Err(ZoneErrorKind::TtlOutOfRange(i64::from(ttl)))
    }
}

#[cfg(test)]
mod tests;
