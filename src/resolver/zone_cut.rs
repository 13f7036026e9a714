//! Which zone an unsigned RRset is in (RFC 4035 §4.2, §5.2): the zone cuts
//! between the nearest zone whose keys are known and the RRset's owner,
//! found by asking DS one label at a time, as Unbound does, not taken from
//! whatever delegation the cache still holds.
//!
//! ```text
//! unsigned RRset at owner ─▶ deepest cached delegation Z ─▶ zone_keys(Z)
//!   Insecure / Bogus ─▶ that                                   │ Secure(keys)
//!   for each name N from Z (exclusive) down to owner: N DS ◀───┘
//!     DS answer               ─▶ N is a signed zone: zone_keys(N), go on from N
//!     NODATA, Z's NSEC/NSEC3 proves N an unsigned delegation ─▶ Insecure
//!     NODATA otherwise (no cut at N) ─▶ next name;  NXDOMAIN ─▶ stop
//!   the last secure zone found ─▶ Secure: the RRset should have been signed
//! ```
//!
//! Without it, an insecure answer outliving its delegation in the cache
//! would be judged by a secure zone above the cut and called bogus.

use std::sync::Arc;

use hickory_proto::rr::{Name, RecordType};

use super::cache::Beside;
use super::proof::{Denial, verified_denial};
use super::{Budget, Outcome, Resolver};
use crate::clock;
use crate::names::label_count;
use crate::validator::{Insecure, Security, TrustedKeys, nsec, nsec3};

/// The zone of an unsigned RRset: secure (with its keys), insecure or bogus.
pub(super) type ZoneOf = Security<Arc<TrustedKeys>>;

/// What a DS question at a name says of a zone cut there.
enum Cut {
    /// A DS RRset: a signed zone starts here.
    Signed,
    /// The parent proves an unsigned delegation here (RFC 4035 §5.2).
    Unsigned(Insecure),
    /// No cut shown here: look one label further down.
    None,
    /// The name does not exist, or could not be asked about: stop here.
    Stop,
}

impl Resolver {
    /// The zone `name` is in, as far as the cache knows its cuts: the
    /// deepest cached delegation at or above it, else the root. A hint to
    /// start from: a delegation may have expired while data below it lives.
    pub(super) fn enclosing_zone(&self, name: &Name) -> Name {
        self.cache
            .deepest_delegation(name, clock::now())
            .map_or_else(Name::root, |delegation| delegation.zone.to_lowercase())
    }

    /// The security of the zone holding `name`, which has unsigned data:
    /// from the deepest cached delegation, down through every zone cut
    /// that DS questions reveal on the way to `name`.
    pub(super) async fn zone_of_unsigned(&self, name: &Name, budget: &mut Budget) -> ZoneOf {
        let mut zone = self.enclosing_zone(name);
        let mut keys = match self.zone_keys(&zone, budget).await {
            Security::Secure(keys) => keys,
            other => return other,
        };
        for labels in label_count(&zone) + 1..=label_count(name) {
            let below = name.trim_to(labels);
            if self.trust_points.negative_at(&below) {
                return Security::Insecure(Insecure::NegativeTrustAnchor);
            }
            match self.cut_at(&below, &zone, &keys, budget).await {
                Cut::Signed => match self.zone_keys(&below, budget).await {
                    Security::Secure(below_keys) => (zone, keys) = (below, below_keys),
                    other => return other,
                },
                Cut::Unsigned(why) => return Security::Insecure(why),
                Cut::None => {}
                Cut::Stop => break,
            }
        }
        Security::Secure(keys)
    }

    /// Asks `name`'s DS of `zone`, the secure zone just above it, and reads
    /// the answer, or the NSEC/NSEC3 proof of none, verified with `keys`.
    async fn cut_at(
        &self,
        name: &Name,
        zone: &Name,
        keys: &TrustedKeys,
        budget: &mut Budget,
    ) -> Cut {
        let now = clock::now();
        // A referral that proved the name has no DS answers the question
        // before it is asked (signatures.rs).
        let asked = self.cache.lookup(name, RecordType::DS, now).is_some();
        let kept = self.cache.beside(Beside::Denial, name, RecordType::DS, now);
        let outcome = match asked || kept.authority.is_empty() {
            false => Outcome::NoData(None),
            true => match self.resolve(name, RecordType::DS, budget).await {
                Ok(resolution) if resolution.chain.is_empty() => resolution.outcome,
                _ => return Cut::Stop,
            },
        };
        match outcome {
            Outcome::Answer(_) => Cut::Signed,
            Outcome::NoData(_) => {
                let proof = self
                    .cache
                    .beside(Beside::Denial, name, RecordType::DS, clock::now())
                    .authority;
                let now = self.trust_points.now();
                let validation = &mut budget.validation;
                let proven = match verified_denial(&proof, keys, now, validation) {
                    Ok(Denial::Nsec(nsecs)) => nsec::prove_insecure_delegation(name, zone, &nsecs),
                    Ok(Denial::Nsec3(nsec3s)) => {
                        nsec3::prove_insecure_delegation(name, zone, &nsec3s, validation)
                    }
                    Err(why) => Security::Bogus(why),
                };
                match proven {
                    Security::Insecure(why) => {
                        self.remember_denial(zone, &proof, &[]); // proven: RFC 8198 §4
                        Cut::Unsigned(why)
                    }
                    // Not shown to be a delegation: an empty non-terminal,
                    // a name with data, or a proof we cannot use. Judged
                    // further down, or by this zone in the end (safe: an
                    // unsigned RRset in a secure zone is bogus).
                    _ => Cut::None,
                }
            }
            Outcome::NxDomain(_) | Outcome::YxDomain => Cut::Stop,
        }
    }
}
