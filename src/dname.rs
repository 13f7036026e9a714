//! DNAME (RFC 6672): the record that renames a whole subtree, and the
//! substitution both halves of the server perform with it.
//!
//! ```text
//! old-cs.umass.edu. DNAME cs.umass.edu.
//! gaia.old-cs.umass.edu. A?  ──substitute──▶  gaia.old-cs.umass.edu. CNAME gaia.cs.umass.edu.  (TTL of the DNAME)
//! ```
//!
//! hickory-proto 0.26 knows the type (`RecordType::DNAME`) but has no RDATA
//! for it: a DNAME travels as `RData::Unknown` holding the target name in
//! wire form, uncompressed as RFC 6672 §2.5 requires. The name is encoded
//! and decoded here with hickory's own `Name` codec.

use hickory_proto::rr::rdata::{CNAME, NULL};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};

use crate::names::{label_count, strictly_below};

/// Why a DNAME substitution gives no name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubstitutionError {
    /// The name is not strictly below the DNAME's owner: the DNAME does not
    /// apply to it (RFC 6672 §2.3: the owner itself is not redirected).
    #[error("the name is not below the DNAME's owner")]
    NotBelow,
    /// The new name would be longer than 255 octets: YXDOMAIN (RFC 6672 §2.2).
    #[error("the name the DNAME makes is longer than 255 octets (RFC 6672 §2.2)")]
    TooLong,
}

/// The RDATA of a DNAME to `target`: the name in uncompressed wire form
/// (RFC 6672 §2.1, §2.5).
pub fn rdata(target: &Name) -> RData {
    let mut bytes = Vec::with_capacity(target.len() + 1);
    let mut encoder = BinEncoder::new(&mut bytes);
    // A name alone in a fresh buffer: nothing to point to, so no compression.
    let encoded = target.emit(&mut encoder);
    debug_assert!(encoded.is_ok(), "a valid Name always encodes");
    RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(bytes), // never empty: a name has at least the root label
    }
}

/// A DNAME record from `owner` to `target`.
pub fn record(owner: Name, ttl: u32, target: &Name) -> Record {
    Record::from_rdata(owner, ttl, rdata(target))
}

/// The target of a DNAME record; `None` for another type, or RDATA that is
/// not exactly one uncompressed name (a compression pointer, trailing bytes).
pub fn target(record: &Record) -> Option<Name> {
    let RData::Unknown { code, rdata } = &record.data else {
        return None;
    };
    if *code != RecordType::DNAME {
        return None;
    }
    let mut decoder = BinDecoder::new(&rdata.anything);
    let name = Name::read(&mut decoder).ok()?;
    decoder.is_empty().then_some(name)
}

/// `name` with the DNAME's owner replaced by its target (RFC 6672 §2.2):
/// `gaia.old-cs.umass.edu.` under `old-cs.umass.edu. DNAME cs.umass.edu.`
/// becomes `gaia.cs.umass.edu.`.
pub fn substitute(name: &Name, owner: &Name, target: &Name) -> Result<Name, SubstitutionError> {
    if !strictly_below(name, owner) {
        return Err(SubstitutionError::NotBelow);
    }
    let too_long = |_| SubstitutionError::TooLong;
    let prefix = label_count(name) - label_count(owner);
    let labels: Vec<&[u8]> = name.iter().take(prefix).collect();
    let mut relative = Name::from_labels(labels).map_err(too_long)?;
    relative.set_fqdn(false);
    relative.append_domain(target).map_err(too_long)
}

/// The CNAME a DNAME synthesises for `name` below its owner: owned by
/// `name`, pointing at the substituted name, with the DNAME's TTL (RFC 6672
/// §3.1, §3.4). `None` when `dname` is not a DNAME record.
pub fn synthesise(dname: &Record, name: &Name) -> Option<Result<Record, SubstitutionError>> {
    let target = target(dname)?;
    Some(
        substitute(name, &dname.name, &target)
            .map(|alias| Record::from_rdata(name.clone(), dname.ttl, RData::CNAME(CNAME(alias)))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("valid")
    }

    #[test]
    fn the_target_survives_the_wire_uncompressed() {
        let dname = record(name("old-cs.umass.edu."), 300, &name("cs.umass.edu."));
        let mut message = Message::new(7, MessageType::Response, OpCode::Query);
        // The target repeats the owner's suffix: compression would point into it.
        message.answers.push(dname.clone());
        let bytes = message.to_vec().expect("encodes");
        let decoded = Message::from_vec(&bytes).expect("decodes");
        assert_eq!(decoded.answers[0].record_type(), RecordType::DNAME);
        assert_eq!(target(&decoded.answers[0]), Some(name("cs.umass.edu.")));
    }

    #[test]
    fn a_name_below_the_owner_is_rewritten_and_the_owner_is_not() {
        let (owner, to) = (name("old-cs.umass.edu."), name("cs.umass.edu."));
        assert_eq!(
            substitute(&name("gaia.old-cs.umass.edu."), &owner, &to),
            Ok(name("gaia.cs.umass.edu."))
        );
        assert_eq!(
            substitute(&name("a.b.old-cs.umass.edu."), &owner, &to),
            Ok(name("a.b.cs.umass.edu."))
        );
        assert!(matches!(
            substitute(&owner, &owner, &to),
            Err(SubstitutionError::NotBelow)
        ));
        assert!(matches!(
            substitute(&name("xold-cs.umass.edu."), &owner, &to),
            Err(SubstitutionError::NotBelow)
        ));
        assert_eq!(
            substitute(&name("x.twodnames."), &name("twodnames."), &Name::root()),
            Ok(name("x."))
        );
    }

    #[test]
    fn a_substitution_past_255_octets_is_too_long() {
        let label = "x".repeat(63);
        let target = name(&format!("{label}.{label}.{label}.{}.", "y".repeat(58)));
        let owner = name("long.");
        assert!(substitute(&name("a.long."), &owner, &target).is_ok());
        assert!(matches!(
            substitute(&name("too.long."), &owner, &target),
            Err(SubstitutionError::TooLong)
        ));
    }

    #[test]
    fn the_synthesised_cname_takes_the_dname_ttl() {
        let dname = record(name("y.example.com."), 1234, &name("z.example.com."));
        let cname = synthesise(&dname, &name("x.y.example.com."))
            .expect("a DNAME")
            .expect("below it");
        assert_eq!(cname.name, name("x.y.example.com."));
        assert_eq!(cname.ttl, 1234);
        assert_eq!(cname.data, RData::CNAME(CNAME(name("x.z.example.com."))));
        let not_dname = Record::from_rdata(name("y.example.com."), 1, cname.data.clone());
        assert!(synthesise(&not_dname, &name("x.y.example.com.")).is_none());
    }
}
