//! The trust-anchor key sentinel (RFC 8509): a client learns whether the
//! resolver trusts a given root key by asking for names whose first label
//! is `root-key-sentinel-is-ta-<key tag>` or `root-key-sentinel-not-ta-<key
//! tag>`. A validated (secure) answer to such an A or AAAA question, asked
//! without CD, is SERVFAIL when the label's claim is false of the root's
//! trust anchors (RFC 8509 §3.2), as Unbound and Knot Resolver answer.
//!
//! ```text
//! dig root-key-sentinel-is-ta-20326.example A    # the answer if 20326 is a root anchor, else SERVFAIL
//! dig root-key-sentinel-not-ta-20326.example A   # SERVFAIL if 20326 is a root anchor, else the answer
//! ```

use hickory_proto::rr::{Name, RecordType};

use super::{ResolveError, Resolver};
use crate::validator::{Anchor, Security};

/// What a sentinel label claims of a root key (RFC 8509 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sentinel {
    /// `root-key-sentinel-is-ta-<tag>`: the key is a trust anchor.
    IsTrustAnchor(u16),
    /// `root-key-sentinel-not-ta-<tag>`: the key is not one.
    NotTrustAnchor(u16),
}

impl Sentinel {
    /// The sentinel in `name`'s first label, if there is one: either
    /// prefix (any case) then exactly five decimal digits (RFC 8509 §2).
    pub fn of(name: &Name) -> Option<Self> {
        let label = name.iter().next()?.to_ascii_lowercase();
        let (claim, digits): (fn(u16) -> Self, &[u8]) =
            match label.strip_prefix(b"root-key-sentinel-is-ta-") {
                Some(digits) => (Sentinel::IsTrustAnchor, digits),
                None => (
                    Sentinel::NotTrustAnchor,
                    label.strip_prefix(b"root-key-sentinel-not-ta-")?,
                ),
            };
        if digits.len() != 5 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let tag = std::str::from_utf8(digits).ok()?.parse::<u16>().ok()?;
        Some(claim(tag))
    }
}

impl Resolver {
    /// The key tags of the root's trust anchors (RFC 4034 Appendix B).
    fn root_anchor_key_tags(&self) -> Vec<u16> {
        let anchors = self.trust_points.anchors.iter();
        anchors
            .filter(|anchor| anchor.zone.is_root())
            .filter_map(|anchor| match &anchor.anchor {
                Anchor::Ds(ds) => Some(ds.key_tag()),
                Anchor::Dnskey(key) => key.calculate_key_tag().ok(),
            })
            .collect()
    }

    /// The failure a sentinel question's answer turns into (RFC 8509
    /// §3.2): only a secure answer to A or AAAA, and only when the
    /// sentinel's claim about the root's trust anchors is false.
    pub(super) fn sentinel_failure(
        &self,
        qname: &Name,
        qtype: RecordType,
        security: Option<&Security<()>>,
    ) -> Option<ResolveError> {
        if !matches!(qtype, RecordType::A | RecordType::AAAA)
            || !matches!(security, Some(Security::Secure(())))
        {
            return None;
        }
        let sentinel = Sentinel::of(qname)?;
        let anchored = |tag| self.root_anchor_key_tags().contains(&tag);
        let holds = match sentinel {
            Sentinel::IsTrustAnchor(tag) => anchored(tag),
            Sentinel::NotTrustAnchor(tag) => !anchored(tag),
        };
        (!holds).then_some(ResolveError::KeySentinel(sentinel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("a name")
    }

    #[test]
    fn a_sentinel_label_is_either_prefix_then_five_digits() {
        assert_eq!(
            Sentinel::of(&name("root-key-sentinel-is-ta-20326.example.")),
            Some(Sentinel::IsTrustAnchor(20326))
        );
        assert_eq!(
            Sentinel::of(&name("ROOT-Key-Sentinel-NOT-ta-00042.example.")),
            Some(Sentinel::NotTrustAnchor(42))
        );
        for not_one in [
            "root-key-sentinel-is-ta-2032.example.",   // four digits
            "root-key-sentinel-is-ta-203260.example.", // six
            "root-key-sentinel-is-ta-99999.example.",  // not a key tag
            "root-key-sentinel-is-ta-2032x.example.",
            "x.root-key-sentinel-is-ta-20326.example.", // not the first label
            "root-key-sentinel-maybe-20326.example.",
        ] {
            assert_eq!(Sentinel::of(&name(not_one)), None, "{not_one}");
        }
    }
}
