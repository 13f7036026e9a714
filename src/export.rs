//! Files written out for people to read and edit: the built-in lab
//! (`resolver lab export DIR`) and zones as RFC 1035 master files
//! (`resolver zone export ZONE_DIR OUT_DIR`). Nothing is overwritten
//! unless asked (`--force`), and nothing is written when a file is in the way.

use std::io;
use std::path::{Path, PathBuf};

use crate::builtin;
use crate::zone::{LoadErrors, ZoneSet, present};

/// Why files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file to be written exists already, and `--force` was not given.
    #[error("{} already exists (give --force to overwrite it)", .0.display())]
    Exists(PathBuf),
    /// The zones to export do not load.
    #[error("{0}")]
    Zones(#[from] LoadErrors),
    /// A folder or file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Writes each `(path relative to dir, text)` under `dir`, making the
/// folders it needs. Unless `force`, it first checks that none of the files
/// exists, and writes nothing if one does. Returns the paths written.
pub fn write_files(
    dir: &Path,
    files: &[(PathBuf, String)],
    force: bool,
) -> Result<Vec<PathBuf>, ExportError> {
    let paths: Vec<PathBuf> = files.iter().map(|(file, _)| dir.join(file)).collect();
    if !force && let Some(existing) = paths.iter().find(|path| path.exists()) {
        return Err(ExportError::Exists(existing.clone()));
    }
    for (path, (_, text)) in paths.iter().zip(files) {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|source| ExportError::Write {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, text).map_err(|source| ExportError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(paths)
}

/// `resolver lab export DIR`: the built-in `resolver.toml` and its
/// `zones/`, laid out so that `--config DIR/resolver.toml` serves them.
pub fn lab(dir: &Path, force: bool) -> Result<Vec<PathBuf>, ExportError> {
    let mut files = vec![(
        PathBuf::from(builtin::CONFIG_FILE),
        builtin::CONFIG.to_string(),
    )];
    files.extend(builtin::ZONES.iter().map(|(file, text)| {
        (
            Path::new(builtin::ZONES_FOLDER).join(file),
            (*text).to_string(),
        )
    }));
    files.extend(builtin::KEYS.iter().map(|(file, text)| {
        (
            Path::new(builtin::ZONES_FOLDER)
                .join(crate::dnssec::keys::KEYS_FOLDER)
                .join(file),
            (*text).to_string(),
        )
    }));
    write_files(dir, &files, force)
}

/// `resolver zone export ZONE_DIR OUT_DIR`: every zone of the folder as an
/// RFC 1035 master file, `ORIGIN.zone` (`root.zone` for the root), in `out`.
/// With `signed`, each signed zone as signed at load (`--signed`, `present::to_master_signed`).
pub fn zones(
    zones: &Path,
    out: &Path,
    force: bool,
    signed: bool,
) -> Result<Vec<PathBuf>, ExportError> {
    let zones = ZoneSet::load_dir(zones)?;
    let files: Vec<(PathBuf, String)> = zones
        .zones()
        .map(|zone| {
            let file = present::file_name(zone.origin());
            let text = if signed {
                present::to_master_signed(zone)
            } else {
                present::to_master(zone)
            };
            (PathBuf::from(file), text)
        })
        .collect();
    write_files(out, &files, force)
}
