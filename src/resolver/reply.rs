//! A nameserver's reply: scrubbed first, classified second (as Unbound does).
//!
//! Scrubbing drops every record whose owner is outside the zone the server
//! was asked as (its bailiwick): a server for `umass.edu.` can say nothing
//! about `ibm.com.`, in any section. Classification then reads what is left
//! as an answer, a CNAME to follow, a negative answer, a referral, or a lame
//! reply that sends the walk to the next server. A DNAME in the answer is
//! followed with a CNAME we synthesise ourselves (dname.rs).

use std::net::IpAddr;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::delegation::Delegation;
use crate::names::{in_bailiwick, strictly_below};

/// The most NS names taken from one referral (NXNSAttack: a referral to
/// hundreds of names must not become hundreds of lookups).
pub const MAX_NS_PER_REFERRAL: usize = 16;

/// What a reply says, once scrubbed.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    /// Records of the asked type, at the end of the CNAME chain (if any).
    Answer {
        /// The CNAMEs from the question name to the owner of `records`.
        chain: Vec<Record>,
        /// The answer RRset.
        records: Vec<Record>,
    },
    /// A CNAME chain whose end this server cannot give: go on at `target`.
    Alias {
        /// The CNAMEs followed.
        chain: Vec<Record>,
        /// The name to resolve next.
        target: Name,
    },
    /// The name (at the end of the chain) does not exist (RFC 2308 §2.1).
    NxDomain {
        /// The CNAMEs followed.
        chain: Vec<Record>,
        /// The SOA of the negative answer, if given.
        soa: Option<Record>,
    },
    /// The name exists without data of the asked type (RFC 2308 §2.2).
    NoData {
        /// The CNAMEs followed.
        chain: Vec<Record>,
        /// The SOA of the negative answer, if given.
        soa: Option<Record>,
    },
    /// A referral to a zone closer to the name (RFC 1034 §5.3.3 step 4b).
    Referral {
        /// The child zone's NS names and glue.
        delegation: Delegation,
        /// The NS set's TTL.
        ttl: u32,
    },
    /// A DNAME (the chain's last record) makes the name longer than 255
    /// octets: YXDOMAIN (RFC 6672 §2.2).
    YxDomain {
        /// The CNAMEs followed, and the DNAME last.
        chain: Vec<Record>,
    },
    /// Not a usable reply from this server.
    Lame(Lameness),
}

/// Why a reply is of no use (the server is lame or broken for this zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Lameness {
    /// An error RCODE: SERVFAIL, REFUSED, NOTIMP, FORMERR...
    #[error("answered {0}")]
    Rcode(ResponseCode),
    /// Data without the AA bit from a server offering recursion: a cache, not the authority.
    #[error("answered from a cache (RA set, AA clear)")]
    NotAuthoritative,
    /// A referral to the same zone or above it: no closer to the name.
    #[error("referred upwards or sideways")]
    UpwardReferral,
    /// Nothing usable at all.
    #[error("gave an empty, non-authoritative reply")]
    Empty,
    /// An empty NOERROR with AA but no SOA: NODATA by RFC 2308 §2.2 (type
    /// 3), yet the mark of a broken server, so (as Unbound does) the other
    /// servers are asked first and this is believed only when none answers.
    #[error("gave an empty answer without an SOA")]
    EmptyWithoutSoa,
}

/// What scrubbing removed from a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scrubbed {
    /// Records whose owner is outside the zone asked.
    pub out_of_bailiwick: usize,
    /// Records of a class other than IN (dropped, as Unbound does).
    pub wrong_class: usize,
    /// NS records in the authority section for a zone above the one asked:
    /// an upward referral, however it is flagged.
    pub upward_ns: usize,
}

/// Drops, from every section, the records outside the zone asked and those
/// of a class other than IN, and says how many of each.
pub fn scrub(reply: &mut Message, zone: &Name) -> Scrubbed {
    let mut scrubbed = Scrubbed::default();
    let mut keep = |record: &Record| {
        if record.dns_class != DNSClass::IN {
            scrubbed.wrong_class += 1;
            false
        } else if !in_bailiwick(&record.name, zone) {
            scrubbed.out_of_bailiwick += 1;
            false
        } else {
            true
        }
    };
    scrubbed.upward_ns = reply
        .authorities
        .iter()
        .filter(|r| r.record_type() == RecordType::NS && strictly_below(zone, &r.name))
        .count();
    reply.answers.retain(&mut keep);
    reply.authorities.retain(&mut keep);
    reply.additionals.retain(&mut keep);
    scrubbed
}

/// Classifies a scrubbed reply to the question `qname`/`qtype` asked of a
/// server for `zone`.
pub fn classify(reply: &Message, qname: &Name, qtype: RecordType, zone: &Name) -> Classified {
    let rcode = reply.response_code;
    let aa = reply.authoritative;
    // Data without AA is taken from a server that offers no recursion (RFC
    // 1034 §5.3.3 step 4a; RFC 2181 §5.4.1 ranks it lower, as Unbound
    // does); from one that does (RA set), it is a cache talking: lame.
    let trusted = aa || !reply.recursion_available;
    let (chain, end, too_long) = follow_chain(&reply.answers, qname, qtype);
    // YXDOMAIN stands when our own substitution says so (RFC 6672 §2.2).
    if too_long && matches!(rcode, ResponseCode::NoError | ResponseCode::YXDomain) {
        return if trusted {
            Classified::YxDomain { chain }
        } else {
            Classified::Lame(Lameness::NotAuthoritative)
        };
    }
    // For CNAME and ANY, the CNAME a DNAME makes is the answer (RFC 6672 §3.2).
    let asks_alias = follows_no_alias(qtype) && rcode != ResponseCode::NXDomain;
    if asks_alias && let Some(made) = super::dname::own_answer(&reply.answers, qname) {
        return match made {
            _ if !trusted => Classified::Lame(Lameness::NotAuthoritative),
            Ok((dname, cname)) => Classified::Answer {
                chain: vec![dname],
                records: vec![cname],
            },
            Err(dname) => Classified::YxDomain { chain: vec![dname] },
        };
    }
    if !matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain) {
        return Classified::Lame(Lameness::Rcode(rcode));
    }
    let soa = negative_soa(reply, &end);

    let records = records_at(&reply.answers, &end, qtype);
    if !records.is_empty() {
        return if trusted {
            Classified::Answer { chain, records }
        } else {
            Classified::Lame(Lameness::NotAuthoritative)
        };
    }
    if !chain.is_empty() && !trusted {
        return Classified::Lame(Lameness::NotAuthoritative);
    }
    if rcode == ResponseCode::NXDomain {
        return if trusted || soa.is_some() {
            Classified::NxDomain { chain, soa }
        } else {
            Classified::Lame(Lameness::NotAuthoritative)
        };
    }
    if let Some(referral) = referral(reply, &end, zone) {
        return if chain.is_empty() {
            referral
        } else {
            Classified::Alias { chain, target: end }
        };
    }
    if !chain.is_empty() {
        return match soa {
            Some(_) => Classified::NoData { chain, soa },
            None => Classified::Alias { chain, target: end },
        };
    }
    if has_ns_at_or_above(reply, zone) && soa.is_none() && !aa {
        return Classified::Lame(Lameness::UpwardReferral);
    }
    // NODATA: with the SOA, or (RFC 2308 §2.2, type 3) with nothing at all.
    if trusted || soa.is_some() {
        return Classified::NoData { chain, soa };
    }
    Classified::Lame(Lameness::Empty)
}

/// Follows CNAMEs and DNAMEs in the answer section from `qname`; returns
/// the chain, the name it ends at, and whether it ends at a DNAME whose
/// substitution is too long. A DNAME goes in with the CNAME synthesised
/// from it here, whatever CNAME the server sent (RFC 6672 §3.4).
fn follow_chain(answers: &[Record], qname: &Name, qtype: RecordType) -> (Vec<Record>, Name, bool) {
    let mut chain: Vec<Record> = Vec::new();
    let mut name = qname.clone();
    if follows_no_alias(qtype) {
        return (chain, name, false);
    }
    // Each step takes a record of the reply (a DNAME may serve several).
    for _ in 0..=answers.len() {
        let has_data = answers
            .iter()
            .any(|r| r.name == name && r.record_type() == qtype);
        if has_data {
            break;
        }
        if let Some(dname) = super::dname::applying(answers, &name) {
            let cname = match crate::dname::synthesise(dname, &name) {
                Some(Ok(cname)) => cname,
                Some(Err(_)) => {
                    super::dname::extend(&mut chain, std::slice::from_ref(dname));
                    return (chain, name, true); // too long for a name: YXDOMAIN
                }
                None => break, // RDATA that is not one name: no redirection
            };
            let target = super::iterate::cname_target(&cname);
            let looped = super::dname::revisits(&chain, &target) || target == *qname;
            super::dname::extend(&mut chain, &[dname.clone(), cname]);
            name = target;
            if looped {
                break; // the walk sees the loop and stops it (ResolveError::CnameLoop)
            }
            continue;
        }
        let Some(cname) = answers
            .iter()
            .find(|r| r.name == name && r.record_type() == RecordType::CNAME)
        else {
            break;
        };
        let RData::CNAME(target) = &cname.data else {
            break;
        };
        if super::dname::revisits(&chain, &target.0) || target.0 == *qname {
            break; // a loop inside one reply: stop; the limits deal with it
        }
        chain.push(cname.clone());
        name = target.0.clone();
    }
    (chain, name, false)
}

/// True for the types a CNAME answers itself: CNAME, and ANY, which matches
/// every type (RFC 1034 §4.3.2 step 3a restarts only when the type does not match).
pub fn follows_no_alias(qtype: RecordType) -> bool {
    matches!(qtype, RecordType::CNAME | RecordType::ANY)
}

/// The records at `name` of the asked type (every type for ANY).
fn records_at(answers: &[Record], name: &Name, qtype: RecordType) -> Vec<Record> {
    answers
        .iter()
        .filter(|r| r.name == *name && (r.record_type() == qtype || qtype == RecordType::ANY))
        .cloned()
        .collect()
}

/// The SOA of a negative answer: in the authority section, owned by an
/// ancestor of `name` (the zone apex).
fn negative_soa(reply: &Message, name: &Name) -> Option<Record> {
    reply
        .authorities
        .iter()
        .find(|r| r.record_type() == RecordType::SOA && in_bailiwick(name, &r.name))
        .cloned()
}

/// A referral: NS records in authority for a zone strictly below the zone
/// asked and at or above `name`, with the glue given for them.
fn referral(reply: &Message, name: &Name, zone: &Name) -> Option<Classified> {
    let cut = reply
        .authorities
        .iter()
        .filter(|r| r.record_type() == RecordType::NS)
        .map(|r| &r.name)
        .filter(|owner| strictly_below(owner, zone) && in_bailiwick(name, owner))
        .max_by_key(|owner| owner.num_labels())?
        .clone();
    let ns_records: Vec<&Record> = reply
        .authorities
        .iter()
        .filter(|r| r.record_type() == RecordType::NS && r.name == cut)
        .collect();
    let (delegation, ttl) = delegation_of(reply, &cut, &ns_records);
    Some(Classified::Referral { delegation, ttl })
}

/// The delegation of `zone` that an NS RRset gives: its first
/// [`MAX_NS_PER_REFERRAL`] distinct names, and the addresses the reply's
/// additional section has for them; with the RRset's TTL (the least).
pub fn delegation_of(reply: &Message, zone: &Name, ns_records: &[&Record]) -> (Delegation, u32) {
    let ttl = ns_records.iter().map(|r| r.ttl).min().unwrap_or(0);
    let mut name_servers: Vec<Name> = Vec::new();
    for record in ns_records {
        if let RData::NS(ns) = &record.data
            && !name_servers.contains(&ns.0)
            && name_servers.len() < MAX_NS_PER_REFERRAL
        {
            name_servers.push(ns.0.to_lowercase());
        }
    }
    let glue = reply
        .additionals
        .iter()
        .filter(|r| name_servers.contains(&r.name))
        .filter_map(|r| address_of(r).map(|address| (r.name.to_lowercase(), address)))
        .collect();
    let delegation = Delegation {
        zone: zone.to_lowercase(),
        name_servers,
        glue,
    };
    (delegation, ttl)
}

/// True when the authority section has NS records for the zone asked or above it.
fn has_ns_at_or_above(reply: &Message, zone: &Name) -> bool {
    reply
        .authorities
        .iter()
        .any(|r| r.record_type() == RecordType::NS && in_bailiwick(zone, &r.name))
}

/// The address of an A or AAAA record.
pub fn address_of(record: &Record) -> Option<IpAddr> {
    match &record.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
