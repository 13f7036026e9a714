//! Zones: the authoritative data of the lab, loaded from TOML files and
//! RFC 1035 master files, and written out as master files.
//!
//! ```text
//! zones/*.toml, *.zone ──load, master──▶ Zone (validated RRsets by owner name) ──▶ ZoneSet (all zones, by origin)
//!                                                                 └──▶ servers(): which address serves which zone
//! ```
//!
//! A [`Zone`] holds the resource records of one zone (RFC 1034 §4.2), grouped
//! into RRsets by owner name and type, with the empty non-terminals filled in
//! so that a lookup can tell NODATA from NXDOMAIN.

mod assemble;
mod error;
mod load;
mod master;
pub mod present;
mod record;
mod set;
mod source;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::dnssec::{Denial, KeyAlgorithm, Security};

pub use error::{ZoneError, ZoneErrorKind};
pub use load::load_zone_file;
pub use set::{LoadErrors, NameServer, ZoneSet};
pub use source::ZoneSource;

/// The records of one owner name and type, all with one TTL (RFC 2181 §5).
#[derive(Debug, Clone)]
pub struct RRset {
    /// The records, in the order the zone file gave them.
    pub records: Vec<Record>,
    /// The RRSIGs over the set, when the zone is signed (RFC 4035 §2.2).
    pub signatures: Vec<Record>,
    /// True for a set that signing made (DNSKEY, DS, NSEC, NSEC3PARAM), not the zone file.
    pub generated: bool,
}

impl RRset {
    /// A set of records from the zone file, not signed.
    pub fn new(records: Vec<Record>) -> Self {
        RRset {
            records,
            signatures: Vec::new(),
            generated: false,
        }
    }

    /// The type shared by every record of the set.
    pub fn record_type(&self) -> RecordType {
        self.records[0].record_type()
    }

    /// The TTL shared by every record of the set.
    pub fn ttl(&self) -> u32 {
        self.records[0].ttl
    }
}

/// Every RRset at one owner name; empty for an empty non-terminal.
#[derive(Debug, Clone, Default)]
pub struct Node {
    rrsets: Vec<RRset>,
}

impl Node {
    /// The RRset of one type at this name, if any.
    pub fn rrset(&self, record_type: RecordType) -> Option<&RRset> {
        self.rrsets
            .iter()
            .find(|rrset| rrset.record_type() == record_type)
    }

    /// Every RRset at this name.
    pub fn rrsets(&self) -> &[RRset] {
        &self.rrsets
    }

    /// True for an empty non-terminal: a name that exists only because names below it do.
    pub fn is_empty(&self) -> bool {
        self.rrsets.is_empty()
    }
}

/// One zone: its apex (origin), its SOA and its data, validated.
#[derive(Debug, Clone)]
pub struct Zone {
    origin: Name,
    file: PathBuf,
    soa: Record,
    nodes: HashMap<Name, Node>,
    record_count: usize,
    options: ZoneOptions,
    security: Option<Security>,
    broken_signatures: Vec<Name>,
}

/// The DNSSEC options of a zone file (`signed`, `denial`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZoneOptions {
    /// `signed = true | false`; absent: signed when the zone has a key.
    pub signed: Option<bool>,
    /// `denial = "nsec" | "nsec3"` (RFC 4034 §4, RFC 5155).
    pub denial: Denial,
    /// `algorithm = 13 | 15`: what `resolver lab keygen` makes the key with.
    pub algorithm: KeyAlgorithm,
}

impl Zone {
    /// The zone's apex, lower case and fully qualified.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The file the zone was loaded from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The SOA record at the apex.
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// The SOA record as put in a negative answer: its TTL is the negative
    /// caching time, the lesser of the SOA's TTL and its MINIMUM (RFC 2308 §3).
    pub fn negative_soa(&self) -> Record {
        let mut soa = self.soa.clone();
        if let RData::SOA(data) = &soa.data {
            soa.ttl = soa.ttl.min(data.minimum);
        }
        soa
    }

    /// The node at a name (lower-cased lookup), if the name exists in the zone.
    pub fn node(&self, name: &Name) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// The RRset of one type at a name, if any.
    pub fn rrset(&self, name: &Name, record_type: RecordType) -> Option<&RRset> {
        self.node(name).and_then(|node| node.rrset(record_type))
    }

    /// The NS names at the apex: the servers of this zone.
    pub fn apex_ns_names(&self) -> Vec<Name> {
        ns_targets(self.rrset(&self.origin, RecordType::NS))
    }

    /// The A and AAAA records held at a name (authoritative or glue).
    pub fn addresses(&self, name: &Name) -> Vec<Record> {
        let Some(node) = self.node(name) else {
            return Vec::new();
        };
        [RecordType::A, RecordType::AAAA]
            .into_iter()
            .filter_map(|record_type| node.rrset(record_type))
            .flat_map(|rrset| rrset.records.iter().cloned())
            .collect()
    }

    /// The delegation point (zone cut) at or above `name` and strictly below
    /// the apex, nearest the apex first (RFC 1034 §4.2.1), if any.
    pub fn zone_cut(&self, name: &Name) -> Option<&Name> {
        let apex_labels = self.origin.num_labels() as usize;
        let name_labels = name.num_labels() as usize;
        (apex_labels + 1..=name_labels).find_map(|labels| {
            let ancestor = name.trim_to(labels);
            let (key, node) = self.nodes.get_key_value(&ancestor)?;
            node.rrset(RecordType::NS).map(|_| key)
        })
    }

    /// The DNAME at an ancestor of `name` (the apex included, `name` itself
    /// not), if any: the redirection a lookup of `name` meets on its way
    /// down (RFC 6672 §3.2 step 3c). Loading allows at most one on any path.
    pub fn dname_above(&self, name: &Name) -> Option<&Record> {
        let apex_labels = self.origin.num_labels() as usize;
        let name_labels = crate::names::label_count(name);
        (apex_labels..name_labels).find_map(|labels| {
            let rrset = self.rrset(&name.trim_to(labels), RecordType::DNAME)?;
            rrset.records.first()
        })
    }

    /// How many records the zone file gave (the SOA included).
    pub fn record_count(&self) -> usize {
        self.record_count
    }

    /// Every owner name of the zone with its node, in no particular order.
    pub fn nodes(&self) -> impl Iterator<Item = (&Name, &Node)> {
        self.nodes.iter()
    }

    /// The zone file's DNSSEC options.
    pub fn options(&self) -> ZoneOptions {
        self.options
    }

    /// What signing added, when the zone is signed (RFC 4035 §2).
    pub fn security(&self) -> Option<&Security> {
        self.security.as_ref()
    }

    /// The names whose RRSIGs are broken on purpose (`broken_signatures`):
    /// the lab's bogus data, for a validating resolver to refuse.
    pub fn broken_signatures(&self) -> &[Name] {
        &self.broken_signatures
    }

    /// True when the zone was signed at load.
    pub fn is_signed(&self) -> bool {
        self.security.is_some()
    }

    /// Every node, to be changed by signing.
    pub(crate) fn nodes_mut(&mut self) -> impl Iterator<Item = (&Name, &mut Node)> {
        self.nodes.iter_mut()
    }

    /// Adds an RRset that signing made at a name of the zone.
    pub(crate) fn add_generated(&mut self, records: Vec<Record>) {
        let Some(first) = records.first() else {
            return;
        };
        let name = first.name.clone();
        let mut rrset = RRset::new(records);
        rrset.generated = true;
        self.nodes.entry(name).or_default().rrsets.push(rrset);
    }

    /// Marks the zone signed.
    pub(crate) fn set_security(&mut self, security: Security) {
        self.security = Some(security);
    }
}

impl Node {
    /// Every RRset at this name, to be signed.
    pub(crate) fn rrsets_mut(&mut self) -> &mut [RRset] {
        &mut self.rrsets
    }
}

/// The target names of an NS RRset.
pub fn ns_targets(rrset: Option<&RRset>) -> Vec<Name> {
    rrset
        .map(|rrset| {
            rrset
                .records
                .iter()
                .filter_map(|record| match &record.data {
                    RData::NS(ns) => Some(ns.0.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}
