//! `resolver check`: the one-screen summary of a zone folder.

use std::fmt::Write;
use std::path::Path;

use crate::zone::{ZoneSet, ZoneSource};

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
        "{:<24} {:>7}  {:<28} servers",
        "zone", "records", "file"
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
            "{:<24} {:>7}  {:<28} {}",
            zone.origin().to_string(),
            zone.record_count(),
            file,
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
