//! Where the walk finds the servers to ask: the deepest cached delegation
//! (else the root hints), the addresses of NS names known from answers, and
//! the parent's glue as a last resort (Unbound's parent-side fallback).

use std::net::IpAddr;

use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

use super::Resolver;
use super::addresses::is_special;
use super::budget::Budget;
use super::delegation::{Candidate, DelegationPoint};
use super::error::ResolveError;
use super::iterate::{Outcome, Resolution, Step};
use super::reply::address_of;
use crate::capture::UsedFor;
use crate::clock;
use crate::names::label_count;

impl Resolver {
    /// Where to start for `name`: the deepest cached delegation, else the root hints.
    pub(super) fn starting_point(&self, name: &Name) -> DelegationPoint {
        let now = clock::now();
        match self.cache.deepest_delegation(name, now) {
            Some(delegation) => {
                self.report_use(UsedFor::Delegation, &delegation.zone, RecordType::NS);
                DelegationPoint::new(
                    &delegation,
                    |ns| self.cached_addresses(ns, now),
                    |address| self.usable(address),
                )
            }
            // The configured roots are trusted as given; only the IPv6 setting applies.
            None => {
                let mut point = self.roots.clone();
                point.retain_addresses(|address| address.is_ipv4() || self.settings.ipv6);
                point
            }
        }
    }

    /// Addresses of a nameserver name known from authoritative answers.
    pub(super) fn cached_addresses(&self, name: &Name, now: Instant) -> Vec<IpAddr> {
        let mut types = vec![RecordType::A];
        if self.settings.ipv6 {
            types.push(RecordType::AAAA);
        }
        types
            .into_iter()
            .filter_map(|record_type| {
                let records = self.cache.rrset(name, record_type, now)?;
                self.report_use(UsedFor::Address, name, record_type);
                Some(records)
            })
            .flatten()
            .filter_map(|record| address_of(&record))
            .collect()
    }

    /// True when the resolver may send to this address learned from the
    /// network: IPv6 only with the IPv6 setting, special-purpose addresses
    /// (loopback, private, link-local) only with `private_nameservers`.
    pub(super) fn usable(&self, address: &IpAddr) -> bool {
        let family = address.is_ipv4() || self.settings.ipv6;
        let allowed = self.settings.private_nameservers || !is_special(address);
        if family && !allowed {
            tracing::debug!(%address, "not following a referral to a special-purpose address");
        }
        family && allowed
    }

    /// The next server to ask; looks up a glueless NS name when no address is left.
    pub(super) async fn next_server(
        &self,
        point: &mut DelegationPoint,
        budget: &mut Budget,
    ) -> Result<Option<Candidate>, ResolveError> {
        loop {
            if let Some(candidate) = point.next(&self.stats) {
                if budget.avoids(&candidate.address) {
                    continue; // it gave this question bogus data (bogus.rs)
                }
                self.report_choice(point, &candidate);
                return Ok(Some(candidate));
            }
            let Some(ns_name) = point.take_unresolved() else {
                let Some(names) = point.take_parent_side() else {
                    return Ok(None);
                };
                Box::pin(self.parent_side(point, names, budget)).await?;
                continue;
            };
            budget.enter_glueless(&ns_name)?;
            let found = self.resolve(&ns_name, RecordType::A, budget).await;
            budget.leave_glueless();
            match found {
                // RFC 2181 §10.3: an NS name must not be an alias; only direct addresses count.
                Ok(Resolution {
                    chain,
                    outcome: Outcome::Answer(records),
                }) if chain.is_empty() => {
                    for address in records.iter().filter_map(address_of) {
                        if self.usable(&address) {
                            point.add(address, Some(ns_name.clone()));
                        }
                    }
                }
                Ok(_) => {} // no address: the next name, if any
                Err(error @ (ResolveError::Deadline(_) | ResolveError::QueryBudget(_))) => {
                    return Err(error);
                }
                Err(error) => {
                    tracing::debug!(ns = %ns_name, "glueless lookup failed: {error}");
                }
            }
        }
    }

    /// The last look for addresses of a zone's servers, once every address
    /// has failed or none could be found (Unbound's parent-side fallback):
    /// the glue the referral to each NS name's own zone gave; and for a name
    /// inside the zone itself that no glue came with (so that looking it up
    /// would need the zone's own servers), the answer of the zone's
    /// parent's servers, which may know it (Unbound's fetch_glue). An NS
    /// name that is an alias is not followed (RFC 2181 §10.3).
    pub(super) async fn parent_side(
        &self,
        point: &mut DelegationPoint,
        names: Vec<Name>,
        budget: &mut Budget,
    ) -> Result<(), ResolveError> {
        for name in names {
            let mut addresses = self.parent_side_addresses(&name, clock::now());
            if addresses.is_empty() && point.zone.zone_of(&name) && !point.zone.is_root() {
                addresses = self.ask_parent(&point.zone, &name, budget).await?;
            }
            for address in addresses {
                point.add(address, Some(name.clone())); // once: known ones are not added again
            }
        }
        Ok(())
    }

    /// `name`'s addresses as the servers of `zone`'s parent give them; a
    /// spent budget is an error, anything else is no address.
    async fn ask_parent(
        &self,
        zone: &Name,
        name: &Name,
        budget: &mut Budget,
    ) -> Result<Vec<IpAddr>, ResolveError> {
        let parent = self.starting_point(&zone.base_name());
        budget.enter_glueless(name)?;
        let found = self.walk_from(parent, name, RecordType::A, budget).await;
        budget.leave_glueless();
        match found {
            Ok(Step::Done(chain, Outcome::Answer(records))) if chain.is_empty() => Ok(records
                .iter()
                .filter_map(address_of)
                .filter(|address| self.usable(address))
                .collect()),
            Err(error @ (ResolveError::Deadline(_) | ResolveError::QueryBudget(_))) => Err(error),
            Ok(_) => Ok(Vec::new()),
            Err(error) => {
                tracing::debug!(ns = %name, zone = %zone, "the parent does not know it either: {error}");
                Ok(Vec::new())
            }
        }
    }

    /// The glue for `name` that a referral to one of its own zones gave
    /// (the parent's view of its address; the deepest cached delegation at
    /// or above `name` that has some), for when the addresses the child
    /// zone gives have failed or could not be found: Unbound's parent-side
    /// address fallback (Deckard's iter_pcnamerec, iter_pcdirect).
    pub(super) fn parent_side_addresses(&self, name: &Name, now: Instant) -> Vec<IpAddr> {
        (0..=label_count(name))
            .rev()
            .filter_map(|labels| self.cache.delegation(&name.trim_to(labels), now))
            .map(|delegation| {
                delegation
                    .glue
                    .into_iter()
                    .filter(|(owner, address)| owner == name && self.usable(address))
                    .map(|(_, address)| address)
                    .collect::<Vec<_>>()
            })
            .find(|addresses| !addresses.is_empty())
            .unwrap_or_default()
    }
}
