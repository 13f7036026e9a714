//! What can be wrong in a zone file, and where: every error names the
//! file, and the line and record when it is about one.

use std::path::PathBuf;

use hickory_proto::rr::{Name, RecordType};

/// One problem found in a zone file, with where it is.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {kind}", file.display(), location(*line, *record, what.as_deref()))]
pub struct ZoneError {
    /// The zone file.
    pub file: PathBuf,
    /// The line of the record or key, when known.
    pub line: Option<usize>,
    /// The record's position among the file's `[[records]]`, from 1.
    pub record: Option<usize>,
    /// The record as written (`name type`), when the error is about one.
    pub what: Option<String>,
    /// What is wrong.
    pub kind: ZoneErrorKind,
}

fn location(line: Option<usize>, record: Option<usize>, what: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(line) = line {
        text.push_str(&format!(":{line}"));
    }
    if let Some(record) = record {
        text.push_str(&format!(": record {record}"));
    }
    if let Some(what) = what {
        text.push_str(&format!(" ({what})"));
    }
    text
}

/// What can be wrong in a zone file.
#[derive(Debug, thiserror::Error)]
pub enum ZoneErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    /// The file is not valid TOML or has keys the format does not know.
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    /// A master file's record that hickory-proto's parser cannot read (RFC 1035 §5).
    #[error("{0}")]
    MasterSyntax(hickory_proto::serialize::txt::ParseError),
    /// A master file's `$` line that is not `$ORIGIN` or `$TTL`, or lacks its value.
    #[error("{directive}: {reason}")]
    BadDirective {
        /// The directive as written.
        directive: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A master file's record that starts with a blank (the owner of the
    /// record before) when there is no record before.
    #[error("the record has no owner name (it starts with a blank and no record comes before it)")]
    NoOwner,
    /// A master file's line without a record type.
    #[error("no record type")]
    NoType,
    /// A record of a class other than IN: the server answers IN only.
    #[error("class {0} is not served (only IN)")]
    NotInternetClass(hickory_proto::rr::DNSClass),
    /// A domain name that is not one.
    #[error("bad name {name:?}: {reason}")]
    BadName {
        /// The name as written.
        name: String,
        /// Why it is not a valid name.
        reason: &'static str,
    },
    /// An A value that is not an IPv4 address, or an AAAA value that is not IPv6.
    #[error("bad {family} address {value:?}")]
    BadAddress {
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// The value as written.
        value: String,
    },
    /// A value that does not fit its type.
    #[error("bad {record_type} value {value:?}: expected {expected}")]
    BadValue {
        /// The record's type.
        record_type: RecordType,
        /// The value as written.
        value: String,
        /// What the type's value looks like.
        expected: &'static str,
    },
    /// A type this server does not load.
    #[error("unknown type {0:?} (known: A, AAAA, NS, CNAME, DNAME, MX, TXT, PTR, SOA)")]
    UnknownType(String),
    /// A TTL outside 0..=2147483647 (RFC 2181 §8).
    #[error("TTL {0} is outside 0..=2147483647")]
    TtlOutOfRange(i64),
    /// A record whose name is not at or below the origin.
    #[error("{name} is outside the zone's origin {origin}")]
    OutsideOrigin {
        /// The record's owner name.
        name: Name,
        /// The zone's apex.
        origin: Name,
    },
    /// A CNAME beside other data at the same name (RFC 1034 §3.6.2).
    #[error("{0} has a CNAME and other data; a CNAME must stand alone (RFC 1034 §3.6.2)")]
    CnameAndOtherData(Name),
    /// More than one CNAME at one name.
    #[error("{0} has more than one CNAME")]
    MultipleCnames(Name),
    /// More than one DNAME at one name: DNAME is a singleton (RFC 6672 §2.4).
    #[error("{0} has more than one DNAME; one name redirects one way (RFC 6672 §2.4)")]
    MultipleDnames(Name),
    /// A DNAME and a CNAME at one name (RFC 6672 §2.4).
    #[error("{0} has a DNAME and a CNAME; they cannot share a name (RFC 6672 §2.4)")]
    DnameAndCname(Name),
    /// A DNAME at a delegation point: beside NS only at the apex (RFC 6672 §2.3).
    #[error("{0} has a DNAME beside NS records; only the apex may (RFC 6672 §2.3)")]
    DnameAtDelegation(Name),
    /// A zone whose apex is at or below a DNAME of another loaded zone: no
    /// query can reach it (RFC 6672 §2.4).
    #[error("the zone {origin} is at or below the DNAME at {dname} in {}: no query can reach it (RFC 6672 §2.4)", file.display())]
    ZoneBelowDname {
        /// The zone's apex.
        origin: Name,
        /// The DNAME's owner.
        dname: Name,
        /// The file of the zone that holds the DNAME.
        file: PathBuf,
    },
    /// Data below a DNAME, which no query could reach (RFC 6672 §2.4).
    #[error("{name} is below the DNAME at {dname}: no data may be there (RFC 6672 §2.4)")]
    BelowDname {
        /// The owner name of the unreachable record.
        name: Name,
        /// The DNAME's owner above it.
        dname: Name,
    },
    /// Records of one RRset with different TTLs.
    #[error("the {record_type} records of {name} have different TTLs (RFC 2181 §5.2)")]
    TtlMismatch {
        /// The owner name.
        name: Name,
        /// The RRset's type.
        record_type: RecordType,
    },
    /// A nameserver inside the zone with no A or AAAA record in it.
    #[error("nameserver {0} is inside the zone but has no A or AAAA record here")]
    NsWithoutAddress(Name),
    /// Data hidden below a delegation point that is not glue (RFC 1034 §4.2.1).
    #[error("{name} is below the delegation point {cut}: only A/AAAA glue may be there")]
    Occluded {
        /// The owner name of the hidden record.
        name: Name,
        /// The delegation point above it.
        cut: Name,
    },
    /// No SOA: neither a `[soa]` table nor an SOA record.
    #[error("the zone has no SOA: add a [soa] table")]
    MissingSoa,
    /// More than one SOA.
    #[error("the zone has more than one SOA")]
    DuplicateSoa,
    /// An SOA record elsewhere than at the apex.
    #[error("an SOA record must be at the apex {0}")]
    SoaNotAtApex(Name),
    /// No NS records at the apex: nobody would serve the zone.
    #[error("the apex {0} has no NS records")]
    NoApexNs(Name),
    /// An `algorithm` the lab does not make keys with.
    #[error("algorithm {0} is not one the lab signs with: 15 (Ed25519) or 13 (ECDSA P-256)")]
    BadAlgorithm(u8),
    /// A `broken_signatures` name with no record in the zone.
    #[error("broken_signatures names {0}, which has no record in the zone")]
    BrokenSignatureName(String),
    /// A key file that cannot be read or used (the error's file is the key file).
    #[error("{}", .0.kind)]
    Key(crate::dnssec::KeyError),
    /// `signed = true` and no key for the zone (RFC 4035 §2).
    #[error("signed = true, but there is no key for {origin} in {}/ (make one: resolver lab keygen)", keys.display())]
    MissingKey {
        /// The zone's apex.
        origin: Name,
        /// The key folder looked in.
        keys: PathBuf,
    },
    /// hickory-proto could not sign the zone.
    #[error("cannot sign the zone: {0}")]
    Sign(crate::dnssec::SignError),
    /// Two files for one origin.
    #[error("origin {origin} is also loaded from {}", other.display())]
    DuplicateOrigin {
        /// The origin both files claim.
        origin: Name,
        /// The other file.
        other: PathBuf,
    },
    /// No nameserver of the zone has an address in any loaded zone.
    #[error("no nameserver of {0} has an address in the loaded zones, so no server can serve it")]
    Unserved(Name),
}
