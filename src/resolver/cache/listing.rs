//! The cache as an operator sees it: every entry at or under a name,
//! explained (info.rs), and flushing by name, type or subtree (as
//! `unbound-control dump_cache`, `flush`, `flush_type` and `flush_zone`).
//! A walk over all entries: for the control endpoint, never for an answer.
//! And forgetting one answer without a walk, for the validator to fetch
//! its bogus data again (`forget`).

use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use tokio::time::Instant;

use super::entry::{KeyBuf, Kind};
use super::info::EntryInfo;
use super::{Cache, Ordering};
use crate::names::in_bailiwick;

/// What kind of entry a listed one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// An RRset, or NODATA for a name and type.
    RRset,
    /// NXDOMAIN for a name, whatever the type.
    NxDomain,
    /// A zone's delegation (NS names and glue).
    Delegation,
}

/// One live entry of the cache, with its name and type.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Its owner (the zone, for a delegation).
    pub name: Name,
    /// Its type (ANY for NXDOMAIN, NS for a delegation).
    pub record_type: RecordType,
    /// What it is.
    pub kind: EntryKind,
    /// What it holds, and where it came from.
    pub info: EntryInfo,
}

/// The most entries one listing returns.
pub const MAX_LISTED: usize = 10_000;

impl Cache {
    /// The live entries at or under `name` (of `record_type` only, if
    /// given), names first in DNS order, at most [`MAX_LISTED`].
    pub fn entries_under(
        &self,
        name: &Name,
        record_type: Option<RecordType>,
        now: Instant,
    ) -> Vec<Listed> {
        let mut listed: Vec<Listed> = Vec::new();
        for (key, _) in self.entries.iter() {
            let Some((kind, owner, owner_type)) = decode_key(&key) else {
                continue;
            };
            let Some(kind) = listed_kind(kind) else {
                continue;
            };
            if !in_bailiwick(&owner, name) || record_type.is_some_and(|t| t != owner_type) {
                continue;
            }
            let info = match kind {
                EntryKind::Delegation => self.delegation_info(&owner, now),
                EntryKind::NxDomain => self.nx_domain_info(&owner, now),
                EntryKind::RRset => self.rrset_only_info(&owner, owner_type, now),
            };
            if let Some(info) = info {
                listed.push(Listed {
                    name: owner,
                    record_type: owner_type,
                    kind,
                    info,
                });
            }
            if listed.len() >= MAX_LISTED {
                break;
            }
        }
        listed.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then(u16::from(a.record_type).cmp(&u16::from(b.record_type)))
        });
        listed
    }

    /// Removes the entries of `name` (of `record_type` only, if given; with
    /// `subtree`, every name at or under it too) and returns how many went
    /// (as listed: what is kept beside an answer goes with it uncounted).
    /// Answers encoded from the cache are not replayed after it (the
    /// generation changes).
    pub fn flush(&self, name: &Name, record_type: Option<RecordType>, subtree: bool) -> usize {
        let doomed: Vec<Box<[u8]>> = self
            .entries
            .iter()
            .filter_map(|(key, _)| {
                let (_, owner, owner_type) = decode_key(&key)?;
                let matches_name = if subtree {
                    in_bailiwick(&owner, name)
                } else {
                    owner == *name
                };
                let matches_type = match record_type {
                    None => true,
                    // NXDOMAIN holds for every type (RFC 2308 §5).
                    Some(t) => t == owner_type || key[0] == Kind::NxDomain as u8,
                };
                (matches_name && matches_type).then_some(key)
            })
            .collect();
        for key in &doomed {
            self.entries.remove(key);
        }
        self.generation.fetch_add(1, Ordering::Relaxed);
        // What is kept beside an answer (its sections, its RRSIGs, its
        // proof) goes with it, but is not counted apart from it.
        doomed
            .iter()
            .filter(|key| listed_kind(key[0]).is_some())
            .count()
    }

    /// Forgets what is cached for `name`/`record_type`: the RRset or
    /// NODATA, an NXDOMAIN of the name, and what is kept beside them (their
    /// RRSIGs, proofs and sections), so that they are fetched again (a
    /// validator's bogus data, RFC 4035 §5.5). Other entries stay.
    pub fn forget(&self, name: &Name, record_type: RecordType) {
        // One encoding of the name, each entry's kind and type written over it.
        let mut key = KeyBuf::new(Kind::NxDomain, RecordType::ANY, name);
        self.entries.remove(key.as_slice());
        key.retarget(Kind::Denial, RecordType::ANY);
        self.entries.remove(key.as_slice());
        for kind in [Kind::RRset, Kind::Signatures, Kind::Denial, Kind::Sections] {
            key.retarget(kind, record_type);
            self.entries.remove(key.as_slice());
        }
    }

    /// The live NXDOMAIN entry of `name`, explained.
    fn nx_domain_info(&self, name: &Name, now: Instant) -> Option<EntryInfo> {
        self.info(&KeyBuf::new(Kind::NxDomain, RecordType::ANY, name), now)
    }
}

/// The kind a key's kind byte lists as; `None` for what is kept beside an
/// answer (its sections, RRSIGs and proof), which is not an entry of its own.
fn listed_kind(kind: u8) -> Option<EntryKind> {
    match kind {
        k if k == Kind::RRset as u8 => Some(EntryKind::RRset),
        k if k == Kind::NxDomain as u8 => Some(EntryKind::NxDomain),
        k if k == Kind::Delegation as u8 => Some(EntryKind::Delegation),
        _ => None,
    }
}

/// A key's kind byte, owner and type.
fn decode_key(key: &[u8]) -> Option<(u8, Name, RecordType)> {
    let (&kind, rest) = key.split_first()?;
    let (record_type, wire) = rest.split_first_chunk::<2>()?;
    let name = Name::read(&mut BinDecoder::new(wire)).ok()?;
    Some((
        kind,
        name,
        RecordType::from(u16::from_be_bytes(*record_type)),
    ))
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::rdata::{A, SOA};
    use hickory_proto::rr::{RData, Record};

    use super::*;
    use crate::config::CacheConfig;
    use crate::resolver::cache::Credibility;
    use crate::resolver::delegation::Delegation;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("a valid name")
    }

    fn a(owner: &str) -> Record {
        Record::from_rdata(name(owner), 600, RData::A(A::new(192, 0, 2, 1)))
    }

    /// gaia's A, umass.edu's delegation, an NXDOMAIN under umass.edu, and poly.edu's A.
    fn filled(now: Instant) -> Cache {
        let cache = Cache::new(&CacheConfig::default(), 1 << 20);
        let answer = Credibility::AuthoritativeAnswer;
        cache.insert_rrset(&[a("gaia.cs.umass.edu.")], answer, now);
        cache.insert_rrset(&[a("cis.poly.edu.")], answer, now);
        let delegation = Delegation {
            zone: name("umass.edu."),
            name_servers: vec![name("dns.umass.edu.")],
            glue: vec![],
        };
        cache.insert_delegation(delegation, 3600, Credibility::Referral, now);
        let soa = SOA::new(
            name("dns.umass.edu."),
            name("hostmaster.umass.edu."),
            1,
            2,
            3,
            4,
            300,
        );
        let soa = Record::from_rdata(name("umass.edu."), 300, RData::SOA(soa));
        cache.insert_nx_domain(&name("nope.umass.edu."), &soa, answer, now);
        cache
    }

    fn listed(
        cache: &Cache,
        under: &str,
        record_type: Option<RecordType>,
        now: Instant,
    ) -> Vec<String> {
        cache
            .entries_under(&name(under), record_type, now)
            .iter()
            .map(|entry| format!("{} {} {:?}", entry.name, entry.record_type, entry.kind))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_listing_holds_every_live_entry_at_or_under_the_name() {
        let now = Instant::now();
        let cache = filled(now);
        assert_eq!(
            listed(&cache, "umass.edu.", None, now),
            [
                "umass.edu. NS Delegation",
                "gaia.cs.umass.edu. A RRset",
                "nope.umass.edu. ANY NxDomain",
            ]
        );
        assert_eq!(
            listed(&cache, "umass.edu.", Some(RecordType::A), now),
            ["gaia.cs.umass.edu. A RRset"]
        );
        assert_eq!(listed(&cache, ".", None, now).len(), 4);
        let gaia = &cache.entries_under(&name("gaia.cs.umass.edu."), None, now)[0];
        assert_eq!(gaia.info.records[0].name, name("gaia.cs.umass.edu."));
        // Past their TTLs, entries are not listed.
        let later = now + std::time::Duration::from_secs(601);
        assert_eq!(
            listed(&cache, "umass.edu.", None, later),
            ["umass.edu. NS Delegation"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_flush_removes_the_name_its_type_or_its_subtree() {
        let now = Instant::now();
        let cache = filled(now);
        let generation = cache.generation();
        assert_eq!(
            cache.flush(&name("gaia.cs.umass.edu."), Some(RecordType::AAAA), false),
            0
        );
        assert_eq!(
            cache.flush(&name("gaia.cs.umass.edu."), Some(RecordType::A), false),
            1
        );
        assert!(
            cache
                .rrset(&name("gaia.cs.umass.edu."), RecordType::A, now)
                .is_none()
        );
        assert!(
            cache.generation() > generation,
            "no replay of what was flushed"
        );
        // The zone alone keeps what is under it; the subtree goes whole.
        assert_eq!(cache.flush(&name("umass.edu."), None, false), 1);
        assert_eq!(
            listed(&cache, "umass.edu.", None, now),
            ["nope.umass.edu. ANY NxDomain"]
        );
        cache.insert_rrset(
            &[a("gaia.cs.umass.edu.")],
            Credibility::AuthoritativeAnswer,
            now,
        );
        assert_eq!(cache.flush(&name("umass.edu."), None, true), 2);
        assert_eq!(listed(&cache, ".", None, now), ["cis.poly.edu. A RRset"]);
    }
}
