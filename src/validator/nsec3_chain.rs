//! The NSEC3 records of one zone as a hashed chain (RFC 5155 §8.1–8.3):
//! which parameters apply, which record matches or covers a hash, and the
//! closest-encloser proof, every hash paid from the question's budget.

use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::dnssec::rdata::NSEC3;
use hickory_proto::rr::{Name, Record, RecordData};

use super::budget::ValidationBudget;
use super::nsec::label_count;
use super::reason::{Bogus, Insecure};

/// Iterations above which an NSEC3 chain is treated as insecure
/// (RFC 9276 §3.2 lets validators pick; 150 is Unbound's and Knot's limit).
pub const MAX_NSEC3_ITERATIONS: u16 = 150;

/// The usable NSEC3 records of a zone, with their decoded owner hashes.
pub(super) struct Chain<'a> {
    records: Vec<(Vec<u8>, &'a NSEC3)>,
    salt: &'a [u8],
    iterations: u16,
    hashed: Vec<(Name, Vec<u8>)>,
}

/// What the closest-encloser search (RFC 5155 §8.3) found.
pub(super) enum Encloser<'a> {
    /// QNAME itself has an NSEC3: it exists.
    Exists(&'a NSEC3),
    /// The closest encloser exists and the next closer name is covered.
    Proven {
        /// The closest encloser (RFC 5155 §1.3).
        closest: Name,
        /// The NSEC3 covering the next closer name.
        next_closer_cover: &'a NSEC3,
    },
}

impl<'a> Chain<'a> {
    /// The NSEC3 records of `zone` sharing the first one's parameters
    /// (RFC 5155 §8.2: owner `<hash>.<zone>`, SHA-1, same salt and
    /// iterations); insecure above [`MAX_NSEC3_ITERATIONS`] (RFC 9276 §3.2).
    pub(super) fn new(zone: &Name, nsec3s: &'a [Record]) -> Result<Self, ChainError> {
        let mut records = Vec::new();
        let mut parameters: Option<(&[u8], u16)> = None;
        for record in nsec3s {
            let Some(nsec3) = NSEC3::try_borrow(&record.data) else {
                continue;
            };
            if nsec3.hash_algorithm() != Nsec3HashAlgorithm::SHA1
                || label_count(&record.name) != label_count(zone) + 1
                || !zone.zone_of(&record.name)
            {
                continue;
            }
            let Some(hash) = record.name.iter().next().and_then(base32hex_decode) else {
                continue;
            };
            let (salt, iterations) = *parameters.get_or_insert((nsec3.salt(), nsec3.iterations()));
            if nsec3.salt() != salt || nsec3.iterations() != iterations {
                continue;
            }
            records.push((hash, nsec3));
        }
        let Some((salt, iterations)) = parameters else {
            return Err(ChainError::Bogus(Bogus::NsecMissing));
        };
        if iterations > MAX_NSEC3_ITERATIONS {
            return Err(ChainError::Insecure(Insecure::Nsec3IterationsTooHigh(
                iterations,
            )));
        }
        Ok(Chain {
            records,
            salt,
            iterations,
            hashed: Vec::new(),
        })
    }

    /// The NSEC3 hash of `name` (RFC 5155 §5), computed once per name and
    /// paid from the budget.
    pub(super) fn hash(
        &mut self,
        name: &Name,
        budget: &mut ValidationBudget,
    ) -> Result<Vec<u8>, Bogus> {
        if let Some((_, hash)) = self.hashed.iter().find(|(hashed, _)| hashed == name) {
            return Ok(hash.clone());
        }
        budget.take_nsec3_hash()?;
        let hash = Nsec3HashAlgorithm::SHA1
            .hash(self.salt, name, self.iterations)
            .map_err(|_| Bogus::NsecMissing)?
            .as_ref()
            .to_vec();
        self.hashed.push((name.clone(), hash.clone()));
        Ok(hash)
    }

    /// The NSEC3 whose owner hash is `hash` (RFC 5155 §8.3 "matches").
    pub(super) fn matching(&self, hash: &[u8]) -> Option<&'a NSEC3> {
        self.records
            .iter()
            .find(|(owner, _)| owner.as_slice() == hash)
            .map(|&(_, nsec3)| nsec3)
    }

    /// The NSEC3 whose span holds `hash` (RFC 5155 §8.3 "covers"): owner
    /// < hash < next, the last record wrapping round to the first.
    pub(super) fn covering(&self, hash: &[u8]) -> Option<&'a NSEC3> {
        self.records
            .iter()
            .find(|(owner, nsec3)| {
                let owner = owner.as_slice();
                let next = nsec3.next_hashed_owner_name();
                if owner < next {
                    owner < hash && hash < next
                } else {
                    owner < hash || hash < next
                }
            })
            .map(|&(_, nsec3)| nsec3)
    }

    /// The closest-encloser proof (RFC 5155 §8.3): from QNAME up to the
    /// zone, the first ancestor with a matching NSEC3 is the closest
    /// encloser, and the name one label longer must be covered. The walk is
    /// bounded by QNAME's labels (hickory's validator once looped here).
    pub(super) fn closest_encloser(
        &mut self,
        qname: &Name,
        zone: &Name,
        budget: &mut ValidationBudget,
    ) -> Result<Encloser<'a>, Bogus> {
        if !zone.zone_of(qname) {
            return Err(Bogus::NsecMissing);
        }
        let total = label_count(qname);
        for labels in (label_count(zone)..=total).rev() {
            let candidate = qname.trim_to(labels);
            let hash = self.hash(&candidate, budget)?;
            let Some(nsec3) = self.matching(&hash) else {
                continue;
            };
            if labels == total {
                return Ok(Encloser::Exists(nsec3));
            }
            // A delegation's or DNAME's NSEC3 is no closest encloser
            // (RFC 5155 §8.3, RFC 6840 §4.1): the names below are not here.
            if nsec3.is_ancestor_delegation() {
                return Err(Bogus::NsecMissing);
            }
            let next_closer = qname.trim_to(labels + 1);
            let next_hash = self.hash(&next_closer, budget)?;
            let cover = self.covering(&next_hash).ok_or(Bogus::NsecMissing)?;
            return Ok(Encloser::Proven {
                closest: candidate,
                next_closer_cover: cover,
            });
        }
        Err(Bogus::NsecMissing)
    }
}

/// Why no chain could be used.
pub(super) enum ChainError {
    /// Iterations above the limit (RFC 9276 §3.2).
    Insecure(Insecure),
    /// No usable NSEC3 record.
    Bogus(Bogus),
}

/// Decodes a label in Base32 with the extended hex alphabet (RFC 4648 §7,
/// no padding, either case), as NSEC3 owner names are written
/// (RFC 5155 §3.3); `None` for anything else.
pub(super) fn base32hex_decode(label: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(label.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &character in label {
        let value = match character.to_ascii_lowercase() {
            digit @ b'0'..=b'9' => digit - b'0',
            letter @ b'a'..=b'v' => letter - b'a' + 10,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be padding zeros, and fewer than a character.
    (bits < 5 && buffer == 0).then_some(out)
}
