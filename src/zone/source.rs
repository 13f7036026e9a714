//! Where a zone set comes from: a folder of zone files, or the lab built
//! into the binary (`src/builtin.rs`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::set::{LoadErrors, ZoneSet};
use crate::builtin;
use crate::dnssec::Keyring;
use crate::dnssec::keys::KEYS_FOLDER;

/// The zones to serve: `[lab] zones`, `--zones DIR`, or the built-in lab.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "PathBuf")]
pub enum ZoneSource {
    /// Every `*.toml` and `*.zone` file of a folder.
    Folder(PathBuf),
    /// The lab's zones, compiled into the binary.
    BuiltIn,
}

impl From<PathBuf> for ZoneSource {
    fn from(path: PathBuf) -> Self {
        ZoneSource::Folder(path)
    }
}

impl ZoneSource {
    /// Loads and validates the zones, reporting every error of every file.
    pub fn load(&self) -> Result<ZoneSet, LoadErrors> {
        match self {
            ZoneSource::Folder(dir) => ZoneSet::load_dir(dir),
            ZoneSource::BuiltIn => {
                let keys_dir = Path::new(builtin::ZONES_LABEL).join(KEYS_FOLDER);
                let keys = builtin::KEYS
                    .iter()
                    .map(|(file, text)| (keys_dir.join(file), (*text).to_string()));
                // The keys are compiled in and a test loads them: they are valid.
                let keyring = Keyring::from_texts(keys).unwrap_or_default();
                let zones = builtin::ZONES.iter().map(|(file, text)| {
                    (
                        Path::new(builtin::ZONES_LABEL).join(file),
                        (*text).to_string(),
                    )
                });
                ZoneSet::load_signed(zones, &keyring, &keys_dir)
            }
        }
    }

    /// The folder, when the zones come from one.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            ZoneSource::Folder(dir) => Some(dir),
            ZoneSource::BuiltIn => None,
        }
    }
}

impl fmt::Display for ZoneSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZoneSource::Folder(dir) => write!(f, "{}", dir.display()),
            ZoneSource::BuiltIn => f.write_str("the built-in lab's zones"),
        }
    }
}
