//! `resolver trace`: a local server with an empty cache (and the lab),
//! asked each name in turn as the textbook's host, every message collected.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::cached::{CachedStep, explain};
use super::describe::{Cast, MessageView, describe, totals};
use super::explain::{Why, explain_choices};
use crate::authority::recurse::{Forwarder, Recursion};
use crate::capture::{CacheUse, Collector, Datagram, Report, ServerChoice};
use crate::commands::{DRAIN_TIMEOUT, start_lab};
use crate::config::Config;
use crate::lab::root_addresses;
use crate::resolver::{Resolver, Service, roots_for};
use crate::server::{self, Limits, Listener};
use crate::transport::Transport;
use crate::zone::ZoneSet;

/// The textbook's host, on whose behalf `trace` asks.
pub const HOST: &str = "cis.poly.edu";

/// The textbook's local DNS server, which `trace` runs (at its lab address when it has one).
pub const LOCAL_SERVER: &str = "dns.poly.edu";

/// How the local server gets an answer in `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceMode {
    /// The local server asks root, TLD and authoritative servers itself (the default).
    Iterative,
    /// Every server passes the query on to the next and the answer comes back up.
    Recursive,
}

/// What `trace` should ask.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// The names, asked in turn through one cache.
    pub names: Vec<Name>,
    /// The record type asked.
    pub record_type: RecordType,
    /// Iterative (default) or recursive.
    pub mode: TraceMode,
    /// Whether the output says why each query went to its server (`--explain`).
    pub explain: bool,
    /// Whether answers are validated and the chain of trust shown (`--dnssec`).
    pub dnssec: bool,
    /// The configuration used, as the header names it (the file, or the built-in lab).
    pub configuration: Option<String>,
}

/// One traced question: the messages, in order, and the host's reply.
#[derive(Debug, Clone)]
pub struct TracedQuestion {
    /// The name asked.
    pub name: Name,
    /// The type asked.
    pub record_type: RecordType,
    /// Every message, numbered.
    pub messages: Vec<MessageView>,
    /// Milliseconds from the first message to the last.
    pub span_ms: f64,
    /// The reply the host got.
    pub reply: Message,
    /// The cached RRsets the local server used instead of asking, in the
    /// order it used them (empty for a walk that asked every server).
    pub from_cache: Vec<CachedStep>,
    /// The chain of trust behind the answer, with `--dnssec` (RFC 4033 §3.1).
    pub chain: Option<crate::resolver::chain::ChainOfTrust>,
    /// Why each of the local server's queries went where it went (shown
    /// with `--explain`).
    pub why: Vec<Why>,
}

/// A whole trace run.
#[derive(Debug, Clone)]
pub struct TraceRun {
    /// The local server's address.
    pub local: SocketAddr,
    /// True when the lab's servers ran in-process, false when others served them.
    pub lab_in_process: bool,
    /// Each question in turn.
    pub questions: Vec<TracedQuestion>,
    /// Whether the output says why each query went to its server (`--explain`).
    pub explain: bool,
    /// The configuration used, as the header names it.
    pub configuration: Option<String>,
}

/// `resolver trace`: runs a local server with an empty cache (and the lab),
/// asks each name through it as the host, and returns every message.
pub async fn trace(config: &Config, options: &TraceOptions) -> Result<TraceRun> {
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let collector = Collector::new();
    let tap = collector.tap();
    let recursive = options.mode == TraceMode::Recursive;
    let (zones, running_lab) =
        start_lab(config, recursive.then(|| tap.clone()), &shutdown, &tasks)?;
    let lab_in_process = running_lab.is_some();
    if recursive && !lab_in_process {
        bail!(
            "--mode recursive needs the lab's servers in this process; stop the running servers first"
        );
    }
    let local_ip = lab_address(&zones, LOCAL_SERVER).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let listener = Listener::bind(SocketAddr::new(local_ip, 0), 1)
        .or_else(|_| Listener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), 1))
        .context("cannot bind the local server")?;
    let local = listener.local_addr();
    let mut local_config = config.clone();
    local_config.resolver.source_address = Some(local.ip());
    let roots = roots_for(config, &root_addresses(&zones));
    let mut validating: Option<Arc<Resolver>> = None;
    if recursive {
        let transport = Transport::new(Some(local.ip()), Some(tap.clone()));
        let port = config.upstream_port();
        let recursion = Arc::new(Recursion::new(transport, zones.clone(), port));
        let servers = root_addresses(&zones)
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        let forwarder = Arc::new(Forwarder::new(recursion, servers));
        tasks.spawn(server::serve(
            listener,
            forwarder,
            Limits::default(),
            Some(tap.clone()),
            shutdown.clone(),
        ));
    } else {
        let resolver = Resolver::new(&local_config, &roots, Some(tap.clone()))
            .with_reports(collector.report_tap());
        // Validation adds DS and DNSKEY messages: only when asked for.
        let resolver = match options.dnssec && crate::commands::lab_validates(config, &zones) {
            true => resolver.with_trust_anchors(config, crate::lab::root_trust_anchors(&zones)),
            false if options.dnssec => resolver,
            false => resolver.with_trust_anchors(config, Vec::new()),
        };
        let resolver = Arc::new(resolver);
        validating = Some(resolver.clone());
        let loopback = vec!["127.0.0.0/8".parse()?, "::1/128".parse()?];
        let service = Arc::new(Service::new(resolver, loopback, false));
        // No replay of encoded answers: each answer from the cache is
        // looked up by the resolver, so the trace can say where it came from.
        let limits = Limits {
            replay_bytes: 0,
            ..Limits::default()
        };
        tasks.spawn(server::serve(
            listener,
            service,
            limits,
            Some(tap.clone()),
            shutdown.clone(),
        ));
    }

    let host = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let mut cast = Cast::of_zones(&zones);
    cast.name_address(local.ip(), LOCAL_SERVER);
    cast.name_endpoint(local, LOCAL_SERVER);
    cast.name_endpoint(host.local_addr()?, HOST);
    for forwarder in crate::resolver::forward::forwarders(config) {
        cast.name_endpoint(forwarder, "forwarder");
    }

    let wait = Config::seconds(config.limits.resolution_timeout) + Duration::from_secs(2);
    let mut questions = Vec::new();
    for name in &options.names {
        collector.take();
        collector.take_reports();
        let asked = (name, options.record_type, options.dnssec);
        let reply = ask_as_host(&host, local, asked, wait).await?;
        let chain = validating
            .as_ref()
            .and_then(|resolver| resolver.chain_of_trust(name, options.record_type));
        let datagrams = collector.take();
        let (uses, choices) = split(collector.take_reports(), &datagrams);
        let messages = describe(&datagrams, &cast);
        let (_, _, span_ms) = totals(&messages, &datagrams);
        let earlier: Vec<&[MessageView]> = questions
            .iter()
            .map(|q: &TracedQuestion| q.messages.as_slice())
            .collect();
        let from_cache = explain(&uses, &earlier, &messages, &cast);
        let why = explain_choices(&choices, &messages, &from_cache, &cast);
        questions.push(TracedQuestion {
            name: name.clone(),
            record_type: options.record_type,
            messages,
            span_ms,
            reply,
            from_cache,
            why,
            chain,
        });
    }
    shutdown.cancel();
    tasks.close();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, tasks.wait()).await;
    Ok(TraceRun {
        local,
        lab_in_process,
        questions,
        explain: options.explain,
        configuration: options.configuration.clone(),
    })
}

/// A lab address of a name, if the lab has one on this machine's loopback.
fn lab_address(zones: &ZoneSet, name: &str) -> Option<IpAddr> {
    let name = Name::from_ascii(format!("{name}.")).ok()?;
    zones
        .addresses_of(&name)
        .into_iter()
        .find(|address| address.is_loopback())
}

/// A recursive query as a stub resolver sends it: RD set, EDNS with this
/// server's payload size (RFC 6891 §6.2.5).
pub fn stub_query(name: &Name, record_type: RecordType) -> Message {
    let mut query = Message::query();
    query.add_query(Query::query(name.clone(), record_type));
    query.metadata.recursion_desired = true;
    let mut edns = Edns::new();
    edns.set_max_payload(crate::server::request::UDP_PAYLOAD);
    query.edns = Some(edns);
    query
}

/// Sends the host's recursive query to the local server and waits for its reply.
async fn ask_as_host(
    host: &UdpSocket,
    local: SocketAddr,
    (name, record_type, dnssec_ok): (&Name, RecordType, bool),
    wait: Duration,
) -> Result<Message> {
    let mut query = stub_query(name, record_type);
    if let Some(edns) = query.edns.as_mut() {
        edns.set_dnssec_ok(dnssec_ok); // as `dig +dnssec` asks
    }
    host.send_to(&query.to_vec()?, local).await?;
    let mut buffer = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (length, from) = tokio::time::timeout_at(deadline, host.recv_from(&mut buffer))
            .await
            .with_context(|| format!("no reply from the local server within {wait:?}"))??;
        if from != local {
            continue;
        }
        if let Ok(reply) = Message::from_vec(&buffer[..length])
            && reply.id == query.id
        {
            return Ok(reply);
        }
    }
}

/// Reports, each with the number of messages before it.
type Numbered<T> = Vec<(usize, T)>;

/// The reports of one question, split into cache uses and server choices,
/// each with the number of messages (that decode) before it.
fn split(
    reports: Vec<(usize, Report)>,
    datagrams: &[Datagram],
) -> (Numbered<CacheUse>, Numbered<ServerChoice>) {
    // Messages that decode among the first n datagrams, for every n: each
    // datagram decoded once, however many reports there are.
    let mut decodable = vec![0];
    for datagram in datagrams {
        let ok = Message::from_vec(&datagram.bytes).is_ok();
        decodable.push(decodable[decodable.len() - 1] + usize::from(ok));
    }
    let mut uses = Vec::new();
    let mut choices = Vec::new();
    for (before, report) in reports {
        let before = decodable[before.min(datagrams.len())];
        match report {
            Report::CacheUse(used) => uses.push((before, used)),
            Report::Choice(choice) => choices.push((before, choice)),
        }
    }
    (uses, choices)
}
