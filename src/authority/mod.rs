//! The authoritative server: answers from the zones held at one address.
//!
//! ```text
//! query ─▶ server ─▶ Authority::handle ─▶ Catalog::lookup (RFC 1034 §4.3.2) ─▶ Answer ─▶ answer::message
//!                         │ no zone here: REFUSED
//! ```
//!
//! Answering is a lookup in in-memory maps: no disk, no lock per query.

pub mod answer;
pub mod lookup;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RecordType};

pub use lookup::{Answer, Catalog, Outcome};

use crate::server::{Handler, Request, Response};

/// The handler of an authoritative server: one catalog of zones.
#[derive(Debug, Clone)]
pub struct Authority {
    catalog: Catalog,
}

impl Authority {
    /// An authoritative server for the zones of `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        Authority { catalog }
    }

    /// The zones served.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The response to a query, decided synchronously.
    pub fn respond(&self, request: &Request) -> hickory_proto::op::Message {
        let query = request.query();
        if query.query_class != DNSClass::IN {
            return request.error(ResponseCode::Refused);
        }
        if matches!(
            query.query_type,
            RecordType::AXFR | RecordType::IXFR | RecordType::OPT
        ) {
            // Zone transfers are not offered; OPT is not a question.
            let code = if query.query_type == RecordType::OPT {
                ResponseCode::FormErr
            } else {
                ResponseCode::Refused
            };
            return request.error(code);
        }
        match self.catalog.lookup(&query.name, query.query_type) {
            Some(answer) => answer::message(request, answer),
            None => request.error(ResponseCode::Refused),
        }
    }
}

impl Handler for Authority {
    fn handle(&self, request: &Request) -> Response {
        Response::Ready(self.respond(request))
    }
}
