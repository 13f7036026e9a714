//! Online signing at load (RFC 4035 §2), as Knot DNS and PowerDNS do it:
//! the DNSKEY at the apex, the DS of each signed child at its delegation,
//! the NSEC (RFC 4034 §4) or NSEC3 (RFC 5155 §7.1) chain, and an RRSIG
//! over every authoritative RRset. The NS set of a delegation and glue
//! are not authoritative data and stay unsigned (RFC 4035 §2.2).

use hickory_proto::dnssec::TBS;
use hickory_proto::dnssec::rdata::{DNSSECRData, DS, NSEC, RRSIG, SigInput};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};

use super::keys::{INCEPTION_OFFSET, SIGNATURE_VALIDITY, ZoneKey};
use super::nsec3::{self, Nsec3Chain};
use super::{Denial, Security, SignError};
use crate::zone::{RRset, Zone};

/// The validity window of the signatures made at one load (RFC 4034 §3.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Signature inception, seconds since 1970.
    pub inception: u32,
    /// Signature expiration, seconds since 1970.
    pub expiration: u32,
}

impl Validity {
    /// From an hour before `now` to 30 days after it ([`SIGNATURE_VALIDITY`]).
    pub fn from_now(now: u32) -> Self {
        Validity {
            inception: now.saturating_sub(INCEPTION_OFFSET),
            expiration: now.saturating_add(SIGNATURE_VALIDITY.as_secs() as u32),
        }
    }

    /// The window for a load happening now (seconds since 1970 fit in a u32 until 2106).
    pub fn now() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() as u32)
            .unwrap_or(0);
        Self::from_now(now)
    }
}

/// Where a name stands in its zone, for signing (RFC 4035 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The apex or a name with authoritative data (or an empty non-terminal).
    Authoritative,
    /// A delegation point: only its DS and NSEC are the parent's, and signed.
    Delegation,
    /// Below a delegation point: glue, never signed.
    Glue,
}

/// Where `name` stands in `zone`.
pub fn standing(zone: &Zone, name: &Name) -> Standing {
    match zone.zone_cut(name) {
        None => Standing::Authoritative,
        Some(cut) if cut == name => Standing::Delegation,
        Some(_) => Standing::Glue,
    }
}

/// The types of the RRsets at a name that belong to the zone's data (the
/// delegation's NS and DS, not glue, at a delegation point).
fn zone_types(zone: &Zone, name: &Name) -> Vec<RecordType> {
    let Some(node) = zone.node(name) else {
        return Vec::new();
    };
    let standing = standing(zone, name);
    node.rrsets()
        .iter()
        .map(|rrset| rrset.record_type())
        .filter(|record_type| match standing {
            Standing::Authoritative => true,
            Standing::Delegation => matches!(
                record_type,
                RecordType::NS | RecordType::DS | RecordType::NSEC
            ),
            Standing::Glue => false,
        })
        .collect()
}

/// True when an RRset of this type at a name of this standing is signed (RFC 4035 §2.2).
fn is_signed(standing: Standing, record_type: RecordType) -> bool {
    match standing {
        Standing::Authoritative => true,
        Standing::Delegation => matches!(record_type, RecordType::DS | RecordType::NSEC),
        Standing::Glue => false,
    }
}

/// Signs `zone` with `key`: adds the DNSKEY, the DS of its signed children
/// (`child_ds`: each delegation with its child's DS), the denial chain of
/// the zone's `denial` option, and the RRSIGs.
pub fn sign_zone(
    zone: &mut Zone,
    key: &ZoneKey,
    child_ds: &[(Name, DS)],
    validity: Validity,
) -> Result<(), SignError> {
    let apex = zone.origin().clone();
    let negative_ttl = zone.negative_soa().ttl;
    let apex_ttl = zone
        .rrset(&apex, RecordType::NS)
        .map_or(zone.soa().ttl, |rrset| rrset.ttl());
    let dnskey = RData::DNSSEC(DNSSECRData::DNSKEY(key.dnskey().clone()));
    zone.add_generated(vec![Record::from_rdata(apex.clone(), apex_ttl, dnskey)]);
    for (cut, ds) in child_ds {
        let existing = zone.rrset(cut, RecordType::DS).is_some();
        let ns_ttl = zone.rrset(cut, RecordType::NS).map(|rrset| rrset.ttl());
        if let (false, Some(ttl)) = (existing, ns_ttl) {
            let data = RData::DNSSEC(DNSSECRData::DS(ds.clone()));
            zone.add_generated(vec![Record::from_rdata(cut.clone(), ttl, data)]);
        }
    }
    let denial = zone.options().denial;
    if denial == Denial::Nsec3 {
        zone.add_generated(vec![nsec3::param_record(&apex)]);
    }

    // Every name of the zone's data in canonical order (RFC 4034 §6.1).
    let mut names: Vec<Name> = zone
        .nodes()
        .filter(|(name, _)| standing(zone, name) != Standing::Glue)
        .map(|(name, _)| name.clone())
        .collect();
    names.sort();

    let mut security = Security {
        key_tag: key.key_tag(),
        algorithm: key.algorithm(),
        denial,
        nsec_owners: Vec::new(),
        nsec3: None,
    };
    match denial {
        Denial::Nsec => {
            let owners: Vec<Name> = names
                .iter()
                .filter(|name| zone.node(name).is_some_and(|node| !node.is_empty()))
                .cloned()
                .collect();
            for (index, name) in owners.iter().enumerate() {
                let next = owners[(index + 1) % owners.len()].clone();
                let types = zone_types(zone, name);
                let data = NSEC::new_cover_self(next, types);
                let nsec = RData::DNSSEC(DNSSECRData::NSEC(data));
                zone.add_generated(vec![Record::from_rdata(name.clone(), negative_ttl, nsec)]);
            }
            security.nsec_owners = owners;
        }
        Denial::Nsec3 => {
            let entries = names
                .iter()
                .map(|name| {
                    let standing = standing(zone, name);
                    let mut types = zone_types(zone, name);
                    if types.iter().any(|&t| is_signed(standing, t)) {
                        types.push(RecordType::RRSIG);
                    }
                    (name.clone(), types)
                })
                .collect();
            let mut chain = Nsec3Chain::build(&apex, entries, negative_ttl)?;
            for entry in &mut chain.entries {
                let signature = sign_rrset(key, std::slice::from_ref(&entry.record), validity)?;
                entry.signatures = vec![signature];
            }
            security.nsec3 = Some(chain);
        }
    }

    let standings: std::collections::HashMap<Name, Standing> = names
        .iter()
        .map(|name| (name.clone(), standing(zone, name)))
        .collect();
    let mut unsigned: Vec<&mut RRset> = zone
        .nodes_mut()
        .filter_map(|(name, node)| Some((*standings.get(name)?, node)))
        .flat_map(|(standing, node)| {
            node.rrsets_mut()
                .iter_mut()
                .filter(move |rrset| is_signed(standing, rrset.record_type()))
        })
        .collect();
    sign_in_parallel(key, &mut unsigned, validity)?;
    break_on_purpose(zone);
    zone.set_security(security);
    Ok(())
}

/// Breaks the RRSIGs over the data of each `broken_signatures` name (one
/// bit of each signature flipped), so that the lab has bogus data for a
/// validating resolver to refuse (RFC 4035 §5.5); its NSEC and NSEC3
/// records stay sound, so denial proofs still hold.
fn break_on_purpose(zone: &mut Zone) {
    let broken = zone.broken_signatures().to_vec();
    for (name, node) in zone.nodes_mut() {
        if !broken.contains(name) {
            continue;
        }
        let rrsets = node.rrsets_mut().iter_mut();
        for rrset in rrsets
            .filter(|rrset| !matches!(rrset.record_type(), RecordType::NSEC | RecordType::NSEC3))
        {
            for signature in &mut rrset.signatures {
                if let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &signature.data {
                    let mut bytes = rrsig.sig().to_vec();
                    if let Some(last) = bytes.last_mut() {
                        *last ^= 1;
                    }
                    let changed = RRSIG::from_sig(rrsig.input().clone(), bytes);
                    signature.data = RData::DNSSEC(DNSSECRData::RRSIG(changed));
                }
            }
        }
    }
}

/// Signs each RRset, on as many threads as there are cores: signing is
/// nearly all of a large zone's load time (Ed25519 takes tens of µs a set).
fn sign_in_parallel(
    key: &ZoneKey,
    rrsets: &mut [&mut RRset],
    validity: Validity,
) -> Result<(), SignError> {
    let threads = std::thread::available_parallelism().map_or(1, |count| count.get());
    let chunk = rrsets.len().div_ceil(threads).max(MIN_RRSETS_PER_THREAD);
    std::thread::scope(|scope| {
        let workers: Vec<_> = rrsets
            .chunks_mut(chunk)
            .map(|part| {
                scope.spawn(move || {
                    for rrset in part.iter_mut() {
                        rrset.signatures = vec![sign_rrset(key, &rrset.records, validity)?];
                    }
                    Ok::<(), SignError>(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap_or(Err(SignError::ThreadPanicked))?;
        }
        Ok(())
    })
}

/// Below this many RRsets a thread is not worth starting (the lab's zones sign on one).
const MIN_RRSETS_PER_THREAD: usize = 512;

/// The RRSIG over one RRset (RFC 4034 §3, RFC 4035 §2.2), by hickory-proto's
/// to-be-signed form and signer; the labels field discounts a leading `*`.
pub fn sign_rrset(
    key: &ZoneKey,
    records: &[Record],
    validity: Validity,
) -> Result<Record, SignError> {
    let Some(first) = records.first() else {
        return Err(SignError::EmptyRrset);
    };
    let fail = |error| SignError::Rrset {
        name: first.name.clone(),
        record_type: first.record_type(),
        error: Box::new(error),
    };
    let input = SigInput {
        type_covered: first.record_type(),
        algorithm: key.algorithm(),
        num_labels: first.name.num_labels(),
        original_ttl: first.ttl,
        sig_expiration: SerialNumber::new(validity.expiration),
        sig_inception: SerialNumber::new(validity.inception),
        key_tag: key.key_tag(),
        signer_name: key.zone.clone(),
    };
    let tbs = TBS::from_input(&first.name, DNSClass::IN, &input, records.iter()).map_err(fail)?;
    let signature = key.signer().sign(&tbs).map_err(fail)?;
    let rrsig = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, signature)));
    Ok(Record::from_rdata(first.name.clone(), first.ttl, rrsig))
}
