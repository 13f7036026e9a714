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
}
