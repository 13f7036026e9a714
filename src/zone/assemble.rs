//! One zone put together from its records, whatever file they came from
//! (TOML or an RFC 1035 master file): RRsets grouped, and the rules that
//! span records checked (RFC 1034 §3.6.2, §4.2.1; RFC 2181 §5.2; RFC 6672
//! in validate.rs), each error naming the record's file, line and position.

// Errors carry the names they are about; loading is a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::path::Path;

use hickory_proto::rr::{Name, Record, RecordType};

use super::error::{ZoneError, ZoneErrorKind};
use super::{Node, RRset, Zone, ZoneOptions};
use crate::names::{in_bailiwick, label_count, strictly_below};

/// Where a record came from, for error messages.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// The line the record starts on, from 1.
    pub(super) line: usize,
    /// The record's position in the file, from 1 (0 for a `[soa]` table).
    pub(super) index: usize,
    /// The record as written (`name type`).
    pub(super) what: String,
}

/// Collects every error found while one zone is put together.
pub(super) struct Assembler<'a> {
    /// The file, named in every error.
    pub(super) path: &'a Path,
    /// What was found so far.
    pub(super) errors: Vec<ZoneError>,
}

impl<'a> Assembler<'a> {
    /// An assembler for the zone of one file, with no errors yet.
    pub(super) fn new(path: &'a Path) -> Self {
        Assembler {
            path,
            errors: Vec::new(),
        }
    }

    pub(super) fn error_at(&mut self, line: usize, kind: ZoneErrorKind) {
        self.errors.push(ZoneError {
            file: self.path.to_path_buf(),
            line: Some(line),
            record: None,
            what: None,
            kind,
        });
    }

    pub(super) fn record_error(&mut self, origin: &Source, kind: ZoneErrorKind) {
        self.errors.push(ZoneError {
            file: self.path.to_path_buf(),
            line: Some(origin.line),
            record: Some(origin.index),
            what: Some(origin.what.clone()),
            kind,
        });
    }

    pub(super) fn zone_error(&mut self, kind: ZoneErrorKind) {
        self.errors.push(file_error(self.path, kind));
    }

    /// Groups records into RRsets and checks the rules that span records.
    pub(super) fn assemble(
        &mut self,
        origin: Name,
        records: Vec<(Record, Source)>,
    ) -> Option<Zone> {
        let mut soa: Option<Record> = None;
        let mut sets: HashMap<(Name, RecordType), (RRset, Source)> = HashMap::new();
        let mut order: Vec<(Name, RecordType)> = Vec::new();
        let record_count = records.len();

        for (record, source) in records {
            if !in_bailiwick(&record.name, &origin) {
                let kind = ZoneErrorKind::OutsideOrigin {
                    name: record.name.clone(),
                    origin: origin.clone(),
                };
                self.record_error(&source, kind);
                continue;
            }
            if record.record_type() == RecordType::SOA {
                if record.name != origin {
                    self.record_error(&source, ZoneErrorKind::SoaNotAtApex(origin.clone()));
                } else if soa.is_some() {
                    self.record_error(&source, ZoneErrorKind::DuplicateSoa);
                } else {
                    soa = Some(record.clone());
                }
            }
            let key = (record.name.clone(), record.record_type());
            match sets.get_mut(&key) {
                Some((rrset, _)) => {
                    if rrset.records.iter().any(|r| r.data == record.data) {
                        continue; // an exact duplicate says nothing new
                    }
                    if key.1 == RecordType::CNAME {
                        self.record_error(&source, ZoneErrorKind::MultipleCnames(key.0.clone()));
                    } else if key.1 == RecordType::DNAME {
                        self.record_error(&source, ZoneErrorKind::MultipleDnames(key.0.clone()));
                    } else if rrset.ttl() != record.ttl {
                        let kind = ZoneErrorKind::TtlMismatch {
                            name: key.0.clone(),
                            record_type: key.1,
                        };
                        self.record_error(&source, kind);
                    }
                    rrset.records.push(record);
                }
                None => {
                    order.push(key.clone());
                    let rrset = RRset::new(vec![record]);
                    sets.insert(key, (rrset, source));
                }
            }
        }

        let Some(soa) = soa else {
            self.zone_error(ZoneErrorKind::MissingSoa);
            return None;
        };

        let mut nodes: HashMap<Name, Node> = HashMap::new();
        let mut sources: HashMap<Name, Source> = HashMap::new();
        for key in order {
            let (rrset, source) = sets.remove(&key).expect("every key in order was inserted");
            sources.entry(key.0.clone()).or_insert(source);
            nodes.entry(key.0).or_default().rrsets.push(rrset);
        }
        self.check_cnames(&nodes, &sources);
        self.check_cuts(&origin, &nodes, &sources);
        for (name, kind) in super::validate::dname_rules(&origin, &nodes) {
            self.record_error(&sources[&name], kind);
        }
        add_empty_non_terminals(&origin, &mut nodes);

        let zone = Zone {
            origin,
            file: self.path.to_path_buf(),
            soa,
            nodes,
            record_count,
            options: ZoneOptions::default(),
            security: None,
            broken_signatures: Vec::new(),
        };
        self.check_nameservers(&zone, &sources);
        Some(zone)
    }

    fn check_cnames(&mut self, nodes: &HashMap<Name, Node>, sources: &HashMap<Name, Source>) {
        for (name, node) in nodes {
            // A CNAME beside a DNAME breaks RFC 6672's rule first: validate.rs says so.
            let beside_dname = node.rrset(RecordType::DNAME).is_some();
            if node.rrset(RecordType::CNAME).is_some() && node.rrsets.len() > 1 && !beside_dname {
                self.record_error(
                    &sources[name],
                    ZoneErrorKind::CnameAndOtherData(name.clone()),
                );
            }
        }
    }

    /// Below a delegation point only glue (A, AAAA) may live (RFC 1034 §4.2.1).
    fn check_cuts(
        &mut self,
        origin: &Name,
        nodes: &HashMap<Name, Node>,
        sources: &HashMap<Name, Source>,
    ) {
        let cuts: Vec<&Name> = nodes
            .iter()
            .filter(|(name, node)| *name != origin && node.rrset(RecordType::NS).is_some())
            .map(|(name, _)| name)
            .collect();
        for (name, node) in nodes {
            let Some(cut) = cuts.iter().find(|cut| strictly_below(name, cut)) else {
                continue;
            };
            let hidden = node
                .rrsets
                .iter()
                .any(|rrset| !matches!(rrset.record_type(), RecordType::A | RecordType::AAAA));
            if hidden {
                let kind = ZoneErrorKind::Occluded {
                    name: name.clone(),
                    cut: (*cut).clone(),
                };
                self.record_error(&sources[name], kind);
            }
        }
    }

    /// The apex needs NS records, and every nameserver inside the zone it
    /// serves (the apex's zone, or a delegated child: in-domain glue, RFC 9471)
    /// needs an address here.
    fn check_nameservers(&mut self, zone: &Zone, sources: &HashMap<Name, Source>) {
        if zone.rrset(zone.origin(), RecordType::NS).is_none() {
            self.zone_error(ZoneErrorKind::NoApexNs(zone.origin().clone()));
        }
        for (owner, node) in &zone.nodes {
            for target in super::ns_targets(node.rrset(RecordType::NS)) {
                if in_bailiwick(&target, owner) && zone.addresses(&target).is_empty() {
                    self.record_error(&sources[owner], ZoneErrorKind::NsWithoutAddress(target));
                }
            }
        }
    }
}

/// Every ancestor of every owner name, down from the apex, exists (RFC 1034
/// Every ancestor of every owner name, down from the apex, exists (RFC 1034
/// §3.1): the ones with no data of their own are empty non-terminals.
fn add_empty_non_terminals(origin: &Name, nodes: &mut HashMap<Name, Node>) {
    let owners: Vec<Name> = nodes.keys().cloned().collect();
    for owner in owners {
        let mut name = owner;
        while label_count(&name) > label_count(origin) {
            name = name.base_name();
            nodes.entry(name.clone()).or_default();
        }
    }
}

pub(super) fn file_error(path: &Path, kind: impl Into<ZoneErrorKind>) -> ZoneError {
    ZoneError {
        file: path.to_path_buf(),
        line: None,
        record: None,
        what: None,
        kind: kind.into(),
    }
}
