//! The authoritative server: answers from the zones held at one address.
//!
//! ```text
//! query ─▶ server ─▶ Authority::handle ─▶ Catalog::lookup (RFC 1034 §4.3.2) ─▶ Answer ─▶ answer::message
//!                         │ no zone here: REFUSED
//! ```
//!
//! Answering is a lookup in in-memory maps: no disk, no lock per query; an
//! answer given once is replayed byte for byte to the same question.

pub mod answer;
pub mod counters;
pub mod lookup;
pub mod recurse;
pub mod secure;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, RecordType};

pub use lookup::{Answer, Catalog, Outcome};
use recurse::Recursion;

use crate::server::{Handler, Lifetime, Request, Response, ServerEvent};

/// Versions of published zone sets, one number each.
static VERSIONS: AtomicU64 = AtomicU64::new(0);

/// What one server answers from: its zones, and the version they are
/// published under (answers remembered under another are not replayed).
pub struct Published {
    /// The zones.
    pub catalog: Catalog,
    /// A number no other published zone set has.
    pub version: u64,
}

impl Published {
    /// Zones to publish, under a new version.
    pub fn new(catalog: Catalog) -> Self {
        Published {
            catalog,
            version: VERSIONS.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// What one server answers from, replaceable while it serves (a reload
/// swaps zones and remembered answers at once; queries never wait for it).
pub type SharedCatalog = Arc<ArcSwap<Published>>;

/// The handler of an authoritative server: one catalog of zones.
#[derive(Clone)]
pub struct Authority {
    catalog: SharedCatalog,
    recursion: Option<Arc<Recursion>>,
    counters: Option<Arc<counters::AuthorityCounters>>,
}

impl Authority {
    /// An authoritative server for the zones of `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        Authority {
            catalog: Arc::new(ArcSwap::from_pointee(Published::new(catalog))),
            recursion: None,
            counters: None,
        }
    }

    /// The same server, passing recursive queries on instead of referring
    /// (the lab's recursive mode).
    pub fn with_recursion(mut self, recursion: Arc<Recursion>) -> Self {
        self.recursion = Some(recursion);
        self
    }

    /// The same server, counting its answers by zone and RCODE into `counters`.
    pub fn with_counters(mut self, counters: Arc<counters::AuthorityCounters>) -> Self {
        self.counters = Some(counters);
        self
    }

    /// The zones served, swappable.
    pub fn catalog(&self) -> &SharedCatalog {
        &self.catalog
    }

    /// The answer to a query from the zones, or the RCODE of the error that replaces it.
    pub fn lookup(&self, request: &Request) -> Result<Answer, ResponseCode> {
        let query = request.query();
        if query.query_class != DNSClass::IN {
            return Err(ResponseCode::Refused);
        }
        match query.query_type {
            // Zone transfers are not offered; OPT is not a question.
            RecordType::AXFR | RecordType::IXFR => return Err(ResponseCode::Refused),
            RecordType::OPT => return Err(ResponseCode::FormErr),
            _ => {}
        }
        let published = self.catalog.load();
        let mut answer = published
            .catalog
            .lookup(&query.name, query.query_type)
            .ok_or(ResponseCode::Refused)?;
        if request.dnssec_ok() {
            secure::add_dnssec_records(&published.catalog, &mut answer, &query.name);
        }
        Ok(answer)
    }

    /// The response to a query, decided synchronously (no recursion).
    pub fn respond(&self, request: &Request) -> Message {
        match self.lookup(request) {
            Ok(answer) => answer::message(request, answer),
            Err(code) => answer::error(request, code),
        }
    }
}

impl Handler for Authority {
    /// Answers from the zones may be replayed as long as the zones stay the
    /// same; the recursive figure passes queries on every time.
    fn replay_lifetime(&self, _source: SocketAddr) -> Option<Lifetime> {
        self.recursion.is_none().then_some(Lifetime::Static)
    }

    /// The version of the zones published (a reload publishes a new one).
    fn data_version(&self) -> u64 {
        self.catalog.load().version
    }

    /// Counts each answer by zone and RCODE, when asked to.
    fn observe(&self, event: ServerEvent) {
        if let (Some(counters), ServerEvent::Answered { reply, .. }) = (&self.counters, event) {
            counters.count(&self.catalog.load().catalog, reply);
        }
    }

    fn handle(&self, request: &Request) -> Response {
        let answer = match self.lookup(request) {
            Ok(answer) => answer,
            Err(code) => return Response::Ready(answer::error(request, code)),
        };
        match &self.recursion {
            Some(recursion)
                if request.message.recursion_desired
                    && answer.outcome == Outcome::Referral
                    && answer.answers.is_empty() =>
            {
                let servers = recursion
                    .referral_servers(&recurse::ns_names(&answer.authorities), &answer.additionals);
                let recursion = recursion.clone();
                let request = request.clone();
                Response::Later(Box::pin(async move {
                    recursion.relay(&request, &servers).await
                }))
            }
            _ => Response::Ready(answer::message(request, answer)),
        }
    }
}
