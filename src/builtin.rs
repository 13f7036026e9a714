//! The lab compiled into the binary: the zones of `zones/` and the shipped
//! `resolver.toml`, so that `resolver trace gaia.cs.umass.edu` works from
//! any folder and after `cargo install --path .`, with nothing to copy.
//!
//! ```text
//! no --config, no ./resolver.toml ─▶ CONFIG ([lab] zones = the built-in ZONES)
//! resolver lab export DIR         ─▶ DIR/resolver.toml, DIR/zones/*.toml (to edit, then --config)
//! ```

/// The shipped `resolver.toml`: the lab on loopback, every key documented.
pub const CONFIG: &str = include_str!("../resolver.toml");

/// The name the configuration is exported under.
pub const CONFIG_FILE: &str = "resolver.toml";

/// The folder the zones are exported to, beside the configuration: the
/// shipped configuration's `[lab] zones`, relative to its own folder.
pub const ZONES_FOLDER: &str = "zones";

/// How the built-in zones are named in messages (`resolver check`, errors).
pub const ZONES_LABEL: &str = "(built-in)";

/// `(file name, text)` for every file of `zones/`, read at build time.
macro_rules! zone_files {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../zones/", $file)))),*]
    };
}

/// `(file name, text)` for every file of `zones/keys/`, read at build time.
macro_rules! key_files {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../zones/keys/", $file)))),*]
    };
}

/// Every zone file of the lab, by file name (a test checks the list is all of `zones/`).
pub const ZONES: &[(&str, &str)] = zone_files![
    "119.128.in-addr.arpa.toml",
    "238.128.in-addr.arpa.toml",
    "com.toml",
    "edu.toml",
    "enterprise.com.toml",
    "ibm.com.toml",
    "in-addr.arpa.toml",
    "poly.edu.toml",
    "root.toml",
    "umass.edu.toml",
];

/// `(file name, text)` for every key of `zones/keys/`, read at build time, so
/// that the built-in lab is signed (a test checks the list is all of `zones/keys/`).
pub const KEYS: &[(&str, &str)] = key_files![
    "119.128.in-addr.arpa.key",
    "238.128.in-addr.arpa.key",
    "com.key",
    "edu.key",
    "ibm.com.key",
    "in-addr.arpa.key",
    "poly.edu.key",
    "root.key",
    "umass.edu.key",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the files in `folder` (under the crate) ending in one of `endings`, sorted.
    fn files_in(folder: std::path::PathBuf, endings: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| {
                entry
                    .expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| endings.iter().any(|ending| name.ends_with(ending)))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_file_of_the_zone_folder_is_built_in() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(ZONES_FOLDER);
        let built_in: Vec<&str> = ZONES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            files_in(folder, &[".toml", ".zone"]),
            built_in,
            "add new zone files to builtin::ZONES"
        );
    }

    #[test]
    fn every_key_of_the_key_folder_is_built_in() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(ZONES_FOLDER)
            .join(crate::dnssec::keys::KEYS_FOLDER);
        let built_in: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            files_in(folder, &[".key"]),
            built_in,
            "add new key files to builtin::KEYS"
        );
    }

    #[test]
    fn the_built_in_lab_is_signed_but_for_its_insecure_delegation() {
        let zones = crate::zone::ZoneSource::BuiltIn.load().expect("loads");
        for zone in zones.zones() {
            let unsigned = zone.origin().to_string() == "enterprise.com.";
            assert_eq!(zone.is_signed(), !unsigned, "{}", zone.origin());
        }
    }

    #[test]
    fn the_built_in_configuration_serves_the_lab_from_its_zones_folder() {
        let config = crate::config::Config::parse(CONFIG).expect("parses");
        let lab = config.lab.expect("a lab");
        assert_eq!(
            lab.zones,
            crate::zone::ZoneSource::Folder(ZONES_FOLDER.into())
        );
    }
}
