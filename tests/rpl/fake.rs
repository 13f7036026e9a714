//! The fake authoritative servers of a scenario: UDP and TCP on one port
//! at every address the resolver may be sent to, answering from the
//! scenario's script.
//!
//! ```text
//! query to server S at step n
//!   → ranges valid at n for S (any range when no ADDRESS names S):
//!       the first entry whose MATCH fits → its reply, ADJUSTed; none fits → SERVFAIL
//!   → no such range: the first unused REPLY step ≥ n whose MATCH fits → its reply, once
//!   → nothing: SERVFAIL
//! ```
//!
//! These are Deckard's rules (`Scenario.reply`), except that every range
//! valid for S is searched, not just the first (testbound's rule), which
//! only differs where Deckard would never use the later ranges. Ranges are
//! searched in file order, except in testbound scenarios, where (as
//! testbound reads them into a list, each in front of the one before) the
//! last-written range comes first: where two ranges overlap, the later one
//! answers.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use super::matching::{self, Context, Transport};
use super::scenario::{Action, Adjust, Entry, Range, Scenario};

/// The EDNS payload size fake servers advertise (Deckard's).
const EDNS_PAYLOAD: u16 = 4096;

/// The step the scenario is at, shared between the runner and the servers.
#[derive(Clone, Default)]
pub struct CurrentStep(Arc<AtomicU64>);

impl CurrentStep {
    /// Moves the scenario to step `id`.
    pub fn set(&self, id: u64) {
        self.0.store(id, Ordering::SeqCst);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The running servers; they stop when this is dropped.
pub struct FakeNetwork {
    script: Arc<Script>,
    _tasks: JoinSet<()>,
}

impl FakeNetwork {
    /// Binds UDP and TCP on `port` at each of the scenario's server addresses.
    pub async fn start(scenario: Arc<Scenario>, port: u16, step: CurrentStep) -> io::Result<Self> {
        let addresses = scenario.server_addresses();
        let script = Arc::new(Script::new(scenario, step));
        let mut tasks = JoinSet::new();
        for address in addresses {
            let at = SocketAddr::new(address, port);
            let (udp, tcp) = match bind(at).await {
                Ok(sockets) => sockets,
                // No IPv6 in this namespace (see netns): the resolver never asks IPv6 servers.
                Err(error)
                    if address.is_ipv6() && error.kind() == io::ErrorKind::AddrNotAvailable =>
                {
                    continue;
                }
                Err(error) => return Err(io::Error::new(error.kind(), format!("{at}: {error}"))),
            };
            tasks.spawn(serve_udp(udp, address, script.clone()));
            tasks.spawn(serve_tcp(tcp, address, script.clone()));
        }
        Ok(FakeNetwork {
            script,
            _tasks: tasks,
        })
    }

    /// Every query the servers got, one line each, for failure reports.
    pub fn traffic(&self) -> String {
        self.script
            .traffic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }
}

/// A UDP socket and a TCP listener at `at`.
async fn bind(at: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    Ok((UdpSocket::bind(at).await?, TcpListener::bind(at).await?))
}

/// Answers UDP queries until the task is aborted.
async fn serve_udp(socket: UdpSocket, address: IpAddr, script: Arc<Script>) {
    let mut buffer = vec![0u8; 65_535];
    loop {
        let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        if let Some(reply) = script.respond(address, Transport::Udp, &buffer[..length]) {
            let _ = socket.send_to(&reply, client).await; // the resolver may have given up
        }
    }
}

/// Accepts TCP connections until the task is aborted.
async fn serve_tcp(listener: TcpListener, address: IpAddr, script: Arc<Script>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        connections.spawn(serve_connection(stream, address, script.clone()));
    }
}

/// Answers length-prefixed queries on one TCP connection (RFC 1035 §4.2.2).
async fn serve_connection(mut stream: TcpStream, address: IpAddr, script: Arc<Script>) {
    loop {
        let Ok(length) = stream.read_u16().await else {
            return;
        };
        let mut query = vec![0u8; usize::from(length)];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(reply) = script.respond(address, Transport::Tcp, &query) else {
            continue;
        };
        let Ok(length) = u16::try_from(reply.len()) else {
            return;
        };
        if stream.write_u16(length).await.is_err() || stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// The scenario as the servers see it: what is scripted, which one-shot
/// REPLY steps are used up, and what was asked.
struct Script {
    scenario: Arc<Scenario>,
    step: CurrentStep,
    named_addresses: BTreeSet<IpAddr>,
    used_replies: Mutex<BTreeSet<usize>>,
    traffic: Mutex<Vec<String>>,
    started: Instant,
}

/// Where an answer came from.
enum Source<'a> {
    /// An entry of a range.
    Range(&'a Entry),
    /// The entry of a REPLY step.
    ReplyStep(u64, &'a Entry),
    /// Nothing fitted.
    Nothing,
}

impl Script {
    fn new(scenario: Arc<Scenario>, step: CurrentStep) -> Self {
        Script {
            named_addresses: scenario.range_addresses(),
            scenario,
            step,
            used_replies: Mutex::new(BTreeSet::new()),
            traffic: Mutex::new(Vec::new()),
            started: Instant::now(),
        }
    }

    /// The reply to `query` sent to `server`, if any (an unreadable query gets none).
    fn respond(&self, server: IpAddr, transport: Transport, query: &[u8]) -> Option<Vec<u8>> {
        let query = Message::from_vec(query).ok()?;
        let step = self.step.get();
        let source = self.choose(server, transport, &query, step);
        let reply = match &source {
            Source::Range(entry) | Source::ReplyStep(_, entry) => reply(entry, &query),
            Source::Nothing => servfail(&query),
        };
        self.note(server, transport, &query, step, &source, reply.is_some());
        reply
    }

    /// Picks the entry that answers, as the module documentation says.
    fn choose(
        &self,
        server: IpAddr,
        transport: Transport,
        query: &Message,
        step: u64,
    ) -> Source<'_> {
        let context = Context {
            transport,
            ttl_slack: 0,
        };
        let fits = |entry: &Entry| matching::compare(entry, query, &context).is_ok();
        let named = self.named_addresses.contains(&server).then_some(server);
        let mut ranges: Vec<&Range> = self
            .scenario
            .ranges
            .iter()
            .filter(|range| range.serves(step, named))
            .collect();
        if self.scenario.config.testbound {
            ranges.reverse();
        }
        if !ranges.is_empty() {
            return ranges
                .into_iter()
                .flat_map(|range| range.entries.iter())
                .find(|entry| fits(entry))
                .map_or(Source::Nothing, Source::Range);
        }
        let mut used = self.used_replies.lock().unwrap_or_else(|e| e.into_inner());
        for (index, scripted) in self.scenario.steps.iter().enumerate() {
            if let Action::Reply(entry) = &scripted.action
                && scripted.id >= step
                && !used.contains(&index)
                && fits(entry)
            {
                used.insert(index);
                return Source::ReplyStep(scripted.id, entry);
            }
        }
        Source::Nothing
    }

    /// Logs one exchange: when, where, what, and which entry answered.
    fn note(
        &self,
        server: IpAddr,
        transport: Transport,
        query: &Message,
        step: u64,
        source: &Source<'_>,
        answered: bool,
    ) {
        let question = query
            .queries
            .first()
            .map(|q| format!("{} {}", q.name, q.query_type))
            .unwrap_or_else(|| "<no question>".to_string());
        let by = match source {
            Source::Range(entry) => format!("entry of line {}", entry.line),
            Source::ReplyStep(id, entry) => format!("STEP {id} REPLY (line {})", entry.line),
            Source::Nothing => "SERVFAIL: no entry fits".to_string(),
        };
        let silent = if answered { "" } else { " (not answered)" };
        let line = format!(
            "  {:>7.3}s step {step} {transport:?} {server}: {question} → {by}{silent}",
            self.started.elapsed().as_secs_f64(),
        );
        self.traffic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }
}

/// An entry's reply to `query`, ADJUSTed; `None` for `do_not_answer`.
fn reply(entry: &Entry, query: &Message) -> Option<Vec<u8>> {
    if entry.adjust.contains(&Adjust::DoNotAnswer) {
        return None;
    }
    if let Some(wire) = &entry.wire {
        let mut bytes = wire.bytes().to_vec();
        let copy_id =
            entry.adjust.contains(&Adjust::CopyId) || entry.adjust.contains(&Adjust::RawId);
        if copy_id && bytes.len() >= 2 {
            bytes[..2].copy_from_slice(&query.metadata.id.to_be_bytes());
        }
        return Some(bytes);
    }
    let mut reply = entry.message.clone();
    if entry.adjust.contains(&Adjust::CopyId) {
        reply.metadata.id = query.metadata.id;
        if let (Some(ours), Some(theirs)) = (reply.queries.first_mut(), query.queries.first()) {
            ours.name = theirs.name.clone(); // Deckard copies the QNAME's spelling with the ID
        }
    }
    if entry.adjust.contains(&Adjust::CopyQuery) {
        reply.metadata.id = query.metadata.id;
        reply.queries = query.queries.clone();
    }
    reply.edns = reply_edns(entry, query);
    reply.to_vec().ok()
}

/// EDNS in a reply: present when the query had it (RFC 6891 §6.1.1), DO when either says so.
fn reply_edns(entry: &Entry, query: &Message) -> Option<Edns> {
    let asked = query.edns.as_ref()?;
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    let entry_do = entry
        .message
        .edns
        .as_ref()
        .is_some_and(|e| e.flags().dnssec_ok);
    edns.set_dnssec_ok(entry_do || asked.flags().dnssec_ok);
    Some(edns)
}

/// SERVFAIL for `query` (Deckard's answer when no entry fits).
fn servfail(query: &Message) -> Option<Vec<u8>> {
    let mut reply = Message::new(
        query.metadata.id,
        MessageType::Response,
        query.metadata.op_code,
    );
    reply.metadata.response_code = ResponseCode::ServFail;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.queries = query.queries.clone();
    reply.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpl::parse::parse;
    use hickory_proto::op::Query;
    use hickory_proto::rr::{Name, RecordType};

    const SCRIPT: &str = "\
stub-addr: 1.1.1.1
CONFIG_END
SCENARIO_BEGIN fake servers
RANGE_BEGIN 0 10
\tADDRESS 1.1.1.1
ENTRY_BEGIN
MATCH opcode qtype qname
ADJUST copy_id
REPLY QR AA NOERROR
SECTION QUESTION
www.example.com. IN A
SECTION ANSWER
www.example.com. IN A 10.20.30.40
ENTRY_END
RANGE_END
STEP 20 REPLY
ENTRY_BEGIN
MATCH opcode qname
ADJUST copy_id copy_query
REPLY QR NXDOMAIN
SECTION QUESTION
www.example.com. IN A
ENTRY_END
SCENARIO_END
";

    fn ask(script: &Script, server: &str, step: u64, qtype: RecordType) -> Option<Message> {
        script.step.set(step);
        let mut query = Message::query();
        let name = Name::from_ascii("WWW.example.com.").expect("valid");
        query.add_query(Query::query(name, qtype));
        let server = server.parse().expect("valid");
        let reply = script.respond(server, Transport::Udp, &query.to_vec().expect("encodes"))?;
        let reply = Message::from_vec(&reply).expect("decodes");
        assert_eq!(reply.metadata.id, query.metadata.id, "the ID is copied");
        assert_eq!(
            reply.queries[0].name.to_string(),
            "WWW.example.com.",
            "and the QNAME's case"
        );
        Some(reply)
    }

    #[test]
    fn ranges_then_one_shot_replies_then_servfail() {
        let scenario = Arc::new(parse(SCRIPT).expect("parses"));
        let script = Script::new(scenario, CurrentStep::default());
        let code = |reply: Option<Message>| reply.expect("an answer").metadata.response_code;

        let answer = ask(&script, "1.1.1.1", 5, RecordType::A).expect("an answer");
        assert_eq!(answer.answers.len(), 1);
        // a server no range names is answered by any valid range (Deckard)
        assert_eq!(
            code(ask(&script, "9.9.9.9", 5, RecordType::A)),
            ResponseCode::NoError
        );
        // a valid range without a fitting entry: SERVFAIL
        assert_eq!(
            code(ask(&script, "1.1.1.1", 5, RecordType::MX)),
            ResponseCode::ServFail
        );
        // no valid range: the REPLY step, once
        assert_eq!(
            code(ask(&script, "1.1.1.1", 15, RecordType::MX)),
            ResponseCode::NXDomain
        );
        assert_eq!(
            code(ask(&script, "1.1.1.1", 15, RecordType::MX)),
            ResponseCode::ServFail
        );
        assert_eq!(script.traffic.lock().expect("not poisoned").len(), 5);
    }

    #[test]
    fn where_ranges_overlap_testbound_takes_the_later_one_and_deckard_the_earlier() {
        let range = |steps: &str, rcode: &str| {
            format!(
                "RANGE_BEGIN {steps}\nADDRESS 1.1.1.1\nENTRY_BEGIN\nMATCH opcode qname\n\
                 ADJUST copy_id\nREPLY QR AA {rcode}\nSECTION QUESTION\nwww.example.com. IN A\n\
                 ENTRY_END\nRANGE_END\n"
            )
        };
        let deckard = "stub-addr: 1.1.1.1\n";
        let testbound = "server:\nstub-zone:\n\tname: \".\"\n\tstub-addr: 1.1.1.1\n";
        for (config, at_step_10) in [
            (deckard, ResponseCode::NoError),
            (testbound, ResponseCode::NXDomain),
        ] {
            let text = format!(
                "{config}CONFIG_END\nSCENARIO_BEGIN overlap\n{}{}SCENARIO_END\n",
                range("0 10", "NOERROR"),
                range("10 20", "NXDOMAIN")
            );
            let scenario = Arc::new(parse(&text).expect("parses"));
            let script = Script::new(scenario, CurrentStep::default());
            let reply = ask(&script, "1.1.1.1", 10, RecordType::A).expect("an answer");
            assert_eq!(reply.metadata.response_code, at_step_10, "{config}");
        }
    }
}
