//! The iterative walk of RFC 1034 §5.3.3, with a budget.
//!
//! ```text
//! resolve(name, type):
//!   cache: answer / negative → done;  CNAME → follow it, again;  DNAME above → its CNAME (dname.rs)
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
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub use super::budget::{Budget, Limits};
pub use super::error::{Failure, ResolveError, ede};
pub use super::minimise::MAX_MINIMISE_COUNT;

use super::Resolver;
use super::cache::Cached;
use super::delegation::{Candidate, Delegation, DelegationPoint};
use super::dname;
use super::forward::Start;
use super::learn::LastResort;
use super::minimise::Minimiser;
use super::reply::{address_of, follows_no_alias};
use crate::clock;
use crate::transport::{Allowance, Ask};

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
    /// This server is of little use for the zone, but what it said is
    /// believed if no other server of the zone says better (learn.rs).
    LastResort(Box<LastResort>),
}

/// How long a lame server is put behind the others.
pub(super) const LAME_PENALTY: Duration = Duration::from_secs(2);

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
                    None => match self.cached_redirect(&name, qtype) {
                        Some(step) => step, // a cached DNAME above the name
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
        let mut point = match self.start_for(name) {
            Start::Forward(forwarders) => {
                return self.forward(forwarders, name, qtype, budget).await;
            }
            Start::Walk(point) => point,
        };
        let mut minimiser = Minimiser::new(self.settings.qname_minimisation, name, qtype);
        let mut referrals = 0;
        let mut last_server = None;
        let mut last_failure = Failure::NoAddress;
        let mut last_resort: Option<Box<LastResort>> = None;
        loop {
            let (ask_name, ask_type) = minimiser.question(&point.zone);
            let minimised = ask_name != *name;
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
                Lesson::LastResort(kept) if minimised => {
                    // On the way down, an empty or cached answer for a
                    // shorter name still says there is no zone cut there.
                    minimiser.learned(&self.settle(*kept, &ask_name, ask_type));
                    point.retry_all();
                }
                Lesson::LastResort(kept) => {
                    last_failure = kept.failure;
                    if last_resort
                        .as_ref()
                        .is_none_or(|held| kept.better_than(held))
                    {
                        last_resort = Some(kept);
                    }
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
                let Some(names) = point.take_parent_side() else {
                    return Ok(None);
                };
                let now = clock::now();
                for name in names {
                    for address in self.parent_side_addresses(&name, now) {
                        point.add(address, Some(name.clone())); // once: known ones are not added again
                    }
                }
                continue;
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
        let mut reply = match self
            .exchange(server, zone, name, qtype, false, budget)
            .await?
        {
            Ok(reply) => reply,
            Err(failure) => return Ok(Lesson::Failed(failure)),
        };
        let lesson = self.absorb(&mut reply, zone, name, qtype);
        let failure = match &lesson {
            Lesson::Failed(failure) => Some(failure),
            Lesson::LastResort(kept) => Some(&kept.failure),
            _ => None,
        };
        if let Some(failure) = failure {
            tracing::debug!(server = %server.address, zone = %zone, "{failure}");
            self.stats.record_failure(server.endpoint(), LAME_PENALTY);
        }
        Ok(lesson)
    }

    /// One question to one server within the budget, with RD as given (set
    /// for a forwarder, forward.rs; clear for the walk): the verified reply, with
    /// the question's own letter case restored after 0x20, or why the server
    /// failed. Every message (retries included) is paid for before it is
    /// sent, and the whole exchange ends by the question's deadline.
    /// Round-trip times and time-outs go into the server statistics.
    pub(super) async fn exchange(
        &self,
        server: &Candidate,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        recursion_desired: bool,
        budget: &mut Budget,
    ) -> Result<Result<Message, Failure>, ResolveError> {
        let time_left = budget.spend_query()?;
        let wait = self
            .stats
            .timeout_for(server.endpoint(), self.settings.query_timeout)
            .min(time_left);
        let ask = Ask {
            query: Query::query(name.clone(), qtype),
            recursion_desired,
            edns: true,
            randomize_case: self.settings.randomize_case,
        };
        let address = server.endpoint().socket(self.settings.port);
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
                self.stats.record_failure(server.endpoint(), wait);
                return Ok(Err(Failure::from(&error)));
            }
        };
        self.stats.record_rtt(server.endpoint(), exchange.rtt);
        if self.settings.randomize_case {
            restore_case(&mut exchange.reply, name);
        }
        Ok(Ok(exchange.reply))
    }
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
pub(super) fn cname_target(record: &Record) -> Name {
    match &record.data {
        RData::CNAME(target) => target.0.clone(),
        _ => record.name.clone(),
    }
}
