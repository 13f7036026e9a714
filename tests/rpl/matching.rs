//! MATCH: whether a message fits an entry, field by field.
//!
//! The same rules pick a fake server's answer (the query against each
//! entry) and judge a CHECK_ANSWER (the resolver's answer against the
//! expected entry), as in Deckard's `matchpart` and testbound's `testpkts`:
//! sections are compared as multisets of records, TTLs only under `ttl`,
//! names without regard to case (except under `qcase`).

use std::fmt;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::Record;

use super::records::{extended_errors, flags_text, rcode_name, record_text};
use super::scenario::Entry;

/// One thing a MATCH line compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchField {
    /// `opcode`
    Opcode,
    /// `qtype`
    Qtype,
    /// `qname` (case-insensitive)
    Qname,
    /// `qcase`: the QNAME spelled the same, case included
    Qcase,
    /// `subdomain`: the message's QNAME is at or below the entry's
    Subdomain,
    /// `flags`: QR AA TC RD RA AD CD
    Flags,
    /// `rcode`
    Rcode,
    /// `answer`
    Answer,
    /// `authority`
    Authority,
    /// `additional`
    Additional,
    /// `ttl`: record TTLs count too (testbound)
    Ttl,
    /// `TCP`: only a query that came over TCP matches (testbound)
    Tcp,
    /// `UDP`: only a query that came over UDP matches (testbound)
    Udp,
    /// `ede=N` / `ede=any`: an Extended DNS Error (RFC 8914) with this info code, or any (testbound)
    Ede(Option<u16>),
}

impl MatchField {
    /// The fields a MATCH word stands for: `all` is Deckard's opcode qtype
    /// qname flags rcode answer authority additional, `question` is qname qtype.
    pub fn from_word(word: &str) -> Option<Vec<MatchField>> {
        use MatchField::*;
        if let Some(code) = word.strip_prefix("ede=") {
            let code = match code {
                "any" => None,
                number => Some(number.parse().ok()?),
            };
            return Some(vec![Ede(code)]);
        }
        let fields: &[MatchField] = match word {
            "all" => &[
                Opcode, Qtype, Qname, Flags, Rcode, Answer, Authority, Additional,
            ],
            "question" => &[Qname, Qtype],
            "opcode" => &[Opcode],
            "qtype" => &[Qtype],
            "qname" => &[Qname],
            "qcase" => &[Qcase],
            "subdomain" => &[Subdomain],
            "flags" => &[Flags],
            "rcode" => &[Rcode],
            "answer" => &[Answer],
            "authority" => &[Authority],
            "additional" => &[Additional],
            "ttl" => &[Ttl],
            "TCP" => &[Tcp],
            "UDP" => &[Udp],
            _ => return None,
        };
        Some(fields.to_vec())
    }
}

/// How a message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Over UDP.
    Udp,
    /// Over TCP.
    Tcp,
}

/// What a comparison needs besides the two messages.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The transport the message came over.
    pub transport: Transport,
    /// How far below the expected TTL an actual TTL may be: the scenario's
    /// clock is faked in testbound, here real seconds pass while it runs.
    pub ttl_slack: u32,
}

/// The first field in which a message differs from an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The MATCH field.
    pub field: &'static str,
    /// What the entry has.
    pub expected: String,
    /// What the message has.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {} got {}",
            self.field, self.expected, self.actual
        )
    }
}

/// Checks `message` against every MATCH field of `entry`.
pub fn compare(entry: &Entry, message: &Message, context: &Context) -> Result<(), Mismatch> {
    let expected = &entry.message;
    let with_ttl = entry.matches.contains(&MatchField::Ttl);
    for field in &entry.matches {
        match field {
            MatchField::Opcode => same(
                "opcode",
                expected.metadata.op_code.to_string(),
                message.metadata.op_code.to_string(),
            )?,
            MatchField::Qtype => same(
                "qtype",
                first_question(expected, |q| q.query_type.to_string()),
                first_question(message, |q| q.query_type.to_string()),
            )?,
            MatchField::Qname => same(
                "qname",
                first_question(expected, |q| q.name.to_lowercase().to_string()),
                first_question(message, |q| q.name.to_lowercase().to_string()),
            )?,
            MatchField::Qcase => same(
                "qcase",
                first_question(expected, |q| q.name.to_string()),
                first_question(message, |q| q.name.to_string()),
            )?,
            MatchField::Subdomain => subdomain(expected, message)?,
            MatchField::Flags => same("flags", flags_text(expected), flags_text(message))?,
            MatchField::Rcode => same(
                "rcode",
                rcode_name(expected.metadata.response_code),
                rcode_name(message.metadata.response_code),
            )?,
            MatchField::Answer => section(
                "answer",
                &expected.answers,
                &message.answers,
                with_ttl.then_some(context.ttl_slack),
            )?,
            MatchField::Authority => section(
                "authority",
                &expected.authorities,
                &message.authorities,
                with_ttl.then_some(context.ttl_slack),
            )?,
            MatchField::Additional => section(
                "additional",
                &expected.additionals,
                &message.additionals,
                with_ttl.then_some(context.ttl_slack),
            )?,
            MatchField::Ttl => {} // a modifier of the section comparisons
            MatchField::Tcp => transport(Transport::Tcp, context.transport)?,
            MatchField::Udp => transport(Transport::Udp, context.transport)?,
            MatchField::Ede(code) => extended_error(*code, message)?,
        }
    }
    Ok(())
}

/// Equal texts, or a mismatch of `field`.
fn same(field: &'static str, expected: String, actual: String) -> Result<(), Mismatch> {
    if expected == actual {
        Ok(())
    } else {
        Err(Mismatch {
            field,
            expected,
            actual,
        })
    }
}

/// A property of the first question, or a placeholder when there is none.
fn first_question(message: &Message, property: impl Fn(&Query) -> String) -> String {
    message
        .queries
        .first()
        .map(property)
        .unwrap_or_else(|| "<no question>".to_string())
}

/// The message's QNAME is the entry's or below it (an entry without a question matches all).
fn subdomain(expected: &Message, message: &Message) -> Result<(), Mismatch> {
    let Some(zone) = expected.queries.first() else {
        return Ok(());
    };
    let below = message
        .queries
        .first()
        .is_some_and(|query| zone.name.zone_of(&query.name));
    if below {
        Ok(())
    } else {
        Err(Mismatch {
            field: "subdomain",
            expected: format!("a name at or below {}", zone.name),
            actual: first_question(message, |q| q.name.to_string()),
        })
    }
}

/// The message came over the transport the entry asks for.
fn transport(expected: Transport, actual: Transport) -> Result<(), Mismatch> {
    same("transport", format!("{expected:?}"), format!("{actual:?}"))
}

/// The message carries an Extended DNS Error with `code` (any code for `None`).
fn extended_error(code: Option<u16>, message: &Message) -> Result<(), Mismatch> {
    let codes: Vec<u16> = extended_errors(message).map(|(code, _)| code).collect();
    let found = match code {
        Some(code) => codes.contains(&code),
        None => !codes.is_empty(),
    };
    if found {
        return Ok(());
    }
    Err(Mismatch {
        field: "ede",
        expected: code.map_or("any EDE".to_string(), |code| format!("EDE {code}")),
        actual: format!("EDE {codes:?}"),
    })
}

/// The same records, each used once, in any order; with `ttl_slack`, the
/// TTLs too (actual within `slack` seconds below expected).
fn section(
    field: &'static str,
    expected: &[Record],
    actual: &[Record],
    ttl_slack: Option<u32>,
) -> Result<(), Mismatch> {
    let mut unused: Vec<&Record> = actual.iter().collect();
    let all_found = expected.iter().all(|wanted| {
        let found = unused
            .iter()
            .position(|candidate| same_record(wanted, candidate, ttl_slack));
        found.map(|index| unused.swap_remove(index)).is_some()
    });
    if all_found && unused.is_empty() {
        return Ok(());
    }
    Err(Mismatch {
        field,
        expected: records_list(expected),
        actual: records_list(actual),
    })
}

/// Same owner (any case), class, type and data; and TTL when asked.
fn same_record(wanted: &Record, candidate: &Record, ttl_slack: Option<u32>) -> bool {
    let ttl_fits = ttl_slack
        .is_none_or(|slack| candidate.ttl <= wanted.ttl && wanted.ttl - candidate.ttl <= slack);
    wanted.name == candidate.name
        && wanted.dns_class == candidate.dns_class
        && wanted.record_type() == candidate.record_type()
        && wanted.data == candidate.data
        && ttl_fits
}

/// Records as `[a; b]`.
fn records_list(records: &[Record]) -> String {
    let lines: Vec<String> = records.iter().map(record_text).collect();
    format!("[{}]", lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpl::parse::parse;
    use crate::rpl::scenario::Action;
    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::{Name, RecordType};

    /// The entry of the scenario's only CHECK_ANSWER step, MATCHing `fields`.
    fn check(fields: &str, answer: &str) -> Entry {
        let text = format!(
            "stub-addr: 1.1.1.1\nCONFIG_END\nSCENARIO_BEGIN t\nSTEP 1 CHECK_ANSWER\n\
             ENTRY_BEGIN\nMATCH {fields}\nREPLY QR RD RA NOERROR\nSECTION QUESTION\n\
             www.example.com. IN A\nSECTION ANSWER\n{answer}\nENTRY_END\nSCENARIO_END\n"
        );
        let mut scenario = parse(&text).expect("parses");
        match scenario.steps.remove(0).action {
            Action::CheckAnswer(entry) => entry,
            _ => unreachable!("the only step is a CHECK_ANSWER"),
        }
    }

    fn answer(qname: &str, records: &[&str]) -> Message {
        let mut message = Message::new(7, MessageType::Response, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.metadata.recursion_available = true;
        let name = Name::from_ascii(qname).expect("valid");
        message.add_query(Query::query(name, RecordType::A));
        for record in records {
            let record = crate::rpl::records::record(record).expect("valid");
            message.answers.push(record);
        }
        message
    }

    const UDP: Context = Context {
        transport: Transport::Udp,
        ttl_slack: 2,
    };

    #[test]
    fn sections_are_multisets_compared_without_case_or_ttl() {
        let entry = check(
            "all",
            "www.example.com. 300 IN A 1.2.3.4\nwww.example.com. IN A 1.2.3.5",
        );
        let reordered = answer(
            "WWW.example.com.",
            &[
                "www.example.com. 5 A 1.2.3.5",
                "WWW.EXAMPLE.COM. 7 A 1.2.3.4",
            ],
        );
        assert_eq!(compare(&entry, &reordered, &UDP), Ok(()));
        let missing = answer("www.example.com.", &["www.example.com. A 1.2.3.4"]);
        let mismatch = compare(&entry, &missing, &UDP).expect_err("a record is missing");
        assert_eq!(mismatch.field, "answer");
    }

    #[test]
    fn ttl_counts_within_the_slack_for_time_passing() {
        let entry = check("all ttl", "www.example.com. 300 IN A 1.2.3.4");
        for (ttl, fits) in [(300, true), (298, true), (297, false), (301, false)] {
            let got = answer(
                "www.example.com.",
                &[&format!("www.example.com. {ttl} A 1.2.3.4")],
            );
            assert_eq!(compare(&entry, &got, &UDP).is_ok(), fits, "TTL {ttl}");
        }
    }

    #[test]
    fn subdomain_and_transport_select_queries() {
        let entry = check("subdomain TCP", "www.example.com. A 1.2.3.4");
        let below = answer("a.b.www.example.com.", &[]);
        let tcp = Context {
            transport: Transport::Tcp,
            ..UDP
        };
        assert_eq!(compare(&entry, &below, &tcp), Ok(()));
        assert_eq!(
            compare(&entry, &below, &UDP).expect_err("UDP").field,
            "transport"
        );
        let beside = answer("www.example.net.", &[]);
        assert_eq!(
            compare(&entry, &beside, &tcp).expect_err("beside").field,
            "subdomain"
        );
    }
}
