//! Serve-stale (RFC 8767): with `[cache] serve_stale = true`, a question
//! whose data has expired (less than `stale_max` ago) is answered with the
//! expired data, TTL 30 s (§4), when its refresh fails, or when the refresh
//! takes longer than `stale_client_timeout` (the "client response timer",
//! §5), while the refresh goes on in the background.
//!
//! ```text
//! cache miss ─▶ stale data? ─ no ─▶ the resolution, as ever
//!                 └ yes ─▶ failure held (RFC 9520)  ─▶ stale answer
//!                          resolution within the timer: ok ─▶ fresh answer
//!                                                       failed ─▶ stale answer
//!                          timer first ─▶ stale answer; the resolution goes on (refresh.rs)
//! ```
//!
//! A stale answer carries the Extended DNS Error 3, "Stale Answer" (RFC 8914 §4.4).

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};

use super::error::ede;
use super::in_flight::Joined;
use super::refresh::Refreshes;
use super::{Resolution, Resolved, Resolver};
use crate::server::Request;

/// What a client waiting on a refresh is answered with.
#[derive(Debug)]
pub enum Refreshed {
    /// The resolution's own result, fresh data or its failure.
    Resolved(Arc<Resolved>),
    /// The stale answer: the refresh failed or was too slow.
    Stale(Box<Resolution>),
}

impl Resolver {
    /// The answer from the cache with data up to `[cache] stale_max` past
    /// its expiry (TTL 30 s, RFC 8767 §4); `None` when serve-stale is off.
    pub fn from_stale(&self, qname: &Name, qtype: RecordType) -> Option<Resolution> {
        self.cache().stale_window()?;
        self.cached_resolution(qname, qtype, |name, record_type, now| {
            self.cache().lookup_stale(name, record_type, now)
        })
        .ok()
    }

    /// `[cache] stale_client_timeout`: how long a client with stale data
    /// waits for the refresh (RFC 8767 §5).
    pub fn stale_client_timeout(&self) -> Duration {
        self.cache().stale_client_timeout()
    }

    /// The response with a stale answer: the answer, and the Extended DNS
    /// Error "Stale Answer" (RFC 8914 §4.4).
    pub fn stale_response(&self, request: &Request, stale: Resolution) -> Message {
        let mut response = self.response(request, &Ok(stale), None);
        if let Some(edns) = response.edns.as_mut() {
            edns.options_mut().insert(super::response::extended_error(
                ede::STALE_ANSWER,
                "served stale: the refresh failed or is slow (RFC 8767)",
            ));
        }
        response
    }
}

/// The refreshed answer if it comes in time and succeeds, else `stale`
/// (RFC 8767 §5); a refresh still going when the timer fires goes on in
/// the background, in `refreshes`, and fills the cache for the next client.
pub async fn refreshed_or_stale(
    resolution: Joined<Arc<Resolved>>,
    stale: Box<Resolution>,
    client_timeout: Duration,
    refreshes: &Refreshes,
    question: (&Name, RecordType),
) -> Refreshed {
    match tokio::time::timeout(client_timeout, resolution.clone()).await {
        Ok(resolved) if resolved.result.is_ok() => Refreshed::Resolved(resolved),
        Ok(_) => Refreshed::Stale(stale),
        Err(_) => {
            let (name, qtype) = question;
            refreshes.spawn(name, qtype, async move {
                resolution.await;
            });
            Refreshed::Stale(stale)
        }
    }
}
