//! The zone rules that span names, and zones: those of DNAME (RFC 6672
//! §2.3, §2.4).
//!
//! A DNAME redirects every name below its owner, so nothing may live below
//! it (no query could reach it), no CNAME may share its name (one name, one
//! redirection), and beside NS records it may stand only at the apex (below
//! it, the NS set is a delegation and the DNAME would be the child's data).

use std::collections::HashMap;
use std::sync::Arc;

use hickory_proto::rr::{Name, RecordType};

use super::error::{ZoneError, ZoneErrorKind};
use super::{Node, Zone};
use crate::names::strictly_below;

/// Every breach of RFC 6672's zone rules, each with the name whose first
/// record is to blame (the caller names that record's file and position).
pub(super) fn dname_rules(
    origin: &Name,
    nodes: &HashMap<Name, Node>,
) -> Vec<(Name, ZoneErrorKind)> {
    let owners: Vec<&Name> = nodes
        .iter()
        .filter(|(_, node)| node.rrset(RecordType::DNAME).is_some())
        .map(|(name, _)| name)
        .collect();
    let mut errors = Vec::new();
    for owner in &owners {
        let node = &nodes[*owner];
        if node.rrset(RecordType::CNAME).is_some() {
            errors.push((
                (*owner).clone(),
                ZoneErrorKind::DnameAndCname((*owner).clone()),
            ));
        }
        if *owner != origin && node.rrset(RecordType::NS).is_some() {
            errors.push((
                (*owner).clone(),
                ZoneErrorKind::DnameAtDelegation((*owner).clone()),
            ));
        }
    }
    for name in nodes.keys() {
        if let Some(dname) = owners.iter().find(|owner| strictly_below(name, owner)) {
            let kind = ZoneErrorKind::BelowDname {
                name: name.clone(),
                dname: (*dname).clone(),
            };
            errors.push((name.clone(), kind));
        }
    }
    errors
}

/// Every zone whose apex is at or below a DNAME of another of `zones`
/// (RFC 6672 §2.4: a server SHOULD refuse to load it), named by its file.
pub(super) fn zones_below_dnames<'a>(
    zones: impl Iterator<Item = &'a Arc<Zone>> + Clone,
) -> Vec<ZoneError> {
    let mut errors = Vec::new();
    for zone in zones.clone() {
        let origin = zone.origin();
        let dname = zones
            .clone()
            .filter(|parent| strictly_below(origin, parent.origin()))
            .find_map(|parent| {
                let at = parent
                    .rrset(origin, RecordType::DNAME)
                    .map(|r| &r.records[0]);
                at.or_else(|| parent.dname_above(origin))
                    .map(|record| (record.name.clone(), parent.file().to_path_buf()))
            });
        if let Some((dname, file)) = dname {
            errors.push(ZoneError {
                file: zone.file().to_path_buf(),
                line: None,
                record: None,
                what: None,
                kind: ZoneErrorKind::ZoneBelowDname {
                    origin: origin.clone(),
                    dname,
                    file,
                },
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::load::parse_zone;
    use super::*;

    const HEAD: &str = r#"
origin = "umass.edu."
[soa]
mname = "dns.umass.edu."
rname = "hostmaster.umass.edu."
serial = 1
refresh = 7200
retry = 3600
expire = 1209600
minimum = 300
[[records]]
name = "@"
type = "NS"
value = "dns"
[[records]]
name = "dns"
type = "A"
value = "127.0.3.1"
[[records]]
name = "old-cs"
type = "DNAME"
value = "cs.umass.edu."
"#;

    fn zone_with(extra: &str) -> Result<super::super::Zone, Vec<super::super::ZoneError>> {
        parse_zone(Path::new("zones/umass.edu.toml"), &format!("{HEAD}{extra}"))
    }

    fn record(name: &str, record_type: &str, value: &str) -> String {
        format!("[[records]]\nname = \"{name}\"\ntype = \"{record_type}\"\nvalue = \"{value}\"\n")
    }

    /// The one error a zone gives, as the operator reads it.
    fn only_error(extra: &str) -> (ZoneErrorKind, String) {
        let errors = zone_with(extra).expect_err("the zone must be refused");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let error = errors.into_iter().next().expect("one");
        let text = error.to_string();
        (error.kind, text)
    }

    #[test]
    fn a_dname_loads_with_its_target() {
        let zone = zone_with("").expect("valid");
        let owner = Name::from_ascii("old-cs.umass.edu.").expect("valid");
        let rrset = zone.rrset(&owner, RecordType::DNAME).expect("loaded");
        assert_eq!(
            crate::dname::target(&rrset.records[0]),
            Some(Name::from_ascii("cs.umass.edu.").expect("valid"))
        );
    }

    #[test]
    fn a_dname_may_sit_at_the_apex_beside_ns_and_soa() {
        let text = HEAD.replace("value = \"dns\"", "value = \"ns.example.net.\"");
        let apex_only = &text[..text.find("[[records]]\nname = \"dns\"").expect("in HEAD")];
        let zone = parse_zone(
            Path::new("zones/umass.edu.toml"),
            &format!("{apex_only}{}", record("@", "DNAME", "cs.example.net.")),
        )
        .expect("valid");
        assert!(zone.rrset(zone.origin(), RecordType::DNAME).is_some());
    }

    #[test]
    fn data_below_a_dname_is_refused_naming_the_file_and_the_record() {
        let (kind, text) = only_error(&record("gaia.old-cs", "A", "128.119.245.12"));
        assert!(matches!(kind, ZoneErrorKind::BelowDname { .. }), "{kind:?}");
        assert!(text.starts_with("zones/umass.edu.toml:"), "{text}");
        assert!(text.contains("record 4 (gaia.old-cs A)"), "{text}");
        assert!(
            text.contains("below the DNAME at old-cs.umass.edu."),
            "{text}"
        );
    }

    #[test]
    fn a_cname_beside_a_dname_is_refused() {
        let (kind, text) = only_error(&record("old-cs", "CNAME", "cs.umass.edu."));
        assert!(matches!(kind, ZoneErrorKind::DnameAndCname(_)), "{kind:?}");
        assert!(text.contains("RFC 6672 §2.4"), "{text}");
    }

    #[test]
    fn two_dnames_at_one_name_are_refused() {
        let (kind, _) = only_error(&record("old-cs", "DNAME", "www.umass.edu."));
        assert!(matches!(kind, ZoneErrorKind::MultipleDnames(_)), "{kind:?}");
    }

    #[test]
    fn a_zone_below_another_zones_dname_is_refused_naming_both_files() {
        let parent = zone_with("").expect("valid");
        let child_text = HEAD
            .replace(
                "origin = \"umass.edu.\"",
                "origin = \"x.old-cs.umass.edu.\"",
            )
            .replace("value = \"dns\"", "value = \"dns.umass.edu.\"");
        let apex_only = &child_text[..child_text
            .find("[[records]]\nname = \"dns\"")
            .expect("in HEAD")];
        let child = parse_zone(Path::new("zones/x.toml"), apex_only).expect("valid alone");
        let errors = super::super::ZoneSet::from_zones(vec![parent, child])
            .expect_err("the child is below the parent's DNAME")
            .0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        let text = errors[0].to_string();
        assert!(
            text.starts_with("zones/x.toml: the zone x.old-cs.umass.edu."),
            "{text}"
        );
        assert!(
            text.contains("DNAME at old-cs.umass.edu. in zones/umass.edu.toml"),
            "{text}"
        );
    }

    #[test]
    fn a_dname_at_a_delegation_is_refused() {
        let extra = format!(
            "{}{}",
            record("old-cs", "NS", "ns.example.com."),
            record("x", "A", "192.0.2.1")
        );
        let (kind, _) = only_error(&extra);
        assert!(
            matches!(kind, ZoneErrorKind::DnameAtDelegation(_)),
            "{kind:?}"
        );
    }
}
