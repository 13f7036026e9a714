//! Which configuration a command runs with: `--config FILE`, else
//! `./resolver.toml` when there is one, else the lab built into the binary
//! (`src/builtin.rs`), whose zones are built in too.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError};
use crate::builtin;
use crate::zone::ZoneSource;

/// The file looked for in the current folder when no `--config` is given.
pub const DEFAULT_FILE: &str = "resolver.toml";

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file: `--config FILE`, or `./resolver.toml`.
    File(PathBuf),
    /// The shipped `resolver.toml`, compiled into the binary, with the built-in zones.
    BuiltIn,
}

impl ConfigSource {
    /// `--config FILE` when given; else `./resolver.toml` when it exists;
    /// else the built-in lab.
    pub fn choose(given: Option<PathBuf>) -> Self {
        match given {
            Some(path) => ConfigSource::File(path),
            None if Path::new(DEFAULT_FILE).exists() => ConfigSource::File(DEFAULT_FILE.into()),
            None => ConfigSource::BuiltIn,
        }
    }

    /// Reads and checks the configuration.
    pub fn load(&self) -> Result<Config, ConfigError> {
        match self {
            ConfigSource::File(path) => Config::load(path),
            ConfigSource::BuiltIn => Config::built_in(),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File(path) => write!(f, "{}", path.display()),
            ConfigSource::BuiltIn => f.write_str("the built-in lab"),
        }
    }
}

impl Config {
    /// The shipped configuration, compiled into the binary, serving the
    /// built-in zones: what runs with no `--config` and no `./resolver.toml`.
    pub fn built_in() -> Result<Self, ConfigError> {
        let path = Path::new(builtin::ZONES_LABEL).join(builtin::CONFIG_FILE);
        let mut config = Self::parse(builtin::CONFIG).map_err(|source| ConfigError::Parse {
            path: path.clone(),
            source,
        })?;
        if let Some(lab) = &mut config.lab {
            lab.zones = ZoneSource::BuiltIn;
        }
        config
            .check()
            .map_err(|message| ConfigError::Invalid { path, message })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_configuration_serves_the_built_in_zones() {
        let config = ConfigSource::BuiltIn.load().expect("valid");
        let lab = config.lab.expect("a lab");
        assert_eq!(lab.zones, ZoneSource::BuiltIn);
        assert_eq!(
            lab.zones.load().expect("the zones load").zones().count(),
            10
        );
    }

    #[test]
    fn a_given_file_is_used_even_when_missing() {
        let given = ConfigSource::choose(Some("nosuch/resolver.toml".into()));
        assert_eq!(given, ConfigSource::File("nosuch/resolver.toml".into()));
        let error = given.load().expect_err("missing");
        assert!(matches!(error, ConfigError::Read { .. }), "{error}");
    }
}
