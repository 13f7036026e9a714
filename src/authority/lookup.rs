//! The authoritative lookup of RFC 1034 §4.3.2, on the zones one server holds.
//!
//! The result is an [`Answer`] value: data, a referral, NODATA, NXDOMAIN
//! or YXDOMAIN, each with the records of its three sections. CNAMEs, and
//! the CNAMEs a DNAME synthesises (RFC 6672 §3.2), are chased within the
//! server's zones. Turning it into a message is [`super::answer`]'s job.

use std::collections::HashMap;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::names::label_count;
use crate::zone::{Zone, ns_targets};

/// The longest CNAME chain the server follows within its own zones (a
/// DNAME's synthesised CNAME counts as one link).
pub const MAX_CNAME_CHAIN: usize = 8;

/// What kind of answer a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Records of the asked type (or a CNAME chain leaving our zones).
    Data,
    /// The name is at or below a zone cut: the NS set of the child zone.
    Referral,
    /// The name exists but has no record of the asked type (RFC 2308 §2.2).
    NoData,
    /// The name does not exist (RFC 2308 §2.1).
    NxDomain,
    /// A DNAME substitution would make a name longer than 255 octets
    /// (RFC 6672 §2.2): the DNAME is given, with no CNAME.
    YxDomain,
}

/// An answer from the zones, section by section.
#[derive(Debug, Clone)]
pub struct Answer {
    /// What was found.
    pub outcome: Outcome,
    /// The answer section: the CNAME chain, then the data.
    pub answers: Vec<Record>,
    /// The authority section: the NS set of a referral or the SOA of a negative answer.
    pub authorities: Vec<Record>,
    /// The additional section: glue, or addresses of NS and MX targets.
    pub additionals: Vec<Record>,
}

impl Answer {
    /// True when the AA bit belongs on the answer: everything but a bare referral.
    pub fn authoritative(&self) -> bool {
        self.outcome != Outcome::Referral || !self.answers.is_empty()
    }

    /// The RCODE of the answer: NXDOMAIN when the last name does not exist (RFC 6604 §2.1).
    pub fn response_code(&self) -> ResponseCode {
        match self.outcome {
            Outcome::NxDomain => ResponseCode::NXDomain,
            Outcome::YxDomain => ResponseCode::YXDomain,
            _ => ResponseCode::NoError,
        }
    }
}

/// The zones served at one address, found by origin.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    zones: HashMap<Name, Arc<Zone>>,
}

impl Catalog {
    /// A catalog of the given zones.
    pub fn new(zones: impl IntoIterator<Item = Arc<Zone>>) -> Self {
        let zones = zones
            .into_iter()
            .map(|zone| (zone.origin().clone(), zone))
            .collect();
        Catalog { zones }
    }

    /// The deepest zone of this catalog that contains `name`.
    pub fn zone_for(&self, name: &Name) -> Option<&Arc<Zone>> {
        (0..=label_count(name))
            .rev()
            .find_map(|labels| self.zones.get(&name.trim_to(labels)))
    }

    /// The zone with this origin, when served here.
    pub fn zone(&self, origin: &Name) -> Option<&Arc<Zone>> {
        self.zones.get(origin)
    }

    /// The origins served, sorted.
    pub fn origins(&self) -> Vec<Name> {
        let mut origins: Vec<Name> = self.zones.keys().cloned().collect();
        origins.sort();
        origins
    }

    /// Looks a question up (RFC 1034 §4.3.2); `None` when no zone here holds
    /// the name, which the server answers with REFUSED.
    pub fn lookup(&self, qname: &Name, qtype: RecordType) -> Option<Answer> {
        let mut zone = self.zone_for(qname)?;
        // A DS is the parent's data: asked at a child's apex, the parent answers when served here (RFC 4035 §3.1.4.1).
        if qtype == RecordType::DS && zone.origin() == qname && !qname.is_root() {
            zone = self.zone_for(&qname.base_name()).unwrap_or(zone);
        }
        let mut name = qname.clone();
        let mut chain: Vec<Record> = Vec::new();
        let mut links = 0;
        loop {
            let step = lookup_in_zone(zone, &name, qtype);
            let Step::Alias(records, target) = step else {
                return Some(self.finish(zone, chain, step));
            };
            let looped = chain
                .iter()
                .any(|record| record.record_type() == RecordType::CNAME && record.name == target);
            chain.extend(records);
            links += 1;
            match self.zone_for(&target) {
                Some(next) if !looped && links < MAX_CNAME_CHAIN => {
                    zone = next;
                    name = target;
                }
                // The chain leaves our zones, loops or is too long: the
                // resolver that asked takes it from here.
                _ => return Some(data(chain, Vec::new())),
            }
        }
    }

    fn finish(&self, zone: &Zone, mut chain: Vec<Record>, step: Step) -> Answer {
        match step {
            Step::Data(records) => {
                let additionals = self.additional_addresses(&records);
                chain.extend(records);
                data(chain, additionals)
            }
            Step::Referral(cut) => referral(zone, &cut, chain),
            Step::NoData => negative(Outcome::NoData, zone, chain),
            Step::NxDomain => negative(Outcome::NxDomain, zone, chain),
            Step::YxDomain(dname) => {
                chain.push(*dname);
                Answer {
                    outcome: Outcome::YxDomain,
                    answers: chain,
                    authorities: Vec::new(),
                    additionals: Vec::new(),
                }
            }
            Step::Alias(..) => unreachable!("lookup follows aliases before finishing"),
        }
    }

    /// Addresses of the NS and MX targets of an answer, where a zone here is
    /// authoritative for them (RFC 1035 §3.3.9, §3.3.11 additional processing).
    fn additional_addresses(&self, records: &[Record]) -> Vec<Record> {
        let mut additionals = Vec::new();
        for record in records {
            let target = match &record.data {
                RData::NS(ns) => &ns.0,
                RData::MX(mx) => &mx.exchange,
                _ => continue,
            };
            let Some(zone) = self.zone_for(target) else {
                continue;
            };
            if zone.zone_cut(target).is_none() {
                additionals.extend(zone.addresses(target));
            }
        }
        additionals
    }
}

/// The result of looking a name up in one zone.
enum Step {
    Data(Vec<Record>),
    /// A CNAME, or a DNAME and the CNAME it synthesises: go on at the name.
    Alias(Vec<Record>, Name),
    /// A DNAME whose substitution is too long for a name (RFC 6672 §2.2).
    YxDomain(Box<Record>),
    Referral(Name),
    NoData,
    NxDomain,
}

/// RFC 1034 §4.3.2 step 3 on one zone: match down label by label; a DNAME
/// above the name redirects it (RFC 6672 §3.2); a name that does not exist
/// may be synthesised from a wildcard (RFC 4592).
fn lookup_in_zone(zone: &Zone, name: &Name, qtype: RecordType) -> Step {
    if let Some(cut) = zone.zone_cut(name) {
        // The DS of a delegation is on the parent's side of the cut (RFC 4035 §3.1.4.1).
        let parent_side = cut == name && qtype == RecordType::DS;
        if !parent_side {
            return Step::Referral(cut.clone());
        }
    }
    if let Some(dname) = zone.dname_above(name) {
        return match crate::dname::synthesise(dname, name) {
            // For CNAME and ANY, the synthesised CNAME is the data asked for.
            Some(Ok(cname)) if matches!(qtype, RecordType::CNAME | RecordType::ANY) => {
                Step::Data(vec![dname.clone(), cname])
            }
            Some(Ok(cname)) => {
                let target = cname_target(&cname);
                Step::Alias(vec![dname.clone(), cname], target)
            }
            Some(Err(_)) => Step::YxDomain(Box::new(dname.clone())),
            // Loading made the RDATA: it is a name.
            None => Step::NoData,
        };
    }
    let (node, synthesised) = match zone.node(name) {
        Some(node) => (node, false),
        None => match wildcard(zone, name) {
            Some(node) => (node, true),
            None => return Step::NxDomain,
        },
    };
    // Records synthesised from a wildcard take the name asked (RFC 4592 §3.4.1).
    let owned = |records: &[Record]| -> Vec<Record> {
        records
            .iter()
            .map(|record| {
                let mut record = record.clone();
                if synthesised {
                    record.name = name.clone();
                }
                record
            })
            .collect()
    };
    if qtype == RecordType::ANY && !node.is_empty() {
        let records = node
            .rrsets()
            .iter()
            .flat_map(|rrset| owned(&rrset.records))
            .collect();
        return Step::Data(records);
    }
    if let Some(rrset) = node.rrset(qtype) {
        return Step::Data(owned(&rrset.records));
    }
    if let Some(cname) = node.rrset(RecordType::CNAME) {
        let record = owned(&cname.records[..1]).remove(0);
        if let RData::CNAME(_) = &record.data {
            let target = cname_target(&record);
            return Step::Alias(vec![record], target);
        }
    }
    Step::NoData
}

/// The wildcard node that covers a name that does not exist: `*.` the
/// closest encloser, the nearest existing ancestor (RFC 4592 §3.3.1).
fn wildcard<'z>(zone: &'z Zone, name: &Name) -> Option<&'z crate::zone::Node> {
    let apex = label_count(zone.origin());
    let closest_encloser = (apex..label_count(name))
        .rev()
        .map(|labels| name.trim_to(labels))
        .find(|ancestor| zone.node(ancestor).is_some())?;
    let source = closest_encloser.prepend_label("*").ok()?;
    zone.node(&source)
}

/// The target of a CNAME record.
fn cname_target(record: &Record) -> Name {
    match &record.data {
        RData::CNAME(target) => target.0.clone(),
        _ => record.name.clone(),
    }
}

fn data(answers: Vec<Record>, additionals: Vec<Record>) -> Answer {
    Answer {
        outcome: Outcome::Data,
        answers,
        authorities: Vec::new(),
        additionals,
    }
}

/// A referral: the child's NS set and the glue this zone holds for it (RFC 1034 §4.3.2 step 3b).
fn referral(zone: &Zone, cut: &Name, chain: Vec<Record>) -> Answer {
    let ns = zone
        .rrset(cut, RecordType::NS)
        .map(|rrset| rrset.records.clone())
        .unwrap_or_default();
    let glue = ns_targets(zone.rrset(cut, RecordType::NS))
        .iter()
        .filter(|target| zone.origin().zone_of(target))
        .flat_map(|target| zone.addresses(target))
        .collect();
    Answer {
        outcome: Outcome::Referral,
        answers: chain,
        authorities: ns,
        additionals: glue,
    }
}

/// NODATA or NXDOMAIN with the zone's SOA, TTL set to the negative TTL (RFC 2308 §3).
fn negative(outcome: Outcome, zone: &Zone, chain: Vec<Record>) -> Answer {
    Answer {
        outcome,
        answers: chain,
        authorities: vec![zone.negative_soa()],
        additionals: Vec::new(),
    }
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
