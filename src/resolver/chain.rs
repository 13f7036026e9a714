//! The chain of trust behind a validated answer, read back from what
//! validation left in the caches (trust.rs, validate.rs), one link a line,
//! for the trace (`resolver trace --dnssec`, RFC 4033 §3.1):
//!
//! ```text
//! . DNSKEY (trust anchor) → edu. DS → edu. DNSKEY → umass.edu. DS → umass.edu. DNSKEY
//!   → gaia.cs.umass.edu. A RRSIG: secure
//! com. DNSKEY … → enterprise.com. DS: none, com. NSEC proves it → www.enterprise.com. A: insecure
//! ```

use hickory_proto::rr::{Name, RecordType};

use super::Resolver;
use super::cache::Beside;
use super::iterate::chain_end;
use super::proof::{signatures_over, signer};
use super::signatures::denial_type;
use super::{Outcome, Resolution};
use crate::clock;
use crate::validator::{Insecure, Security};

/// The links from a trust anchor to an answer, and the answer's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainOfTrust {
    /// Each link, from the trust anchor down: `edu. DS`, `edu. DNSKEY`, …
    pub links: Vec<String>,
    /// The last link: the answer's RRset (or denial) and its verdict.
    pub answer: String,
    /// `secure`, `insecure` or `bogus`.
    pub security: &'static str,
}

/// How far up a chain is followed (a name has at most 127 labels).
const MAX_LINKS: usize = 128;

impl Resolver {
    /// The chain of trust of the answer to `qname`/`qtype` as validated
    /// last, from the caches alone; `None` when it was not validated.
    pub fn chain_of_trust(&self, qname: &Name, qtype: RecordType) -> Option<ChainOfTrust> {
        let mut qname = qname.clone();
        qname.set_fqdn(true); // as asked on the wire
        let qname = &qname;
        let verdict = self.cached_verdict(qname, qtype)?;
        let resolution = self
            .cached_resolution(qname, qtype, |name, record_type, now| {
                self.cache.lookup(name, record_type, now)
            })
            .ok()?;
        let end = chain_end(&resolution.chain, qname);
        let (zone, what) = self.signed_by(&resolution, &end, qtype);
        let mut links = Vec::new();
        self.links_to(&zone, &mut links, MAX_LINKS);
        let (security, words) = match &verdict {
            Security::Secure(()) => ("secure", "secure".to_string()),
            Security::Insecure(why) => ("insecure", format!("insecure ({why})")),
            Security::Bogus(why) => ("bogus", format!("bogus: {why}")),
        };
        Some(ChainOfTrust {
            links,
            answer: format!("{what}: {words}"),
            security,
        })
    }

    /// The zone whose keys vouch for the answer's last RRset, and that RRset
    /// as a link's words (`gaia.cs.umass.edu. A RRSIG`, `… NSEC`).
    fn signed_by(&self, resolution: &Resolution, end: &Name, qtype: RecordType) -> (Name, String) {
        let now = clock::now();
        match &resolution.outcome {
            Outcome::Answer(records) if !records.is_empty() => {
                let (owner, record_type) = (&records[0].name, records[0].record_type());
                match signer(&self.kept_signatures(owner, record_type)) {
                    Some(zone) => (zone, format!("{owner} {record_type} RRSIG")),
                    None => (self.enclosing_zone(owner), format!("{owner} {record_type}")),
                }
            }
            outcome => {
                let record_type = denial_type(outcome, qtype);
                let proof = self.cache.beside(Beside::Denial, end, record_type, now);
                let kind = proof_kind(&proof.authority);
                let words = match outcome {
                    Outcome::NxDomain(_) => format!("{end} does not exist ({kind})"),
                    _ => format!("{end} has no {qtype} ({kind})"),
                };
                let zone = signer(&signatures_over(&proof.authority, RecordType::SOA))
                    .unwrap_or_else(|| self.enclosing_zone(end));
                (zone, words)
            }
        }
    }

    /// Appends the links from the trust anchor down to `zone`'s DNSKEY.
    fn links_to(&self, zone: &Name, links: &mut Vec<String>, depth: usize) {
        let now = clock::now();
        let Some(keys) = self.keys.peek(zone, now, self.cache.generation()) else {
            links.push(format!("{zone} DNSKEY: not fetched"));
            return;
        };
        if depth == 0 {
            return;
        }
        if !self.trust_points.anchors_for(zone).is_empty() {
            let words = match &keys {
                Security::Secure(_) => "(trust anchor)".to_string(),
                Security::Insecure(why) => format!("(trust anchor): insecure ({why})"),
                Security::Bogus(why) => format!("(trust anchor): bogus: {why}"),
            };
            links.push(format!("{zone} DNSKEY {words}"));
            return;
        }
        match &keys {
            Security::Insecure(Insecure::NoTrustAnchor | Insecure::NegativeTrustAnchor) => {
                links.push(format!("{zone}: not validated ({})", keys_reason(&keys)));
            }
            Security::Insecure(why) => {
                let proof = self.cache.beside(Beside::Denial, zone, RecordType::DS, now);
                let parent = signer(&signatures_over(&proof.authority, RecordType::SOA))
                    .unwrap_or_else(|| self.enclosing_zone(&zone.base_name()));
                self.links_to(&parent, links, depth - 1);
                let kind = proof_kind(&proof.authority);
                links.push(format!(
                    "{zone} DS: none, {parent} {kind} proves it: insecure ({why})"
                ));
            }
            Security::Secure(_) | Security::Bogus(_) => {
                let parent = signer(&self.kept_signatures(zone, RecordType::DS))
                    .unwrap_or_else(|| self.enclosing_zone(&zone.base_name()));
                if parent != *zone {
                    self.links_to(&parent, links, depth - 1);
                }
                links.push(format!("{zone} DS"));
                match &keys {
                    Security::Bogus(why) => links.push(format!("{zone} DNSKEY: bogus: {why}")),
                    _ => links.push(format!("{zone} DNSKEY")),
                }
            }
        }
    }
}

/// The kind of denial a proof holds: NSEC3 if it has any, else NSEC.
fn proof_kind(proof: &[hickory_proto::rr::Record]) -> &'static str {
    match proof.iter().any(|r| r.record_type() == RecordType::NSEC3) {
        true => "NSEC3",
        false => "NSEC",
    }
}

fn keys_reason<T>(keys: &Security<T>) -> String {
    match keys {
        Security::Insecure(why) => why.to_string(),
        Security::Bogus(why) => why.to_string(),
        Security::Secure(_) => String::new(),
    }
}
