//! `resolver.toml` → a typed [`Config`]. Unknown keys are errors that name
//! the key; a missing file names the path tried; every other key has a
//! default that works (the shipped file documents each one).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::zone::ZoneSource;

mod dnssec;
mod forward;
mod source;
mod values;

pub use dnssec::{DnssecConfig, parse_date};
pub use forward::{ServerAddress, ZoneServers};
pub use source::ConfigSource;
pub use values::parse_size;
use values::{deserialize_roots, deserialize_size, positive};

/// Everything `resolver.toml` says.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the resolver listens and whom it answers.
    #[serde(default)]
    pub server: ServerConfig,
    /// How the resolver walks the hierarchy.
    #[serde(default)]
    pub resolver: ResolverConfig,
    /// The TTL cache.
    #[serde(default)]
    pub cache: CacheConfig,
    /// The bounds on the work of one client question.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The lab's authoritative servers, run in-process when present.
    pub lab: Option<LabConfig>,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// `[[forward]]`: zones asked of recursive resolvers (Unbound's `forward-zone`).
    #[serde(default)]
    pub forward: Vec<ZoneServers>,
    /// `[[stub]]`: zones asked of their own servers, not the delegation (Unbound's `stub-zone`).
    #[serde(default)]
    pub stub: Vec<ZoneServers>,
    /// `[control]`: the HTTP control endpoint (metrics, the cache, flush); off when absent.
    pub control: Option<ControlConfig>,
    /// `[dnssec]`: validation, trust anchors (RFC 4033 §5).
    #[serde(default)]
    pub dnssec: DnssecConfig,
}

/// `[control]`: the control endpoint (`/metrics`, `/cache`, `/cache/flush`, `/servers`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// The address and port it listens on (HTTP), e.g. `127.0.0.1:8053`.
    pub listen: SocketAddr,
    /// The clients it answers; others get 403 Forbidden. Default: loopback only.
    #[serde(default = "loopback_only")]
    pub allow: Vec<IpNet>,
}

/// 127.0.0.0/8 and ::1.
fn loopback_only() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|net| net.parse().ok())
        .collect()
}

/// `[server]`: the resolver's listening side.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Socket addresses to serve on, UDP and TCP on each.
    pub listen: Vec<SocketAddr>,
    /// Client prefixes that may query; anyone else gets REFUSED.
    pub allow: Vec<IpNet>,
    /// Worker threads answering queries; 0 means one per CPU.
    pub threads: usize,
    /// UDP sockets per listen address (SO_REUSEPORT); 0 means one per thread.
    pub udp_sockets: usize,
    /// TCP connections open at once.
    pub tcp_connections: usize,
    /// Seconds a TCP connection may stay idle.
    pub tcp_idle_timeout: f64,
    /// Client questions being resolved at once; beyond, SERVFAIL.
    pub pending_answers: usize,
    /// Questions of one client address being resolved at once; beyond, SERVFAIL.
    pub pending_per_client: usize,
    /// TCP connections open at once from one client address.
    pub tcp_connections_per_client: usize,
    /// UDP responses per second per client network (/24 or /56); 0 turns the limit off.
    pub rate_limit: u32,
    /// Client networks never rate-limited.
    pub rate_limit_exempt: Vec<IpNet>,
    /// Answers alone (`true`), or with the zone's NS set in authority and
    /// its servers' addresses in additional, as the answering server gave
    /// them (Unbound's `minimal-responses: no`).
    pub minimal_responses: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 5353))],
            allow: vec![
                "127.0.0.0/8".parse().expect("a valid prefix"),
                "::1/128".parse().expect("a valid prefix"),
            ],
            threads: 0,
            udp_sockets: 0,
            tcp_connections: 128,
            tcp_idle_timeout: 10.0,
            pending_answers: 1024,
            pending_per_client: 128,
            tcp_connections_per_client: 16,
            rate_limit: 200,
            rate_limit_exempt: vec![
                "127.0.0.0/8".parse().expect("a valid prefix"),
                "::1/128".parse().expect("a valid prefix"),
            ],
            minimal_responses: true,
        }
    }
}

/// Where resolution starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The built-in IANA root hints, for the real Internet.
    Iana,
    /// These root server addresses.
    Addresses(Vec<IpAddr>),
}

/// `[resolver]`: the iterative walk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResolverConfig {
    /// Root servers: `"iana"` or a list of addresses. Default: the lab's root
    /// servers when `[lab]` is present, else `"iana"`.
    #[serde(deserialize_with = "deserialize_roots")]
    pub roots: Option<Roots>,
    /// The port every nameserver is queried on. Default: `[lab] port` with a lab, else 53.
    pub port: Option<u16>,
    /// Seconds to wait for one upstream reply from a server never heard before.
    pub query_timeout: f64,
    /// Local address to send upstream queries from (like Unbound's outgoing-interface).
    pub source_address: Option<IpAddr>,
    /// Use IPv6 nameserver addresses. Default: when the host has an IPv6 route.
    pub ipv6: Option<bool>,
    /// Follow referrals to loopback, private and link-local addresses.
    /// Default: no with the IANA roots (the Internet), yes with roots given as addresses (a lab).
    pub private_nameservers: Option<bool>,
    /// QNAME minimisation (RFC 9156). Default: on with the IANA roots, off otherwise
    /// (so that the lab's trace is the textbook's).
    pub qname_minimisation: Option<bool>,
    /// 0x20: random letter case in upstream questions, the reply must match it
    /// exactly; a server that does not echo the case is remembered and asked
    /// without it. Default: on with the IANA roots, off otherwise (the lab).
    pub randomize_case: Option<bool>,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            roots: None,
            port: None,
            query_timeout: 0.8,
            source_address: None,
            ipv6: None,
            private_nameservers: None,
            qname_minimisation: None,
            randomize_case: None,
        }
    }
}

/// `[cache]`: the TTL cache of RRsets, delegations and negative answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// The bytes all the resolver's caches may hold together (records,
    /// delegations, negative answers and encoded answers): `size = 268435456`
    /// or with a suffix, `size = "256M"` (K, M, G: powers of 1024).
    #[serde(deserialize_with = "deserialize_size")]
    pub size: u64,
    /// TTLs above this are cut to it, in seconds.
    pub max_ttl: u32,
    /// TTLs below this are raised to it, in seconds.
    pub min_ttl: u32,
    /// Negative answers are kept at most this long, in seconds (RFC 2308 §5).
    pub max_negative_ttl: u32,
    /// Negative answers are kept at least this long, in seconds (Unbound's
    /// `cache-min-negative-ttl`; 0: as the SOA says).
    pub min_negative_ttl: u32,
    /// Serve-stale (RFC 8767): answer with expired data, TTL 30, when its
    /// refresh fails or is slower than `stale_client_timeout`.
    pub serve_stale: bool,
    /// Seconds past its expiry that data may be served stale (RFC 8767 §5, "max-stale-ttl").
    pub stale_max: u32,
    /// Seconds a client waits for a refresh before it gets the stale answer
    /// (RFC 8767 §5, "client response timer"; the refresh goes on).
    pub stale_client_timeout: f64,
    /// Prefetch (Unbound's `prefetch: yes`): an RRset asked for in the last
    /// tenth of its TTL is refreshed in the background.
    pub prefetch: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            size: 256 << 20,
            max_ttl: 86_400,
            min_ttl: 0,
            max_negative_ttl: 3_600,
            min_negative_ttl: 0,
            serve_stale: false,
            stale_max: 86_400,
            stale_client_timeout: 1.8,
            prefetch: false,
        }
    }
}

/// `[limits]`: the budget of one client question; beyond it, SERVFAIL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// CNAMEs followed for one question.
    pub max_cname_chain: usize,
    /// Referrals followed for one name.
    pub max_referrals: usize,
    /// Upstream queries sent for one question, sub-resolutions included.
    pub max_upstream_queries: usize,
    /// Nameserver names resolved for lack of glue, for one question.
    pub max_glueless_lookups: usize,
    /// How deep glueless sub-resolutions may nest.
    pub max_glueless_depth: usize,
    /// Seconds one question may take in all.
    pub resolution_timeout: f64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_cname_chain: 10,
            max_referrals: 16,
            max_upstream_queries: 48,
            max_glueless_lookups: 6,
            max_glueless_depth: 3,
            resolution_timeout: 4.0,
        }
    }
}

/// `[lab]`: the textbook hierarchy, served in-process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabConfig {
    /// The zone folder (relative to the configuration file), or the built-in lab's zones.
    pub zones: ZoneSource,
    /// The port every lab server listens on.
    #[serde(default = "default_lab_port")]
    pub port: u16,
}

fn default_lab_port() -> u16 {
    5300
}

/// `[log]`: what is logged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// One line per client query (client, name, type, rcode, cached, upstream queries, time).
    pub queries: bool,
    /// The level of everything else: error, warn, info, debug or trace.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            queries: false,
            level: "info".to_string(),
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {}: {source}", path.display())]
    Read {
        /// The path tried.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a bad value.
    #[error("in {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        source: toml::de::Error,
    },
    /// A value that parses but cannot work.
    #[error("in {}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: &'static str,
    },
}

impl Config {
    /// Reads and checks a configuration file; relative paths in it are taken
    /// relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let folder = path.parent().unwrap_or(Path::new("."));
        if let Some(lab) = &mut config.lab
            && let ZoneSource::Folder(zones) = &mut lab.zones
            && zones.is_relative()
        {
            *zones = folder.join(&*zones);
        }
        config.check().map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// Parses configuration text (paths stay as written).
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    fn check(&self) -> Result<(), &'static str> {
        if self.server.listen.is_empty() {
            return Err("[server] listen needs at least one address");
        }
        let server = &self.server;
        if [
            server.tcp_connections,
            server.pending_answers,
            server.pending_per_client,
            server.tcp_connections_per_client,
        ]
        .contains(&0)
        {
            return Err(
                "[server] tcp_connections, pending_answers, pending_per_client and tcp_connections_per_client must be at least 1",
            );
        }
        if self.cache.size < MIN_CACHE_SIZE {
            return Err("[cache] size must be at least \"1M\"");
        }
        if self.cache.min_ttl > self.cache.max_ttl {
            return Err("[cache] min_ttl is above max_ttl");
        }
        if self.cache.min_negative_ttl > self.cache.max_negative_ttl {
            return Err("[cache] min_negative_ttl is above max_negative_ttl");
        }
        if !positive(self.resolver.query_timeout)
            || !positive(self.limits.resolution_timeout)
            || !positive(self.server.tcp_idle_timeout)
            || !positive(self.cache.stale_client_timeout)
        {
            return Err("time-outs must be positive numbers of seconds");
        }
        if matches!(&self.resolver.roots, Some(Roots::Addresses(list)) if list.is_empty()) {
            return Err("[resolver] roots is an empty list");
        }
        forward::check(&self.forward, &self.stub)
    }

    /// The port nameservers are queried on: `[resolver] port`, else the lab's, else 53.
    pub fn upstream_port(&self) -> u16 {
        self.resolver
            .port
            .or(self.lab.as_ref().map(|lab| lab.port))
            .unwrap_or(53)
    }

    /// Seconds as a duration.
    pub fn seconds(value: f64) -> Duration {
        Duration::from_secs_f64(value)
    }
}

/// The least `[cache] size`: 1 MiB.
pub const MIN_CACHE_SIZE: u64 = 1 << 20;

#[cfg(test)]
mod tests;
