//! Prefetch (Unbound's `prefetch: yes`): with `[cache] prefetch = true`, a
//! client answered from the cache with an RRset in the last tenth of its
//! TTL sets off a refresh of it in the background, so that a name asked
//! for often is refreshed before it expires and no client waits for it.
//!
//! ```text
//! cache hit ─▶ answered at once
//!     └ RRset in its last tenth ─▶ refresh.rs (one per question, bounded)
//!          └ the shared resolution (in_flight.rs): walk past the cached RRset ─▶ cache
//! ```
//!
//! A prefetch is a shared resolution like any other, so a client asking
//! the question once it has expired joins the prefetch in progress. The
//! server replays an answer for nine tenths of its TTL only while prefetch
//! is on (`Lifetime::UntilPrefetch`), so that the last tenth reaches us.

use std::sync::Arc;

use futures::FutureExt;
use hickory_proto::rr::{Name, RecordType};

use super::in_flight::InFlight;
use super::iterate::{Step, chain_end};
use super::refresh::Refreshes;
use super::service::DEADLINE_SLACK;
use super::{Budget, Outcome, Resolution, ResolveError, Resolved, Resolver};
use crate::names::QuestionKey;

impl Resolver {
    /// Resolves `name`/`qtype` from its servers even though it is cached
    /// (the walk, past the cached RRset), caching what comes back.
    pub async fn refetch(&self, name: &Name, qtype: RecordType) -> Resolved {
        let mut budget = Budget::new(self.limits());
        let result = match self.walk(name, qtype, &mut budget).await {
            Ok(Step::Done(chain, outcome)) => Ok(Resolution { chain, outcome }),
            // It became an alias: the CNAME is cached now; resolve as ever.
            Ok(Step::Alias(..)) => self.resolve(name, qtype, &mut budget).await,
            Err(error) => Err(error),
        };
        let security = match &result {
            Ok(resolution) if self.validating => {
                self.forget_verdict(name, qtype); // the data is new
                Some(self.validated(name, qtype, resolution, &mut budget).await)
            }
            _ => None,
        };
        Resolved {
            result,
            upstream_queries: budget.queries_sent(),
            messages: Vec::new(),
            security,
        }
    }
}

/// Starts a prefetch of the RRset a client was just answered with from
/// the cache (`resolution`, for `qname`/`qtype`) if it is due (cache/prefetch.rs)
/// and none is running; true if one was started.
pub fn prefetch_if_due(
    resolver: &Arc<Resolver>,
    in_flight: &InFlight<QuestionKey, Arc<Resolved>>,
    refreshes: &Refreshes,
    qname: &Name,
    qtype: RecordType,
    resolution: &Resolution,
) -> bool {
    let Outcome::Answer(_) = &resolution.outcome else {
        return false;
    };
    if !resolver.cache().prefetches() {
        return false; // before any allocation: this is every cache hit's path
    }
    let end = chain_end(&resolution.chain, qname);
    if !resolver
        .cache()
        .due_for_prefetch(&end, qtype, crate::clock::now())
    {
        return false;
    }
    let counters = resolver.counters();
    counters
        .prefetches
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let limit = resolver.limits().resolution_timeout + DEADLINE_SLACK;
    let (owned, name) = (resolver.clone(), end.clone());
    let resolution = in_flight.join(
        QuestionKey::new(&end, qtype),
        limit,
        move || async move { Arc::new(owned.refetch(&name, qtype).await) }.boxed(),
        |why| {
            Arc::new(Resolved {
                result: Err(ResolveError::Abandoned(why)),
                upstream_queries: 0,
                messages: Vec::new(),
                security: None,
            })
        },
    );
    refreshes.spawn(&end, qtype, async move {
        let resolved = resolution.await;
        if let Err(error) = &resolved.result {
            tracing::debug!("prefetch failed: {error}");
        }
    })
}
