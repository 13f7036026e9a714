//! The control endpoint's routes (axum): what each answers, as JSON for
//! tools (and `resolver control`), text for Prometheus.
//!
//! ```text
//! GET  /metrics                                   Prometheus text exposition
//! GET  /stats                                     the same counters as one JSON object (resolver control stats)
//! GET  /cache?name=N[&type=T]                     every live entry at or under N, with its provenance
//! POST /cache/flush[?name=N[&type=T][&subtree=1]] forget N (its type, its subtree), or everything
//! GET  /servers                                   every nameserver timed: smoothed RTT, penalised
//! GET  /events                                    server-sent events: each client question as it is
//!                                                 answered, with its upstream messages (the trace's JSON)
//! GET  /                                          the live page (live.rs)
//! POST /ask?name=N[&type=T]                       asks the resolver, as a client would (for the page)
//! ```

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hickory_proto::rr::{Name, RecordType};
use serde::{Deserialize, Serialize};

use super::Control;
use crate::resolver::cache::Listed;
use crate::trace::compact;

/// The routes of an allowed client.
pub fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/stats", get(stats))
        .route("/cache", get(cache))
        .route("/cache/flush", post(flush))
        .route("/servers", get(servers))
        .route("/events", get(events))
        .route("/", get(page))
        .route("/ask", post(ask))
        .with_state(control)
}

/// The one answer a client outside `[control] allow` gets.
pub fn forbidden() -> Router {
    Router::new().fallback(|| async { (StatusCode::FORBIDDEN, "forbidden\n") })
}

/// Why a request could not be served: a 400 with a JSON `error`.
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.0 });
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

async fn metrics(State(control): State<Arc<Control>>) -> Response {
    match super::metrics::encode(&control.registry) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The counters, named as `unbound-control stats` names its own (dotted, totals first).
async fn stats(
    State(control): State<Arc<Control>>,
) -> Json<serde_json::Map<String, serde_json::Value>> {
    use std::sync::atomic::Ordering::Relaxed;
    let resolver = &control.resolver;
    let counters = resolver.counters();
    let mut stats = serde_json::Map::new();
    let mut put = |key: &str, value: u64| {
        stats.insert(key.to_string(), value.into());
    };
    let (buckets, _) = counters.resolutions();
    let hits = counters.cache_hits.load(Relaxed);
    let misses = counters.cache_misses.load(Relaxed);
    put("total.num.queries", hits + misses);
    put("total.num.cachehits", hits);
    put("total.num.cachemiss", misses);
    put("total.num.resolutions", buckets.iter().sum());
    put("total.num.prefetch", counters.prefetches.load(Relaxed));
    put("total.num.expired", counters.served_stale.load(Relaxed));
    put("total.num.ratelimited", counters.rate_limited.load(Relaxed));
    for result in crate::resolver::counters::UpstreamResult::ALL {
        put(
            &format!("upstream.{}", result.label()),
            counters.upstream(result),
        );
    }
    put(
        "tcp.connections",
        u64::try_from(counters.tcp_connections.load(Relaxed)).unwrap_or(0),
    );
    put("cache.entries", resolver.cache().entry_count());
    put("cache.bytes", resolver.cache().weighted_size());
    Json(stats)
}

/// `?name=N&type=T`, both optional.
#[derive(Deserialize)]
struct Selection {
    name: Option<String>,
    #[serde(rename = "type")]
    record_type: Option<String>,
    subtree: Option<String>,
}

impl Selection {
    fn name(&self) -> Result<Option<Name>, BadRequest> {
        self.name
            .as_deref()
            .map(|text| {
                let mut name = Name::from_ascii(text)
                    .map_err(|e| BadRequest(format!("bad name {text:?}: {e}")))?;
                name.set_fqdn(true);
                Ok(name)
            })
            .transpose()
    }

    fn record_type(&self) -> Result<Option<RecordType>, BadRequest> {
        self.record_type
            .as_deref()
            .map(|text| {
                text.to_ascii_uppercase()
                    .parse::<RecordType>()
                    .map_err(|_| BadRequest(format!("unknown record type {text:?}")))
            })
            .transpose()
    }
}

/// One cached entry, as `/cache` lists it.
#[derive(Serialize)]
struct Entry {
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    kind: crate::resolver::cache::EntryKind,
    negative: bool,
    records: Vec<String>,
    ttl: u32,
    ttl_left: u32,
    age: f64,
    credibility: &'static str,
    provenance: Option<Provenance>,
}

/// Who gave an entry, in answer to what.
#[derive(Serialize)]
struct Provenance {
    server: String,
    server_name: Option<String>,
    question: String,
    question_type: String,
}

impl From<Listed> for Entry {
    fn from(listed: Listed) -> Self {
        let info = listed.info;
        Entry {
            name: listed.name.to_string(),
            record_type: listed.record_type.to_string(),
            kind: listed.kind,
            negative: info.negative,
            records: info.records.iter().map(compact).collect(),
            ttl: info.ttl,
            ttl_left: info.ttl_left,
            age: (info.age.as_secs_f64() * 1000.0).round() / 1000.0,
            credibility: info.credibility.words(),
            provenance: info.provenance.map(|p| Provenance {
                server: p.server.to_string(),
                server_name: p.server_name.map(|name| name.to_string()),
                question: p.question.to_string(),
                question_type: p.question_type.to_string(),
            }),
        }
    }
}

async fn cache(
    State(control): State<Arc<Control>>,
    Query(selection): Query<Selection>,
) -> Result<Json<Vec<Entry>>, BadRequest> {
    let name = selection.name()?.unwrap_or_else(Name::root);
    let record_type = selection.record_type()?;
    let now = crate::clock::now();
    let cache = control.resolver.cache();
    let entries = cache.entries_under(&name, record_type, now);
    Ok(Json(entries.into_iter().map(Entry::from).collect()))
}

async fn flush(
    State(control): State<Arc<Control>>,
    Query(selection): Query<Selection>,
) -> Result<Json<serde_json::Value>, BadRequest> {
    let cache = control.resolver.cache();
    let subtree = matches!(selection.subtree.as_deref(), Some("1" | "true" | "yes"));
    let removed = match selection.name()? {
        Some(name) => cache.flush(&name, selection.record_type()?, subtree),
        None => {
            let entries = cache.entry_count();
            cache.clear();
            usize::try_from(entries).unwrap_or(usize::MAX)
        }
    };
    Ok(Json(serde_json::json!({ "removed": removed })))
}

/// One nameserver as the resolver times it.
#[derive(Serialize)]
struct Server {
    address: String,
    /// Its name, for the lab's servers.
    name: Option<String>,
    smoothed_rtt_ms: f64,
    penalised: bool,
    answered: u64,
    failed: u64,
    lame: u64,
}

async fn servers(State(control): State<Arc<Control>>) -> Json<Vec<Server>> {
    let port = control.upstream_port;
    let mut servers: Vec<Server> = control
        .resolver
        .server_stats()
        .all()
        .into_iter()
        .map(|(endpoint, rtt, health)| {
            let address = endpoint.socket(port);
            let name = control.cast.name_of(&address);
            Server {
                name: (name != address.ip().to_string()).then_some(name),
                address: address.to_string(),
                smoothed_rtt_ms: (rtt.as_secs_f64() * 1e5).round() / 100.0,
                penalised: rtt >= crate::resolver::iterate::LAME_PENALTY,
                answered: health.answered,
                failed: health.failed,
                lame: health.lame,
            }
        })
        .collect();
    servers.sort_by(|a, b| a.address.cmp(&b.address));
    Json(servers)
}

async fn events(
    State(control): State<Arc<Control>>,
) -> axum::response::sse::Sse<
    impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let receiver = control.resolver.events().subscribe();
    let stream =
        futures::stream::unfold((receiver, control), |(mut receiver, control)| async move {
            let event = match receiver.recv().await {
                Ok(answered) => {
                    let data = super::live::event_json(&answered, &control);
                    Event::default().event("answer").data(data)
                }
                // A watcher too slow for the flow is told how many it missed.
                Err(RecvError::Lagged(missed)) => {
                    Event::default().event("missed").data(missed.to_string())
                }
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(event), (receiver, control)))
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        super::live::PAGE,
    )
        .into_response()
}

async fn ask(
    State(control): State<Arc<Control>>,
    Query(selection): Query<Selection>,
) -> Result<Json<serde_json::Value>, BadRequest> {
    let name = selection
        .name()?
        .ok_or_else(|| BadRequest("give a name: /ask?name=N".to_string()))?;
    let record_type = selection.record_type()?.unwrap_or(RecordType::A);
    super::live::ask(&control, &name, record_type)
        .await
        .map(Json)
        .map_err(BadRequest)
}
