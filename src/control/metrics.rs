//! `GET /metrics`: the resolver's counters in the Prometheus (OpenMetrics)
//! text exposition, encoded by prometheus-client when scraped; counting
//! itself is plain atomics on the resolver's side (resolver/counters.rs).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::authority::counters::AuthorityCounters;
use crate::capture::Protocol;
use crate::resolver::Resolver;
use crate::resolver::counters::{QTYPES, RCODES, RESOLUTION_BUCKETS, UpstreamResult};
use crate::trace::rcode_name;

/// The registry `/metrics` encodes: one collector reading the resolver.
pub fn registry(resolver: Arc<Resolver>) -> Registry {
    registry_with(resolver, None)
}

/// The same, with the answers of the lab's servers when they run here.
pub fn registry_with(
    resolver: Arc<Resolver>,
    authorities: Option<Arc<AuthorityCounters>>,
) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(ResolverCollector { resolver }));
    if let Some(counters) = authorities {
        registry.register_collector(Box::new(AuthorityCollector { counters }));
    }
    registry
}

/// Reads what the lab's servers answered on each scrape.
#[derive(Debug)]
struct AuthorityCollector {
    counters: Arc<AuthorityCounters>,
}

impl Collector for AuthorityCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "resolver_authoritative_queries",
            "Answers of the lab's authoritative servers, by zone and RCODE",
            None,
            MetricType::Counter,
        )?;
        for (zone, rcode, count) in self.counters.snapshot() {
            let labels = [("zone", zone), ("rcode", rcode)];
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// The text exposition of everything in `registry`.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)?;
    Ok(text)
}

/// Reads the resolver's counters and cache on each scrape.
struct ResolverCollector {
    resolver: Arc<Resolver>,
}

impl std::fmt::Debug for ResolverCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResolverCollector")
    }
}

impl Collector for ResolverCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counters = self.resolver.counters();
        let mut queries = encoder.encode_descriptor(
            "resolver_queries",
            "Answers sent to clients, by protocol, question type and RCODE",
            None,
            MetricType::Counter,
        )?;
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            for qtype in 0..=QTYPES.len() {
                for rcode in 0..=RCODES {
                    let count = counters.answers(protocol, qtype, rcode);
                    if count == 0 {
                        continue;
                    }
                    let qtype = QTYPES
                        .get(qtype)
                        .map_or("other".to_string(), |t| t.to_string());
                    let rcode = match u16::try_from(rcode) {
                        Ok(code) if rcode < RCODES => rcode_name(code.into()),
                        _ => "other".to_string(),
                    };
                    let protocol = match protocol {
                        Protocol::Udp => "udp",
                        Protocol::Tcp => "tcp",
                    };
                    let labels = [
                        ("protocol", protocol.to_string()),
                        ("qtype", qtype),
                        ("rcode", rcode),
                    ];
                    ConstCounter::new(count).encode(queries.encode_family(&labels)?)?;
                }
            }
        }
        counter(
            &mut encoder,
            "resolver_cache_hits",
            "Questions answered from the cache",
            counters.cache_hits.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "resolver_cache_misses",
            "Questions the cache could not answer",
            counters.cache_misses.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "resolver_rate_limited",
            "UDP queries dropped or answered TC by the rate limit",
            counters.rate_limited.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "resolver_served_stale",
            "Answers served stale (RFC 8767)",
            counters.served_stale.load(Relaxed),
        )?;
        counter(
            &mut encoder,
            "resolver_prefetch",
            "Prefetches started (an RRset in the last tenth of its TTL asked again)",
            counters.prefetches.load(Relaxed),
        )?;
        let open = u64::try_from(counters.tcp_connections.load(Relaxed)).unwrap_or(0);
        gauge(
            &mut encoder,
            "resolver_tcp_connections",
            "TCP connections from clients open now",
            open,
        )?;
        let cache = self.resolver.cache();
        gauge(
            &mut encoder,
            "resolver_cache_entries",
            "Entries in the cache",
            cache.entry_count(),
        )?;
        gauge(
            &mut encoder,
            "resolver_cache_bytes",
            "Bytes the cache holds, as weighed against [cache] size",
            cache.weighted_size(),
        )?;
        let mut upstream = encoder.encode_descriptor(
            "resolver_upstream_queries",
            "Queries sent to nameservers, by what each came to",
            None,
            MetricType::Counter,
        )?;
        for result in UpstreamResult::ALL {
            let labels = [("result", result.label())];
            ConstCounter::new(counters.upstream(result))
                .encode(upstream.encode_family(&labels)?)?;
        }
        let (buckets, sum) = counters.resolutions();
        let histogram = Histogram {
            count: buckets.iter().sum(),
            sum,
            buckets: RESOLUTION_BUCKETS
                .iter()
                .copied()
                .chain([f64::MAX])
                .zip(buckets)
                .collect(),
        };
        let metric = encoder.encode_descriptor(
            "resolver_resolution_seconds",
            "Time to answer a question the cache could not answer",
            None,
            MetricType::Histogram,
        )?;
        histogram.encode(metric)
    }
}

/// A counter without labels.
fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    ConstCounter::new(value).encode(metric)
}

/// A gauge without labels.
fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)).encode(metric)
}

/// A histogram read from counters: per-bucket counts, the last unbounded.
#[derive(Debug)]
struct Histogram {
    count: u64,
    sum: f64,
    buckets: Vec<(f64, u64)>,
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
