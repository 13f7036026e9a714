//! What the server does with one message from a client, the one path for
//! UDP and TCP: dropped, an error reply (request.rs), a remembered answer
//! replayed (replay.rs), or the handler's answer, now or later; over TCP
//! with the idle timeout told to a client that asks (RFC 7828 §3.3.2).

use std::net::SocketAddr;
use std::time::Duration;

use futures::future::BoxFuture;
use hickory_proto::op::{Message, ResponseCode};

use super::replay::{self, AnswerCache};
use super::request::{self, Parsed, Protocol, Request};
use super::{Handler, RateDecision, Response, ServerEvent, wire};
use crate::clock;

/// What a server does with one message from a client, before the bounds on
/// answers in progress apply.
pub enum Decision {
    /// Send these bytes.
    Now(Vec<u8>),
    /// Work out the answer, then send it within `limit` octets.
    Later {
        /// The query (boxed: the other variants are small).
        request: Box<Request>,
        /// The handler's work.
        answer: BoxFuture<'static, Message>,
        /// The largest response the client takes.
        limit: usize,
        /// The idle timeout to tell the client in the reply, if it asked
        /// over TCP (the edns-tcp-keepalive option, RFC 7828 §3.3.2).
        keepalive: Option<Duration>,
    },
    /// Send nothing.
    Nothing,
}

/// Decides the reply to a client's bytes: dropped, FORMERR/NOTIMP/BADVERS,
/// a rate-limited slip, a remembered answer replayed from `answers` (when
/// the handler allows it for this client), or the handler's answer, encoded
/// to fit and remembered. Over TCP, `keepalive` is the connection's idle
/// timeout, told in the reply to a query that asks for it with the
/// edns-tcp-keepalive option (RFC 7828 §3.3.2; never over UDP): added to
/// the encoded reply, and never remembered with it. Never panics, whatever
/// the bytes; the fuzz targets call it directly.
pub fn decide<H: Handler + ?Sized>(
    handler: &H,
    answers: Option<&AnswerCache>,
    bytes: &[u8],
    source: SocketAddr,
    protocol: Protocol,
    rate: RateDecision,
    keepalive: Option<Duration>,
) -> Decision {
    if rate == RateDecision::Drop {
        return Decision::Nothing;
    }
    let keepalive = keepalive.filter(|_| protocol == Protocol::Tcp);
    // The version is read before the answer is made: an answer made while
    // the data changes is remembered under the old version, never replayed.
    let replay = answers
        .filter(|_| rate == RateDecision::Answer)
        .and_then(|answers| {
            Some((
                answers,
                handler.replay_lifetime(source)?,
                handler.data_version(),
            ))
        });
    let quick = replay.as_ref().and_then(|_| replay::quick(bytes, protocol));
    if let (Some(quick), Some((answers, _, version))) = (&quick, &replay)
        && let Some(reply) = answers.get(
            quick,
            clock::now,
            *version,
            keepalive.filter(|_| quick.keepalive_asked),
        )
    {
        handler.observe(ServerEvent::Answered {
            protocol,
            reply: &reply,
            replayed: true,
        });
        return Decision::Now(reply);
    }
    let request = match request::parse(bytes, source, protocol) {
        Parsed::Request(request) => request,
        Parsed::Reply(message) if rate == RateDecision::Answer => {
            return Decision::Now(request::encode(&message, request::CLASSIC_UDP_SIZE));
        }
        Parsed::Reply(_) | Parsed::Drop => return Decision::Nothing,
    };
    let limit = request.max_response_size();
    let keepalive = keepalive.filter(|_| request.asks_keepalive());
    if rate == RateDecision::Slip {
        let mut slip = request.response();
        slip.metadata.truncation = true;
        return Decision::Now(request::encode(&slip, limit));
    }
    match handler.handle(&request) {
        Response::Ready(message) => {
            let mut encoded = request::encode(&message, limit);
            let truncated = encoded.get(2).is_some_and(|flags| flags & 0x02 != 0);
            // Answers and negative answers only: never a refusal or an error,
            // so that random names cannot fill the memory with them.
            let worth = matches!(
                message.response_code,
                ResponseCode::NoError | ResponseCode::NXDomain
            );
            if let (Some(quick), Some((answers, lifetime, version))) = (&quick, &replay)
                && worth
                && !truncated
            {
                answers.put(quick, &encoded, *lifetime, clock::now(), *version);
            }
            if let Some(idle) = keepalive {
                wire::tell_keepalive(&mut encoded, idle);
            }
            handler.observe(ServerEvent::Answered {
                protocol,
                reply: &encoded,
                replayed: false,
            });
            Decision::Now(encoded)
        }
        Response::Drop => Decision::Nothing,
        Response::Later(answer) => Decision::Later {
            request: Box::new(request),
            answer,
            limit,
            keepalive,
        },
    }
}
