//! `[dnssec]`: whether answers are validated (RFC 4033 §5, RFC 4035 §5),
//! from which trust anchors, which zones are not, and at what date.
//!
//! ```toml
//! [dnssec]
//! validate = true                       # default: on with roots = "iana" and the lab
//! trust_anchors = [". IN DS 20326 8 2 E06D…"]   # default: IANA's, or the lab root's key
//! negative_trust_anchors = ["broken.example."]  # RFC 7646: answered, never validated
//! date = "20261201000000"               # validate as if it were then (tests)
//! ```

use hickory_proto::rr::Name;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::validator::{TrustAnchor, parse_trust_anchor};

/// `[dnssec]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnssecConfig {
    /// Validate answers (RFC 4035 §5). Unset: on when there is a trust
    /// anchor to start from (configured, IANA's with `roots = "iana"`, or
    /// the lab root's key), off otherwise.
    pub validate: Option<bool>,
    /// Trust anchors, DS or DNSKEY records in presentation form (RFC 4034
    /// §2.2, §5.3). Empty: the IANA root anchors with `roots = "iana"`, the
    /// lab root's DNSKEY in the lab.
    #[serde(deserialize_with = "deserialize_anchors")]
    pub trust_anchors: Vec<TrustAnchor>,
    /// Zones whose answers are never validated, and get no AD (RFC 7646).
    #[serde(deserialize_with = "deserialize_names")]
    pub negative_trust_anchors: Vec<Name>,
    /// The time signatures are checked at, seconds since 1970, instead of
    /// the clock's (Unbound's `val-override-date`): `"YYYYMMDDHHMMSS"` as
    /// in an RRSIG (RFC 4034 §3.2), or a number of seconds.
    #[serde(deserialize_with = "deserialize_date")]
    pub date: Option<u32>,
}

fn deserialize_anchors<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<TrustAnchor>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| parse_trust_anchor(text).map_err(D::Error::custom))
        .collect()
}

fn deserialize_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Name>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| {
            Name::from_ascii(text)
                .map(|name| name.to_lowercase())
                .map_err(|error| D::Error::custom(format!("bad zone name {text:?}: {error}")))
        })
        .collect()
}

fn deserialize_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_date(&text)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("bad date {text:?}: YYYYMMDDHHMMSS or seconds")))
}

/// `"YYYYMMDDHHMMSS"` (UTC, RFC 4034 §3.2) or a number of seconds since
/// 1970 (fewer than 14 digits), as seconds since 1970.
pub fn parse_date(text: &str) -> Option<u32> {
    if !text.bytes().all(|b| b.is_ascii_digit()) || text.is_empty() {
        return None;
    }
    if text.len() != 14 {
        return text.parse().ok();
    }
    let field = |range: std::ops::Range<usize>| text[range].parse::<i64>().ok();
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hour, minute, second) = (field(8..10)?, field(10..12)?, field(12..14)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u32::try_from(seconds).ok()
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (the usual era-based count: 400-year eras of 146,097 days).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_rrsig_times_or_seconds() {
        assert_eq!(parse_date("19700101000000"), Some(0));
        // RFC 4034 §3.3's example expiration, 2004-04-23 23:52:00 UTC... in seconds:
        assert_eq!(parse_date("20040423235200"), Some(1_082_764_320));
        assert_eq!(parse_date("20261201000000"), Some(1_796_083_200));
        assert_eq!(parse_date("1796083200"), Some(1_796_083_200));
        assert_eq!(parse_date("20261301000000"), None, "month 13");
        assert_eq!(parse_date("2026-12-01"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn a_bad_trust_anchor_is_a_configuration_error_that_quotes_it() {
        #[derive(Debug, Deserialize)]
        struct Wrapper {
            #[allow(dead_code)]
            dnssec: DnssecConfig,
        }
        let error = toml::from_str::<Wrapper>("[dnssec]\ntrust_anchors = [\". IN A 192.0.2.1\"]")
            .expect_err("an A record is no trust anchor");
        assert!(error.to_string().contains("192.0.2.1"), "{error}");
        let good = toml::from_str::<Wrapper>(
            "[dnssec]\ntrust_anchors = [\". IN DNSKEY 257 3 15 aQXxf4Bqk44TlTwvndr3OLWNPPpd8DLdp0Ds1Kz2GdM=\"]\ndate = \"20261201000000\"",
        )
        .expect("a DNSKEY anchor and a date parse");
        assert_eq!(good.dnssec.trust_anchors.len(), 1);
        assert_eq!(good.dnssec.date, Some(1_796_083_200));
    }
}
