//! What one client question may spend (RFC 1034 §5.3.3 asks for bounds;
//! these are ours, from `[limits]`): upstream queries, glueless lookups and
//! their depth, and one deadline for the whole question.

use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

use super::error::ResolveError;

/// The bounds of one client question (from `[limits]`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// CNAMEs followed.
    pub max_cname_chain: usize,
    /// Referrals followed for one name.
    pub max_referrals: usize,
    /// Upstream queries, sub-resolutions included.
    pub max_upstream_queries: usize,
    /// Glueless nameserver lookups.
    pub max_glueless_lookups: usize,
    /// Nesting of glueless lookups.
    pub max_glueless_depth: usize,
    /// The deadline of the whole question.
    pub resolution_timeout: Duration,
}

impl From<&crate::config::LimitsConfig> for Limits {
    fn from(config: &crate::config::LimitsConfig) -> Self {
        Limits {
            max_cname_chain: config.max_cname_chain,
            max_referrals: config.max_referrals,
            max_upstream_queries: config.max_upstream_queries,
            max_glueless_lookups: config.max_glueless_lookups,
            max_glueless_depth: config.max_glueless_depth,
            resolution_timeout: crate::config::Config::seconds(config.resolution_timeout),
        }
    }
}

/// What one client question may still spend; shared by its sub-resolutions.
#[derive(Debug)]
pub struct Budget {
    pub(super) limits: Limits,
    pub(super) deadline: Instant,
    pub(super) queries_sent: usize,
    glueless_lookups: usize,
    in_progress: Vec<(Name, RecordType)>,
    /// The validation work left (signatures, NSEC3 hashes: KeyTrap, CVE-2023-50387).
    pub(super) validation: crate::validator::ValidationBudget,
    /// No upstream query may be sent: the question is answered from the cache alone.
    cache_only: bool,
    /// A cache-only question wanted an upstream query (so what it found is partial).
    pub(super) wanted_network: bool,
    /// Servers not to ask again for this question: they gave bogus data (bogus.rs).
    avoided: Vec<std::net::IpAddr>,
}

impl Budget {
    /// A fresh budget, starting now.
    pub fn new(limits: &Limits) -> Self {
        Budget {
            limits: limits.clone(),
            deadline: Instant::now() + limits.resolution_timeout,
            queries_sent: 0,
            glueless_lookups: 0,
            in_progress: Vec::new(),
            validation: crate::validator::ValidationBudget::default(),
            cache_only: false,
            wanted_network: false,
            avoided: Vec::new(),
        }
    }

    /// Asks no more of `server` for this question.
    pub(super) fn avoid(&mut self, server: std::net::IpAddr) {
        if !self.avoided.contains(&server) {
            self.avoided.push(server);
        }
    }

    /// Whether `server` is not to be asked for this question.
    pub(super) fn avoids(&self, server: &std::net::IpAddr) -> bool {
        self.avoided.contains(server)
    }

    /// A budget that sends nothing upstream: every query is refused, and
    /// [`Budget::wanted_network`] records that one was wanted.
    pub fn cache_only(limits: &Limits) -> Self {
        Budget {
            cache_only: true,
            ..Budget::new(limits)
        }
    }

    /// Whether a cache-only question wanted an upstream query.
    pub fn wanted_network(&self) -> bool {
        self.wanted_network
    }

    /// Upstream queries sent so far.
    pub fn queries_sent(&self) -> usize {
        self.queries_sent
    }

    /// Spends one upstream query; returns the time left before the deadline.
    pub(super) fn spend_query(&mut self) -> Result<Duration, ResolveError> {
        let left = self.time_left()?;
        if self.cache_only {
            self.wanted_network = true;
            return Err(ResolveError::QueryBudget(0));
        }
        if self.queries_sent >= self.limits.max_upstream_queries {
            return Err(ResolveError::QueryBudget(self.limits.max_upstream_queries));
        }
        self.queries_sent += 1;
        Ok(left)
    }

    pub(super) fn time_left(&self) -> Result<Duration, ResolveError> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(ResolveError::Deadline(self.limits.resolution_timeout))
    }

    /// Starts a glueless lookup of `name`, refusing cycles and excess.
    pub(super) fn enter_glueless(&mut self, name: &Name) -> Result<(), ResolveError> {
        if self.in_progress.iter().any(|(n, _)| n == name) {
            return Err(ResolveError::DependencyLoop(name.clone()));
        }
        if self.in_progress.len() >= self.limits.max_glueless_depth {
            return Err(ResolveError::GluelessDepth(self.limits.max_glueless_depth));
        }
        if self.glueless_lookups >= self.limits.max_glueless_lookups {
            return Err(ResolveError::GluelessLimit(
                self.limits.max_glueless_lookups,
            ));
        }
        self.glueless_lookups += 1;
        self.in_progress.push((name.clone(), RecordType::A));
        Ok(())
    }

    pub(super) fn leave_glueless(&mut self) {
        self.in_progress.pop();
    }
}
