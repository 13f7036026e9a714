//! The subcommands of the `resolver` binary, one function each, so that
//! `main.rs` stays a thin shell and tests can call the same code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::authority::counters::AuthorityCounters;
use crate::config::{Config, Roots};
use crate::lab::{BoundLab, LabError, RunningLab, root_addresses};
use crate::resolver::{Resolver, Service, roots_for};
use crate::server::{self, Limits, Listener};
use crate::zone::{ZoneSet, ZoneSource};

/// How long shutdown waits for answers in progress before giving up on them.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// `resolver check [DIR]`: validate and summarise; an error lists every problem.
pub fn check(zones: &ZoneSource) -> Result<String> {
    let zones = zones.load()?;
    crate::check::verify(&zones)?;
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
pub(crate) fn start_lab(
    config: &Config,
    recursive: Option<crate::capture::Tap>,
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
            // Counted for /metrics only when the control endpoint runs.
            let bound = match config.control.is_some() {
                true => bound.with_counters(Arc::new(AuthorityCounters::default())),
                false => bound,
            };
            Ok((zones, Some(bound.serve(recursive, shutdown, tasks))))
        }
        Err(LabError::InUse(address)) => {
            tracing::info!("lab: {address} is already served; using the running lab servers");
            Ok((zones, None))
        }
        Err(error) => Err(error.into()),
    }
}

/// How often a running lab loads and signs its zones again without being
/// asked: at half the signatures' validity, so that no signature it serves
/// is ever older than that (RFC 6781 §4.4.2: sign again well before expiry).
pub const RESIGN_EVERY: Duration =
    Duration::from_secs(crate::dnssec::keys::SIGNATURE_VALIDITY.as_secs() / 2);

/// Serves until SIGINT or SIGTERM; on SIGHUP, and every [`RESIGN_EVERY`],
/// reloads the lab's zones from their source, which signs them again (an
/// invalid folder keeps the zones being served, and says why).
async fn until_stopped(lab: Option<(&RunningLab, &ZoneSource)>) {
    until_stopped_every(lab, RESIGN_EVERY).await;
}

async fn until_stopped_every(lab: Option<(&RunningLab, &ZoneSource)>, resign_every: Duration) {
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
        let resign = async {
            match lab {
                Some(_) => tokio::time::sleep(resign_every).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown_signal() => return,
            _ = reload => reload_lab(lab, "SIGHUP"),
            _ = resign => reload_lab(lab, "signing again"),
        }
    }
}

fn reload_lab(lab: Option<(&RunningLab, &ZoneSource)>, why: &str) {
    let Some((running, source)) = lab else {
        tracing::info!("{why}: no zones served here to reload");
        return;
    };
    match running.reload(source) {
        Ok(reloaded) => {
            tracing::info!("{why}: reloaded {} zones from {source}", reloaded.zones);
            for address in reloaded.unserved {
                tracing::warn!(
                    "{address} serves a zone now, but has no listener: restart to serve it"
                );
            }
        }
        Err(errors) => tracing::error!("{why}: kept the zones being served; {errors}"),
    }
}

/// True when the resolver starts from the lab's roots with no trust anchor
/// configured: the lab root's key is then its anchor (`[dnssec]`).
pub fn lab_validates(config: &Config, zones: &crate::zone::ZoneSet) -> bool {
    let lab_roots = root_addresses(zones);
    let from_lab_roots = match &config.resolver.roots {
        None => !lab_roots.is_empty(),
        Some(Roots::Addresses(roots)) => roots.iter().all(|root| lab_roots.contains(root)),
        Some(Roots::Iana) => false,
    };
    from_lab_roots && config.dnssec.trust_anchors.is_empty()
}

/// `resolver serve`: the recursive resolver on `[server] listen`, with the
/// lab's servers in-process when `[lab]` is present, until SIGINT or SIGTERM.
pub async fn serve(config: &Config) -> Result<()> {
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let (zones, running_lab) = start_lab(config, None, &shutdown, &tasks)?;
    let roots = roots_for(config, &root_addresses(&zones));
    let resolver = Resolver::new(config, &roots, None);
    let resolver = Arc::new(match lab_validates(config, &zones) {
        true => resolver.with_trust_anchors(config, crate::lab::root_trust_anchors(&zones)),
        false => resolver,
    });
    // A forward or stub zone for "." replaces the roots: nothing to prime.
    if roots == Roots::Iana && !resolver.configured_zones().covers_root() {
        tasks.spawn(keep_primed(resolver.clone(), shutdown.clone()));
    }
    tokio::spawn(crate::clock::shift_on_signal());
    if let Some(control) = &config.control {
        let listener = tokio::net::TcpListener::bind(control.listen)
            .await
            .with_context(|| format!("cannot listen on {} for [control]", control.listen))?;
        tracing::info!("control endpoint on http://{}/metrics", control.listen);
        let endpoint = crate::control::Control::new(
            resolver.clone(),
            control.allow.clone(),
            config.upstream_port(),
        )
        .with_cast(crate::trace::Cast::of_zones(&zones));
        let endpoint = match config.server.listen.first() {
            Some(address) => endpoint.with_resolver_address(*address),
            None => endpoint,
        };
        let endpoint = match running_lab.as_ref().and_then(RunningLab::counters) {
            Some(counters) => endpoint.with_authorities(counters),
            None => endpoint,
        };
        tasks.spawn(crate::control::serve(
            listener,
            Arc::new(endpoint),
            shutdown.clone(),
        ));
    }
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
    match service.resolver().validating() {
        true => tracing::info!("DNSSEC: answers validated (RFC 4035 §5)"),
        false => tracing::info!(
            "DNSSEC: answers not validated (no trust anchor, or [dnssec] validate = false)"
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab signs its zones again on its own: after [`RESIGN_EVERY`],
    /// every server's catalog is a new one, freshly signed.
    #[tokio::test(start_paused = true)]
    async fn a_running_lab_signs_its_zones_again_before_they_expire() {
        let source = ZoneSource::BuiltIn;
        let zones = source.load().expect("the built-in lab loads");
        let lab = BoundLab::bind(&zones, 0, &Limits::default()).expect("loopback binds");
        let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
        let running = lab.serve(None, &shutdown, &tasks);
        let root = std::net::IpAddr::from([127, 0, 1, 1]);
        let before = running.published(root).expect("the root is served");
        let every = Duration::from_secs(3600);
        tokio::select! {
            _ = until_stopped_every(Some((&running, &source)), every) => panic!("stopped"),
            _ = tokio::time::sleep(every / 2) => {}
        }
        let same = running.published(root).expect("served");
        assert!(Arc::ptr_eq(&before, &same), "nothing is signed again early");
        tokio::select! {
            _ = until_stopped_every(Some((&running, &source)), every) => panic!("stopped"),
            _ = tokio::time::sleep(every + Duration::from_secs(1)) => {}
        }
        let after = running.published(root).expect("served");
        assert!(
            !Arc::ptr_eq(&before, &after),
            "signed again after the interval"
        );
        let root_zone = after.catalog.zone(&hickory_proto::rr::Name::root());
        assert!(root_zone.is_some_and(|zone| zone.is_signed()), "and signed");
        shutdown.cancel();
    }
}
