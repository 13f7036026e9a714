//! The iterative walk of RFC 1034 §5.3.3, with a budget.
//!
//! ```text
//! resolve(name, type):
//!   cache: answer / negative → done;  CNAME → follow it, again
//!   deepest cached delegation (else the root hints)
//!   loop: pick a server (lowest smoothed RTT; glueless NS names looked up as
//!         sub-resolutions sharing this budget) → query without RD → scrub → classify
//!     answer / NXDOMAIN / NODATA → cache, done
//!     CNAME leaving the zone     → cache, resolve the target (the chain grows)
//!     referral closer to name    → cache the delegation, ask its servers
//!     lame, time-out, error      → penalise the server, try the next
//! ```
//!
//! Every step spends from a [`Budget`]: upstream queries, referrals, CNAME
//! links, glueless lookups and their depth, and a deadline. Over budget, the
//! walk stops with a [`ResolveError`], which the client sees as SERVFAIL.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::future::BoxFuture;
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::Instant;

use super::Resolver;
use super::addresses::is_special;
use super::cache::{Cached, Credibility};
use super::delegation::{Candidate, Delegation, DelegationPoint};
use super::reply::{
    Classified, Lameness, address_of, classify, delegation_of, follows_no_alias, scrub,
};
use crate::clock;
use crate::names::label_count;
use crate::transport::{Allowance, Ask, TransportError};

/// What a resolution found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The records asked for (after the chain).
    Answer(Vec<Record>),
    /// The name exists without such records; the SOA if one was given.
    NoData(Option<Record>),
    /// The name does not exist; the SOA if one was given.
    NxDomain(Option<Record>),
}

/// The result of resolving one question: the CNAME chain and the outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The CNAMEs from the question's name to the final name, in order.
    pub chain: Vec<Record>,
    /// What the final name holds.
    pub outcome: Outcome,
}

/// Why the last server of a zone failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// It did not answer in time.
    #[error("time-out")]
    Timeout,
    /// The network refused (nothing listening, unreachable).
    #[error("unreachable")]
    Unreachable,
    /// It answered with something that is not DNS.
    #[error("malformed reply")]
    Malformed,
    /// It answered, uselessly.
    #[error("{0}")]
    Lame(Lameness),
    /// No address could be found for any of its names.
    #[error("no nameserver address")]
    NoAddress,
}

impl From<&TransportError> for Failure {
    fn from(error: &TransportError) -> Self {
        match error {
            TransportError::Timeout(_) => Failure::Timeout,
            TransportError::Io(_) => Failure::Unreachable,
            TransportError::Malformed | TransportError::Encode => Failure::Malformed,
            // The walk checks its budget itself before it gets here.
            TransportError::OverBudget => Failure::Timeout,
        }
    }
}

/// Why a resolution gave up; the client gets SERVFAIL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    /// The question took longer than its deadline.
    #[error("the resolution deadline of {0:?} passed")]
    Deadline(Duration),
    /// Too many upstream queries for one question.
    #[error("the budget of {0} upstream queries is spent")]
    QueryBudget(usize),
    /// Too many referrals for one name.
    #[error("more than {0} referrals")]
    ReferralLimit(usize),
    /// A CNAME chain longer than the limit.
    #[error("a CNAME chain longer than {0}")]
    CnameChain(usize),
    /// A CNAME chain that comes back to a name already in it.
    #[error("a CNAME loop at {0}")]
    CnameLoop(Name),
    /// Too many nameserver names to look up for lack of glue.
    #[error("more than {0} glueless nameserver lookups")]
    GluelessLimit(usize),
    /// Glueless lookups nested too deep.
    #[error("glueless lookups nested deeper than {0}")]
    GluelessDepth(usize),
    /// A nameserver name whose lookup needs itself (zones served only by each other's names).
    #[error("{0} can only be resolved through itself")]
    DependencyLoop(Name),
    /// The resolution panicked or overran its bound, and was abandoned.
    #[error("{0}")]
    Abandoned(#[from] super::in_flight::Abandoned),
    /// Every server of a zone failed.
    #[error(
        "no server of {zone} answered usefully (last: {})",
        last_failure(server, failure)
    )]
    ServersFailed {
        /// The zone whose servers failed.
        zone: Name,
        /// The last server tried, if any was.
        server: Option<IpAddr>,
        /// What went wrong with it.
        failure: Failure,
    },
}

fn last_failure(server: &Option<IpAddr>, failure: &Failure) -> String {
    match server {
        Some(server) => format!("{server} {failure}"),
        None => failure.to_string(),
    }
}

/// Extended DNS Error codes used (RFC 8914 §4).
pub mod ede {
    /// Other: the text says what.
    pub const OTHER: u16 = 0;
    /// No Reachable Authority: no server of the zone answered usefully.
    pub const NO_REACHABLE_AUTHORITY: u16 = 22;
    /// Network Error: the network refused (unreachable).
    pub const NETWORK_ERROR: u16 = 23;
    /// Invalid Data: a server answered with something that is not DNS.
    pub const INVALID_DATA: u16 = 24;
}

impl ResolveError {
    /// The Extended DNS Error (RFC 8914) that explains this failure to the client.
    pub fn extended_error(&self) -> u16 {
        match self {
            ResolveError::Deadline(_)
            | ResolveError::Abandoned(super::in_flight::Abandoned::Overran(_)) => {
                ede::NO_REACHABLE_AUTHORITY
            }
            ResolveError::ServersFailed { failure, .. } => match failure {
                Failure::Unreachable => ede::NETWORK_ERROR,
                Failure::Malformed => ede::INVALID_DATA,
                Failure::Timeout | Failure::Lame(_) | Failure::NoAddress => {
                    ede::NO_REACHABLE_AUTHORITY
                }
            },
            _ => ede::OTHER,
        }
    }
}

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
    limits: Limits,
    deadline: Instant,
    queries_sent: usize,
    glueless_lookups: usize,
    in_progress: Vec<(Name, RecordType)>,
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
        }
    }

    /// Upstream queries sent so far.
    pub fn queries_sent(&self) -> usize {
        self.queries_sent
    }

    /// Spends one upstream query; returns the time left before the deadline.
    fn spend_query(&mut self) -> Result<Duration, ResolveError> {
        let left = self.time_left()?;
        if self.queries_sent >= self.limits.max_upstream_queries {
            return Err(ResolveError::QueryBudget(self.limits.max_upstream_queries));
        }
        self.queries_sent += 1;
        Ok(left)
    }

    fn time_left(&self) -> Result<Duration, ResolveError> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(ResolveError::Deadline(self.limits.resolution_timeout))
    }

    /// Starts a glueless lookup of `name`, refusing cycles and excess.
    fn enter_glueless(&mut self, name: &Name) -> Result<(), ResolveError> {
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

    fn leave_glueless(&mut self) {
        self.in_progress.pop();
    }
}

/// What a walk through the servers ends with.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The final outcome, after these CNAMEs.
    Done(Vec<Record>, Outcome),
    /// These CNAMEs, then resolve the target.
    Alias(Vec<Record>, Name),
}

/// What one reply teaches the walk.
#[derive(Debug, Clone, PartialEq)]
pub enum Lesson {
    /// The question is settled, or goes on at a CNAME's target (cached).
    Step(Step),
    /// Ask the servers of this child zone next (the delegation is cached).
    Referral(Delegation),
    /// This server is of no use for the zone.
    Failed(Failure),
}

/// The most minimised questions for one name before asking it whole (RFC 9156 §2.3).
pub const MAX_MINIMISE_COUNT: usize = 10;

/// Which name and type to ask next, label by label (RFC 9156 §3).
struct Minimiser {
    name: Name,
    qtype: RecordType,
    /// Labels beyond the zone to ask about; `None` once minimising stopped.
    extra: Option<usize>,
    /// Minimised questions answered so far (each a step down the name); a
    /// server that fails and is replaced by the next does not count.
    asked: usize,
}

impl Minimiser {
    fn new(enabled: bool, name: &Name, qtype: RecordType) -> Self {
        Minimiser {
            name: name.clone(),
            qtype,
            extra: enabled.then_some(1),
            asked: 0,
        }
    }

    /// The question for a server of `zone`: the next label with type A, or the whole question.
    fn question(&mut self, zone: &Name) -> (Name, RecordType) {
        let full = label_count(&self.name);
        let Some(extra) = self.extra else {
            return (self.name.clone(), self.qtype);
        };
        let labels = label_count(zone) + extra;
        if labels >= full || self.asked >= MAX_MINIMISE_COUNT {
            self.extra = None;
            return (self.name.clone(), self.qtype);
        }
        (self.name.trim_to(labels), RecordType::A)
    }

    /// No more minimising: the whole question from now on.
    fn stop(&mut self) {
        self.extra = None;
    }

    /// A referral: start again one label below the new zone.
    fn next_zone(&mut self) {
        if self.extra.is_some() {
            self.asked += 1;
            self.extra = Some(1);
        }
    }

    /// A minimised question was answered without a referral.
    fn learned(&mut self, step: &Step) {
        self.extra = match (step, self.extra) {
            (Step::Done(_, Outcome::Answer(_) | Outcome::NoData(_)), Some(extra)) => {
                self.asked += 1;
                Some(extra + 1)
            }
            _ => None, // NXDOMAIN or a CNAME: ask the whole question
        };
    }
}

/// How long a lame server is put behind the others.
const LAME_PENALTY: Duration = Duration::from_secs(2);

impl Resolver {
    /// Resolves `qname`/`qtype` from the cache and the network within `budget`.
    pub fn resolve<'a>(
        &'a self,
        qname: &'a Name,
        qtype: RecordType,
        budget: &'a mut Budget,
    ) -> BoxFuture<'a, Result<Resolution, ResolveError>> {
        Box::pin(async move {
            let mut chain: Vec<Record> = Vec::new();
            let mut name = qname.clone();
            loop {
                if let Some(outcome) = self.cached_outcome(&name, qtype) {
                    return Ok(Resolution { chain, outcome });
                }
                let step = match self.cached_alias(&name, qtype) {
                    Some(cname) => {
                        let target = cname_target(&cname);
                        Step::Alias(vec![cname], target)
                    }
                    None => self.walk(&name, qtype, budget).await?,
                };
                let (Step::Done(links, _) | Step::Alias(links, _)) = &step;
                chain.extend(links.iter().cloned());
                if chain.len() > budget.limits.max_cname_chain {
                    return Err(ResolveError::CnameChain(budget.limits.max_cname_chain));
                }
                match step {
                    Step::Done(_, outcome) => return Ok(Resolution { chain, outcome }),
                    Step::Alias(_, target) => {
                        if target == *qname || chain.iter().any(|r| r.name == target) {
                            return Err(ResolveError::CnameLoop(target));
                        }
                        name = target;
                    }
                }
            }
        })
    }

    /// The cached answer or negative answer for a name and type, if any.
    fn cached_outcome(&self, name: &Name, qtype: RecordType) -> Option<Outcome> {
        match self.cache.lookup(name, qtype, clock::now())? {
            Cached::Records(records) => Some(Outcome::Answer(records)),
            Cached::NoData(soa) => Some(Outcome::NoData(Some(soa))),
            Cached::NxDomain(soa) => Some(Outcome::NxDomain(Some(soa))),
        }
    }

    /// A cached CNAME at `name` (unless CNAME itself is asked).
    fn cached_alias(&self, name: &Name, qtype: RecordType) -> Option<Record> {
        if follows_no_alias(qtype) {
            return None;
        }
        self.cache
            .rrset(name, RecordType::CNAME, clock::now())
            .and_then(|records| records.into_iter().next())
    }

    /// Where to start for `name`: the deepest cached delegation, else the root hints.
    fn starting_point(&self, name: &Name) -> DelegationPoint {
        let now = clock::now();
        match self.cache.deepest_delegation(name, now) {
            Some(delegation) => DelegationPoint::new(
                &delegation,
                |ns| self.cached_addresses(ns, now),
                |address| self.usable(address),
            ),
            // The configured roots are trusted as given; only the IPv6 setting applies.
            None => {
                let mut point = self.roots.clone();
                point.retain_addresses(|address| address.is_ipv4() || self.settings.ipv6);
                point
            }
        }
    }

    /// Addresses of a nameserver name known from authoritative answers.
    fn cached_addresses(&self, name: &Name, now: Instant) -> Vec<IpAddr> {
        let mut types = vec![RecordType::A];
        if self.settings.ipv6 {
            types.push(RecordType::AAAA);
        }
        types
            .into_iter()
            .filter_map(|record_type| self.cache.rrset(name, record_type, now))
            .flatten()
            .filter_map(|record| address_of(&record))
            .collect()
    }

    /// True when the resolver may send to this address learned from the
    /// network: IPv6 only with the IPv6 setting, special-purpose addresses
    /// (loopback, private, link-local) only with `private_nameservers`.
    fn usable(&self, address: &IpAddr) -> bool {
        let family = address.is_ipv4() || self.settings.ipv6;
        let allowed = self.settings.private_nameservers || !is_special(address);
        if family && !allowed {
            tracing::debug!(%address, "not following a referral to a special-purpose address");
        }
        family && allowed
    }

    /// Walks from the deepest known delegation down to the zone that answers.
    ///
    /// With QNAME minimisation (RFC 9156) each zone's servers are first
    /// asked about one more label of the name only (type A), until a
    /// referral comes or the whole name is reached; a minimised question
    /// that meets NXDOMAIN or a CNAME falls back to the full question
    /// (broken servers say NXDOMAIN for empty non-terminals).
    async fn walk(
        &self,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Step, ResolveError> {
        let mut point = self.starting_point(name);
        let mut minimiser = Minimiser::new(self.settings.qname_minimisation, name, qtype);
        let mut referrals = 0;
        let mut last_server = None;
        let mut last_failure = Failure::NoAddress;
        loop {
            let (ask_name, ask_type) = minimiser.question(&point.zone);
            let minimised = ask_name != *name;
            if minimised && let Some(outcome) = self.cached_outcome(&ask_name, ask_type) {
                minimiser.learned(&Step::Done(Vec::new(), outcome));
                continue;
            }
            let Some(server) = self.next_server(&mut point, budget).await? else {
                return Err(ResolveError::ServersFailed {
                    zone: point.zone.clone(),
                    server: last_server,
                    failure: last_failure,
                });
            };
            last_server = Some(server.address);
            match self
                .ask(&server, &point.zone, &ask_name, ask_type, budget)
                .await?
            {
                Lesson::Referral(delegation) => {
                    referrals += 1;
                    if referrals > budget.limits.max_referrals {
                        return Err(ResolveError::ReferralLimit(budget.limits.max_referrals));
                    }
                    let now = clock::now();
                    point = DelegationPoint::new(
                        &delegation,
                        |ns| self.cached_addresses(ns, now),
                        |address| self.usable(address),
                    );
                    minimiser.next_zone();
                }
                Lesson::Step(step) if minimised => {
                    // No zone cut at this name: one more label, of the same servers.
                    minimiser.learned(&step);
                    point.retry_all();
                }
                Lesson::Step(step) => return Ok(step),
                Lesson::Failed(failure @ (Failure::Lame(_) | Failure::Malformed)) if minimised => {
                    // A server that answers a minimised question badly may
                    // still answer the whole one (RFC 9156 §2.3): ask it that.
                    last_failure = failure;
                    minimiser.stop();
                    point.retry_all();
                }
                Lesson::Failed(failure) => last_failure = failure,
            }
        }
    }

    /// The next server to ask; looks up a glueless NS name when no address is left.
    async fn next_server(
        &self,
        point: &mut DelegationPoint,
        budget: &mut Budget,
    ) -> Result<Option<Candidate>, ResolveError> {
        loop {
            if let Some(candidate) = point.next(&self.stats) {
                return Ok(Some(candidate));
            }
            let Some(ns_name) = point.take_unresolved() else {
                return Ok(None);
            };
            budget.enter_glueless(&ns_name)?;
            let found = self.resolve(&ns_name, RecordType::A, budget).await;
            budget.leave_glueless();
            match found {
                // RFC 2181 §10.3: an NS name must not be an alias; only direct addresses count.
                Ok(Resolution {
                    chain,
                    outcome: Outcome::Answer(records),
                }) if chain.is_empty() => {
                    for address in records.iter().filter_map(address_of) {
                        if self.usable(&address) {
                            point.add(address, Some(ns_name.clone()));
                        }
                    }
                }
                Ok(_) => {} // no address: the next name, if any
                Err(error @ (ResolveError::Deadline(_) | ResolveError::QueryBudget(_))) => {
                    return Err(error);
                }
                Err(error) => {
                    tracing::debug!(ns = %ns_name, "glueless lookup failed: {error}");
                }
            }
        }
    }

    /// Sends the question to one server and learns from its reply; a spent
    /// budget is an error, a failure of the server is a lesson.
    async fn ask(
        &self,
        server: &Candidate,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Lesson, ResolveError> {
        let mut reply = match self.exchange(server, zone, name, qtype, budget).await? {
            Ok(reply) => reply,
            Err(failure) => return Ok(Lesson::Failed(failure)),
        };
        let lesson = self.absorb(&mut reply, zone, name, qtype);
        if let Lesson::Failed(failure) = &lesson {
            tracing::debug!(server = %server.address, zone = %zone, "{failure}");
            self.stats.record_failure(server.address, LAME_PENALTY);
        }
        Ok(lesson)
    }

    /// One question to one server within the budget: the verified reply, with
    /// the question's own letter case restored after 0x20, or why the server
    /// failed. Every message (retries included) is paid for before it is
    /// sent, and the whole exchange ends by the question's deadline.
    /// Round-trip times and time-outs go into the server statistics.
    async fn exchange(
        &self,
        server: &Candidate,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Result<Message, Failure>, ResolveError> {
        let time_left = budget.spend_query()?;
        let wait = self
            .stats
            .timeout_for(&server.address, self.settings.query_timeout)
            .min(time_left);
        let ask = Ask {
            query: Query::query(name.clone(), qtype),
            recursion_desired: false,
            edns: true,
            randomize_case: self.settings.randomize_case,
        };
        let address = SocketAddr::new(server.address, self.settings.port);
        let deadline = budget.deadline;
        let mut spent = None;
        let mut permit = || match budget.spend_query() {
            Ok(_) => true,
            Err(error) => {
                spent = Some(error);
                false
            }
        };
        let allowance = Allowance {
            deadline,
            wait,
            permit: &mut permit,
        };
        let result = self
            .transport
            .exchange_within(address, &ask, allowance)
            .await;
        if let Some(error) = spent {
            return Err(error); // a retry was due and the budget is spent
        }
        let mut exchange = match result {
            Ok(exchange) => exchange,
            Err(error) => {
                tracing::debug!(server = %address, zone = %zone, "{error}");
                self.stats.record_failure(server.address, wait);
                return Ok(Err(Failure::from(&error)));
            }
        };
        self.stats.record_rtt(server.address, exchange.rtt);
        if self.settings.randomize_case {
            restore_case(&mut exchange.reply, name);
        }
        Ok(Ok(exchange.reply))
    }

    /// Primes the root (RFC 8109): asks the root hints for ". NS" and caches
    /// the root delegation the answer gives (the names and their addresses),
    /// which every resolution then starts from. Returns its TTL in seconds.
    pub async fn prime(&self) -> Result<u32, ResolveError> {
        let mut budget = Budget::new(&self.settings.limits);
        let mut point = self.starting_point(&Name::root());
        let root = Name::root();
        let mut last = (None, Failure::NoAddress);
        while let Some(server) = point.next(&self.stats) {
            let mut reply = match self
                .exchange(&server, &root, &root, RecordType::NS, &mut budget)
                .await?
            {
                Ok(reply) => reply,
                Err(failure) => {
                    last = (Some(server.address), failure);
                    continue;
                }
            };
            scrub(&mut reply, &root);
            if let Some((delegation, ttl)) = root_delegation(&reply) {
                let ttl = self.cache.clamp_ttl(ttl);
                tracing::info!(
                    "primed the root from {}: {} servers, for {ttl} s",
                    server.address,
                    delegation.name_servers.len()
                );
                self.cache.insert_delegation(
                    delegation,
                    ttl,
                    Credibility::AuthoritativeAnswer,
                    clock::now(),
                );
                return Ok(ttl);
            }
            self.stats.record_failure(server.address, LAME_PENALTY);
            last = (
                Some(server.address),
                Failure::Lame(Lameness::NotAuthoritative),
            );
        }
        Err(ResolveError::ServersFailed {
            zone: root,
            server: last.0,
            failure: last.1,
        })
    }

    /// Learns from one reply of a server for `zone` to `name`/`qtype`:
    /// scrubs it, classifies it and caches what it teaches (answers,
    /// negative answers, delegations). The walk's handling of every reply,
    /// and the entry point of the upstream-reply fuzz target.
    pub fn absorb(
        &self,
        reply: &mut Message,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
    ) -> Lesson {
        let scrubbed = scrub(reply, zone);
        if scrubbed.out_of_bailiwick > 0 {
            let count = scrubbed.out_of_bailiwick;
            tracing::debug!(zone = %zone, "dropped {count} out-of-bailiwick records");
        }
        if scrubbed.wrong_class > 0 {
            return Lesson::Failed(Failure::Malformed); // records of a class other than IN
        }
        let says_nothing = reply.answers.is_empty()
            && !reply
                .authorities
                .iter()
                .any(|r| r.record_type() == RecordType::SOA);
        if scrubbed.upward_ns > 0 && says_nothing {
            return Lesson::Failed(Failure::Lame(Lameness::UpwardReferral));
        }
        match classify(reply, name, qtype, zone) {
            Classified::Referral { delegation, ttl } => {
                self.cache.insert_delegation(
                    delegation.clone(),
                    ttl,
                    Credibility::Referral,
                    clock::now(),
                );
                Lesson::Referral(delegation)
            }
            Classified::Lame(lameness) => Lesson::Failed(Failure::Lame(lameness)),
            other => {
                let credibility = Credibility::of_answer(reply.authoritative);
                Lesson::Step(self.learn(name, qtype, other, credibility))
            }
        }
    }

    /// Caches what an answer taught, ranked by `credibility` (RFC 2181
    /// §5.4.1: with or without AA), and turns it into a step.
    fn learn(
        &self,
        name: &Name,
        qtype: RecordType,
        classified: Classified,
        credibility: Credibility,
    ) -> Step {
        let now = clock::now();
        let (chain, end) = match &classified {
            Classified::Answer { chain, .. }
            | Classified::Alias { chain, .. }
            | Classified::NxDomain { chain, .. }
            | Classified::NoData { chain, .. } => (
                self.clamped(chain),
                chain
                    .last()
                    .map(cname_target)
                    .unwrap_or_else(|| name.clone()),
            ),
            _ => (Vec::new(), name.clone()),
        };
        for cname in &chain {
            self.cache
                .insert_rrset(std::slice::from_ref(cname), credibility, now);
        }
        match classified {
            Classified::Answer { records, .. } => {
                let records = self.clamped(&records);
                if qtype != RecordType::ANY {
                    self.cache.insert_rrset(&records, credibility, now);
                }
                Step::Done(chain, Outcome::Answer(records))
            }
            Classified::Alias { target, .. } => Step::Alias(chain, target),
            Classified::NxDomain { soa, .. } => {
                if let Some(soa) = &soa {
                    self.cache.insert_nx_domain(&end, soa, credibility, now);
                }
                Step::Done(chain, Outcome::NxDomain(soa.map(|s| self.negative(&s))))
            }
            Classified::NoData { soa, .. } => {
                if let Some(soa) = &soa {
                    self.cache
                        .insert_no_data(&end, qtype, soa, credibility, now);
                }
                Step::Done(chain, Outcome::NoData(soa.map(|s| self.negative(&s))))
            }
            Classified::Referral { .. } | Classified::Lame(_) => {
                unreachable!("walk handles referrals and lame replies itself")
            }
        }
    }

    /// Records with their TTLs within the cache's bounds, as the cache will serve them.
    fn clamped(&self, records: &[Record]) -> Vec<Record> {
        records
            .iter()
            .map(|record| {
                let mut record = record.clone();
                record.ttl = self.cache.clamp_ttl(record.ttl);
                record
            })
            .collect()
    }

    /// The SOA as a negative answer carries it: TTL = the negative TTL (RFC 2308 §3).
    fn negative(&self, soa: &Record) -> Record {
        let mut soa = soa.clone();
        soa.ttl = self.cache.negative_ttl(&soa);
        soa
    }
}

/// The root delegation in a priming reply: an authoritative NS set for the
/// root in the answer, and the addresses of those names in the additional section.
fn root_delegation(reply: &Message) -> Option<(Delegation, u32)> {
    if !reply.authoritative || reply.response_code != hickory_proto::op::ResponseCode::NoError {
        return None;
    }
    let ns: Vec<&Record> = reply
        .answers
        .iter()
        .filter(|r| r.name.is_root() && r.record_type() == RecordType::NS)
        .collect();
    let (delegation, ttl) = delegation_of(reply, &Name::root(), &ns);
    (!delegation.name_servers.is_empty()).then_some((delegation, ttl))
}

/// Gives the names of a 0x20 reply that match `name` back its own case, so
/// that what is cached and served reads as asked.
fn restore_case(reply: &mut Message, name: &Name) {
    for query in &mut reply.queries {
        query.name = name.clone();
    }
    let sections = reply
        .answers
        .iter_mut()
        .chain(reply.authorities.iter_mut())
        .chain(reply.additionals.iter_mut());
    for record in sections.filter(|record| record.name == *name) {
        record.name = name.clone();
    }
}

/// The target of a CNAME record (the record's own name if it is not one).
fn cname_target(record: &Record) -> Name {
    match &record.data {
        RData::CNAME(target) => target.0.clone(),
        _ => record.name.clone(),
    }
}
