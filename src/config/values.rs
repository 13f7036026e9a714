//! Values of `resolver.toml` that are more than a TOML type: sizes with a
//! suffix, the roots (`"iana"` or addresses), positive times.

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::Roots;

/// A size in bytes: a number, or a string of digits with an optional K, M
/// or G suffix (powers of 1024), as Unbound's `msg-cache-size` takes.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let value: u64 = digits.trim().parse().ok()?;
    value.checked_mul(1u64 << shift)
}

/// `size = 1048576` or `size = "1M"`.
pub(super) fn deserialize_size<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(deserializer)? {
        Size::Bytes(bytes) => Ok(bytes),
        Size::Text(text) => parse_size(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "size {text:?}: expected bytes, or a number with K, M or G (e.g. \"256M\")"
            ))
        }),
    }
}

/// True for a finite, positive number of seconds (a usable time-out).
pub(super) fn positive(seconds: f64) -> bool {
    seconds.is_finite() && seconds > 0.0
}

/// `roots = "iana"` or `roots = ["198.41.0.4", ...]`.
pub(super) fn deserialize_roots<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Roots>, D::Error> {
    struct RootsVisitor;

    impl<'de> Visitor<'de> for RootsVisitor {
        type Value = Option<Roots>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("\"iana\" or a list of root server IP addresses")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            if value.eq_ignore_ascii_case("iana") {
                Ok(Some(Roots::Iana))
            } else {
                Err(E::invalid_value(de::Unexpected::Str(value), &self))
            }
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut addresses = Vec::new();
            while let Some(address) = seq.next_element::<IpAddr>()? {
                addresses.push(address);
            }
            Ok(Some(Roots::Addresses(addresses)))
        }
    }

    deserializer.deserialize_any(RootsVisitor)
}
