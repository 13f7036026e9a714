//! An [`Answer`] → the response message (RFC 1035 §4.1), the DO bit
//! echoed (RFC 3225 §3: `Request::response` copies it).

use hickory_proto::op::{Message, ResponseCode};

use super::Answer;
use crate::server::Request;

/// The response to `request` carrying `answer`: AA unless a bare referral,
/// RCODE from the outcome, records in their sections.
pub fn message(request: &Request, answer: Answer) -> Message {
    let mut response = request.response();
    response.metadata.authoritative = answer.authoritative();
    response.metadata.response_code = answer.response_code();
    response.answers = answer.answers;
    response.authorities = answer.authorities;
    response.additionals = answer.additionals;
    response
}

/// The error response to `request` (REFUSED, FORMERR...), DO echoed (RFC 3225 §3).
pub fn error(request: &Request, code: ResponseCode) -> Message {
    request.error(code)
}
