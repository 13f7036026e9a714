//! An [`Answer`] → the response message (RFC 1035 §4.1), the DO bit
//! echoed (RFC 3225 §3).

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
    echo_dnssec_ok(request, &mut response);
    response
}

/// The error response to `request` (REFUSED, FORMERR...), DO echoed (RFC 3225 §3).
pub fn error(request: &Request, code: ResponseCode) -> Message {
    let mut response = request.error(code);
    echo_dnssec_ok(request, &mut response);
    response
}

/// The DO bit of the query, copied into the response's OPT (RFC 3225 §3).
fn echo_dnssec_ok(request: &Request, response: &mut Message) {
    if dnssec_ok(request)
        && let Some(edns) = response.edns.as_mut()
    {
        edns.set_dnssec_ok(true);
    }
}

/// True when the query set the DO bit: it wants DNSSEC records (RFC 3225 §3, RFC 4035 §3.2.1).
pub fn dnssec_ok(request: &Request) -> bool {
    request
        .message
        .edns
        .as_ref()
        .is_some_and(|edns| edns.flags().dnssec_ok)
}
