//! The lab: every zone of a folder served by its own authoritative servers,
//! each on the addresses of its nameservers, all on one port.
//!
//! ```text
//! zones/*.toml, *.zone ─▶ ZoneSet ─▶ by_address() ─▶ one Listener + Authority per address
//!                                       127.0.1.1 → .        127.0.2.1 → edu.   127.0.3.1 → umass.edu. ...
//! ```

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::authority::counters::AuthorityCounters;
use crate::authority::recurse::Recursion;
use crate::authority::{Authority, Catalog, Published, SharedCatalog};
use crate::capture::Tap;
use crate::server::{self, Limits, Listener};
use crate::transport::Transport;
use crate::zone::{LoadErrors, ZoneSet, ZoneSource};

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// One of the lab's addresses is already served on the lab port.
    #[error("{0} is already in use (is another `resolver serve` or `resolver auth` running?)")]
    InUse(SocketAddr),
    /// An address could not be bound for another reason.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address tried.
        address: SocketAddr,
        /// Why.
        source: io::Error,
    },
}

/// The lab's servers, bound and ready to serve.
pub struct BoundLab {
    servers: Vec<(Listener, Authority)>,
    zones: ZoneSet,
    port: u16,
    limits: Limits,
    counters: Option<Arc<AuthorityCounters>>,
}

impl BoundLab {
    /// Binds one listener per address that serves a zone, on `port`, each
    /// server with these limits (and `limits.udp_sockets` UDP sockets).
    pub fn bind(zones: &ZoneSet, port: u16, limits: &Limits) -> Result<Self, LabError> {
        let mut servers = Vec::new();
        for (address, served) in zones.by_address() {
            let socket_address = SocketAddr::new(address, port);
            let listener =
                Listener::bind(socket_address, limits.udp_sockets).map_err(|source| {
                    if source.kind() == io::ErrorKind::AddrInUse {
                        LabError::InUse(socket_address)
                    } else {
                        LabError::Bind {
                            address: socket_address,
                            source,
                        }
                    }
                })?;
            servers.push((listener, Authority::new(Catalog::new(served))));
        }
        Ok(BoundLab {
            servers,
            zones: zones.clone(),
            port,
            limits: limits.clone(),
            counters: None,
        })
    }

    /// The addresses served, with the zones of each.
    pub fn addresses(&self) -> Vec<(SocketAddr, Vec<String>)> {
        self.servers
            .iter()
            .map(|(listener, authority)| {
                let origins = authority
                    .catalog()
                    .load()
                    .catalog
                    .origins()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                (listener.local_addr(), origins)
            })
            .collect()
    }

    /// The same servers, counting their answers by zone and RCODE (for `/metrics`).
    pub fn with_counters(mut self, counters: Arc<AuthorityCounters>) -> Self {
        self.servers = self
            .servers
            .into_iter()
            .map(|(listener, authority)| (listener, authority.with_counters(counters.clone())))
            .collect();
        self.counters = Some(counters);
        self
    }

    /// Serves every address until `shutdown`; the tasks join `tasks`. With
    /// `recursive`, the servers pass recursive queries on instead of
    /// referring, each from its own address, reporting to the tap. The
    /// returned handle reloads the zones while they serve.
    pub fn serve(
        self,
        recursive: Option<Tap>,
        shutdown: &CancellationToken,
        tasks: &TaskTracker,
    ) -> RunningLab {
        let catalogs = self
            .servers
            .iter()
            .map(|(listener, authority)| (listener.local_addr().ip(), authority.catalog().clone()))
            .collect();
        for (listener, authority) in self.servers {
            let authority = match &recursive {
                Some(tap) => {
                    let source = Some(listener.local_addr().ip());
                    let transport = Transport::new(source, Some(tap.clone()));
                    let recursion = Recursion::new(transport, self.zones.clone(), self.port);
                    authority.with_recursion(Arc::new(recursion))
                }
                None => authority,
            };
            let address = listener.local_addr();
            let served = server::serve(
                listener,
                Arc::new(authority),
                // Each server's remembered answers: a fixed share, whatever the resolver's.
                server::Limits {
                    replay_bytes: server::REPLAY_BYTES,
                    ..self.limits.clone()
                },
                None,
                shutdown.clone(),
            );
            tasks.spawn(async move {
                let served = served.await;
                tracing::info!("{address}: {} queries received", served.messages);
            });
        }
        RunningLab {
            catalogs,
            counters: self.counters,
        }
    }
}

/// The lab's servers while they serve: their catalogs, for reloading.
pub struct RunningLab {
    catalogs: BTreeMap<IpAddr, SharedCatalog>,
    counters: Option<Arc<AuthorityCounters>>,
}

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloaded {
    /// Zones now served.
    pub zones: usize,
    /// Addresses the new zones need that no running server listens on
    /// (served after a restart).
    pub unserved: Vec<IpAddr>,
}

impl RunningLab {
    /// The catalog the server on `address` answers from now, if any.
    #[cfg(test)]
    pub fn published(&self, address: IpAddr) -> Option<Arc<Published>> {
        self.catalogs
            .get(&address)
            .map(|catalog| catalog.load_full())
    }

    /// What the servers answered, by zone and RCODE, when they count it.
    pub fn counters(&self) -> Option<Arc<AuthorityCounters>> {
        self.counters.clone()
    }

    /// Loads the zones again and swaps every server's catalog at once. An
    /// invalid folder changes nothing: the old zones stay, and the errors
    /// are returned. Queries are never held up by a reload.
    pub fn reload(&self, source: &ZoneSource) -> Result<Reloaded, LoadErrors> {
        let zones = source.load()?;
        let mut by_address = zones.by_address();
        for (address, catalog) in &self.catalogs {
            let served = by_address.remove(address).unwrap_or_default();
            catalog.store(Arc::new(Published::new(Catalog::new(served))));
        }
        Ok(Reloaded {
            zones: zones.zones().count(),
            unserved: by_address.into_keys().collect(),
        })
    }
}

/// The addresses of the lab's root servers: the nameservers of the root zone.
pub fn root_addresses(zones: &ZoneSet) -> Vec<IpAddr> {
    zones
        .get(&hickory_proto::rr::Name::root())
        .map(|root| {
            zones
                .name_servers(root)
                .into_iter()
                .map(|server| server.address)
                .collect()
        })
        .unwrap_or_default()
}

/// The lab root's DNSKEY RRset as trust anchors (RFC 4035 §4.4), the way
/// a resolver on the Internet is given IANA's: empty when the root zone is
/// unsigned or absent.
pub fn root_trust_anchors(zones: &ZoneSet) -> Vec<crate::validator::TrustAnchor> {
    use hickory_proto::dnssec::rdata::DNSKEY;
    use hickory_proto::rr::{Name, RecordData, RecordType};
    let root = Name::root();
    let Some(keys) = zones
        .get(&root)
        .and_then(|zone| zone.rrset(&root, RecordType::DNSKEY))
    else {
        return Vec::new();
    };
    keys.records
        .iter()
        .filter_map(|record| DNSKEY::try_borrow(&record.data))
        .filter(|key| key.secure_entry_point())
        .map(|key| crate::validator::TrustAnchor {
            zone: root.clone(),
            anchor: crate::validator::Anchor::Dnskey(key.clone()),
        })
        .collect()
}
