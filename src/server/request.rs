//! Bytes from a client → a [`Request`], or the error reply decided before
//! any handler sees it (RFC 1035 §4.1.1, RFC 6891 §6.1.3, RFC 7828 §3.1).
//! Decided once here for every handler.

use std::net::SocketAddr;

use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

pub use crate::capture::Protocol;
use crate::keepalive::{self, Keepalive};

/// The UDP payload size this server advertises and sends up to (the 2020 DNS flag day value).
pub const UDP_PAYLOAD: u16 = 1232;

/// The largest response without EDNS (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_SIZE: usize = 512;

/// A well-formed standard query from a client.
#[derive(Debug, Clone)]
pub struct Request {
    /// The query as decoded; it has exactly one question.
    pub message: Message,
    /// Who sent it.
    pub source: SocketAddr,
    /// How it came.
    pub protocol: Protocol,
}

/// What the server does with the bytes it received.
#[derive(Debug)]
pub enum Parsed {
    /// A query for the handler.
    Request(Request),
    /// An error reply decided here (FORMERR, NOTIMP, BADVERS).
    Reply(Message),
    /// Not even a header, or a response: dropped without a word.
    Drop,
}

/// Decodes a client's bytes (never panics, whatever they are).
pub fn parse(bytes: &[u8], source: SocketAddr, protocol: Protocol) -> Parsed {
    let Ok(header) = Header::read(&mut BinDecoder::new(bytes)) else {
        return Parsed::Drop;
    };
    // A response sent to us as a query is dropped: answering it could start a loop.
    if header.metadata.message_type == MessageType::Response {
        return Parsed::Drop;
    }
    let message = match Message::from_vec(bytes) {
        Ok(message) => message,
        Err(_) => {
            let code = if header.metadata.op_code == OpCode::Query {
                ResponseCode::FormErr
            } else {
                ResponseCode::NotImp
            };
            // RD and CD are copied even when nothing else could be read (RFC 1035 §4.1.1).
            let mut reply = Message::error_msg(header.metadata.id, header.metadata.op_code, code);
            reply.metadata.recursion_desired = header.metadata.recursion_desired;
            reply.metadata.checking_disabled = header.metadata.checking_disabled;
            return Parsed::Reply(reply);
        }
    };
    let request = Request {
        message,
        source,
        protocol,
    };
    if request.message.op_code != OpCode::Query {
        return Parsed::Reply(request.error(ResponseCode::NotImp));
    }
    let message = &request.message;
    if message.queries.len() != 1 || !message.answers.is_empty() || !message.authorities.is_empty()
    {
        return Parsed::Reply(request.error(ResponseCode::FormErr));
    }
    let edns = message.edns.as_ref();
    if edns.is_some_and(|edns| edns.version() > 0) {
        return Parsed::Reply(request.error(ResponseCode::BADVERS));
    }
    if protocol == Protocol::Tcp && edns.is_some_and(keepalive::malformed_in_query) {
        return Parsed::Reply(request.error(ResponseCode::FormErr));
    }
    Parsed::Request(request)
}

impl Request {
    /// The one question of the query.
    pub fn query(&self) -> &Query {
        &self.message.queries[0]
    }

    /// A response skeleton: ID, opcode, RD and CD copied, the question echoed
    /// as asked (case preserved), and an OPT when the query had one (RFC 6891 §6.1.1).
    pub fn response(&self) -> Message {
        let mut response = Message::response(self.message.id, self.message.op_code);
        response.metadata.recursion_desired = self.message.recursion_desired;
        response.metadata.checking_disabled = self.message.checking_disabled;
        response.queries = self.message.queries.clone();
        if self.message.edns.is_some() {
            let mut edns = server_edns();
            edns.set_dnssec_ok(self.dnssec_ok()); // RFC 3225 §3: copied from the query
            response.edns = Some(edns);
        }
        response
    }

    /// True when the query's EDNS has the DO bit: the client wants DNSSEC
    /// records (RFC 3225 §3, RFC 4035 §3.2.1).
    pub fn dnssec_ok(&self) -> bool {
        self.message
            .edns
            .as_ref()
            .is_some_and(|edns| edns.flags().dnssec_ok)
    }

    /// A response with no records and this RCODE.
    pub fn error(&self, code: ResponseCode) -> Message {
        let mut response = self.response();
        response.metadata.response_code = code;
        if code == ResponseCode::BADVERS {
            response.queries.clear(); // RFC 6891 §6.1.3: BADVERS carries an OPT, nothing else
            response.edns.get_or_insert_with(server_edns); // DO copied, as in every response
        }
        response
    }

    /// Whether the query asks, over TCP, for the connection's idle timeout:
    /// an edns-tcp-keepalive option, empty (RFC 7828 §3.2.1, §3.3.2). Its OPT
    /// is of version 0: another version was answered BADVERS by [`parse`].
    pub fn asks_keepalive(&self) -> bool {
        self.protocol == Protocol::Tcp
            && self.message.edns.as_ref().and_then(keepalive::in_opt) == Some(Keepalive::Asked)
    }

    /// The largest response this client can take on its transport: 512 octets
    /// without EDNS, else its payload size (at least 512, at most ours) (RFC 6891 §6.2.5).
    pub fn max_response_size(&self) -> usize {
        match (self.protocol, &self.message.edns) {
            (Protocol::Tcp, _) => u16::MAX as usize,
            (Protocol::Udp, None) => CLASSIC_UDP_SIZE,
            (Protocol::Udp, Some(edns)) => {
                (edns.max_payload().min(UDP_PAYLOAD) as usize).max(CLASSIC_UDP_SIZE)
            }
        }
    }
}

/// Our OPT record: version 0, our payload size, no options.
pub fn server_edns() -> Edns {
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD);
    edns.set_version(0);
    edns
}

/// Encodes a response within `limit` octets (RFC 2181 §9): whole if it fits,
/// else without the optional additional section (answers only), else the
/// header and question with TC set, so that the client retries over TCP.
pub fn encode(response: &Message, limit: usize) -> Vec<u8> {
    match response.to_vec() {
        Ok(bytes) if bytes.len() <= limit => return bytes,
        Ok(_) => {}
        Err(_) => return encode_failure(response),
    }
    let referral = response.answers.is_empty() && !response.authorities.is_empty();
    if !referral && !response.additionals.is_empty() {
        let mut trimmed = response.clone();
        trimmed.additionals.clear();
        if let Ok(bytes) = trimmed.to_vec()
            && bytes.len() <= limit
        {
            return bytes;
        }
    }
    let mut truncated = Message::response(response.id, response.op_code);
    truncated.metadata = response.metadata;
    truncated.metadata.truncation = true;
    truncated.queries = response.queries.clone();
    truncated.edns = response.edns.clone();
    truncated
        .to_vec()
        .unwrap_or_else(|_| encode_failure(response))
}

/// The last resort when a response cannot be encoded: SERVFAIL, header only.
fn encode_failure(response: &Message) -> Vec<u8> {
    let failure = Message::error_msg(response.id, response.op_code, ResponseCode::ServFail);
    failure
        .to_vec()
        .expect("a header-only message always encodes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::{Name, RecordType};

    fn source() -> SocketAddr {
        "127.0.0.1:1000".parse().expect("valid")
    }

    fn query_bytes(edit: impl FnOnce(&mut Message)) -> Vec<u8> {
        let mut message = Message::query();
        message.add_query(Query::query(
            Name::from_ascii("gaia.cs.umass.edu.").expect("valid"),
            RecordType::A,
        ));
        edit(&mut message);
        message.to_vec().expect("encodes")
    }

    #[test]
    fn short_input_and_responses_are_dropped() {
        assert!(matches!(
            parse(&[1, 2, 3], source(), Protocol::Udp),
            Parsed::Drop
        ));
        let bytes = query_bytes(|m| m.metadata.message_type = MessageType::Response);
        assert!(matches!(
            parse(&bytes, source(), Protocol::Udp),
            Parsed::Drop
        ));
    }

    #[test]
    fn two_questions_get_formerr() {
        let bytes = query_bytes(|m| {
            m.add_query(Query::query(Name::root(), RecordType::NS));
        });
        match parse(&bytes, source(), Protocol::Udp) {
            Parsed::Reply(reply) => assert_eq!(reply.response_code, ResponseCode::FormErr),
            other => panic!("expected FORMERR, got {other:?}"),
        }
    }

    #[test]
    fn unknown_opcode_gets_notimp() {
        let bytes = query_bytes(|m| m.metadata.op_code = OpCode::Status);
        match parse(&bytes, source(), Protocol::Udp) {
            Parsed::Reply(reply) => assert_eq!(reply.response_code, ResponseCode::NotImp),
            other => panic!("expected NOTIMP, got {other:?}"),
        }
    }

    #[test]
    fn payload_size_is_clamped() {
        let bytes = query_bytes(|m| {
            let mut edns = Edns::new();
            edns.set_max_payload(4096);
            m.edns = Some(edns);
        });
        let Parsed::Request(request) = parse(&bytes, source(), Protocol::Udp) else {
            panic!("a good query parses");
        };
        assert_eq!(request.max_response_size(), UDP_PAYLOAD as usize);
    }
}
