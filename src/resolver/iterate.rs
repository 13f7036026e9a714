//! The iterative walk of RFC 1034 §5.3.3, with a budget.
//!
//! ```text
//! resolve(name, type):
//!   cache: answer / negative → done;  CNAME → follow it, again;  DNAME above → its CNAME (dname.rs)
//!   validated NSECs prove it absent → that negative answer (aggressive.rs, RFC 8198)
//!   [[forward]] zone → ask its resolvers recursively instead (forward.rs)
//!   deepest cached delegation, a [[stub]] zone's servers or the root hints
//!   loop: pick a server (lowest smoothed RTT; glueless NS names looked up as
//!         sub-resolutions sharing this budget) → query without RD → scrub → classify
//!     answer / NXDOMAIN / NODATA → cache, done
//!     CNAME leaving the zone     → cache, resolve the target (the chain grows)
//!     referral closer to name    → cache the delegation, ask its servers
//!     lame, time-out, error      → penalise the server, try the next
//!     RA without AA, or empty without SOA → the same, but kept: believed
//!                                  if no server of the zone says better
//! ```
//!
//! Every step spends from a [`Budget`] (budget.rs): upstream queries,
//! referrals, CNAME links, glueless lookups and their depth, and a deadline.
//! Over budget, the walk stops with a [`ResolveError`] (error.rs), which the
//! client sees as SERVFAIL. Each reply is scrubbed, classified and cached in
//! learn.rs; QNAME minimisation's questions come from minimise.rs.

use std::time::Duration;

use futures::future::BoxFuture;
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub use super::budget::{Budget, Limits};
pub use super::error::{Failure, ResolveError, ede};
pub use super::minimise::MAX_MINIMISE_COUNT;

use super::Resolver;
use super::cache::Cached;
use super::delegation::{Delegation, DelegationPoint};
use super::dname;
use super::forward::Start;
use super::learn::LastResort;
use super::minimise::Minimiser;
use super::reply::follows_no_alias;
use crate::capture::UsedFor;
use crate::clock;

/// What a resolution found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The records asked for (after the chain).
    Answer(Vec<Record>),
    /// The name exists without such records; the SOA if one was given.
    NoData(Option<Record>),
    /// The name does not exist; the SOA if one was given.
    NxDomain(Option<Record>),
    /// A DNAME (the chain's last record) would make a name longer than 255
    /// octets (RFC 6672 §2.2): YXDOMAIN.
    YxDomain,
}

impl From<Cached> for Outcome {
    /// What the cache holds, as the outcome of a resolution.
    fn from(cached: Cached) -> Self {
        match cached {
            Cached::Records(records) => Outcome::Answer(records),
            Cached::NoData(soa) => Outcome::NoData(Some(soa)),
            Cached::NxDomain(soa) => Outcome::NxDomain(Some(soa)),
        }
    }
}

/// The result of resolving one question: the CNAME chain and the outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The CNAMEs from the question's name to the final name, in order,
    /// each DNAME before the CNAME it synthesises (RFC 6672 §3.1).
    pub chain: Vec<Record>,
    /// What the final name holds.
    pub outcome: Outcome,
}

/// What a walk through the servers ends with.
// A step lives briefly, one at a time per walk: boxing the outcome would
// cost an allocation per step to save stack (a Record is large since
// hickory's DNSSEC record types are enabled).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The final outcome, after these CNAMEs.
    Done(Vec<Record>, Outcome),
    /// These CNAMEs, then resolve the target.
    Alias(Vec<Record>, Name),
}

/// What the walk makes of one reply (RFC 1034 §5.3.3 step 4, "analyze the response").
#[derive(Debug, Clone, PartialEq)]
pub enum Analysis {
    /// The question is settled, or goes on at a CNAME's target (cached).
    Step(Step),
    /// Ask the servers of this child zone next (the delegation is cached).
    Referral(Delegation),
    /// This server is of no use for the zone.
    Failed(Failure),
    /// This server is of little use for the zone, but what it said is
    /// believed if no other server of the zone says better (learn.rs).
    LastResort(Box<LastResort>),
}

/// How long a lame server is put behind the others.
pub const LAME_PENALTY: Duration = Duration::from_secs(2);

impl Resolver {
    /// Resolves `qname`/`qtype` from the cache and the network within `budget`.
    pub fn resolve<'a>(
        &'a self,
        qname: &'a Name,
        qtype: RecordType,
        budget: &'a mut Budget,
    ) -> BoxFuture<'a, Result<Resolution, ResolveError>> {
        Box::pin(self.resolve_from(qname, qtype, budget, true))
    }

    /// The loop of [`Self::resolve`]: the cache first, unless `look` is
    /// false for the question's own name (a question `Resolver::from_cache`
    /// was just found not to answer: only the validated NSECs of
    /// aggressive/ may still answer it before the walk); every CNAME target
    /// is looked up.
    pub(super) async fn resolve_from(
        &self,
        qname: &Name,
        qtype: RecordType,
        budget: &mut Budget,
        mut look: bool,
    ) -> Result<Resolution, ResolveError> {
        let mut chain: Vec<Record> = Vec::new();
        let mut name = qname.clone();
        loop {
            if look && let Some(outcome) = self.cached_outcome(&name, qtype) {
                return Ok(Resolution { chain, outcome });
            }
            let cached = match look {
                true => self.cached_step(&name, qtype),
                false => None,
            };
            look = true;
            let step = match cached {
                Some(step) => step,
                // Validated NSECs that prove it (aggressive/, RFC 8198).
                None => match self.synthesised(&name, qtype) {
                    Some(step) => step,
                    None => self.walk(&name, qtype, budget).await?,
                },
            };
            let (Step::Done(links, _) | Step::Alias(links, _)) = &step;
            dname::extend(&mut chain, links);
            if dname::links(&chain) > budget.limits.max_cname_chain {
                return Err(ResolveError::CnameChain(budget.limits.max_cname_chain));
            }
            match step {
                Step::Done(_, outcome) => return Ok(Resolution { chain, outcome }),
                Step::Alias(_, target) => {
                    if target == *qname || dname::revisits(&chain, &target) {
                        return Err(ResolveError::CnameLoop(target));
                    }
                    name = target;
                }
            }
        }
    }

    /// The next step the cache gives for `name`: a cached CNAME at it, or
    /// a cached DNAME above it.
    fn cached_step(&self, name: &Name, qtype: RecordType) -> Option<Step> {
        match self.cached_alias(name, qtype) {
            Some(cname) => {
                let target = cname_target(&cname);
                Some(Step::Alias(vec![cname], target))
            }
            None => self.cached_redirect(name, qtype),
        }
    }

    /// The cached answer or negative answer for a name and type, if any.
    fn cached_outcome(&self, name: &Name, qtype: RecordType) -> Option<Outcome> {
        let outcome = self
            .cache
            .lookup(name, qtype, clock::now())
            .map(Outcome::from);
        if outcome.is_some() {
            self.report_use(UsedFor::Answer, name, qtype);
        }
        outcome
    }

    /// A cached CNAME at `name` (unless CNAME itself is asked).
    fn cached_alias(&self, name: &Name, qtype: RecordType) -> Option<Record> {
        if follows_no_alias(qtype) {
            return None;
        }
        let cname = self
            .cache
            .rrset(name, RecordType::CNAME, clock::now())
            .and_then(|records| records.into_iter().next());
        if cname.is_some() {
            self.report_use(UsedFor::Alias, name, RecordType::CNAME);
        }
        cname
    }

    /// Walks from the deepest known delegation down to the zone that answers.
    ///
    /// With QNAME minimisation (RFC 9156) each zone's servers are first
    /// asked about one more label of the name only (type A), until a
    /// referral comes or the whole name is reached; a minimised question
    /// that meets NXDOMAIN or a CNAME falls back to the full question
    /// (broken servers say NXDOMAIN for empty non-terminals).
    pub(super) async fn walk(
        &self,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Step, ResolveError> {
        // A DS RRset lives on the parent side of its zone cut: it is asked
        // of the parent's servers (RFC 4035 §3.1.4.1, §4.2), whose zone the
        // walk starts from even when the child's delegation is cached.
        let parent;
        let start = match qtype == RecordType::DS && !name.is_root() {
            true => {
                parent = name.base_name();
                &parent
            }
            false => name,
        };
        match self.start_for(start) {
            Start::Forward(forwarders) => self.forward(forwarders, name, qtype, budget).await,
            Start::Walk(point) => self.walk_from(point, name, qtype, budget).await,
        }
    }

    /// The walk from the servers of `point` down.
    pub(super) async fn walk_from(
        &self,
        mut point: DelegationPoint,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Step, ResolveError> {
        let mut minimiser = Minimiser::new(self.settings.qname_minimisation, name, qtype);
        let mut referrals = 0;
        let mut last_server = None;
        let mut last_failure = Failure::NoAddress;
        let mut last_resort: Option<Box<LastResort>> = None;
        loop {
            let (ask_name, ask_type) = minimiser.question(&point.zone);
            let minimised = minimiser.minimising();
            if minimised && let Some(outcome) = self.cached_outcome(&ask_name, ask_type) {
                minimiser.learned(&Step::Done(Vec::new(), outcome));
                continue;
            }
            let Some(server) = self.next_server(&mut point, budget).await? else {
                if let Some(kept) = last_resort {
                    tracing::debug!(zone = %point.zone, "no better answer: {}", kept.failure);
                    return Ok(self.settle(*kept, name, qtype));
                }
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
                Analysis::Referral(delegation) => {
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
                Analysis::Step(step) if minimised => {
                    // No zone cut at this name: one more label, of the same servers.
                    minimiser.learned(&step);
                    point.retry_all();
                }
                Analysis::Step(step) => return Ok(step),
                Analysis::Failed(failure @ (Failure::Lame(_) | Failure::Malformed))
                    if minimised =>
                {
                    // A server that answers a minimised question badly may
                    // still answer the whole one (RFC 9156 §2.3): ask it that.
                    last_failure = failure;
                    minimiser.stop();
                    point.retry_all();
                }
                Analysis::LastResort(kept) if minimised => {
                    // On the way down, an empty or cached answer for a
                    // shorter name still says there is no zone cut there.
                    minimiser.learned(&self.settle(*kept, &ask_name, ask_type));
                    point.retry_all();
                }
                Analysis::LastResort(kept) => {
                    last_failure = kept.failure;
                    if last_resort
                        .as_ref()
                        .is_none_or(|held| kept.better_than(held))
                    {
                        last_resort = Some(kept);
                    }
                }
                Analysis::Failed(failure) => last_failure = failure,
            }
        }
    }
}

/// The name a chain of CNAMEs from `name` ends at: its last target, or
/// `name` itself when there is none.
pub(super) fn chain_end(chain: &[Record], name: &Name) -> Name {
    chain
        .last()
        .map(cname_target)
        .unwrap_or_else(|| name.clone())
}

/// The target of a CNAME record (the record's own name if it is not one).
pub(super) fn cname_target(record: &Record) -> Name {
    match &record.data {
        RData::CNAME(target) => target.0.clone(),
        _ => record.name.clone(),
    }
}
