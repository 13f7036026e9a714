//! The live page (`GET /`): each client question drawn as it is answered,
//! the last questions to click back to, the cache with its TTLs counting
//! down, and a box to ask a name. The page is one file served from the
//! binary (page.html: inline CSS and JS, nothing fetched from elsewhere);
//! the figures are drawn here, by the trace's renderer, and sent in each
//! `/events` answer.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;

use super::Control;
use crate::capture::{Datagram, Protocol};
use crate::resolver::events::Answered;
use crate::trace::{MessageView, TraceRun, TracedQuestion, describe, rcode_name};

/// The page, as served.
pub const PAGE: &str = include_str!("page.html");

/// How long `/ask` waits for the resolver's answer.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(6);

/// One answered question, as `/events` sends it.
#[derive(Serialize)]
struct AnsweredEvent {
    client: String,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    rcode: String,
    cached: bool,
    upstream_queries: usize,
    ms: f64,
    /// Seconds since the Unix epoch.
    at: f64,
    /// The upstream messages, in the trace's JSON form.
    messages: Vec<MessageView>,
    /// The whole exchange (the client's query, the walk, the answer) drawn
    /// as the trace draws it (figure 2.19, or a sequence diagram).
    svg: String,
}

/// The JSON of one answered question, with its figure.
pub fn event_json(answered: &Answered, control: &Control) -> String {
    let event = AnsweredEvent {
        client: answered.client.to_string(),
        name: answered.name.to_string(),
        record_type: answered.record_type.to_string(),
        rcode: rcode_name(answered.rcode),
        cached: answered.cached,
        upstream_queries: answered.upstream_queries,
        ms: (answered.elapsed.as_secs_f64() * 1e6).round() / 1e3,
        at: answered
            .at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64()),
        messages: describe(&answered.messages, &control.cast),
        svg: figure(answered, control),
    };
    serde_json::to_string(&event).unwrap_or_default()
}

/// The exchange drawn: the client's query to the resolver, the resolver's
/// messages, its answer back.
fn figure(answered: &Answered, control: &Control) -> String {
    let resolver = control
        .dns
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 53)));
    let now = tokio::time::Instant::now();
    let asked = now.checked_sub(answered.elapsed).unwrap_or(now);
    let datagram = |from, to, bytes: &[u8], at| Datagram {
        from,
        to,
        protocol: Protocol::Udp,
        bytes: bytes.to_vec(),
        at,
    };
    let mut datagrams = vec![datagram(answered.client, resolver, &answered.query, asked)];
    datagrams.extend(answered.messages.iter().cloned());
    datagrams.push(datagram(resolver, answered.client, &answered.response, now));
    let mut cast = control.cast.clone();
    cast.name_address(resolver.ip(), "resolver");
    cast.name_endpoint(resolver, "resolver");
    cast.name_endpoint(answered.client, "client");
    let messages = describe(&datagrams, &cast);
    let run = TraceRun {
        local: resolver,
        lab_in_process: true,
        questions: vec![TracedQuestion {
            name: answered.name.clone(),
            record_type: answered.record_type,
            messages,
            span_ms: answered.elapsed.as_secs_f64() * 1000.0,
            reply: Message::from_vec(&answered.response).unwrap_or_else(|_| Message::query()),
            from_cache: Vec::new(),
            why: Vec::new(),
            chain: None,
        }],
        explain: false,
        configuration: None,
    };
    crate::trace::svg::run_svg(&run)
}

/// Asks the resolver `name`/`record_type` over UDP, as any client would
/// (so the question shows on the page like one from dig), and says what it answered.
pub async fn ask(
    control: &Control,
    name: &Name,
    record_type: RecordType,
) -> Result<serde_json::Value, String> {
    let resolver = control
        .dns
        .ok_or_else(|| "this endpoint does not know the resolver's address".to_string())?;
    let query = crate::trace::run::stub_query(name, record_type);
    let bytes = query
        .to_vec()
        .map_err(|e| format!("cannot encode the question: {e}"))?;
    let bind = match resolver {
        SocketAddr::V4(_) => SocketAddr::from(([127, 0, 0, 1], 0)),
        SocketAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
    };
    let socket = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| e.to_string())?;
    socket.connect(resolver).await.map_err(|e| e.to_string())?;
    socket.send(&bytes).await.map_err(|e| e.to_string())?;
    let mut buffer = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + ASK_TIMEOUT;
    loop {
        let length = tokio::time::timeout_at(deadline, socket.recv(&mut buffer))
            .await
            .map_err(|_| {
                format!("no answer from the resolver at {resolver} within {ASK_TIMEOUT:?}")
            })?
            .map_err(|e| e.to_string())?;
        let Ok(reply) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        if reply.id != query.id {
            continue;
        }
        let answers: Vec<String> = reply.answers.iter().map(crate::trace::compact).collect();
        return Ok(
            serde_json::json!({ "rcode": rcode_name(reply.response_code), "answers": answers }),
        );
    }
}
