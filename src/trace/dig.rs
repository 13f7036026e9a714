//! A datagram as `dig` prints it (header, flags, the OPT pseudosection, the
//! four sections in presentation form), and its bytes in hex. The bytes are
//! decoded by hickory-proto; this module only presents its types.
//!
//! ```text
//! ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242
//! ;; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1
//! ```

use std::fmt::Write;

use hickory_proto::op::{Edns, Message, MessageType};
use hickory_proto::rr::Record;
use hickory_proto::rr::rdata::opt::EdnsOption;

use super::describe::rcode_name;

/// The message in `wire` as dig prints it; a line saying why for bytes
/// that do not decode.
pub fn dig_text(wire: &[u8]) -> String {
    match Message::from_vec(wire) {
        Ok(message) => presentation(&message),
        Err(error) => format!(
            ";; the {} bytes do not decode as a DNS message: {error}\n",
            wire.len()
        ),
    }
}

/// A decoded message in dig's presentation form.
pub fn presentation(message: &Message) -> String {
    let mut text = String::new();
    let additional = message.additionals.len()
        + usize::from(message.edns.is_some())
        + usize::from(message.signature.is_some());
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        ";; ->>HEADER<<- opcode: {}, status: {}, id: {}",
        message.op_code,
        rcode_name(message.response_code),
        message.id
    );
    let _ = writeln!(
        text,
        ";; flags:{}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {additional}",
        flags(message),
        message.queries.len(),
        message.answers.len(),
        message.authorities.len(),
    );
    if let Some(edns) = &message.edns {
        text.push('\n');
        text.push_str(&pseudosection(edns));
    }
    if !message.queries.is_empty() {
        let _ = writeln!(text, "\n;; QUESTION SECTION:");
        for query in &message.queries {
            let _ = writeln!(
                text,
                ";{}\t\t{}\t{}",
                query.name, query.query_class, query.query_type
            );
        }
    }
    for (title, records) in [
        ("ANSWER", &message.answers),
        ("AUTHORITY", &message.authorities),
        ("ADDITIONAL", &message.additionals),
    ] {
        if records.is_empty() {
            continue;
        }
        let _ = writeln!(text, "\n;; {title} SECTION:");
        for record in records {
            let _ = writeln!(text, "{}", record_line(record));
        }
    }
    text
}

/// The header flags as dig lists them: ` qr aa tc rd ra ad cd`.
fn flags(message: &Message) -> String {
    let metadata = &message.metadata;
    [
        (metadata.message_type == MessageType::Response, "qr"),
        (metadata.authoritative, "aa"),
        (metadata.truncation, "tc"),
        (metadata.recursion_desired, "rd"),
        (metadata.recursion_available, "ra"),
        (metadata.authentic_data, "ad"),
        (metadata.checking_disabled, "cd"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| format!(" {name}"))
    .collect()
}

/// The OPT pseudo-record (RFC 6891 §6.1.2) as dig prints it.
fn pseudosection(edns: &Edns) -> String {
    let mut text = String::from(";; OPT PSEUDOSECTION:\n");
    let flags = if edns.flags().dnssec_ok { " do" } else { "" };
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "; EDNS: version: {}, flags:{flags}; udp: {}",
        edns.version(),
        edns.max_payload()
    );
    for (code, option) in &edns.options().options {
        let data = match option {
            EdnsOption::Unknown(_, bytes) => hex_string(bytes),
            EdnsOption::NSID(payload) => hex_string(payload.as_ref()),
            other => format!("{other:?}"),
        };
        let _ = writeln!(text, "; {code:?}: {data}");
    }
    text
}

/// A record as dig prints it: name, TTL, class, type and data, tab-separated.
fn record_line(record: &Record) -> String {
    let data = match crate::dname::target(record) {
        Some(target) => target.to_string(),
        None => record.data.to_string(),
    };
    format!(
        "{}\t{}\t{}\t{}\t{data}",
        record.name,
        record.ttl,
        record.dns_class,
        record.record_type()
    )
}

/// Bytes as one hex string.
fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes as a hex dump: offset, 16 bytes per line, then their printable characters.
pub fn hex_dump(wire: &[u8]) -> String {
    let mut text = String::new();
    for (line, chunk) in wire.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{:04x}  {:<47}  {ascii}", line * 16, hex.join(" "));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{Message, MessageType, Query};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{Name, RData, RecordType};

    use super::*;

    fn reply() -> Message {
        let name = Name::from_str("gaia.cs.umass.edu.").expect("a valid name");
        let mut message = Message::query();
        message.metadata.id = 4242;
        message.add_query(Query::query(name.clone(), RecordType::A));
        message.metadata.message_type = MessageType::Response;
        message.metadata.authoritative = true;
        message.add_answer(Record::from_rdata(
            name,
            600,
            RData::A(A::new(128, 119, 245, 12)),
        ));
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        message.edns = Some(edns);
        message
    }

    #[test]
    fn a_reply_reads_as_dig_prints_it() {
        let wire = reply().to_vec().expect("encodes");
        let text = dig_text(&wire);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242"
        );
        assert_eq!(
            lines[1],
            ";; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1"
        );
        assert!(text.contains(";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n"));
        assert!(text.contains(";; QUESTION SECTION:\n;gaia.cs.umass.edu.\t\tIN\tA\n"));
        assert!(
            text.contains(";; ANSWER SECTION:\ngaia.cs.umass.edu.\t600\tIN\tA\t128.119.245.12\n")
        );
        assert!(!text.contains("AUTHORITY SECTION"));
    }

    #[test]
    fn bytes_that_do_not_decode_say_so() {
        assert!(dig_text(&[]).contains("do not decode"));
        assert!(dig_text(&[0xff; 7]).contains("7 bytes do not decode"));
    }

    #[test]
    fn the_hex_dump_has_an_offset_and_16_bytes_a_line() {
        let bytes: Vec<u8> = (0u8..20).collect();
        let dump = hex_dump(&bytes);
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  "));
        assert!(lines[1].starts_with("0010  10 11 12 13"));
        assert_eq!(hex_dump(&[]), "");
    }
}
