//! The resolver as a DNS server: who may ask, answers from the cache at
//! once, and one shared resolution per question in progress (the message
//! each gets is made in response.rs).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::FutureExt;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use ipnet::IpNet;
use tokio::time::Instant;

use super::failure_cache::FailureCache;
use super::in_flight::{InFlight, Joined};
use super::prefetch::prefetch_if_due;
use super::refresh::Refreshes;
use super::stale::{Refreshed, refreshed_or_stale};
use super::{ResolveError, Resolved, Resolver};
use crate::names::QuestionKey;
use crate::server::{Handler, Lifetime, Request, Response, ServerEvent};

/// The resolver's request handler.
pub struct Service {
    resolver: Arc<Resolver>,
    allow: Vec<IpNet>,
    log_queries: bool,
    in_flight: InFlight<QuestionKey, Arc<Resolved>>,
    failures: FailureCache,
    refreshes: Refreshes,
}

impl Service {
    /// Serves `resolver` to clients whose address is inside `allow`.
    pub fn new(resolver: Arc<Resolver>, allow: Vec<IpNet>, log_queries: bool) -> Self {
        Service {
            resolver,
            allow,
            log_queries,
            in_flight: InFlight::default(),
            failures: FailureCache::default(),
            refreshes: Refreshes::default(),
        }
    }

    /// The resolver served.
    pub fn resolver(&self) -> &Arc<Resolver> {
        &self.resolver
    }

    /// True when `address` may query (IPv4-mapped IPv6 counts as IPv4).
    pub fn allowed(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.allow.iter().any(|net| net.contains(&address))
    }
}

/// How long past its deadline a resolution may run before it is abandoned:
/// the walk checks its deadline between steps, so it may overrun by one step.
pub const DEADLINE_SLACK: Duration = Duration::from_secs(1);

/// The resolution of `name`/`qtype` (`key`): the one in progress, or a new one,
/// bounded by the question's deadline plus [`DEADLINE_SLACK`]. Its failure
/// goes into `failures` (RFC 9520 §3); its success takes the question out.
///
/// Called when an answer starts being worked on (not when it is merely
/// decided), so that an answer the server drops never leaves an entry; the
/// entry goes when its resolution ends, panics, overruns, or is dropped.
fn shared_resolution(
    resolver: &Arc<Resolver>,
    in_flight: &InFlight<QuestionKey, Arc<Resolved>>,
    failures: &FailureCache,
    (name, qtype, key): (&Name, RecordType, &QuestionKey),
    missed: bool,
) -> Joined<Arc<Resolved>> {
    let limit = resolver.limits().resolution_timeout + DEADLINE_SLACK;
    let (resolver, failures) = (resolver.clone(), failures.clone());
    let (name, held) = (name.clone(), key.clone());
    in_flight.join(
        key.clone(),
        limit,
        move || {
            async move {
                // Someone watches (/events): keep this resolution's messages.
                // The recorded walk is boxed: wrapped in place it would make
                // this future three walks' size (12 KB), copied as it is
                // boxed, for every resolution, watched or not.
                let mut resolved = match resolver.events().watched() {
                    true => {
                        let walk = resolver.query(&name, qtype, missed).boxed();
                        let (mut resolved, messages) = crate::capture::recording(walk).await;
                        resolved.messages = messages;
                        resolved
                    }
                    false => resolver.query(&name, qtype, missed).await,
                };
                resolved.messages.shrink_to_fit();
                match &resolved.result {
                    Ok(_) => failures.remove(&held),
                    Err(error) => {
                        failures.insert(&held, error, crate::clock::now());
                    }
                }
                Arc::new(resolved)
            }
            .boxed()
        },
        |why| {
            Arc::new(Resolved {
                result: Err(ResolveError::Abandoned(why)),
                upstream_queries: 0,
                messages: Vec::new(),
                security: None,
            })
        },
    )
}

impl Handler for Service {
    /// Answers given from the cache may be replayed, their TTLs counted
    /// down, to allowed clients (not while every query is logged).
    fn replay_lifetime(&self, source: SocketAddr) -> Option<Lifetime> {
        if self.resolver.events().watched() {
            return None; // each answer is published, so none bypasses the handler
        }
        let lifetime = match self.resolver.cache().prefetches() {
            true => Lifetime::UntilPrefetch, // the last tenth of a TTL prefetches (prefetch.rs)
            false => Lifetime::CountingDown,
        };
        (!self.log_queries && self.allowed(source.ip())).then_some(lifetime)
    }

    /// The cache's generation: emptying the cache makes every remembered answer stale.
    fn data_version(&self) -> u64 {
        self.resolver.cache().generation()
    }

    /// Counts what the server did (for `/metrics`); a replayed answer came from the cache.
    fn observe(&self, event: ServerEvent) {
        let counters = self.resolver.counters();
        match event {
            ServerEvent::Answered {
                protocol,
                reply,
                replayed,
            } => {
                counters.count_answer(protocol, reply);
                if replayed {
                    counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                }
            }
            ServerEvent::RateLimited => {
                counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            ServerEvent::TcpOpened => {
                counters.tcp_connections.fetch_add(1, Ordering::Relaxed);
            }
            ServerEvent::TcpClosed => {
                counters.tcp_connections.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    fn handle(&self, request: &Request) -> Response {
        let started = Instant::now();
        if !self.allowed(request.source.ip()) {
            return Response::Ready(refused(request));
        }
        let query = request.query();
        if query.query_class != DNSClass::IN
            || matches!(
                query.query_type,
                RecordType::AXFR | RecordType::IXFR | RecordType::OPT
            )
        {
            return Response::Ready(refused(request));
        }
        let counters = self.resolver.counters();
        // A validating resolver answers from the cache with the verdict
        // remembered for the data (none is needed with CD: RFC 4035 §3.2.2);
        // without one the data is validated first: on the resolution's path
        // below, or, with RD clear, from the cache alone.
        let checking = self.resolver.validating()
            && !request.message.metadata.checking_disabled
            && query.query_type != RecordType::RRSIG;
        let found = self.resolver.from_cache(&query.name, query.query_type);
        let missed = found == Err(super::Uncached::Question);
        let found = found.ok();
        let verdict = match (&found, checking) {
            (Some(_), true) => self.resolver.cached_verdict(&query.name, query.query_type),
            _ => None,
        };
        let cached = match found {
            Some(resolution) if !checking || verdict.is_some() => Some((resolution, verdict)),
            Some(resolution) if !request.message.recursion_desired => {
                return self.validated_from_cache(request, resolution, started);
            }
            _ => None,
        };
        if let Some((resolution, verdict)) = cached {
            counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            prefetch_if_due(
                &self.resolver,
                &self.in_flight,
                &self.refreshes,
                &query.name,
                query.query_type,
                &resolution,
            );
            let response = self
                .resolver
                .response(request, &Ok(resolution), verdict.as_ref());
            self.log(request, &response, true, 0, started);
            return Response::Ready(response);
        }
        counters.cache_misses.fetch_add(1, Ordering::Relaxed);
        if !request.message.recursion_desired {
            return Response::Ready(refused(request)); // not cached, and recursion not desired
        }
        let now = crate::clock::now();
        // Expired data, with `[cache] serve_stale` (RFC 8767).
        let stale = self.resolver.from_stale(&query.name, query.query_type);
        let key = QuestionKey::new(&query.name, query.query_type);
        if let Some(failed) = self.failures.lookup(&key, now) {
            let Some(stale) = stale else {
                let response = self.resolver.response(request, &Err(failed), None);
                self.log(request, &response, true, 0, started);
                return Response::Ready(response);
            };
            let response = self.resolver.stale_response(request, stale);
            counters.served_stale.fetch_add(1, Ordering::Relaxed);
            self.log(request, &response, true, 0, started);
            // Later, though ready: a stale answer is not remembered for replay.
            return Response::Later(Box::pin(async move { response }));
        }
        let stale = stale.map(Box::new);
        let (resolver, map) = (self.resolver.clone(), self.in_flight.clone());
        let (failures, refreshes) = (self.failures.clone(), self.refreshes.clone());
        let request = request.clone();
        let log_queries = self.log_queries;
        Response::Later(Box::pin(async move {
            let query = request.query();
            let question = (&query.name, query.query_type, &key);
            let resolution = shared_resolution(&resolver, &map, &failures, question, missed);
            let question = (&query.name, query.query_type);
            // The serve-stale race boxed apart: this future stays small.
            let refreshed = match stale {
                None => Refreshed::Resolved(resolution.await),
                Some(stale) => {
                    let timer = resolver.stale_client_timeout();
                    let race = refreshed_or_stale(resolution, stale, timer, &refreshes, question);
                    Box::pin(race).await
                }
            };
            let (response, upstream) = match refreshed {
                Refreshed::Resolved(resolved) => {
                    let security = resolved.security.as_ref();
                    let response = resolver.response(&request, &resolved.result, security);
                    let how = (
                        false,
                        resolved.upstream_queries,
                        resolved.messages.as_slice(),
                    );
                    publish(&resolver, &request, &response, how, started);
                    (response, resolved.upstream_queries)
                }
                Refreshed::Stale(stale) => {
                    let counters = resolver.counters();
                    counters.served_stale.fetch_add(1, Ordering::Relaxed);
                    (resolver.stale_response(&request, *stale), 0)
                }
            };
            if log_queries {
                log_line(&request, &response, false, upstream, started);
            }
            resolver.counters().count_resolution(started.elapsed());
            response
        }))
    }
}

impl Service {
    /// Answers a question with RD clear from cached data that has no
    /// verdict yet: validated from the cache alone (no upstream query, as
    /// RD asks), or, when that is not possible, as if not cached: refused.
    fn validated_from_cache(
        &self,
        request: &Request,
        resolution: super::Resolution,
        started: Instant,
    ) -> Response {
        let (resolver, request) = (self.resolver.clone(), request.clone());
        let log_queries = self.log_queries;
        Response::Later(Box::pin(async move {
            let query = request.query();
            let verdict = resolver
                .verdict_from_cache(&query.name, query.query_type, &resolution)
                .await;
            let counters = resolver.counters();
            let response = match verdict {
                Some(verdict) => {
                    counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                    resolver.response(&request, &Ok(resolution), Some(&verdict))
                }
                None => {
                    counters.cache_misses.fetch_add(1, Ordering::Relaxed);
                    refused(&request)
                }
            };
            if log_queries {
                log_line(&request, &response, true, 0, started);
            }
            publish(&resolver, &request, &response, (true, 0, &[]), started);
            response
        }))
    }

    /// Logs an answer given without a resolution (with `[log] queries`)
    /// and publishes it to whoever watches.
    fn log(
        &self,
        request: &Request,
        response: &Message,
        cached: bool,
        upstream: usize,
        started: Instant,
    ) {
        if self.log_queries {
            log_line(request, response, cached, upstream, started);
        }
        publish(
            &self.resolver,
            request,
            response,
            (cached, upstream, &[]),
            started,
        );
    }
}

/// Publishes an answered question, with how it was answered (from the
/// cache; upstream queries; their messages), to whoever watches (`/events`).
fn publish(
    resolver: &Resolver,
    request: &Request,
    response: &Message,
    (cached, upstream_queries, messages): (bool, usize, &[crate::capture::Datagram]),
    started: Instant,
) {
    let events = resolver.events();
    if !events.watched() {
        return;
    }
    let query = request.query();
    events.publish(super::events::Answered {
        client: request.source,
        name: query.name.clone(),
        record_type: query.query_type,
        rcode: response.response_code,
        cached,
        upstream_queries,
        elapsed: started.elapsed(),
        at: std::time::SystemTime::now(),
        messages: messages.to_vec(),
        query: request.message.to_vec().unwrap_or_default(),
        response: response.to_vec().unwrap_or_default(),
    });
}

/// The per-query log line: client, name, type, rcode, cached, upstream queries, time.
fn log_line(
    request: &Request,
    response: &Message,
    cached: bool,
    upstream: usize,
    started: Instant,
) {
    let query = request.query();
    tracing::info!(
        client = %request.source,
        name = %query.name,
        qtype = %query.query_type,
        rcode = %response.response_code,
        cached,
        upstream,
        ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
        "query"
    );
}

/// REFUSED, with RA (the service is recursive; just not for this).
fn refused(request: &Request) -> Message {
    let mut response = request.error(ResponseCode::Refused);
    response.metadata.recursion_available = true;
    response
}
