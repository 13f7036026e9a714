//! Small helpers on domain names that the RFCs talk about but hickory-proto
//! does not spell out: label counts, ancestors, bailiwick.

use hickory_proto::rr::Name;

/// The number of labels of a name, a leading `*` included (unlike
/// [`Name::num_labels`], which discounts it for RFC 4034 purposes).
pub fn label_count(name: &Name) -> usize {
    name.iter().len()
}

/// The ancestors of `name` strictly below `top`, nearest `top` first, then `name` itself.
///
/// For `gaia.cs.umass.edu.` below `edu.` this yields `umass.edu.`,
/// `cs.umass.edu.`, `gaia.cs.umass.edu.`. Yields nothing when `name` is not
/// below `top`.
pub fn descendants_toward(top: &Name, name: &Name) -> impl Iterator<Item = Name> {
    let top_labels = label_count(top);
    let name_labels = label_count(name);
    let range = if in_bailiwick(name, top) {
        top_labels + 1..name_labels + 1
    } else {
        0..0
    };
    let name = name.clone();
    range.map(move |labels| name.trim_to(labels))
}

/// True when `name` is `zone` or below it, label by label and ignoring case
/// (the bailiwick test, RFC 7719 §7): `xample.com.` is not in `example.com.`.
pub fn in_bailiwick(name: &Name, zone: &Name) -> bool {
    zone.zone_of(name)
}

/// True when `name` is strictly below `zone`.
pub fn strictly_below(name: &Name, zone: &Name) -> bool {
    label_count(name) > label_count(zone) && zone.zone_of(name)
}

/// The name, lower-cased and fully qualified: the form zones and caches use as keys.
pub fn canonical(name: &Name) -> Name {
    let mut name = name.to_lowercase();
    name.set_fqdn(true);
    name
}

/// A question as a map key (the resolutions in progress, the failures
/// held): the type, then the name in wire form, lower case. Hashed and
/// compared as bytes, where a [`Name`] hashes and compares label by label
/// folding the case of every octet, hundreds of instructions each time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuestionKey(Box<[u8]>);

impl QuestionKey {
    /// The key of `name` (any case) and `qtype`.
    pub fn new(name: &Name, qtype: hickory_proto::rr::RecordType) -> Self {
        let mut bytes = Vec::with_capacity(2 + name.len() + 2);
        bytes.extend_from_slice(&u16::from(qtype).to_be_bytes());
        // A hickory-proto name's labels are at most 63 octets: it always encodes.
        let _ = push_wire_form(name, &mut bytes);
        // Length octets are below 64, never letters: the whole name folds.
        bytes[2..].make_ascii_lowercase();
        QuestionKey(bytes.into_boxed_slice())
    }
}

/// Appends `name` in wire form, uncompressed, as spelt (RFC 1035 §3.1; read
/// back with hickory-proto's decoder), without the encoder's bookkeeping
/// for compression (an allocation per label). `None` for a label no name
/// may have (over 63 octets).
pub fn push_wire_form(name: &Name, into: &mut Vec<u8>) -> Option<()> {
    for label in name.iter() {
        into.push(
            u8::try_from(label.len())
                .ok()
                .filter(|length| *length <= 63)?,
        );
        into.extend_from_slice(label);
    }
    into.push(0);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("test names are valid")
    }

    #[test]
    fn bailiwick_is_label_aware() {
        assert!(in_bailiwick(
            &name("www.example.com."),
            &name("example.com.")
        ));
        assert!(in_bailiwick(&name("EXAMPLE.com."), &name("example.com.")));
        assert!(!in_bailiwick(&name("xample.com."), &name("example.com.")));
        assert!(!in_bailiwick(
            &name("wwwexample.com."),
            &name("example.com.")
        ));
        assert!(in_bailiwick(&name("anything.org."), &Name::root()));
    }

    #[test]
    fn descendants_walk_down_from_the_top() {
        let names: Vec<String> = descendants_toward(&name("edu."), &name("gaia.cs.umass.edu."))
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, ["umass.edu.", "cs.umass.edu.", "gaia.cs.umass.edu."]);
        assert_eq!(
            descendants_toward(&name("com."), &name("umass.edu.")).count(),
            0
        );
    }

    #[test]
    fn wildcard_labels_count() {
        assert_eq!(label_count(&name("*.example.com.")), 3);
        assert!(strictly_below(&name("a.b."), &name("b.")));
        assert!(!strictly_below(&name("b."), &name("b.")));
    }

    #[test]
    fn a_question_key_ignores_case_and_tells_types_and_names_apart() {
        use hickory_proto::rr::RecordType;
        let key = |text: &str, qtype| QuestionKey::new(&name(text), qtype);
        assert_eq!(
            key("WWW.Example.COM.", RecordType::A),
            key("www.example.com.", RecordType::A)
        );
        assert_ne!(
            key("www.example.com.", RecordType::A),
            key("www.example.com.", RecordType::AAAA)
        );
        assert_ne!(
            key("www.example.com.", RecordType::A),
            key("wwwexample.com.", RecordType::A)
        );
        assert_ne!(key("ab.c.", RecordType::A), key("a.bc.", RecordType::A));
    }
}
