//! A TOML zone's `[[records]]` entry → one resource record: the value of
//! each type parsed as RFC 1035 §3.3 describes it, names relative to the
//! origin unless they end in a dot.

// Errors carry the names they are about; loading is a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::Deserialize;

use super::error::ZoneErrorKind;
use crate::names::canonical;

/// The largest TTL a record may carry (RFC 2181 §8: 2^31 - 1).
pub const MAX_TTL: i64 = 2_147_483_647;

/// The largest character-string in a TXT record (RFC 1035 §3.3).
const MAX_CHARACTER_STRING: usize = 255;

/// One `[[records]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordEntry {
    /// The owner name as written.
    pub(super) name: String,
    /// The type as written.
    #[serde(rename = "type")]
    pub(super) record_type: String,
    /// The value as written.
    pub(super) value: Value,
    /// The TTL, when given.
    pub(super) ttl: Option<i64>,
}

/// A record's value: one string, or for TXT a list of character-strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Value {
    /// One string.
    One(String),
    /// Several character-strings (TXT).
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

pub(super) fn checked_ttl(ttl: i64) -> Result<u32, ZoneErrorKind> {
    if (0..=MAX_TTL).contains(&ttl) {
        Ok(ttl as u32) // in range: 0..=2^31-1 fits u32
    } else {
        Err(ZoneErrorKind::TtlOutOfRange(ttl))
    }
}

/// Builds the record one `[[records]]` entry describes.
pub(super) fn record_from_entry(
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

pub(super) fn parse_type(text: &str) -> Result<RecordType, ZoneErrorKind> {
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
