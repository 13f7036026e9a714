//! Micro-benchmarks of the hot paths, so that a regression shows before the
//! end-to-end run of bench/: a replayed answer (over UDP, and over TCP with
//! the idle timeout told), a cache hit built and encoded, an authoritative
//! lookup, a cache lookup, and a new name asked of the resolver's service
//! in a zone whose delegation is cached (one upstream exchange with an
//! authoritative server of this process, over loopback).
//!
//! `cargo bench` runs them (criterion).

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use resolver::authority::{Authority, Catalog};
use resolver::config::{CacheConfig, Config, Roots};
use resolver::keepalive::{self, Keepalive};
use resolver::lab::BoundLab;
use resolver::resolver::cache::Credibility;
use resolver::resolver::{Cache, Resolver, Service};
use resolver::server::{AnswerCache, Decision, Handler, Protocol, RateDecision, decide};
use resolver::zone::ZoneSet;

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a valid name")
}

fn query(qname: &str) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name(qname), RecordType::A));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    message.edns = Some(edns);
    message.to_vec().expect("encodes")
}

/// `qname` asked as dig asks it: RD and AD, EDNS(0) with a 1232-octet
/// payload and a client cookie (RFC 7873).
fn dig_query(qname: &str) -> Vec<u8> {
    let mut message = Message::from_vec(&query(qname)).expect("decodes");
    message.metadata.authentic_data = true;
    let cookie = EdnsOption::Unknown(10, vec![0x5a, 0x3c, 0x11, 0x08, 0x9e, 0x61, 0x27, 0xd4]);
    let edns = message.edns.as_mut().expect("an OPT");
    edns.options_mut().insert(cookie);
    message.to_vec().expect("encodes")
}

fn source() -> SocketAddr {
    "127.0.0.1:40000".parse().expect("an address")
}

/// The size of the answer `handler` gives at once to `bytes` over UDP.
fn answer_size<H: Handler>(handler: &H, answers: &AnswerCache, bytes: &[u8]) -> usize {
    answer_size_over(handler, answers, bytes, Protocol::Udp)
}

/// The same over `protocol`; over TCP, a query that asks is told a 10 s
/// idle timeout (RFC 7828).
fn answer_size_over<H: Handler>(
    handler: &H,
    answers: &AnswerCache,
    bytes: &[u8],
    protocol: Protocol,
) -> usize {
    match decide(
        handler,
        Some(answers),
        black_box(bytes),
        source(),
        protocol,
        RateDecision::Answer,
        Some(Duration::from_secs(10)),
    ) {
        Decision::Now(answer) => answer.len(),
        _ => 0,
    }
}

/// The lab's zones in one authoritative server.
fn authority() -> Authority {
    let zones = ZoneSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("zones"))
        .expect("the lab's zones");
    Authority::new(Catalog::new(zones.zones().cloned()))
}

/// A resolver whose cache holds gaia.cs.umass.edu. A; with `log_queries`
/// its answers are never replayed (and, with no tracing subscriber, the log
/// line costs nothing), so every query takes the whole path.
fn warmed_service(log_queries: bool) -> Service {
    let config = Config::parse("").expect("the defaults");
    let roots = Roots::Addresses(vec!["127.0.0.1".parse().expect("an address")]);
    let resolver = Arc::new(Resolver::new(&config, &roots, None));
    let record = Record::from_rdata(
        name("gaia.cs.umass.edu."),
        600,
        RData::A(A::new(128, 119, 245, 12)),
    );
    resolver.cache().insert_rrset(
        &[record],
        Credibility::AuthoritativeAnswer,
        tokio::time::Instant::now(),
    );
    Service::new(resolver, config.server.allow.clone(), log_queries)
}

/// A zone file in the lab's TOML form: `origin`, its SOA, `records`.
fn zone_text(origin: &str, records: &[(&str, &str, &str)]) -> String {
    let apex = if origin == "." { "root." } else { origin };
    let mut text = format!(
        "origin = \"{origin}\"\nttl = 3600\n[soa]\nmname = \"ns.{apex}\"\nrname = \"hostmaster.{apex}\"\n\
         serial = 1\nrefresh = 7200\nretry = 3600\nexpire = 1209600\nminimum = 60\n"
    );
    for (name, record_type, value) in records {
        text.push_str(&format!(
            "[[records]]\nname = \"{name}\"\ntype = \"{record_type}\"\nvalue = \"{value}\"\n"
        ));
    }
    text
}

/// A root on 127.0.60.1 delegating `cold.` to 127.0.60.2, where every name
/// has an address (a wildcard), served in this process on a free port; and
/// a resolver starting from that root with the delegation cached.
fn cold_world(runtime: &tokio::runtime::Runtime) -> Arc<Resolver> {
    let dir = tempfile::tempdir().expect("a folder");
    let root = zone_text(
        ".",
        &[
            ("@", "NS", "a.root-servers.net."),
            ("a.root-servers.net.", "A", "127.0.60.1"),
            ("cold.", "NS", "ns.cold."),
            ("ns.cold.", "A", "127.0.60.2"),
        ],
    );
    let cold = zone_text(
        "cold.",
        &[
            ("@", "NS", "ns"),
            ("ns", "A", "127.0.60.2"),
            ("*", "A", "192.0.2.1"),
        ],
    );
    std::fs::write(dir.path().join("root.toml"), root).expect("written");
    std::fs::write(dir.path().join("cold.toml"), cold).expect("written");
    let zones = ZoneSet::load_dir(dir.path()).expect("the zones load");
    let (lab, port) = (20_100..20_400)
        .find_map(|port| {
            Some((
                BoundLab::bind(&zones, port, &Default::default()).ok()?,
                port,
            ))
        })
        .expect("a free port");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();
    std::mem::forget(lab.serve(None, &shutdown, &tasks)); // served until the process ends
    let mut config = Config::parse("").expect("the defaults");
    config.resolver.port = Some(port);
    let roots = Roots::Addresses(vec!["127.0.60.1".parse().expect("an address")]);
    let resolver = Arc::new(Resolver::new(&config, &roots, None));
    let warm = runtime.block_on(resolver.query(&name("warm.cold."), RecordType::A, false));
    assert!(
        warm.result.is_ok(),
        "the cold world answers: {:?}",
        warm.result
    );
    resolver
}

fn hot_paths(c: &mut Criterion) {
    let answers = AnswerCache::new(8 << 20);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let _inside = runtime.enter();
    let bytes = query("gaia.cs.umass.edu.");

    let authority = authority();
    answer_size(&authority, &answers, &bytes); // the first answer is remembered
    c.bench_function("authoritative: replayed answer", |b| {
        b.iter(|| answer_size(&authority, &answers, &bytes))
    });
    let dig = dig_query("gaia.cs.umass.edu.");
    answer_size(&authority, &answers, &dig);
    c.bench_function(
        "authoritative: replayed answer to dig's query (cookie)",
        |b| b.iter(|| answer_size(&authority, &answers, &dig)),
    );

    // dig +tcp +keepalive: the same with the edns-tcp-keepalive option,
    // answered with the idle timeout added to the replayed bytes.
    let mut keepalive = Message::from_vec(&dig).expect("decodes");
    let edns = keepalive.edns.as_mut().expect("an OPT");
    edns.options_mut()
        .insert(keepalive::option(Keepalive::Asked));
    let keepalive = keepalive.to_vec().expect("encodes");
    answer_size_over(&authority, &answers, &keepalive, Protocol::Tcp);
    c.bench_function(
        "authoritative: replayed answer over TCP, keepalive asked",
        |b| b.iter(|| answer_size_over(&authority, &answers, &keepalive, Protocol::Tcp)),
    );

    let service = warmed_service(true);
    c.bench_function("resolver: cache hit, built and encoded", |b| {
        b.iter(|| answer_size(&service, &answers, &bytes))
    });
    let service = warmed_service(false);
    let answers = AnswerCache::new(8 << 20); // the resolver's own
    answer_size(&service, &answers, &bytes); // remembered
    c.bench_function("resolver: replayed answer", |b| {
        b.iter(|| answer_size(&service, &answers, &bytes))
    });

    let catalog = Catalog::new(
        ZoneSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("zones"))
            .expect("the lab's zones")
            .zones()
            .cloned(),
    );
    let gaia = name("gaia.cs.umass.edu.");
    c.bench_function("zone lookup (RFC 1034 4.3.2)", |b| {
        b.iter(|| {
            catalog
                .lookup(black_box(&gaia), RecordType::A)
                .map(|answer| answer.answers.len())
        })
    });

    let cache = Cache::new(&CacheConfig::default(), 256 << 20);
    let now = tokio::time::Instant::now();
    for i in 0..10_000 {
        let owner = name(&format!("h{i}.example.com."));
        cache.insert_rrset(
            &[Record::from_rdata(
                owner,
                600,
                RData::A(A::new(192, 0, 2, 1)),
            )],
            Credibility::AuthoritativeAnswer,
            now,
        );
    }
    let h5000 = name("h5000.example.com.");
    c.bench_function("cache lookup (10,000 RRsets)", |b| {
        b.iter(|| {
            cache
                .rrset(black_box(&h5000), RecordType::A, now)
                .map(|records| records.len())
        })
    });

    // Through the service, as a client's query goes: decided, then the
    // shared resolution run to its answer.
    let resolver = cold_world(&runtime);
    let service = Service::new(
        resolver,
        Config::parse("").expect("the defaults").server.allow,
        false,
    );
    let mut next = 0u64;
    c.bench_function(
        "resolver: a new name, its zone's delegation cached (loopback)",
        |b| {
            b.iter_batched(
                || {
                    next += 1;
                    query(&format!("h{next}.cold."))
                },
                |bytes| match decide(
                    &service,
                    None,
                    &bytes,
                    source(),
                    Protocol::Udp,
                    RateDecision::Answer,
                    None,
                ) {
                    Decision::Later { answer, .. } => runtime.block_on(answer).answers.len(),
                    _ => panic!("a new name is resolved, not answered at once"),
                },
                BatchSize::SmallInput,
            )
        },
    );
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
