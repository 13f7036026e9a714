//! An [`Answer`] → the response message (RFC 1035 §4.1), the DO bit
//! echoed (RFC 3225 §3).

use hickory_proto::op::Message;

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
    if dnssec_ok(request)
        && let Some(edns) = response.edns.as_mut()
    {
        edns.set_dnssec_ok(true);
    }
    response
}

/// True when the query set the DO bit: it wants DNSSEC records (RFC 3225 §3, RFC 4035 §3.2.1).
pub fn dnssec_ok(request: &Request) -> bool {
    request
        .message
        .edns
        .as_ref()
        .is_some_and(|edns| edns.flags().dnssec_ok)
}
