//! The resolver: the textbook's local DNS server (`dns.poly.edu`), which takes
//! a host's recursive query and walks root → TLD → authoritative with
//! iterative queries, caching what it learns for as long as the TTLs allow.
//!
//! ```text
//! socket ─▶ server ─▶ Service (allow list, in-flight sharing)
//!                        ├─ cache hit ─────────────(due: prefetch.rs)────▶ message
//!                        ├─ failure held (failure_cache.rs) ─▶ SERVFAIL, or stale data (stale.rs)
//!                        └─ Resolver::resolve ─▶ cache ─▶ iterate ─▶ transport ─▶ servers
//!                                                  ◀── scrub + classify ◀──┘
//! ```

pub mod addresses;
mod aggressive;
pub mod bogus;
pub mod budget;
pub mod cache;
pub mod chain;
pub mod counters;
pub mod delegation;
mod dname;
pub mod error;
pub mod events;
mod exchange;
pub mod failure_cache;
pub mod failures;
pub mod forward;
pub mod hints;
pub mod in_flight;
pub mod iterate;
mod learn;
mod minimise;
pub mod prefetch;
mod proof;
pub mod refresh;
pub mod reply;
mod report;
pub mod response;
mod sentinel;
pub mod server_stats;
mod servers;
pub mod service;
mod signatures;
pub mod stale;
pub mod trust;
pub mod validate;
mod zone_cut;

use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};

pub use cache::Cache;
pub use iterate::{Budget, Limits, Outcome, Resolution, ResolveError};
pub use service::Service;

use crate::capture::Tap;
use crate::config::{Config, Roots};
use crate::transport::Transport;
use delegation::{DelegationPoint, ServerStats};
use reply::follows_no_alias;

/// How the resolver talks to nameservers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The port every nameserver is queried on.
    pub port: u16,
    /// The time-out for a server never heard from.
    pub query_timeout: Duration,
    /// Whether IPv6 nameserver addresses are used.
    pub ipv6: bool,
    /// Whether referrals may lead to loopback, private or link-local addresses.
    pub private_nameservers: bool,
    /// QNAME minimisation (RFC 9156): ask each server only for the next label.
    pub qname_minimisation: bool,
    /// 0x20: random letter case in upstream questions, checked in the reply
    /// (asked without it of servers that do not echo the case).
    pub randomize_case: bool,
    /// Responses with the answer alone (`true`, the default), or with the
    /// NS set and addresses that came with it (Unbound's `minimal-responses: no`).
    pub minimal_responses: bool,
    /// The budget of one client question.
    pub limits: Limits,
}

/// The resolving core: cache, server statistics, transport and root hints.
pub struct Resolver {
    cache: Cache,
    stats: ServerStats,
    transport: Transport,
    roots: DelegationPoint,
    configured: forward::ConfiguredZones,
    settings: Settings,
    /// What it counts, for `/metrics`.
    counters: counters::Counters,
    /// The questions answered, for whoever watches.
    events: events::Events,
    /// Where the cached RRsets used and the servers chosen are reported
    /// (report.rs), if anywhere.
    reports: Option<crate::capture::ReportTap>,
    /// Whether answers are validated (`[dnssec] validate`, RFC 4035 §5).
    validating: bool,
    /// The trust anchors validation starts from.
    trust_points: trust::TrustPoints,
    /// The zones' key states (trust.rs).
    keys: trust::KeyCache,
    /// The answers' verdicts (validate.rs).
    verdicts: validate::Verdicts,
    /// The validated NSEC records, for aggressive use (aggressive.rs).
    denials: aggressive::Denials,
}

/// A finished resolution with what it cost.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The resolution, or why it failed.
    pub result: Result<Resolution, ResolveError>,
    /// Upstream queries sent for it.
    pub upstream_queries: usize,
    /// Its upstream messages, when someone watches (`/events`); else none.
    pub messages: Vec<crate::capture::Datagram>,
    /// Its DNSSEC verdict, when validated (RFC 4035 §4.3).
    pub security: Option<validate::Verdict>,
}

impl Resolver {
    /// A resolver with an empty cache, starting from `roots`, reporting its
    /// upstream messages to `tap`.
    pub fn new(config: &Config, roots: &Roots, tap: Option<Tap>) -> Self {
        Resolver {
            cache: Cache::new(&config.cache, config.cache.size - replay_share(config)),
            stats: ServerStats::default(),
            transport: Transport::new(config.resolver.source_address, tap),
            roots: hints::root_point(roots),
            configured: forward::ConfiguredZones::new(config),
            settings: Settings {
                port: config.upstream_port(),
                query_timeout: Config::seconds(config.resolver.query_timeout),
                ipv6: config
                    .resolver
                    .ipv6
                    .unwrap_or_else(addresses::host_has_ipv6),
                private_nameservers: config
                    .resolver
                    .private_nameservers
                    .unwrap_or(*roots != Roots::Iana),
                qname_minimisation: config
                    .resolver
                    .qname_minimisation
                    .unwrap_or(*roots == Roots::Iana),
                randomize_case: config
                    .resolver
                    .randomize_case
                    .unwrap_or(*roots == Roots::Iana),
                minimal_responses: config.server.minimal_responses,
                limits: Limits::from(&config.limits),
            },
            counters: counters::Counters::default(),
            events: events::Events::default(),
            reports: None,
            validating: false,
            trust_points: trust::TrustPoints {
                anchors: Vec::new(),
                negative: config.dnssec.negative_trust_anchors.clone(),
                date: config.dnssec.date,
            },
            keys: trust::KeyCache::default(),
            verdicts: validate::Verdicts::default(),
            denials: aggressive::Denials::default(),
        }
        .with_trust_anchors(
            config,
            match (&config.dnssec.trust_anchors[..], roots) {
                ([], Roots::Iana) => crate::validator::iana_root_anchors(),
                (configured, _) => configured.to_vec(),
            },
        )
    }

    /// Validates from `anchors` unless `[dnssec] validate = false`; with
    /// none, validates nothing. The lab's root key is given this way, for
    /// the configuration has no anchors unless written in.
    pub fn with_trust_anchors(
        mut self,
        config: &Config,
        anchors: Vec<crate::validator::TrustAnchor>,
    ) -> Self {
        self.validating = !anchors.is_empty() && config.dnssec.validate.unwrap_or(true);
        self.trust_points.anchors = anchors;
        self
    }

    /// Whether answers are validated (RFC 4035 §5).
    pub fn validating(&self) -> bool {
        self.validating
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// What the resolver has counted.
    pub fn counters(&self) -> &counters::Counters {
        &self.counters
    }

    /// Where answered questions are published (`/events`).
    pub fn events(&self) -> &events::Events {
        &self.events
    }

    /// The nameservers' statistics (smoothed round-trip times, penalties).
    pub fn server_stats(&self) -> &ServerStats {
        &self.stats
    }

    /// The `[[forward]]` and `[[stub]]` zones.
    pub fn configured_zones(&self) -> &forward::ConfiguredZones {
        &self.configured
    }

    /// Whether responses carry the answer alone (see [`Settings::minimal_responses`]).
    pub fn minimal_responses(&self) -> bool {
        self.settings.minimal_responses
    }

    /// The bounds of one client question.
    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    /// Resolves one client question with a fresh budget. `missed`: the
    /// cache was looked up a moment ago and holds no answer (nor alias) for
    /// it, so the walk starts at once instead of looking again.
    pub async fn query(&self, qname: &Name, qtype: RecordType, missed: bool) -> Resolved {
        let mut budget = Budget::new(&self.settings.limits);
        let result = self.resolve_from(qname, qtype, &mut budget, !missed).await;
        // RRSIGs are not signed themselves (RFC 4035 §2.2): such answers
        // are passed on unvalidated, as Unbound passes them. A bogus answer
        // is asked again of other servers first (bogus.rs).
        let (result, security) = match result {
            Ok(resolution) if self.validating && qtype != RecordType::RRSIG => {
                let (resolution, verdict) = self
                    .validated_with_retries(qname, qtype, resolution, &mut budget)
                    .await;
                (Ok(resolution), Some(verdict))
            }
            other => (other, None),
        };
        Resolved {
            result,
            upstream_queries: budget.queries_sent(),
            messages: Vec::new(),
            security,
        }
    }

    /// The answer from the cache alone, following cached CNAMEs and
    /// DNAMEs; else which part is missing.
    pub fn from_cache(&self, qname: &Name, qtype: RecordType) -> Result<Resolution, Uncached> {
        self.cached_resolution(qname, qtype, |name, record_type, now| {
            let found = self.cache.lookup(name, record_type, now);
            if found.is_some() && self.reports.is_some() {
                let used_for = match record_type == RecordType::CNAME && qtype != RecordType::CNAME
                {
                    true => crate::capture::UsedFor::Alias,
                    false => crate::capture::UsedFor::Answer,
                };
                self.report_use(used_for, name, record_type);
            }
            found
        })
    }

    /// The answer from what `lookup` finds in the cache (live data, or
    /// stale too: stale.rs), following CNAMEs and DNAMEs.
    fn cached_resolution(
        &self,
        qname: &Name,
        qtype: RecordType,
        lookup: impl Fn(&Name, RecordType, tokio::time::Instant) -> Option<cache::Cached>,
    ) -> Result<Resolution, Uncached> {
        let now = crate::clock::now();
        let mut chain = Vec::new();
        let mut name = qname.clone();
        for _ in 0..=self.settings.limits.max_cname_chain {
            let missing = match chain.is_empty() {
                true => Uncached::Question,
                false => Uncached::Link,
            };
            if let Some(outcome) = lookup(&name, qtype, now).map(Outcome::from) {
                return Ok(Resolution { chain, outcome });
            }
            let cname = match (!follows_no_alias(qtype))
                .then(|| lookup(&name, RecordType::CNAME, now))
                .flatten()
            {
                Some(cache::Cached::Records(records)) => records.into_iter().next(),
                _ => None,
            };
            match cname {
                Some(cname) => {
                    let hickory_proto::rr::RData::CNAME(target) = &cname.data else {
                        return Err(missing);
                    };
                    name = target.0.clone();
                    chain.push(cname);
                }
                // A cached DNAME above the name redirects it (RFC 6672 §3.4).
                None => match self.cached_redirect(&name, qtype).ok_or(missing)? {
                    iterate::Step::Alias(records, target) => {
                        dname::extend(&mut chain, &records);
                        name = target;
                    }
                    iterate::Step::Done(records, outcome) => {
                        dname::extend(&mut chain, &records);
                        return Ok(Resolution { chain, outcome });
                    }
                },
            }
        }
        Err(Uncached::Link)
    }
}

/// Why the cache alone does not answer a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncached {
    /// It holds nothing for the question's own name and type: no answer,
    /// no negative answer, no CNAME, no DNAME above it.
    Question,
    /// It holds the first links of a CNAME/DNAME chain, but not the rest
    /// (or more links than a chain may have).
    Link,
}

/// The part of `[cache] size` that encoded answers ready to replay may
/// hold: a quarter; the records get the rest.
pub fn replay_share(config: &Config) -> u64 {
    config.cache.size / 4
}

/// The root servers to start from: `[resolver] roots`, else the lab's root
/// servers when a lab is configured, else the IANA hints.
pub fn roots_for(config: &Config, lab_roots: &[std::net::IpAddr]) -> Roots {
    match &config.resolver.roots {
        Some(roots) => roots.clone(),
        None if !lab_roots.is_empty() => Roots::Addresses(lab_roots.to_vec()),
        None => Roots::Iana,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn randomize_case(setting: Option<bool>, roots: &Roots) -> bool {
        let mut config = Config::parse("").expect("the defaults parse");
        config.resolver.randomize_case = setting;
        Resolver::new(&config, roots, None).settings.randomize_case
    }

    #[test]
    fn case_randomization_is_on_for_the_internet_and_off_in_the_lab_unless_set() {
        let lab = Roots::Addresses(vec![std::net::Ipv4Addr::LOCALHOST.into()]);
        assert!(randomize_case(None, &Roots::Iana), "on with the IANA roots");
        assert!(!randomize_case(None, &lab), "off in the lab");
        assert!(!randomize_case(Some(false), &Roots::Iana), "as set");
        assert!(randomize_case(Some(true), &lab), "as set");
    }
}
