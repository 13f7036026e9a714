//! Why a resolution fails: the last server's failure, and the resolution's
//! own error (the client sees SERVFAIL, with an Extended DNS Error, RFC 8914).

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::rr::Name;

use super::reply::Lameness;
use crate::transport::TransportError;

/// Why the last server of a zone failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// It did not answer in time.
    #[error("time-out")]
    Timeout,
    /// The network refused (nothing listening, unreachable).
    #[error("unreachable")]
    Unreachable,
    /// It answered with something that is not DNS.
    #[error("malformed reply")]
    Malformed,
    /// It answered, uselessly.
    #[error("{0}")]
    Lame(Lameness),
    /// No address could be found for any of its names.
    #[error("no nameserver address")]
    NoAddress,
    /// A forwarder referred instead of recursing (it offers no recursion).
    #[error("referred instead of recursing")]
    NotRecursive,
}

impl From<&TransportError> for Failure {
    fn from(error: &TransportError) -> Self {
        match error {
            TransportError::Timeout(_) => Failure::Timeout,
            TransportError::Io(_) => Failure::Unreachable,
            TransportError::Malformed | TransportError::Encode => Failure::Malformed,
            // The walk checks its budget itself before it gets here.
            TransportError::OverBudget => Failure::Timeout,
        }
    }
}

/// Why a resolution gave up; the client gets SERVFAIL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    /// The question took longer than its deadline.
    #[error("the resolution deadline of {0:?} passed")]
    Deadline(Duration),
    /// Too many upstream queries for one question.
    #[error("the budget of {0} upstream queries is spent")]
    QueryBudget(usize),
    /// Too many referrals for one name.
    #[error("more than {0} referrals")]
    ReferralLimit(usize),
    /// A CNAME chain longer than the limit.
    #[error("a CNAME chain longer than {0}")]
    CnameChain(usize),
    /// A CNAME chain that comes back to a name already in it.
    #[error("a CNAME loop at {0}")]
    CnameLoop(Name),
    /// Too many nameserver names to look up for lack of glue.
    #[error("more than {0} glueless nameserver lookups")]
    GluelessLimit(usize),
    /// Glueless lookups nested too deep.
    #[error("glueless lookups nested deeper than {0}")]
    GluelessDepth(usize),
    /// A nameserver name whose lookup needs itself (zones served only by each other's names).
    #[error("{0} can only be resolved through itself")]
    DependencyLoop(Name),
    /// The resolution panicked or overran its bound, and was abandoned.
    #[error("{0}")]
    Abandoned(#[from] super::in_flight::Abandoned),
    /// Every server of a zone failed.
    #[error(
        "no server of {zone} answered usefully (last: {})",
        last_failure(server, failure)
    )]
    ServersFailed {
        /// The zone whose servers failed.
        zone: Name,
        /// The last server tried, if any was.
        server: Option<IpAddr>,
        /// What went wrong with it.
        failure: Failure,
    },
    /// The answer failed DNSSEC validation (RFC 4035 §5.5): SERVFAIL, with
    /// the reason's Extended DNS Error (RFC 8914 §4).
    #[error("{}", .0.text())]
    Bogus(crate::validator::Bogus),
    /// A secure answer to a key sentinel question whose claim about the
    /// root's trust anchors is false (RFC 8509 §3.2).
    #[error("root key sentinel (RFC 8509): {}", sentinel_text(.0))]
    KeySentinel(super::sentinel::Sentinel),
    /// The question failed a moment ago and is held in the failure cache
    /// (RFC 9520 §3): answered SERVFAIL without walking again.
    #[error("a failure cached for {seconds_left} s more (RFC 9520): {error}")]
    FailureCached {
        /// Whole seconds until the question is walked again.
        seconds_left: u64,
        /// Why it failed.
        error: Box<ResolveError>,
    },
}

fn sentinel_text(sentinel: &super::sentinel::Sentinel) -> String {
    match sentinel {
        super::sentinel::Sentinel::IsTrustAnchor(tag) => {
            format!("key tag {tag:05} is not a root trust anchor")
        }
        super::sentinel::Sentinel::NotTrustAnchor(tag) => {
            format!("key tag {tag:05} is a root trust anchor")
        }
    }
}

fn last_failure(server: &Option<IpAddr>, failure: &Failure) -> String {
    match server {
        Some(server) => format!("{server} {failure}"),
        None => failure.to_string(),
    }
}

/// Extended DNS Error codes used (RFC 8914 §4).
pub mod ede {
    /// Other: the text says what.
    pub const OTHER: u16 = 0;
    /// Stale Answer: expired data, served because the refresh failed or is slow (RFC 8767).
    pub const STALE_ANSWER: u16 = 3;
    /// No Reachable Authority: no server of the zone answered usefully.
    pub const NO_REACHABLE_AUTHORITY: u16 = 22;
    /// Network Error: the network refused (unreachable).
    pub const NETWORK_ERROR: u16 = 23;
    /// Invalid Data: a server answered with something that is not DNS.
    pub const INVALID_DATA: u16 = 24;
}

impl ResolveError {
    /// The Extended DNS Error (RFC 8914) that explains this failure to the client.
    pub fn extended_error(&self) -> u16 {
        match self {
            ResolveError::Deadline(_)
            | ResolveError::Abandoned(super::in_flight::Abandoned::Overran(_)) => {
                ede::NO_REACHABLE_AUTHORITY
            }
            ResolveError::ServersFailed { failure, .. } => match failure {
                Failure::Unreachable => ede::NETWORK_ERROR,
                Failure::Malformed => ede::INVALID_DATA,
                Failure::Timeout
                | Failure::Lame(_)
                | Failure::NoAddress
                | Failure::NotRecursive => ede::NO_REACHABLE_AUTHORITY,
            },
            // The code of the failure held: no reachable authority, a network error...
            ResolveError::FailureCached { error, .. } => error.extended_error(),
            ResolveError::Bogus(why) => why.info_code(),
            _ => ede::OTHER,
        }
    }
}
