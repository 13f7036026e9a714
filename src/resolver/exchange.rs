//! One question to one server within the walk's budget: the exchange
//! (every message paid for, within the question's deadline), the reply's
//! letter case restored after 0x20, and what the reply teaches (learn.rs);
//! round-trip times and failures go into the server statistics.

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};

use super::Resolver;
use super::budget::Budget;
use super::counters::UpstreamResult;
use super::delegation::Candidate;
use super::error::{Failure, ResolveError};
use super::iterate::{Analysis, LAME_PENALTY};
use crate::transport::{Allowance, Ask};

impl Resolver {
    /// Sends the question to one server and learns from its reply; a spent
    /// budget is an error, a failure of the server is part of the analysis.
    pub(super) async fn ask(
        &self,
        server: &Candidate,
        zone: &Name,
        name: &Name,
        qtype: RecordType,
        budget: &mut Budget,
    ) -> Result<Analysis, ResolveError> {
        let mut reply = match self
            .exchange(server, zone, name, qtype, false, budget)
            .await?
        {
            Ok(reply) => reply,
            Err(failure) => {
                self.counters
                    .count_upstream(UpstreamResult::of_failure(&failure));
                return Ok(Analysis::Failed(failure));
            }
        };
        let from = server.endpoint().socket(self.settings.port);
        let analysis = self.analyse(
            &mut reply,
            zone,
            name,
            qtype,
            Some((from, server.name.clone())),
        );
        self.counters.count_upstream(UpstreamResult::of(&analysis));
        let failure = match &analysis {
            Analysis::Failed(failure) => Some(failure),
            Analysis::LastResort(kept) => Some(&kept.failure),
            _ => None,
        };
        if let Some(failure) = failure {
            tracing::debug!(server = %server.address, zone = %zone, "{failure}");
            self.stats.record_lame(server.endpoint(), LAME_PENALTY);
        }
        Ok(analysis)
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
