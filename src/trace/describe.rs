//! Collected datagrams → [`MessageView`]s: who sent what to whom, and what
//! each reply is, in the resolver's own words ([`crate::resolver::reply::classify`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use serde::Serialize;

use crate::capture::{Datagram, Protocol};
use crate::names::in_bailiwick;
use crate::resolver::reply::{Classified, Lameness, classify};

/// Names for the addresses of a trace (the host, the local server, the
/// lab's servers) and the zones each server is known to serve.
#[derive(Debug, Clone, Default)]
pub struct Cast {
    names: HashMap<IpAddr, String>,
    endpoints: HashMap<SocketAddr, String>,
    zones: HashMap<IpAddr, Vec<Name>>,
}

impl Cast {
    /// Names every address of a lab server after its nameserver name.
    pub fn with_servers(servers: impl IntoIterator<Item = (IpAddr, String)>) -> Self {
        Cast {
            names: servers.into_iter().collect(),
            ..Cast::default()
        }
    }

    /// The lab's servers, each named after its NS name (without the final
    /// dot) and known to serve its zones.
    pub fn of_zones(zones: &crate::zone::ZoneSet) -> Self {
        let names = zones
            .server_names()
            .into_iter()
            .map(|(ip, name)| (ip, name.to_string().trim_end_matches('.').to_string()));
        let mut cast = Cast::with_servers(names);
        for (address, served) in zones.by_address() {
            for zone in served {
                cast.serves(address, zone.origin().clone());
            }
        }
        cast
    }

    /// Names one socket address (the host's, the local server's).
    pub fn name_endpoint(&mut self, address: SocketAddr, name: &str) {
        self.endpoints.insert(address, name.to_string());
    }

    /// Names every socket address at an IP.
    pub fn name_address(&mut self, address: IpAddr, name: &str) {
        self.names.insert(address, name.to_string());
    }

    /// Says that the server at `address` serves `zone` (so its replies are
    /// read as the zone's, as the resolver reads them).
    pub fn serves(&mut self, address: IpAddr, zone: Name) {
        let zones = self.zones.entry(address).or_default();
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }

    /// The name of an address: its endpoint name, its server name, or the IP itself.
    pub fn name_of(&self, address: &SocketAddr) -> String {
        self.endpoints
            .get(address)
            .or_else(|| self.names.get(&address.ip()))
            .cloned()
            .unwrap_or_else(|| address.ip().to_string())
    }

    /// The zone a question for `qname` is asked of the server at `address`
    /// as: the deepest zone it serves that holds the name; the root if none is known.
    fn zone_for(&self, address: IpAddr, qname: &Name) -> Name {
        self.zones
            .get(&address)
            .into_iter()
            .flatten()
            .filter(|zone| in_bailiwick(qname, zone))
            .max_by_key(|zone| zone.num_labels())
            .cloned()
            .unwrap_or_else(Name::root)
    }
}

/// What a message is, in the textbook's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A question.
    Query,
    /// "Ask those servers instead": NS records for a zone closer to the name.
    Referral,
    /// Records for the question (or a CNAME to follow).
    Answer,
    /// The name does not exist.
    NxDomain,
    /// The name exists, without records of the type.
    NoData,
    /// A reply the resolver cannot use from this server (see `reason`).
    Lame,
    /// An error RCODE.
    Error,
}

/// One message, described for people and tools.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// For a lame reply: why the resolver cannot use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The message ID.
    pub id: u16,
    /// The question's name.
    pub qname: String,
    /// The question's type.
    pub qtype: String,
    /// RD: recursion desired.
    pub recursion_desired: bool,
    /// RA: recursion available.
    pub recursion_available: bool,
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
    /// The DNSSEC records of every section that the question did not ask
    /// for (RRSIG, NSEC, NSEC3, DS in a referral): kept apart so that the
    /// textbook's story reads as it does without them (RFC 4035 §3.1).
    #[serde(default)]
    pub dnssec: Vec<String>,
    /// For a reply: milliseconds since its query.
    pub elapsed_ms: Option<f64>,
    /// The message as sent, for renderers that show the datagram itself.
    #[serde(skip, default)]
    pub wire: Vec<u8>,
}

/// Describes the collected messages, numbered from 1; undecodable ones are
/// skipped. Replies are classified as the resolver classifies them; the
/// servers a referral names (by their glue) are read as its zone's.
pub fn describe(datagrams: &[Datagram], cast: &Cast) -> Vec<MessageView> {
    let mut cast = cast.clone();
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
            let (kind, reason) = kind_of(message, datagram.from.ip(), &mut cast);
            view(
                index + 1,
                datagram,
                message,
                &cast,
                (kind, reason),
                elapsed_ms,
            )
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
    (kind, reason): (Kind, Option<String>),
    elapsed_ms: Option<f64>,
) -> MessageView {
    let (qname, qtype) = message
        .queries
        .first()
        .map(|q| (q.name.to_string(), q.query_type.to_string()))
        .unwrap_or_default();
    let asked = message.queries.first().map(|q| q.query_type);
    MessageView {
        number,
        from_name: cast.name_of(&datagram.from),
        from: datagram.from,
        to_name: cast.name_of(&datagram.to),
        to: datagram.to,
        protocol: datagram.protocol,
        bytes: datagram.bytes.len(),
        kind,
        reason,
        id: message.id,
        qname,
        qtype,
        recursion_desired: message.recursion_desired,
        recursion_available: message.recursion_available,
        authoritative: message.authoritative,
        truncated: message.truncation,
        rcode: rcode_name(message.response_code),
        answer: told(&message.answers, asked, false),
        authority: told(&message.authorities, asked, false),
        additional: told(&message.additionals, asked, false),
        dnssec: [&message.answers, &message.authorities, &message.additionals]
            .into_iter()
            .flat_map(|section| told(section, asked, true))
            .collect(),
        elapsed_ms: elapsed_ms.map(|ms| (ms * 1000.0).round() / 1000.0),
        wire: datagram.bytes.clone(),
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
        ResponseCode::YXDomain => "YXDOMAIN".to_string(),
        other => format!("{other:?}").to_ascii_uppercase(),
    }
}

/// What a message is, by the resolver's classification of replies; a
/// referral teaches the cast which zone its servers serve. A recursive
/// reply (RD and RA set) is read as a stub reads it: its data is the answer
/// (RFC 1034 §5.3.1), not a cache talking out of turn.
fn kind_of(message: &Message, sender: IpAddr, cast: &mut Cast) -> (Kind, Option<String>) {
    if message.message_type == MessageType::Query {
        return (Kind::Query, None);
    }
    let Some(query) = message.queries.first() else {
        return (Kind::Error, None);
    };
    let mut reply = message.clone();
    if reply.recursion_desired && reply.recursion_available {
        reply.metadata.recursion_available = false;
    }
    let zone = cast.zone_for(sender, &query.name);
    match classify(&reply, &query.name, query.query_type, &zone) {
        Classified::Answer { .. } | Classified::Alias { .. } => (Kind::Answer, None),
        Classified::NxDomain { .. } => (Kind::NxDomain, None),
        Classified::NoData { .. } => (Kind::NoData, None),
        Classified::Referral { delegation, .. } => {
            for (_, address) in &delegation.glue {
                cast.serves(*address, delegation.zone.clone());
            }
            (Kind::Referral, None)
        }
        Classified::YxDomain { .. } | Classified::Lame(Lameness::Rcode(_)) => (Kind::Error, None),
        Classified::Lame(lameness) => (Kind::Lame, Some(lameness.to_string())),
    }
}

/// The records of a section in [`compact`] form: the DNSSEC records that
/// `asked` (the question's type) did not ask for, or all the others.
fn told(section: &[Record], asked: Option<RecordType>, dnssec: bool) -> Vec<String> {
    section
        .iter()
        .filter(|record| {
            let extra = matches!(
                record.record_type(),
                RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3 | RecordType::DS
            ) && Some(record.record_type()) != asked;
            extra == dnssec
        })
        .map(compact)
        .collect()
}

/// A record as `name TTL TYPE data`; a DNAME's data is its target name
/// (hickory-proto carries it as opaque bytes, see dname.rs).
pub fn compact(record: &Record) -> String {
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

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
