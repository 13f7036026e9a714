//! A bogus answer asked again of other servers of its zone before it is
//! SERVFAIL, as Unbound does: one server may be broken, tampered with or
//! stale while its zone's other servers are sound (RFC 4035 §5.5 leaves the
//! choice to the resolver; RFC 4033 §3 wants forged data refused, not the
//! whole zone).
//!
//! ```text
//! DNSKEY or DS RRset bogus (trust.rs) ─▶ forget it, avoid its server ─▶ fetch it again, at most MAX_BOGUS_RETRIES times
//! answer bogus ─▶ which RRsets (or the denial) are bogus, and which server gave each (the cache's provenance)
//!              ─▶ forget them (and the verdict), avoid those servers for this question, penalise them
//!              ─▶ resolve again within the same budget ─▶ validate ─▶ at most MAX_BOGUS_RETRIES times
//! ```

use std::net::IpAddr;

use hickory_proto::rr::{Name, RecordType};

use super::iterate::{LAME_PENALTY, chain_end};
use super::validate::{Verdict, rrsets};
use super::{Budget, Outcome, Resolution, Resolver};
use crate::clock;
use crate::validator::{Bogus, Security};

/// How many times a bogus answer is fetched again from other servers
/// (three tries in all; Unbound's validator restarts a few times too).
pub const MAX_BOGUS_RETRIES: usize = 2;

impl Resolver {
    /// The verdict on `resolution`; a bogus one fetched again from servers
    /// other than those that gave the bogus data, within `budget`, at most
    /// [`MAX_BOGUS_RETRIES`] times. Returns the resolution last validated.
    pub(super) async fn validated_with_retries(
        &self,
        qname: &Name,
        qtype: RecordType,
        mut resolution: Resolution,
        budget: &mut Budget,
    ) -> (Resolution, Verdict) {
        let mut verdict = self.validated(qname, qtype, &resolution, budget).await;
        for _ in 0..MAX_BOGUS_RETRIES {
            if !verdict.is_bogus() {
                break;
            }
            let servers = self.forget_bogus(qname, qtype, &resolution, budget).await;
            if servers.is_empty() {
                break; // bogus keys, or data from nowhere known: nothing to ask again
            }
            for server in servers {
                self.avoid(server, qname, qtype, budget);
            }
            match self.resolve(qname, qtype, budget).await {
                Ok(again) => resolution = again,
                Err(_) => break, // no other server, or the budget spent: still bogus
            }
            verdict = self.validated(qname, qtype, &resolution, budget).await;
        }
        (resolution, verdict)
    }

    /// Forgets the bogus parts of `resolution` (each RRset that does not
    /// verify, else the negative answer whose proof does not) and its
    /// verdict; returns the servers that gave them.
    async fn forget_bogus(
        &self,
        qname: &Name,
        qtype: RecordType,
        resolution: &Resolution,
        budget: &mut Budget,
    ) -> Vec<IpAddr> {
        let mut sets = rrsets(&resolution.chain);
        if let Outcome::Answer(records) = &resolution.outcome {
            sets.extend(rrsets(records));
        }
        let mut bogus: Vec<(Name, RecordType)> = Vec::new();
        for set in sets {
            if let Security::Bogus(_) = self.validate_rrset(&set, budget).await {
                bogus.push((set[0].name.clone(), set[0].record_type()));
            }
        }
        if bogus.is_empty()
            && matches!(
                resolution.outcome,
                Outcome::NoData(_) | Outcome::NxDomain(_)
            )
        {
            bogus.push((chain_end(&resolution.chain, qname), qtype));
        }
        let mut servers = Vec::new();
        for (owner, record_type) in bogus {
            let server = self.forget_from(&owner, record_type);
            if let Some(server) = server.filter(|server| !servers.contains(server)) {
                servers.push(server);
            }
        }
        self.forget_verdict(qname, qtype);
        servers
    }

    /// Forgets the cached `name`/`record_type` that did not verify and
    /// returns the server that gave it, if known (the cache's provenance).
    fn forget_from(&self, name: &Name, record_type: RecordType) -> Option<IpAddr> {
        let server = self
            .cache
            .rrset_info(name, record_type, clock::now())
            .and_then(|info| info.provenance)
            .map(|provenance| provenance.server.ip());
        self.cache.forget(name, record_type);
        server
    }

    /// Whether a bogus DNSKEY or DS RRset of `zone` (the chain of trust's,
    /// trust.rs), failed with `why` after `retries` retries, is to be fetched
    /// again from another server; if so it is forgotten, and the server that
    /// gave it avoided and penalised. Not when the budget is spent, nor
    /// past [`MAX_BOGUS_RETRIES`], nor when that server is not known (asking
    /// again would ask the same).
    pub(super) fn retry_bogus(
        &self,
        zone: &Name,
        record_type: RecordType,
        why: &Bogus,
        retries: usize,
        budget: &mut Budget,
    ) -> bool {
        if matches!(why, Bogus::BudgetExhausted(_)) || retries >= MAX_BOGUS_RETRIES {
            return false;
        }
        let Some(server) = self.forget_from(zone, record_type) else {
            return false;
        };
        self.avoid(server, zone, record_type, budget);
        true
    }

    /// Asks `server` no more for this question and puts it behind the
    /// zone's other servers: it gave bogus `name`/`record_type`.
    fn avoid(&self, server: IpAddr, name: &Name, record_type: RecordType, budget: &mut Budget) {
        tracing::debug!(%server, %name, %record_type, "bogus data: asking another server");
        budget.avoid(server);
        self.stats.record_lame(server, LAME_PENALTY);
    }
}
