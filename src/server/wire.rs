//! An encoded reply read record by record where it lies, with hickory-proto's
//! decoder (RFC 1035 §4.1.3), to change it without decoding and encoding it
//! again: where its TTL fields are (for a replay, replay.rs) and where its
//! OPT record ends (to add the edns-tcp-keepalive option, RFC 7828 §3.3.2).

use std::time::Duration;

use hickory_proto::op::{Header, Query};
use hickory_proto::rr::rdata::OPT;
use hickory_proto::rr::rdata::opt::EdnsCode;
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable};

use crate::keepalive::{self, Keepalive};

/// Where one resource record of an encoded message lies (RFC 1035 §4.1.3).
#[derive(Debug, Clone, Copy)]
pub(super) struct RecordAt {
    /// Its TYPE.
    pub record_type: RecordType,
    /// The offset of its TTL field; RDLENGTH follows it.
    pub ttl_offset: usize,
    /// Its TTL when encoded (for an OPT, the extended RCODE, version and flags).
    pub ttl: u32,
}

impl RecordAt {
    /// The offset of its RDLENGTH field.
    pub fn rdlength_offset(&self) -> usize {
        self.ttl_offset + 4
    }
}

/// Calls `each` with every record of the answer, authority and additional
/// sections of `message`, in order; `None` if it cannot be read whole.
pub(super) fn records(message: &[u8], mut each: impl FnMut(RecordAt)) -> Option<()> {
    let mut decoder = BinDecoder::new(message);
    let header = Header::read(&mut decoder).ok()?;
    for _ in 0..header.counts.queries {
        Query::read(&mut decoder).ok()?;
    }
    let counts = header.counts;
    let records =
        u32::from(counts.answers) + u32::from(counts.authorities) + u32::from(counts.additionals);
    for _ in 0..records {
        Name::read(&mut decoder).ok()?;
        let record_type = RecordType::from(decoder.read_u16().ok()?.unverified(/* any type */));
        decoder.read_u16().ok()?; // class
        let ttl_offset = decoder.index();
        let ttl = decoder.read_u32().ok()?.unverified(/* any TTL */);
        let length = decoder.read_u16().ok()?.unverified(/* bounded by read_slice */);
        decoder.read_slice(usize::from(length)).ok()?;
        each(RecordAt {
            record_type,
            ttl_offset,
            ttl,
        });
    }
    decoder.is_empty().then_some(())
}

/// The octets the edns-tcp-keepalive option with a TIMEOUT adds to an OPT:
/// OPTION-CODE, OPTION-LENGTH and the TIMEOUT, two octets each (RFC 7828 §3.1).
pub(super) const KEEPALIVE_SIZE: usize = 6;

/// Adds the edns-tcp-keepalive option saying `idle` (RFC 7828 §3.3.2) to an
/// encoded TCP reply whose last record is its OPT (where hickory-proto
/// encodes it). A reply without an OPT, or that cannot be read, is left as
/// it was: the option is the server's to give or not (RFC 7828 §3.3.2).
pub(super) fn tell_keepalive(reply: &mut Vec<u8>, idle: Duration) {
    let mut opt_at_end = None;
    let read = records(reply, |record| {
        opt_at_end = (record.record_type == RecordType::OPT).then(|| record.rdlength_offset());
    });
    if let (Some(()), Some(opt)) = (read, opt_at_end) {
        add_keepalive_at(reply, opt, idle);
    }
}

/// The same, for a reply whose last record is an OPT with its RDLENGTH at
/// `rdlength_offset`, known already: the option goes at the end of the
/// message, so no other offset moves. Left as it was if the option would
/// take it past the largest TCP message.
pub(super) fn add_keepalive_at(reply: &mut Vec<u8>, rdlength_offset: usize, idle: Duration) {
    let Some(&[high, low]) = reply.get(rdlength_offset..rdlength_offset + 2) else {
        return;
    };
    let length = usize::from(u16::from_be_bytes([high, low]));
    if rdlength_offset + 2 + length != reply.len() {
        return; // not the last record
    }
    let option = OPT::new(vec![(
        EdnsCode::Keepalive,
        keepalive::option(Keepalive::Told(idle)),
    )]);
    let Ok(encoded) = option.to_bytes() else {
        return;
    };
    if reply.len() + encoded.len() > usize::from(u16::MAX) {
        return; // no room
    }
    let new_length = (length + encoded.len()) as u16; // under the 65,535 checked above
    reply[rdlength_offset..rdlength_offset + 2].copy_from_slice(&new_length.to_be_bytes());
    reply.extend_from_slice(&encoded);
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::{Edns, Message, MessageType};
    use hickory_proto::rr::{RData, Record, rdata::A};

    use super::*;

    /// An answer to `gaia.cs.umass.edu. A` with two records, and an OPT if `edns`.
    fn reply(edns: Option<Edns>) -> Vec<u8> {
        let name = Name::from_ascii("gaia.cs.umass.edu.").expect("valid");
        let mut message = Message::response(7, hickory_proto::op::OpCode::Query);
        message.metadata.message_type = MessageType::Response;
        message.add_query(Query::query(name.clone(), RecordType::A));
        for (ttl, last) in [(600, 12), (300, 13)] {
            let address = A::new(128, 119, 245, last);
            message.add_answer(Record::from_rdata(name.clone(), ttl, RData::A(address)));
        }
        message.edns = edns;
        message.to_vec().expect("encodes")
    }

    #[test]
    fn the_records_are_found_where_they_lie() {
        let bytes = reply(Some(Edns::new()));
        let mut found = Vec::new();
        records(&bytes, |record| found.push(record)).expect("read whole");
        let kinds: Vec<_> = found.iter().map(|record| record.record_type).collect();
        assert_eq!(kinds, [RecordType::A, RecordType::A, RecordType::OPT]);
        let ttl_at = |record: &RecordAt| {
            let field = &bytes[record.ttl_offset..record.ttl_offset + 4];
            u32::from_be_bytes(field.try_into().expect("4 octets"))
        };
        assert_eq!(
            found.iter().map(ttl_at).take(2).collect::<Vec<_>>(),
            [600, 300]
        );
        assert_eq!(found[0].ttl, 600);
        assert!(
            records(&bytes[..bytes.len() - 1], |_| ()).is_none(),
            "cut short"
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(records(&longer, |_| ()).is_none(), "trailing octets");
    }

    #[test]
    fn the_keepalive_option_is_added_to_the_opt_as_if_encoded_with_it() {
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        edns.set_dnssec_ok(true);
        let mut bytes = reply(Some(edns.clone()));
        tell_keepalive(&mut bytes, Duration::from_millis(10_050));

        let idle = Duration::from_secs(10);
        edns.options_mut()
            .insert(keepalive::option(Keepalive::Told(idle)));
        assert_eq!(bytes, reply(Some(edns)), "as hickory-proto encodes it");
        let read = Message::from_vec(&bytes).expect("decodes");
        let told = read.edns.as_ref().and_then(keepalive::in_opt);
        assert_eq!(
            told,
            Some(Keepalive::Told(idle)),
            "in 100 ms units, rounded down"
        );
        assert_eq!(read.answers.len(), 2);
    }

    #[test]
    fn a_reply_without_an_opt_or_without_room_is_left_as_it_was() {
        let plain = reply(None);
        let mut bytes = plain.clone();
        tell_keepalive(&mut bytes, Duration::from_secs(10));
        assert_eq!(bytes, plain, "no OPT to carry it");

        let mut cut = reply(Some(Edns::new()));
        cut.pop();
        let before = cut.clone();
        tell_keepalive(&mut cut, Duration::from_secs(10));
        assert_eq!(cut, before, "not read whole");

        // The RDLENGTH of a record that is not the last: nothing moves.
        let mut bytes = reply(Some(Edns::new()));
        let mut first = None;
        records(&bytes, |record| {
            first.get_or_insert(record.rdlength_offset());
        })
        .expect("read whole");
        let before = bytes.clone();
        add_keepalive_at(
            &mut bytes,
            first.expect("an answer"),
            Duration::from_secs(10),
        );
        assert_eq!(bytes, before, "not at the end");
        let past = bytes.len() - 1;
        add_keepalive_at(&mut bytes, past, Duration::from_secs(10));
        assert_eq!(bytes, before, "past the end");

        // An OPT whose options already fill it up to the largest TCP message.
        let mut full = Edns::new();
        let filler = vec![0; usize::from(u16::MAX) - reply(Some(Edns::new())).len() - 4];
        full.options_mut()
            .insert(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(
                65001, filler,
            ));
        let mut bytes = reply(Some(full));
        assert_eq!(bytes.len(), usize::from(u16::MAX));
        let before = bytes.clone();
        tell_keepalive(&mut bytes, Duration::from_secs(10));
        assert_eq!(bytes, before, "no room for 6 octets more");
    }
}
