//! The subcommands of the `resolver` binary, one function each, so that
//! `main.rs` stays a thin shell and tests can call the same code.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::authority::recurse::{Forwarder, Recursion};
use crate::config::{Config, Roots};
use crate::lab::{BoundLab, LabError, RunningLab, root_addresses};
use crate::resolver::{Resolver, Service, roots_for};
use crate::server::{self, Limits, Listener};
use crate::trace::{Cast, Collector, MessageView, describe, totals};
use crate::transport::Transport;
use crate::zone::{ZoneSet, ZoneSource};

/// The textbook's host, on whose behalf `trace` asks.
pub const HOST: &str = "cis.poly.edu";

/// The textbook's local DNS server, which `trace` runs (at its lab address when it has one).
pub const LOCAL_SERVER: &str = "dns.poly.edu";

/// How long shutdown waits for answers in progress before giving up on them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// `resolver check [DIR]`: validate and summarise; an error lists every problem.
pub fn check(zones: &ZoneSource) -> Result<String> {
    let zones = zones.load()?;
    Ok(crate::check::summary(&zones))
}

/// The zones and port `auth` serves: the command line's, else `[lab]`'s.
pub fn lab_settings(
    config: &Config,
    zones: Option<PathBuf>,
    port: Option<u16>,
) -> Result<(ZoneSource, u16)> {
    let lab = config.lab.as_ref();
    let zones = zones
        .map(ZoneSource::Folder)
        .or_else(|| lab.map(|lab| lab.zones.clone()))
        .context("no zone folder: give --zones or a [lab] section in the configuration")?;
    let port = port.or(lab.map(|lab| lab.port)).unwrap_or(5300);
    Ok((zones, port))
}

/// `resolver auth`: serve every zone on its nameservers' addresses until
/// SIGINT or SIGTERM.
pub async fn auth(config: &Config, source: &ZoneSource, port: u16) -> Result<()> {
    let zones = source.load()?;
    let lab = BoundLab::bind(&zones, port, &server_limits(config))?;
    for (address, origins) in lab.addresses() {
        tracing::info!("serving {} on {address} (UDP and TCP)", origins.join(" "));
    }
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let running = lab.serve(None, &shutdown, &tasks);
    until_stopped(Some((&running, source))).await;
    stop(&shutdown, &tasks).await;
    Ok(())
}

/// Cancels the servers and waits (bounded) for answers in progress.
async fn stop(shutdown: &CancellationToken, tasks: &TaskTracker) {
    tracing::info!("shutting down");
    shutdown.cancel();
    tasks.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("answers still in progress after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
}

/// The server limits of `[server]`.
pub fn server_limits(config: &Config) -> Limits {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match config.server.threads {
        0 => cpus,
        n => n,
    };
    Limits {
        udp_sockets: match config.server.udp_sockets {
            0 => threads,
            n => n,
        },
        pending_answers: config.server.pending_answers,
        pending_per_client: config.server.pending_per_client,
        tcp_connections: config.server.tcp_connections,
        tcp_connections_per_client: config.server.tcp_connections_per_client,
        tcp_idle_timeout: Config::seconds(config.server.tcp_idle_timeout),
        rate_limit: config.server.rate_limit,
        rate_limit_exempt: config.server.rate_limit_exempt.clone(),
        replay_bytes: crate::resolver::replay_share(config),
    }
}

/// Loads the lab's zones and serves them in-process, unless another process
/// already serves them. Returns the zones (empty without `[lab]`) and, when
/// served here, the running servers (for reloads).
fn start_lab(
    config: &Config,
    recursive: Option<crate::trace::Tap>,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> Result<(ZoneSet, Option<RunningLab>)> {
    let Some(lab) = &config.lab else {
        return Ok((ZoneSet::default(), None));
    };
    let zones = lab.zones.load()?;
    match BoundLab::bind(&zones, lab.port, &server_limits(config)) {
        Ok(bound) => {
            for (address, origins) in bound.addresses() {
                tracing::info!(
                    "lab: serving {} on {address} (UDP and TCP)",
                    origins.join(" ")
                );
            }
            Ok((zones, Some(bound.serve(recursive, shutdown, tasks))))
        }
        Err(LabError::InUse(address)) => {
            tracing::info!("lab: {address} is already served; using the running lab servers");
            Ok((zones, None))
        }
        Err(error) => Err(error.into()),
    }
}

/// Serves until SIGINT or SIGTERM; on SIGHUP, reloads the lab's zones from
/// their source (an invalid folder keeps the zones being served, and says why).
async fn until_stopped(lab: Option<(&RunningLab, &ZoneSource)>) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let reload = async {
            match hangup.as_mut() {
                Some(hangup) => hangup.recv().await,
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let reload = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = shutdown_signal() => return,
            _ = reload => reload_lab(lab),
        }
    }
}

fn reload_lab(lab: Option<(&RunningLab, &ZoneSource)>) {
    let Some((running, source)) = lab else {
        tracing::info!("SIGHUP: no zones served here to reload");
        return;
    };
    match running.reload(source) {
        Ok(reloaded) => {
            tracing::info!("SIGHUP: reloaded {} zones from {source}", reloaded.zones);
            for address in reloaded.unserved {
                tracing::warn!(
                    "{address} serves a zone now, but has no listener: restart to serve it"
                );
            }
        }
        Err(errors) => tracing::error!("SIGHUP: kept the zones being served; {errors}"),
    }
}

/// `resolver serve`: the recursive resolver on `[server] listen`, with the
/// lab's servers in-process when `[lab]` is present, until SIGINT or SIGTERM.
pub async fn serve(config: &Config) -> Result<()> {
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let (zones, running_lab) = start_lab(config, None, &shutdown, &tasks)?;
    let roots = roots_for(config, &root_addresses(&zones));
    let resolver = Arc::new(Resolver::new(config, &roots, None));
    // A forward or stub zone for "." replaces the roots: nothing to prime.
    if roots == Roots::Iana && !resolver.configured_zones().covers_root() {
        tasks.spawn(keep_primed(resolver.clone(), shutdown.clone()));
    }
    tokio::spawn(crate::clock::shift_on_signal());
    let service = Arc::new(Service::new(
        resolver,
        config.server.allow.clone(),
        config.log.queries,
    ));
    let limits = server_limits(config);
    for address in &config.server.listen {
        let listener = Listener::bind(*address, limits.udp_sockets)
            .with_context(|| format!("cannot listen on {address}"))?;
        tracing::info!("resolver listening on {address} (UDP and TCP)");
        tasks.spawn(server::serve(
            listener,
            service.clone(),
            limits.clone(),
            None,
            shutdown.clone(),
        ));
    }
    tracing::info!(
        "roots: {roots:?}, nameservers queried on port {}",
        config.upstream_port()
    );
    let lab = running_lab
        .as_ref()
        .zip(config.lab.as_ref().map(|lab| &lab.zones));
    until_stopped(lab).await;
    stop(&shutdown, &tasks).await;
    Ok(())
}

/// How long to wait before priming again after a failure.
const PRIMING_RETRY: Duration = Duration::from_secs(60);

/// Primes the root at start and again whenever the primed delegation
/// expires (RFC 8109 §3), until shutdown.
async fn keep_primed(resolver: Arc<Resolver>, shutdown: CancellationToken) {
    loop {
        let wait = match resolver.prime().await {
            Ok(ttl) => Duration::from_secs(u64::from(ttl.max(1))),
            Err(error) => {
                tracing::warn!(
                    "priming the root failed ({error}); the hints are used, retrying in {PRIMING_RETRY:?}"
                );
                PRIMING_RETRY
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

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
        let resolver = Arc::new(Resolver::new(&local_config, &roots, Some(tap.clone())));
        let loopback = vec!["127.0.0.0/8".parse()?, "::1/128".parse()?];
        let service = Arc::new(Service::new(resolver, loopback, false));
        tasks.spawn(server::serve(
            listener,
            service,
            Limits::default(),
            Some(tap.clone()),
            shutdown.clone(),
        ));
    }

    let host = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let mut cast = Cast::with_servers(
        zones
            .server_names()
            .into_iter()
            .map(|(ip, name)| (ip, name.to_string().trim_end_matches('.').to_string())),
    );
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
        let reply = ask_as_host(&host, local, name, options.record_type, wait).await?;
        let datagrams = collector.take();
        let messages = describe(&datagrams, &cast);
        let (_, _, span_ms) = totals(&messages, &datagrams);
        questions.push(TracedQuestion {
            name: name.clone(),
            record_type: options.record_type,
            messages,
            span_ms,
            reply,
        });
    }
    shutdown.cancel();
    tasks.close();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, tasks.wait()).await;
    Ok(TraceRun {
        local,
        lab_in_process,
        questions,
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

/// Sends the host's recursive query to the local server and waits for its reply.
async fn ask_as_host(
    host: &UdpSocket,
    local: SocketAddr,
    name: &Name,
    record_type: RecordType,
    wait: Duration,
) -> Result<Message> {
    let mut query = Message::query();
    query.add_query(Query::query(name.clone(), record_type));
    query.metadata.recursion_desired = true;
    let mut edns = Edns::new();
    edns.set_max_payload(crate::server::request::UDP_PAYLOAD);
    query.edns = Some(edns);
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

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
