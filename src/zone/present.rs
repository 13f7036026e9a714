//! Zones out, in presentation format: any loaded zone → an RFC 1035 §5
//! master file that NSD, BIND and master.rs read (`resolver zone export`).
//!
//! ```text
//! Zone ─▶ $ORIGIN, $TTL, the SOA, every RRset in canonical name order (RFC 4034 §6.1) ─▶ ORIGIN.zone
//! ```

use std::fmt::Write as _;

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::Zone;
use crate::names::canonical;

/// The file name a zone is exported under: `ORIGIN.zone`, `root.zone` for the root.
pub fn file_name(origin: &Name) -> String {
    if origin.is_root() {
        "root.zone".to_string()
    } else {
        format!("{}zone", canonical(origin))
    }
}

/// The zone as a master file (RFC 1035 §5): `$ORIGIN` and `$TTL` first, then
/// the SOA, then every RRset in name order, each record with its TTL and
/// class, names relative to the origin (absolute in the root zone).
pub fn to_master(zone: &Zone) -> String {
    master_text(zone, false)
}

/// As [`to_master`], with what signing added: the DNSKEY, DS, NSEC or
/// NSEC3PARAM sets, every RRSIG and the NSEC3 chain (RFC 4034, RFC 5155),
/// so that `ldns-verify-zone` or `dnssec-verify` can check the signed zone.
pub fn to_master_signed(zone: &Zone) -> String {
    master_text(zone, true)
}

fn master_text(zone: &Zone, signed: bool) -> String {
    let origin = zone.origin();
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(text, "$ORIGIN {origin}");
    let _ = writeln!(text, "$TTL {}", zone.soa().ttl);
    let _ = writeln!(text, "; the zone {origin}, from {}", zone.file().display());
    let mut names: Vec<&Name> = zone
        .nodes()
        .filter(|(_, node)| !node.is_empty())
        .map(|(name, _)| name)
        .collect();
    names.sort(); // canonical order (RFC 4034 §6.1)
    write_record(&mut text, origin, zone.soa());
    for name in names {
        let Some(node) = zone.node(name) else {
            continue;
        };
        for rrset in node.rrsets() {
            if rrset.generated && !signed {
                continue;
            }
            for record in &rrset.records {
                if record.record_type() != RecordType::SOA {
                    write_record(&mut text, origin, record);
                }
            }
            if signed {
                for signature in &rrset.signatures {
                    write_record(&mut text, origin, signature);
                }
            }
        }
    }
    let chain = zone.security().and_then(|security| security.nsec3.as_ref());
    for entry in chain
        .filter(|_| signed)
        .map(|chain| chain.entries.as_slice())
        .unwrap_or_default()
    {
        write_record(&mut text, origin, &entry.record);
        for signature in &entry.signatures {
            write_record(&mut text, origin, signature);
        }
    }
    text
}

fn write_record(text: &mut String, origin: &Name, record: &Record) {
    let _ = writeln!(
        text,
        "{}\t{}\tIN\t{}\t{}",
        relative(&record.name, origin),
        record.ttl,
        record.record_type(),
        presentation(record)
    );
}

/// A name as written under `$ORIGIN origin`: `@`, relative, or absolute.
fn relative(name: &Name, origin: &Name) -> String {
    if name == origin {
        return "@".to_string();
    }
    // Counted with a leading `*` (num_labels discounts it, RFC 4034 §3.1.3).
    let below = crate::names::label_count(name).saturating_sub(crate::names::label_count(origin));
    if origin.is_root() || !origin.zone_of(name) {
        return name.to_string();
    }
    match Name::from_labels(name.iter().take(below)) {
        Ok(mut prefix) => {
            prefix.set_fqdn(false);
            prefix.to_string()
        }
        Err(_) => name.to_string(),
    }
}

/// A record's data in presentation format: hickory's, but for the DNAME
/// (held as unknown RDATA) and TXT (every character-string quoted).
fn presentation(record: &Record) -> String {
    match &record.data {
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|string| quoted(string))
            .collect::<Vec<_>>()
            .join(" "),
        RData::Unknown { code, .. } if *code == RecordType::DNAME => crate::dname::target(record)
            .map(|target| target.to_string())
            .unwrap_or_default(),
        data => data.to_string(),
    }
}

/// A character-string in quotes (RFC 1035 §5.1): `"` and `\` escaped, bytes
/// outside printable ASCII as `\DDD`, UTF-8 text as it is.
fn quoted(bytes: &[u8]) -> String {
    let mut text = String::from("\"");
    let readable = String::from_utf8_lossy(bytes);
    let exact = std::str::from_utf8(bytes).is_ok();
    if exact {
        for ch in readable.chars() {
            match ch {
                '"' | '\\' => {
                    text.push('\\');
                    text.push(ch);
                }
                ch if ch.is_control() && ch.is_ascii() => {
                    let _ = write!(text, "\\{:03}", ch as u8);
                }
                ch => text.push(ch),
            }
        }
    } else {
        for &byte in bytes {
            match byte {
                b'"' | b'\\' => {
                    text.push('\\');
                    text.push(byte as char);
                }
                0x20..=0x7e => text.push(byte as char),
                _ => {
                    let _ = write!(text, "\\{byte:03}");
                }
            }
        }
    }
    text.push('"');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_zone_is_root_zone() {
        assert_eq!(file_name(&Name::root()), "root.zone");
        let umass = Name::from_ascii("UMass.edu.").expect("valid");
        assert_eq!(file_name(&umass), "umass.edu.zone");
    }

    #[test]
    fn names_are_written_relative_to_the_origin_but_in_the_root() {
        let origin = Name::from_ascii("umass.edu.").expect("valid");
        let name = |text| Name::from_ascii(text).expect("valid");
        assert_eq!(relative(&origin, &origin), "@");
        assert_eq!(relative(&name("gaia.cs.umass.edu."), &origin), "gaia.cs");
        assert_eq!(relative(&name("dns.poly.edu."), &origin), "dns.poly.edu.");
        assert_eq!(relative(&name("edu."), &Name::root()), "edu.");
        assert_eq!(relative(&name("*.umass.edu."), &origin), "*");
        assert_eq!(relative(&name("*.cs.umass.edu."), &origin), "*.cs");
    }

    #[test]
    fn character_strings_are_quoted_and_escaped() {
        assert_eq!(quoted(b"say \"hi\" \\ ;"), "\"say \\\"hi\\\" \\\\ ;\"");
        assert_eq!(quoted(b"tab\tend"), "\"tab\\009end\"");
        assert_eq!(quoted(&[0xff, b'a']), "\"\\255a\"");
        assert_eq!(quoted("é".as_bytes()), "\"é\"");
    }
}
