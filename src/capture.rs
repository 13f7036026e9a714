//! The tap: every DNS message a server or the transport sends or receives,
//! reported as it crosses the wire, for `trace` (and tests) to collect.
//!
//! ```text
//! server ──┐
//!          ├─▶ Tap(Datagram) ─────┐
//! transport┘                      ├─▶ Collector ─▶ trace::describe ─▶ text | json | svg | html
//! resolver ──▶ ReportTap(Report) ─┘   (the cached RRsets it uses, the servers it chooses)
//! ```
//!
//! This module depends on nothing else in the crate, so the layers that
//! report (server, transport, lab) and the one that reads (trace) do not
//! depend on each other.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::rr::{Name, Record, RecordType};

use tokio::time::Instant;

/// The transport a message came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// UDP: one datagram, size-limited.
    Udp,
    /// TCP: length-prefixed messages (RFC 1035 §4.2.2, RFC 7766).
    Tcp,
}

/// One DNS message that crossed the wire: who sent it to whom, and its bytes.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// The sender's address.
    pub from: SocketAddr,
    /// The receiver's address.
    pub to: SocketAddr,
    /// UDP or TCP.
    pub protocol: Protocol,
    /// The message exactly as sent (without the TCP length prefix).
    pub bytes: Vec<u8>,
    /// When it was sent or received.
    pub at: Instant,
}

impl Datagram {
    /// A datagram seen now.
    pub fn new(from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) -> Self {
        Datagram {
            from,
            to,
            protocol,
            bytes: bytes.to_vec(),
            at: Instant::now(),
        }
    }
}

/// Where servers and the transport report the messages they send and receive.
pub type Tap = Arc<dyn Fn(Datagram) + Send + Sync>;

/// What a cached RRset was used for, instead of asking a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UsedFor {
    /// The answer (or negative answer) to a question.
    Answer,
    /// A CNAME followed.
    Alias,
    /// The delegation the walk started from (RFC 1034 §5.3.3 step 2).
    Delegation,
    /// The address of a zone's nameserver.
    Address,
}

impl std::fmt::Display for UsedFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UsedFor::Answer => "answer",
            UsedFor::Alias => "CNAME",
            UsedFor::Delegation => "delegation",
            UsedFor::Address => "nameserver's address",
        })
    }
}

/// A cached RRset the resolver used instead of asking, as it stood then.
#[derive(Debug, Clone)]
pub struct CacheUse {
    /// What for.
    pub used_for: UsedFor,
    /// The RRset's name (the zone, for a delegation).
    pub name: Name,
    /// Its type (NS for a delegation).
    pub record_type: RecordType,
    /// Its records, TTLs as left; the SOA for a negative answer.
    pub records: Vec<Record>,
    /// True for a cached NXDOMAIN or NODATA.
    pub negative: bool,
    /// Its rank, in words (RFC 2181 §5.4.1): "authoritative answer", "referral"...
    pub credibility: &'static str,
    /// Seconds it had left.
    pub ttl_left: u32,
    /// How long it had been cached.
    pub age: Duration,
    /// The server whose reply carried it, if a server did.
    pub source: Option<SocketAddr>,
    /// The question that reply answered.
    pub question: Option<(Name, RecordType)>,
    /// When it was used.
    pub at: Instant,
}

/// A server the resolver could have asked instead.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// Its address.
    pub address: SocketAddr,
    /// Its NS name, when known.
    pub name: Option<Name>,
    /// Already asked for this question (and failed or referred on).
    pub tried: bool,
    /// Its smoothed round-trip time, if it was ever measured.
    pub rtt: Option<Duration>,
    /// The score it was ranked by: the smoothed RTT, penalties included.
    pub score: Duration,
}

/// Which of a zone's servers the resolver chose to ask, and among which.
#[derive(Debug, Clone)]
pub struct ServerChoice {
    /// The zone whose servers these are.
    pub zone: Name,
    /// The server chosen.
    pub chosen: Alternative,
    /// The zone's other servers with an address.
    pub others: Vec<Alternative>,
    /// The zone's NS names with no address yet.
    pub unresolved: Vec<Name>,
    /// When it was chosen.
    pub at: Instant,
}

/// What the resolver reports as it resolves, for `trace` to explain.
#[derive(Debug, Clone)]
pub enum Report {
    /// A cached RRset used instead of asking.
    CacheUse(CacheUse),
    /// A server chosen to ask.
    Choice(ServerChoice),
}

/// Where the resolver reports what it does (for `trace`).
pub type ReportTap = Arc<dyn Fn(Report) + Send + Sync>;

/// The most messages (and cache uses) a collector keeps between two `take`s.
const COLLECTOR_CAPACITY: usize = 10_000;

/// Keeps the messages reported to its tap and what the resolver reported
/// to its report tap, in the order they happened.
#[derive(Default)]
pub struct Collector {
    datagrams: Mutex<Vec<Datagram>>,
    reports: Mutex<Vec<(usize, Report)>>,
}

impl Collector {
    /// A new, empty collector.
    pub fn new() -> Arc<Self> {
        Arc::new(Collector::default())
    }

    /// The tap that feeds this collector.
    pub fn tap(self: &Arc<Self>) -> Tap {
        let collector = self.clone();
        Arc::new(move |datagram| {
            let mut datagrams = lock(&collector.datagrams);
            if datagrams.len() < COLLECTOR_CAPACITY {
                datagrams.push(datagram);
            }
        })
    }

    /// The report tap that feeds this collector: each report is kept with
    /// the number of messages collected before it.
    pub fn report_tap(self: &Arc<Self>) -> ReportTap {
        let collector = self.clone();
        Arc::new(move |report| {
            let before = lock(&collector.datagrams).len();
            let mut reports = lock(&collector.reports);
            if reports.len() < COLLECTOR_CAPACITY {
                reports.push((before, report));
            }
        })
    }

    /// Every message collected since the last call.
    pub fn take(&self) -> Vec<Datagram> {
        std::mem::take(&mut *lock(&self.datagrams))
    }

    /// Every report since the last call, each with the number of messages
    /// collected (since the last [`Self::take`]) before it.
    pub fn take_reports(&self) -> Vec<(usize, Report)> {
        std::mem::take(&mut *lock(&self.reports))
    }
}

/// A collector's list, even if a reporter panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The most messages one resolution records for `/events`.
pub const RECORDING_CAPACITY: usize = 256;

tokio::task_local! {
    /// The messages of the resolution being polled, when it is recorded.
    static RECORDING: std::cell::RefCell<Vec<Datagram>>;
}

/// Runs `future`, keeping every message the transport reports while it is
/// polled (at most [`RECORDING_CAPACITY`]): a resolution's own upstream
/// messages, whatever else runs beside it.
pub async fn recording<F: std::future::Future>(future: F) -> (F::Output, Vec<Datagram>) {
    RECORDING
        .scope(std::cell::RefCell::new(Vec::new()), async move {
            let output = future.await;
            let messages = RECORDING.with(|recorded| recorded.take());
            (output, messages)
        })
        .await
}

/// Whether the future being polled is recorded ([`recording`]).
pub fn is_recording() -> bool {
    RECORDING.try_with(|_| ()).is_ok()
}

/// Keeps a message for the recording in progress, if any.
pub fn record(from: SocketAddr, to: SocketAddr, protocol: Protocol, bytes: &[u8]) {
    let _ = RECORDING.try_with(|recorded| {
        let mut recorded = recorded.borrow_mut();
        if recorded.len() < RECORDING_CAPACITY {
            recorded.push(Datagram::new(from, to, protocol, bytes));
        }
    });
}
