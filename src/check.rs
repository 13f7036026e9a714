//! `resolver check`: the one-screen summary of a zone folder, after the
//! signed zones are verified (`dnssec::verify`: every signature, the
//! NSEC/NSEC3 chain, each DS).

use std::fmt::Write;
use std::path::Path;

use crate::dnssec::Denial;
use crate::dnssec::verify::{VerifyError, verify_zones};
use crate::zone::{Zone, ZoneSet, ZoneSource};

/// Every problem `resolver check` found in the signed zones.
#[derive(Debug, thiserror::Error)]
pub struct VerifyErrors(pub Vec<VerifyError>);

impl std::fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.len();
        let plural = if count == 1 { "" } else { "s" };
        writeln!(f, "{count} DNSSEC error{plural} in the signed zones:")?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

/// Verifies the signed zones (RFC 4035 §5.3, RFC 4034 §4 and §5.2): every
/// problem, each naming its zone file and record.
pub fn verify(zones: &ZoneSet) -> Result<(), VerifyErrors> {
    let errors = verify_zones(zones);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(errors))
    }
}

/// How a zone is signed, for the summary: `NSEC 15/12345` (denial, algorithm/key tag) or `unsigned`.
fn signing(zone: &Zone) -> String {
    match zone.security() {
        None => "unsigned".to_string(),
        Some(security) => {
            let denial = match security.denial {
                Denial::Nsec => "NSEC",
                Denial::Nsec3 => "NSEC3",
            };
            let algorithm = u8::from(security.algorithm);
            let broken: Vec<String> = zone
                .broken_signatures()
                .iter()
                .map(|name| format!(", {name} broken on purpose"))
                .collect();
            format!(
                "{denial} {algorithm}/{}{}",
                security.key_tag,
                broken.concat()
            )
        }
    }
}

/// The zones `resolver check` reads without an argument: `./zones` when
/// there is one, else the built-in lab's.
pub fn default_zones() -> ZoneSource {
    let folder = Path::new(crate::builtin::ZONES_FOLDER);
    if folder.is_dir() {
        ZoneSource::Folder(folder.to_path_buf())
    } else {
        ZoneSource::BuiltIn
    }
}

/// A summary of the zones: each zone with its file, record count and
/// servers, then each server address with the zones it serves.
pub fn summary(zones: &ZoneSet) -> String {
    let mut text = String::new();
    let records: usize = zones.zones().map(|zone| zone.record_count()).sum();
    let count = zones.zones().count();
    // Writing to a String cannot fail.
    let _ = writeln!(text, "{count} zones, {records} records, no errors\n");
    let _ = writeln!(
        text,
        "{:<24} {:>7}  {:<28} {:<15} servers",
        "zone", "records", "file", "dnssec"
    );
    for zone in zones.zones() {
        let servers: Vec<String> = zones
            .name_servers(zone)
            .iter()
            .map(|server| format!("{} {}", server.name, server.address))
            .collect();
        let file = zone
            .file()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "{:<24} {:>7}  {:<28} {:<15} {}",
            zone.origin().to_string(),
            zone.record_count(),
            file,
            signing(zone),
            servers.join(", ")
        );
    }
    let names = zones.server_names();
    let _ = writeln!(text, "\n{:<16} {:<26} zones", "address", "server");
    for (address, served) in zones.by_address() {
        let origins: Vec<String> = served
            .iter()
            .map(|zone| zone.origin().to_string())
            .collect();
        let name = names
            .get(&address)
            .map(ToString::to_string)
            .unwrap_or_default();
        let _ = writeln!(text, "{:<16} {:<26} {}", address, name, origins.join(" "));
    }
    text
}
