//! The query we send and the test a reply must pass to be ours (RFC 5452 §4, §9.1).

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};

use super::{Ask, UPSTREAM_PAYLOAD};

/// The query message: a random ID (RFC 5452 §4), our question, RD as asked,
/// OPT with DO if asked.
pub fn query_message(ask: &Ask) -> Message {
    let mut message = Message::query(); // a random ID
    message.add_query(ask.query.clone());
    message.metadata.recursion_desired = ask.recursion_desired;
    if ask.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(UPSTREAM_PAYLOAD);
        edns.set_version(0);
        // DO: signed zones send their RRSIGs and proofs, which clients
        // that set DO are given (RFC 4035 §3.2.1, §4.1).
        edns.set_dnssec_ok(true);
        message.edns = Some(edns);
    }
    message
}

/// The largest UDP reply we take: our advertised payload, or 512 without
/// EDNS (RFC 6891 §6.2.3, RFC 1035 §4.2.1). A bigger one goes over TCP.
pub fn udp_limit(edns: bool) -> usize {
    if edns { UPSTREAM_PAYLOAD as usize } else { 512 }
}

/// The ID a datagram carries, if it is long enough to carry one.
pub fn id_of(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [high, low, ..] => Some(u16::from_be_bytes([*high, *low])),
        _ => None,
    }
}

/// What to make of a datagram from the server.
#[derive(Debug)]
pub enum Verdict {
    /// Our reply: our ID, our question letter for letter.
    Accept(Message),
    /// Our ID and our question, but in another letter case: over UDP, the
    /// mark of a server that does not echo the case after 0x20, and else not
    /// ours; over TCP (no one off the path can inject there), ours.
    CaseMismatch(Message),
    /// Our ID, but not a DNS message: ignored while the wait goes on.
    Malformed,
    /// Not ours (another ID, another question, not a response): keep waiting.
    Ignore,
}

/// A reply is ours only with our ID and our question, case included (RFC 5452 §9.1).
pub fn verify(query: &Message, bytes: &[u8]) -> Verdict {
    let Ok(reply) = Message::from_vec(bytes) else {
        return if id_of(bytes) == Some(query.id) {
            Verdict::Malformed
        } else {
            Verdict::Ignore
        };
    };
    if reply.id != query.id || reply.message_type != MessageType::Response {
        return Verdict::Ignore;
    }
    let question = &query.queries[0];
    let echo = match reply.queries.as_slice() {
        [asked] if same_question(asked, question) => asked,
        // Some servers leave the question out of FORMERR and NOTIMP replies.
        [] if matches!(
            reply.response_code,
            ResponseCode::FormErr | ResponseCode::NotImp
        ) =>
        {
            return Verdict::Accept(reply);
        }
        _ => return Verdict::Ignore,
    };
    if echo.name.eq_case(&question.name) {
        Verdict::Accept(reply)
    } else {
        Verdict::CaseMismatch(reply)
    }
}

/// The same name (without regard to case), type and class.
fn same_question(echo: &Query, question: &Query) -> bool {
    echo.name == question.name
        && echo.query_type == question.query_type
        && echo.query_class == question.query_class
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::{Name, RecordType};

    fn query(name: &str) -> Message {
        query_message(&Ask {
            query: Query::query(Name::from_ascii(name).expect("valid"), RecordType::A),
            recursion_desired: false,
            edns: true,
            randomize_case: false,
        })
    }

    fn reply(query: &Message, name: &str) -> Vec<u8> {
        let mut reply = Message::response(query.id, query.op_code);
        reply.add_query(Query::query(
            Name::from_ascii(name).expect("valid"),
            RecordType::A,
        ));
        reply.to_vec().expect("encodes")
    }

    #[test]
    fn only_the_exact_echo_is_accepted_and_another_case_is_told_apart() {
        let asked = query("wWw.ExAmple.");
        assert!(matches!(
            verify(&asked, &reply(&asked, "wWw.ExAmple.")),
            Verdict::Accept(_)
        ));
        assert!(matches!(
            verify(&asked, &reply(&asked, "www.example.")),
            Verdict::CaseMismatch(_)
        ));
        assert!(matches!(
            verify(&asked, &reply(&asked, "mail.example.")),
            Verdict::Ignore
        ));
    }

    #[test]
    fn garbage_with_our_id_is_malformed_and_with_another_id_ignored() {
        let asked = query("www.example.");
        let [high, low] = asked.id.to_be_bytes();
        assert!(matches!(
            verify(&asked, &[high, low, 0x84, 0, 0xff]),
            Verdict::Malformed
        ));
        assert!(matches!(
            verify(&asked, &[high ^ 1, low, 0x84, 0, 0xff]),
            Verdict::Ignore
        ));
    }
}
