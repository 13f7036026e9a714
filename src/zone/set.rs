//! All the zones of a folder, and which server address serves which zone.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::{Name, RData};

use hickory_proto::dnssec::rdata::DS;

use super::Zone;
use super::error::{ZoneError, ZoneErrorKind};
use super::load::parse_zone;
use super::master::parse_master;
use crate::dnssec::keys::KEYS_FOLDER;
use crate::dnssec::sign::{Standing, Validity, sign_zone, standing};
use crate::dnssec::{KeyError, Keyring};
use crate::names::label_count;

/// Every error found while loading a zone folder.
#[derive(Debug, thiserror::Error)]
pub struct LoadErrors(pub Vec<ZoneError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "{count} error{} in the zones:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

/// A nameserver of a zone: its name and one of its addresses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameServer {
    /// The NS target name.
    pub name: Name,
    /// The address it is served at.
    pub address: IpAddr,
}

/// The zones of one folder, each origin once.
#[derive(Debug, Clone, Default)]
pub struct ZoneSet {
    zones: BTreeMap<Name, Arc<Zone>>,
}

impl ZoneSet {
    /// Loads every zone file (`*.toml`, `*.zone`) of a folder, reporting every error of every file.
    pub fn load_dir(dir: &Path) -> Result<Self, LoadErrors> {
        Self::load_dir_keyed(dir, true)
    }

    /// As [`ZoneSet::load_dir`], reading no keys: every zone unsigned (`resolver lab keygen`).
    pub fn load_dir_unsigned(dir: &Path) -> Result<Self, LoadErrors> {
        Self::load_dir_keyed(dir, false)
    }

    fn load_dir_keyed(dir: &Path, with_keys: bool) -> Result<Self, LoadErrors> {
        let read_error = |path: &Path, error| ZoneError {
            file: path.to_path_buf(),
            line: None,
            record: None,
            what: None,
            kind: ZoneErrorKind::Read(error),
        };
        let entries =
            std::fs::read_dir(dir).map_err(|error| LoadErrors(vec![read_error(dir, error)]))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| is_zone_file(path))
            .collect();
        files.sort();
        let mut errors = Vec::new();
        let mut texts = Vec::new();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => texts.push((file, text)),
                Err(error) => errors.push(read_error(&file, error)),
            }
        }
        let keys_dir = dir.join(KEYS_FOLDER);
        let keyring = match with_keys.then(|| Keyring::load_dir(&keys_dir)) {
            None => Keyring::empty(),
            Some(Ok(keyring)) => keyring,
            Some(Err(found)) => {
                errors.extend(found.into_iter().map(key_error));
                Keyring::empty()
            }
        };
        with_errors(errors, Self::load_signed(texts, &keyring, &keys_dir))
    }

    /// As [`ZoneSet::load_texts`], each zone signed with its key from
    /// `keyring` (read from `keys_dir`, named in errors) unless its file
    /// says `signed = false` (RFC 4035 §2).
    pub fn load_signed(
        files: impl IntoIterator<Item = (PathBuf, String)>,
        keyring: &Keyring,
        keys_dir: &Path,
    ) -> Result<Self, LoadErrors> {
        let mut errors = Vec::new();
        let mut zones = Vec::new();
        for (file, text) in files {
            let parsed = if file.extension().is_some_and(|ext| ext == "zone") {
                parse_master(&file, &text)
            } else {
                parse_zone(&file, &text)
            };
            match parsed {
                Ok(zone) => zones.push(zone),
                Err(mut found) => errors.append(&mut found),
            }
        }
        errors.extend(sign_all(&mut zones, keyring, keys_dir, Validity::now()));
        with_errors(errors, Self::from_zones(zones))
    }

    /// Parses zone files given as (path, text), each by its extension
    /// (`.toml`, or `.zone` for an RFC 1035 master file), reporting every error of every file; `path` names the file in errors.
    pub fn load_texts(
        files: impl IntoIterator<Item = (PathBuf, String)>,
    ) -> Result<Self, LoadErrors> {
        Self::load_signed(files, &Keyring::empty(), Path::new(KEYS_FOLDER))
    }

    /// Puts loaded zones together, refusing two zones for one origin and zones nobody can serve.
    pub fn from_zones(zones: Vec<Zone>) -> Result<Self, LoadErrors> {
        let mut errors = Vec::new();
        let mut set = ZoneSet::default();
        for zone in zones {
            if let Some(other) = set.zones.get(zone.origin()) {
                errors.push(ZoneError {
                    file: zone.file().to_path_buf(),
                    line: None,
                    record: None,
                    what: None,
                    kind: ZoneErrorKind::DuplicateOrigin {
                        origin: zone.origin().clone(),
                        other: other.file().to_path_buf(),
                    },
                });
                continue;
            }
            set.zones.insert(zone.origin().clone(), Arc::new(zone));
        }
        for zone in set.zones.values() {
            if set.name_servers(zone).is_empty() {
                errors.push(ZoneError {
                    file: zone.file().to_path_buf(),
                    line: None,
                    record: None,
                    what: None,
                    kind: ZoneErrorKind::Unserved(zone.origin().clone()),
                });
            }
        }
        errors.extend(super::validate::zones_below_dnames(set.zones.values()));
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(LoadErrors(errors))
        }
    }

    /// Every zone, in origin order.
    pub fn zones(&self) -> impl Iterator<Item = &Arc<Zone>> {
        self.zones.values()
    }

    /// The zone with this origin, if loaded.
    pub fn get(&self, origin: &Name) -> Option<&Arc<Zone>> {
        self.zones.get(origin)
    }

    /// True when no zone is loaded.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The addresses of a name found in any loaded zone (authoritative data or glue).
    pub fn addresses_of(&self, name: &Name) -> Vec<IpAddr> {
        let mut addresses: Vec<IpAddr> = self
            .zones
            .values()
            .flat_map(|zone| zone.addresses(name))
            .filter_map(|record| match record.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                _ => None,
            })
            .collect();
        addresses.sort();
        addresses.dedup();
        addresses
    }

    /// The nameservers of a zone (its apex NS names) with their addresses.
    pub fn name_servers(&self, zone: &Zone) -> Vec<NameServer> {
        zone.apex_ns_names()
            .into_iter()
            .flat_map(|name| {
                self.addresses_of(&name)
                    .into_iter()
                    .map(move |address| NameServer {
                        name: name.clone(),
                        address,
                    })
            })
            .collect()
    }

    /// Which zones each address serves: every address of every apex nameserver.
    pub fn by_address(&self) -> BTreeMap<IpAddr, Vec<Arc<Zone>>> {
        let mut map: BTreeMap<IpAddr, Vec<Arc<Zone>>> = BTreeMap::new();
        for zone in self.zones.values() {
            for server in self.name_servers(zone) {
                let zones = map.entry(server.address).or_default();
                if !zones.iter().any(|z| z.origin() == zone.origin()) {
                    zones.push(zone.clone());
                }
            }
        }
        map
    }

    /// The name of the nameserver at each address, for display: the first
    /// apex NS name (in origin order) whose address it is.
    pub fn server_names(&self) -> HashMap<IpAddr, Name> {
        let mut names = HashMap::new();
        for zone in self.zones.values() {
            for server in self.name_servers(zone) {
                names.entry(server.address).or_insert(server.name);
            }
        }
        names
    }

    /// The deepest loaded zone that contains `name`.
    pub fn zone_for(&self, name: &Name) -> Option<&Arc<Zone>> {
        (0..=label_count(name))
            .rev()
            .find_map(|labels| self.zones.get(&name.trim_to(labels)))
    }
}

/// Signs each zone that has a key and does not say `signed = false`,
/// putting the DS of each signed child into its parent first (RFC 4035 §2.4).
fn sign_all(
    zones: &mut [Zone],
    keyring: &Keyring,
    keys_dir: &Path,
    validity: Validity,
) -> Vec<ZoneError> {
    let mut errors = Vec::new();
    let mut ds_of: HashMap<Name, DS> = HashMap::new();
    let mut signing: Vec<bool> = Vec::with_capacity(zones.len());
    for zone in zones.iter() {
        let key = keyring.get(zone.origin());
        let sign = match (zone.options().signed, key) {
            (Some(false), _) | (None, None) => false,
            (Some(true), None) => {
                let kind = ZoneErrorKind::MissingKey {
                    origin: zone.origin().clone(),
                    keys: keys_dir.to_path_buf(),
                };
                errors.push(zone_error(zone, kind));
                false
            }
            (_, Some(key)) => match key.ds() {
                Ok(ds) => {
                    ds_of.insert(zone.origin().clone(), ds);
                    true
                }
                Err(error) => {
                    errors.push(key_error(error));
                    false
                }
            },
        };
        signing.push(sign);
    }
    for (zone, sign) in zones.iter_mut().zip(signing) {
        let Some(key) = keyring.get(zone.origin()).filter(|_| sign) else {
            continue;
        };
        let child_ds: Vec<(Name, DS)> = zone
            .nodes()
            .filter(|(name, _)| standing(zone, name) == Standing::Delegation)
            .filter_map(|(name, _)| Some((name.clone(), ds_of.get(name)?.clone())))
            .collect();
        if let Err(error) = sign_zone(zone, key, &child_ds, validity) {
            errors.push(zone_error(zone, ZoneErrorKind::Sign(error)));
        }
    }
    errors
}

fn zone_error(zone: &Zone, kind: ZoneErrorKind) -> ZoneError {
    ZoneError {
        file: zone.file().to_path_buf(),
        line: None,
        record: None,
        what: None,
        kind,
    }
}

/// A key file's error, naming the key file.
fn key_error(error: KeyError) -> ZoneError {
    ZoneError {
        file: error.file.clone(),
        line: None,
        record: None,
        what: None,
        kind: ZoneErrorKind::Key(error),
    }
}

/// True for a file the zone loader reads: `*.toml`, and `*.zone` master files.
fn is_zone_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "toml" || ext == "zone")
}

/// The set, unless errors were found before it was put together (`errors`)
/// or while it was (every error is reported, the earlier first).
fn with_errors(
    mut errors: Vec<ZoneError>,
    result: Result<ZoneSet, LoadErrors>,
) -> Result<ZoneSet, LoadErrors> {
    match result {
        Ok(set) if errors.is_empty() => Ok(set),
        Ok(_) => Err(LoadErrors(errors)),
        Err(LoadErrors(mut more)) => {
            errors.append(&mut more);
            Err(LoadErrors(errors))
        }
    }
}
