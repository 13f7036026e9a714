//! Trust anchors (RFC 4033 §2, RFC 4035 §4.4): DS or DNSKEY records
//! configured as trusted, in presentation form (RFC 4034 §2.2, §5.3), and
//! the IANA root anchors as the default for the Internet.
//!
//! ```text
//! ". IN DS 20326 8 2 E06D44B8…"  ─▶ hickory's zone-file parser    ─▶ TrustAnchor { zone, Anchor::Ds }
//! ". IN DNSKEY 257 3 8 AwEAAa…"  ─▶ hickory's trust-anchor parser ─▶ TrustAnchor { zone, Anchor::Dnskey }
//! ```

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_proto::dnssec::{PublicKey, PublicKeyBuf, TrustAnchors};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use hickory_proto::serialize::txt::{ParseError, Parser, parse_ttl, trust_anchor};

/// What a DNSKEY RRset is checked against (RFC 4035 §5.2): a DS from the
/// parent (already validated) or a configured trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A DS record: a digest of one of the zone's DNSKEYs (RFC 4034 §5).
    Ds(DS),
    /// A DNSKEY trusted as it is (RFC 4035 §4.4).
    Dnskey(DNSKEY),
}

/// A configured trust anchor: the zone it is for and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The zone whose DNSKEY RRset the anchor authenticates.
    pub zone: Name,
    /// The DS or DNSKEY.
    pub anchor: Anchor,
}

/// Why a trust anchor's text was refused.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The text has no record in it.
    #[error("no DS or DNSKEY record in {0:?}")]
    Empty(String),
    /// The record is of another type than DS or DNSKEY.
    #[error("a trust anchor is a DS or DNSKEY record, not {0} ({1:?})")]
    NotDsOrDnskey(String, String),
    /// The record is not of class IN.
    #[error("a trust anchor is of class IN, not {0} ({1:?})")]
    NotInternetClass(DNSClass, String),
    /// hickory's parser refused the text.
    #[error("cannot read the trust anchor {text:?}: {source}")]
    Syntax {
        /// The anchor's text.
        text: String,
        /// What the parser said.
        source: ParseError,
    },
}

/// Reads one trust anchor in presentation form, `OWNER [TTL] [IN] DS|DNSKEY
/// RDATA` (RFC 4034 §2.2, §5.3), with an absolute owner name.
pub fn parse_trust_anchor(text: &str) -> Result<TrustAnchor, AnchorError> {
    let flat = one_line(text);
    let mut words: Vec<&str> = flat.split_whitespace().collect();
    let Some(type_at) = words
        .iter()
        .skip(1)
        .position(|word| parse_ttl(word).is_err() && word.parse::<DNSClass>().is_err())
        .map(|position| position + 1)
    else {
        return Err(AnchorError::Empty(text.to_string()));
    };
    let record_type = words[type_at].to_ascii_uppercase();
    // The class may be left out (RFC 1035 §5.1); hickory's readers want it.
    let classless = !words[1..type_at]
        .iter()
        .any(|word| word.parse::<DNSClass>().is_ok());
    if classless {
        words.insert(type_at, "IN");
    }
    let normalized = words.join(" ");
    let syntax = |source| AnchorError::Syntax {
        text: text.to_string(),
        source,
    };
    match record_type.as_str() {
        "DS" => parse_ds(&normalized).map_err(syntax)?,
        "DNSKEY" => parse_dnskey(&normalized).map_err(syntax)?,
        other => {
            return Err(AnchorError::NotDsOrDnskey(
                other.to_string(),
                text.to_string(),
            ));
        }
    }
    .ok_or_else(|| AnchorError::Empty(text.to_string()))
    .and_then(|(anchor, class)| match class {
        DNSClass::IN => Ok(anchor),
        class => Err(AnchorError::NotInternetClass(class, text.to_string())),
    })
}

/// The record on one line, as hickory's trust-anchor reader wants it:
/// comments cut, and the parentheses that only group lines (RFC 1035 §5.1)
/// dropped; neither a DS nor a DNSKEY has `(`, `)` or `;` in its data.
fn one_line(text: &str) -> String {
    text.lines()
        .map(|line| line.split(';').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['(', ')'], " ")
}

/// Reads every trust anchor of a list (as `[dnssec] trust_anchors` holds them).
pub fn parse_trust_anchors<S: AsRef<str>>(texts: &[S]) -> Result<Vec<TrustAnchor>, AnchorError> {
    texts
        .iter()
        .map(|text| parse_trust_anchor(text.as_ref()))
        .collect()
}

/// A DS with hickory's zone-file parser (it reads DS, not DNSKEY).
fn parse_ds(text: &str) -> Result<Option<(TrustAnchor, DNSClass)>, ParseError> {
    let (_, rrsets) = Parser::new(format!("$TTL 0\n{text}\n"), None, Some(Name::root())).parse()?;
    let record = rrsets
        .into_values()
        .flat_map(|rrset| rrset.records_without_rrsigs().cloned().collect::<Vec<_>>())
        .next();
    Ok(record.and_then(|record| match record.data {
        RData::DNSSEC(DNSSECRData::DS(ds)) => Some((
            TrustAnchor {
                zone: record.name,
                anchor: Anchor::Ds(ds),
            },
            record.dns_class,
        )),
        _ => None,
    }))
}

/// A DNSKEY with hickory's trust-anchor parser (it reads DNSKEY only).
fn parse_dnskey(text: &str) -> Result<Option<(TrustAnchor, DNSClass)>, ParseError> {
    let entries = trust_anchor::Parser::new(format!("{text}\n")).parse()?;
    Ok(entries.into_iter().find_map(|entry| match entry {
        trust_anchor::Entry::DNSKEY(record) => Some((
            TrustAnchor {
                zone: record.name().clone(),
                anchor: Anchor::Dnskey(record.data().clone()),
            },
            record.dns_class(),
        )),
        // The entry type is non-exhaustive: DS may come one day.
        _ => None,
    }))
}

/// The IANA root zone's DS records (KSK-2017 and KSK-2024, as published in
/// <https://data.iana.org/root-anchors/root-anchors.xml>, RFC 7958), in the
/// presentation form `[dnssec] trust_anchors` takes.
pub const IANA_ROOT_TRUST_ANCHORS: [&str; 2] = [
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
];

/// The IANA root zone's key-signing keys (KSK-2017, tag 20326, and
/// KSK-2024, tag 38696; RFC 7958 describes how IANA publishes them), as
/// hickory-proto ships them, with the Zone Key and SEP flags (257).
pub fn iana_root_anchors() -> Vec<TrustAnchor> {
    let keys = TrustAnchors::default();
    (0..keys.len())
        .filter_map(|index| keys.get(index))
        .map(|key| TrustAnchor {
            zone: Name::root(),
            anchor: Anchor::Dnskey(DNSKEY::new(
                true,
                true,
                false,
                PublicKeyBuf::new(key.public_bytes().to_vec(), key.algorithm()),
            )),
        })
        .collect()
}

impl Anchor {
    /// The record type of the anchor (DS or DNSKEY).
    pub fn record_type(&self) -> RecordType {
        match self {
            Anchor::Ds(_) => RecordType::DS,
            Anchor::Dnskey(_) => RecordType::DNSKEY,
        }
    }
}
