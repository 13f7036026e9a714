//! `resolver lab keygen [ZONE_DIR] [--force]`: one key per zone of the
//! folder into `ZONE_DIR/keys/ORIGIN.key`, with the zone's `algorithm`
//! (15 Ed25519 unless it says 13), except zones that say `signed = false`.

use std::path::{Path, PathBuf};

use super::KeyError;
use super::keys::{KEYS_FOLDER, generate, key_file_name};
use crate::export::{ExportError, write_files};
use crate::zone::{LoadErrors, ZoneSet};

/// Why keys could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// The zones do not load.
    #[error("{0}")]
    Zones(#[from] LoadErrors),
    /// A key could not be made.
    #[error("{0}")]
    Key(#[from] KeyError),
    /// A key file could not be written (or exists, without --force).
    #[error("{0}")]
    Write(#[from] ExportError),
}

/// Makes and writes a key for every zone of `zone_dir` that may be signed;
/// returns the files written. Nothing is written if one exists, unless `force`.
pub fn keygen(zone_dir: &Path, force: bool) -> Result<Vec<PathBuf>, KeygenError> {
    let zones = ZoneSet::load_dir_unsigned(zone_dir)?;
    let mut files = Vec::new();
    for zone in zones.zones() {
        if zone.options().signed == Some(false) {
            continue;
        }
        let text = generate(zone.origin(), zone.options().algorithm.algorithm())?;
        files.push((PathBuf::from(key_file_name(zone.origin())), text));
    }
    Ok(write_files(&zone_dir.join(KEYS_FOLDER), &files, force)?)
}
