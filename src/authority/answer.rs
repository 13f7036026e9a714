//! An [`Answer`] → the response message (RFC 1035 §4.1).

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
    response
}
