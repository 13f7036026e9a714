//! The control endpoint: one small HTTP server beside the DNS listeners,
//! for operators (`/metrics` for Prometheus; the cache with its provenance;
//! flush; the nameservers' round-trip times) and for `resolver control`.
//!
//! ```text
//! accept (at most MAX_CONNECTIONS open) ─▶ in [control] allow? ─ no ─▶ 403 Forbidden
//!                                                └─ yes ─▶ hyper, HTTP/1.1 (header time-out,
//!                                                          connection time-out) ─▶ axum routes (http.rs)
//! ```
//!
//! Built on axum and hyper (tokio's HTTP stack) and prometheus-client;
//! every connection is bounded in number and in time, as the DNS
//! listeners are.

pub mod client;
pub mod http;
pub mod live;
pub mod metrics;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::resolver::Resolver;

/// The most control connections open at once; more wait in the backlog.
pub const MAX_CONNECTIONS: usize = 64;

/// How long a client has to send a request's header.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a control connection stays open.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// What the endpoint serves: the resolver, and whom it answers.
pub struct Control {
    resolver: Arc<Resolver>,
    cast: crate::trace::Cast,
    dns: Option<SocketAddr>,
    authorities: Option<Arc<crate::authority::counters::AuthorityCounters>>,
    registry: Registry,
    allow: Vec<IpNet>,
    upstream_port: u16,
}

impl Control {
    /// The endpoint of `resolver`, answering the clients in `allow`;
    /// nameservers are shown on `upstream_port` unless they have their own.
    pub fn new(resolver: Arc<Resolver>, allow: Vec<IpNet>, upstream_port: u16) -> Self {
        Control {
            cast: crate::trace::Cast::default(),
            dns: None,
            authorities: None,
            registry: metrics::registry(resolver.clone()),
            resolver,
            allow,
            upstream_port,
        }
    }

    /// Names the servers (the lab's, by their NS names) in the messages `/events` shows.
    pub fn with_cast(mut self, cast: crate::trace::Cast) -> Self {
        self.cast = cast;
        self
    }

    /// Where the resolver answers clients: `/ask` sends its questions there.
    pub fn with_resolver_address(mut self, address: SocketAddr) -> Self {
        self.dns = Some(address);
        self
    }

    /// Shows what the lab's servers (run in this process) answered, by zone and RCODE.
    pub fn with_authorities(
        mut self,
        counters: Arc<crate::authority::counters::AuthorityCounters>,
    ) -> Self {
        self.registry = metrics::registry_with(self.resolver.clone(), Some(counters.clone()));
        self.authorities = Some(counters);
        self
    }

    /// Whether `address` may use the endpoint.
    pub fn allowed(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        self.allow.iter().any(|net| net.contains(&address))
    }
}

/// Serves the endpoint on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, control: Arc<Control>, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let routes = http::router(control.clone());
    let forbidden = http::forbidden();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return, // the semaphore is never closed
            },
            _ = shutdown.cancelled() => return,
        };
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, say: back off rather than spin.
                    tracing::warn!("control: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let service = if control.allowed(peer.ip()) {
            routes.clone()
        } else {
            tracing::debug!(client = %peer, "control: not allowed: 403");
            forbidden.clone()
        };
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::select! {
                _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection) => {}
                _ = shutdown.cancelled() => {}
            }
            drop(permit);
        });
    }
}
