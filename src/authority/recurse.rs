//! Recursion by the lab's servers, for the textbook's other figure: each
//! server passes a recursive query on to the server it would refer to, and
//! the answer comes back up the same chain (host → local → root → TLD →
//! authoritative, and back: eight messages).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData};

use crate::resolver::reply::address_of;
use crate::server::{Handler, Request, Response};
use crate::transport::{Ask, Transport};
use crate::zone::ZoneSet;

/// How long one hop waits for the next server.
const HOP_TIMEOUT: Duration = Duration::from_secs(3);

/// What a server needs to pass queries on.
pub struct Recursion {
    transport: Transport,
    zones: ZoneSet,
    port: u16,
}

impl Recursion {
    /// Passes queries on with `transport`, finding nameserver addresses
    /// without glue in `zones`, on `port`.
    pub fn new(transport: Transport, zones: ZoneSet, port: u16) -> Self {
        Recursion {
            transport,
            zones,
            port,
        }
    }

    /// The addresses of a referral's servers: its glue, else the lab's data.
    pub fn referral_servers(
        &self,
        ns_names: &[Name],
        glue: &[hickory_proto::rr::Record],
    ) -> Vec<SocketAddr> {
        let mut servers: Vec<SocketAddr> = Vec::new();
        for name in ns_names {
            let mut addresses: Vec<_> = glue
                .iter()
                .filter(|record| record.name == *name)
                .filter_map(address_of)
                .collect();
            if addresses.is_empty() {
                addresses = self.zones.addresses_of(name);
            }
            servers.extend(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, self.port)),
            );
        }
        servers
    }

    /// Asks `servers` in turn, recursively (RD set), and relays the first reply.
    pub async fn relay(&self, request: &Request, servers: &[SocketAddr]) -> Message {
        let ask = Ask {
            query: request.query().clone(),
            recursion_desired: true,
            edns: true,
            randomize_case: false,
        };
        for server in servers {
            if let Ok(exchange) = self.transport.exchange(*server, &ask, HOP_TIMEOUT).await {
                let mut response = request.response();
                response.metadata.recursion_available = true;
                response.metadata.response_code = exchange.reply.response_code;
                response.answers = exchange.reply.answers;
                response.authorities = exchange.reply.authorities;
                response.additionals = exchange.reply.additionals;
                return response;
            }
        }
        request.error(ResponseCode::ServFail)
    }
}

/// The NS target names of referral records.
pub fn ns_names(records: &[hickory_proto::rr::Record]) -> Vec<Name> {
    records
        .iter()
        .filter_map(|record| match &record.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect()
}

/// The local server of the recursive figure: passes every query to the root servers.
pub struct Forwarder {
    recursion: Arc<Recursion>,
    servers: Vec<SocketAddr>,
}

impl Forwarder {
    /// Forwards to `servers` (the roots).
    pub fn new(recursion: Arc<Recursion>, servers: Vec<SocketAddr>) -> Self {
        Forwarder { recursion, servers }
    }
}

impl Handler for Forwarder {
    fn handle(&self, request: &Request) -> Response {
        let recursion = self.recursion.clone();
        let servers = self.servers.clone();
        let request = request.clone();
        Response::Later(Box::pin(async move {
            recursion.relay(&request, &servers).await
        }))
    }
}
