//! `resolver trace`: the textbook's figure, made of real datagrams.
//!
//! ```text
//! cis.poly.edu ──1──▶ dns.poly.edu ──2──▶ a.root-servers.net    (3: referral to edu)
//!      ▲                  │  ▲ ──4──▶ a.edu-servers.net         (5: referral to dns.umass.edu)
//!      └──────8───────────┘  └ ──6──▶ dns.umass.edu             (7: the answer)
//! ```
//!
//! The server and the transport report every message they send or receive
//! to a [`Tap`]; a [`Collector`] keeps them in order; [`describe`] turns each
//! into a [`MessageView`] (who to whom, query / referral / answer /
//! negative, the records that matter, the time a reply took), printed as
//! text or JSON lines.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{Record, RecordType};
use serde::Serialize;
use tokio::time::Instant;

use crate::server::Protocol;

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

/// The most messages a collector keeps between two `take`s.
const COLLECTOR_CAPACITY: usize = 10_000;

/// Keeps the messages reported to its tap, in the order they happened.
#[derive(Default)]
pub struct Collector {
    datagrams: Mutex<Vec<Datagram>>,
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
            let mut datagrams = collector
                .datagrams
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if datagrams.len() < COLLECTOR_CAPACITY {
                datagrams.push(datagram);
            }
        })
    }

    /// Every message collected since the last call.
    pub fn take(&self) -> Vec<Datagram> {
        std::mem::take(&mut *self.datagrams.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Names for the addresses of a trace: the host, the local server, the lab's servers.
#[derive(Debug, Clone, Default)]
pub struct Cast {
    names: HashMap<IpAddr, String>,
    endpoints: HashMap<SocketAddr, String>,
}

impl Cast {
    /// Names every address of a lab server after its nameserver name.
    pub fn with_servers(servers: impl IntoIterator<Item = (IpAddr, String)>) -> Self {
        Cast {
            names: servers.into_iter().collect(),
            endpoints: HashMap::new(),
        }
    }

    /// Names one socket address (the host's, the local server's).
    pub fn name_endpoint(&mut self, address: SocketAddr, name: &str) {
        self.endpoints.insert(address, name.to_string());
    }

    /// Names every socket address at an IP.
    pub fn name_address(&mut self, address: IpAddr, name: &str) {
        self.names.insert(address, name.to_string());
    }

    /// The name of an address: its endpoint name, its server name, or the IP itself.
    pub fn name_of(&self, address: &SocketAddr) -> String {
        self.endpoints
            .get(address)
            .or_else(|| self.names.get(&address.ip()))
            .cloned()
            .unwrap_or_else(|| address.ip().to_string())
    }
}

/// What a message is, in the textbook's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A question.
    Query,
    /// "Ask those servers instead": NS records, no answer.
    Referral,
    /// Records for the question.
    Answer,
    /// The name does not exist.
    NxDomain,
    /// The name exists, without records of the type.
    NoData,
    /// An error RCODE.
    Error,
}

/// One message, described for people and tools.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// Its number in the trace, from 1.
    pub number: usize,
    /// The sender's name.
    pub from_name: String,
    /// The sender's address.
    pub from: SocketAddr,
    /// The receiver's name.
    pub to_name: String,
    /// The receiver's address.
    pub to: SocketAddr,
    /// UDP or TCP.
    pub protocol: Protocol,
    /// Its size on the wire.
    pub bytes: usize,
    /// Query, referral, answer...
    pub kind: Kind,
    /// The message ID.
    pub id: u16,
    /// The question's name.
    pub qname: String,
    /// The question's type.
    pub qtype: String,
    /// RD: recursion desired.
    pub recursion_desired: bool,
    /// AA: an authoritative answer.
    pub authoritative: bool,
    /// TC: truncated.
    pub truncated: bool,
    /// The RCODE.
    pub rcode: String,
    /// The answer section.
    pub answer: Vec<String>,
    /// The authority section.
    pub authority: Vec<String>,
    /// The additional section (without OPT).
    pub additional: Vec<String>,
    /// For a reply: milliseconds since its query.
    pub elapsed_ms: Option<f64>,
}

/// Describes the collected messages, numbered from 1; undecodable ones are skipped.
pub fn describe(datagrams: &[Datagram], cast: &Cast) -> Vec<MessageView> {
    let decoded: Vec<(&Datagram, Message)> = datagrams
        .iter()
        .filter_map(|d| Message::from_vec(&d.bytes).ok().map(|m| (d, m)))
        .collect();
    decoded
        .iter()
        .enumerate()
        .map(|(index, (datagram, message))| {
            let elapsed_ms = (message.message_type == MessageType::Response)
                .then(|| query_time(&decoded[..index], datagram, message))
                .flatten();
            view(index + 1, datagram, message, cast, elapsed_ms)
        })
        .collect()
}

/// The time since the query this reply answers: the latest earlier query
/// with its ID that went the other way.
fn query_time(
    earlier: &[(&Datagram, Message)],
    reply: &Datagram,
    message: &Message,
) -> Option<f64> {
    earlier
        .iter()
        .rev()
        .find(|(d, m)| {
            m.message_type == MessageType::Query
                && m.id == message.id
                && d.from == reply.to
                && d.to == reply.from
        })
        .map(|(d, _)| reply.at.duration_since(d.at).as_secs_f64() * 1000.0)
}

fn view(
    number: usize,
    datagram: &Datagram,
    message: &Message,
    cast: &Cast,
    elapsed_ms: Option<f64>,
) -> MessageView {
    let (qname, qtype) = message
        .queries
        .first()
        .map(|q| (q.name.to_string(), q.query_type.to_string()))
        .unwrap_or_default();
    MessageView {
        number,
        from_name: cast.name_of(&datagram.from),
        from: datagram.from,
        to_name: cast.name_of(&datagram.to),
        to: datagram.to,
        protocol: datagram.protocol,
        bytes: datagram.bytes.len(),
        kind: kind_of(message),
        id: message.id,
        qname,
        qtype,
        recursion_desired: message.recursion_desired,
        authoritative: message.authoritative,
        truncated: message.truncation,
        rcode: rcode_name(message.response_code),
        answer: message.answers.iter().map(compact).collect(),
        authority: message.authorities.iter().map(compact).collect(),
        additional: message.additionals.iter().map(compact).collect(),
        elapsed_ms: elapsed_ms.map(|ms| (ms * 1000.0).round() / 1000.0),
    }
}

/// The RCODE's mnemonic as dig prints it (RFC 6895 §2.3): NOERROR, NXDOMAIN...
pub fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".to_string(),
        ResponseCode::FormErr => "FORMERR".to_string(),
        ResponseCode::ServFail => "SERVFAIL".to_string(),
        ResponseCode::NXDomain => "NXDOMAIN".to_string(),
        ResponseCode::NotImp => "NOTIMP".to_string(),
        ResponseCode::Refused => "REFUSED".to_string(),
        other => format!("{other:?}").to_ascii_uppercase(),
    }
}

/// What a message is: a query, or which kind of reply.
pub fn kind_of(message: &Message) -> Kind {
    if message.message_type == MessageType::Query {
        return Kind::Query;
    }
    match message.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Kind::NxDomain,
        _ => return Kind::Error,
    }
    if !message.answers.is_empty() {
        return Kind::Answer;
    }
    let has = |record_type| {
        message
            .authorities
            .iter()
            .any(|r| r.record_type() == record_type)
    };
    if has(RecordType::NS) && !has(RecordType::SOA) && !message.authoritative {
        Kind::Referral
    } else {
        Kind::NoData
    }
}

/// A record as `name TTL TYPE data`; a DNAME's data is its target name
/// (hickory-proto carries it as opaque bytes, see dname.rs).
fn compact(record: &Record) -> String {
    let data = match crate::dname::target(record) {
        Some(target) => target.to_string(),
        None => record.data.to_string(),
    };
    format!(
        "{} {} {} {data}",
        record.name,
        record.ttl,
        record.record_type(),
    )
}

/// Counts of a trace: queries, replies and the time from the first message to the last.
pub fn totals(views: &[MessageView], datagrams: &[Datagram]) -> (usize, usize, f64) {
    let queries = views.iter().filter(|v| v.kind == Kind::Query).count();
    let span = match (datagrams.first(), datagrams.last()) {
        (Some(first), Some(last)) => last.at.duration_since(first.at).as_secs_f64() * 1000.0,
        _ => 0.0,
    };
    (queries, views.len() - queries, span)
}

/// The messages of one question as text: two lines each, the textbook's
/// narrative and the wire details, then the totals.
pub fn render(views: &[MessageView], span_ms: f64) -> String {
    let mut text = String::new();
    let width = views
        .iter()
        .map(|v| v.from_name.len().max(v.to_name.len()))
        .max()
        .unwrap_or(0);
    for view in views {
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "{:>3}  {:<width$} → {:<width$}  {}",
            view.number,
            view.from_name,
            view.to_name,
            narrative(view),
        );
        let mut wire = format!(
            "{:>3}  {} → {}, {}, {} bytes",
            "",
            view.from,
            view.to,
            match view.protocol {
                Protocol::Udp => "UDP",
                Protocol::Tcp => "TCP",
            },
            view.bytes
        );
        if let Some(ms) = view.elapsed_ms {
            let _ = write!(wire, ", {ms:.2} ms");
        }
        let _ = writeln!(text, "{wire}");
    }
    let queries = views.iter().filter(|v| v.kind == Kind::Query).count();
    let _ = writeln!(
        text,
        "{}: {}, {}, {span_ms:.2} ms",
        plural(views.len(), "message"),
        plural(queries, "query"),
        plural(views.len() - queries, "reply"),
    );
    text
}

/// "1 query", "4 queries", "8 messages".
fn plural(count: usize, noun: &str) -> String {
    match (count, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{count} {stem}ies"),
        (_, None) => format!("{count} {noun}s"),
    }
}

/// The first line of a message: what it says.
fn narrative(view: &MessageView) -> String {
    let question = format!("{} {}", view.qname, view.qtype);
    let aa = if view.authoritative {
        " (authoritative)"
    } else {
        ""
    };
    match view.kind {
        Kind::Query => {
            let mode = if view.recursion_desired {
                "recursive"
            } else {
                "iterative"
            };
            format!("query     {question} ({mode})")
        }
        Kind::Referral => {
            let ns: Vec<&str> = view.authority.iter().map(String::as_str).collect();
            let mut text = format!("referral  {}", ns.join("; "));
            if !view.additional.is_empty() {
                let _ = write!(text, "; glue {}", view.additional.join("; "));
            }
            text
        }
        Kind::Answer => format!("answer    {}{aa}", view.answer.join("; ")),
        Kind::NxDomain => format!("NXDOMAIN  {question}; {}{aa}", view.authority.join("; ")),
        Kind::NoData => format!("NODATA    {question}; {}{aa}", view.authority.join("; ")),
        Kind::Error => format!("{:<9} {question}", view.rcode),
    }
}
