//! Unit tests of the authoritative lookup (lookup.rs) on the lab's zones.

use std::path::Path;

use super::*;
use crate::zone::ZoneSet;

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("valid")
}

fn lab() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones");
    let zones = ZoneSet::load_dir(&dir).expect("the lab's zones load");
    Catalog::new(zones.zones().cloned())
}

/// The answer section as `name TTL TYPE` lines.
fn lines(answer: &Answer) -> Vec<String> {
    answer
        .answers
        .iter()
        .map(|r| format!("{} {} {}", r.name, r.ttl, r.record_type()))
        .collect()
}

#[test]
fn a_name_below_a_dname_gets_the_dname_its_cname_and_the_target_data() {
    let answer = lab()
        .lookup(&name("gaia.old-cs.umass.edu."), RecordType::A)
        .expect("umass.edu. is served");
    assert_eq!(answer.outcome, Outcome::Data);
    assert!(answer.authoritative());
    assert_eq!(
        lines(&answer),
        [
            "old-cs.umass.edu. 86400 DNAME",
            "gaia.old-cs.umass.edu. 86400 CNAME",
            "gaia.cs.umass.edu. 600 A",
        ]
    );
    assert_eq!(
        answer.answers[1].data,
        RData::CNAME(hickory_proto::rr::rdata::CNAME(name("gaia.cs.umass.edu.")))
    );
}

#[test]
fn a_cname_question_below_a_dname_is_answered_by_the_synthesised_cname() {
    let answer = lab()
        .lookup(&name("www.old-cs.umass.edu."), RecordType::CNAME)
        .expect("served");
    assert_eq!(answer.outcome, Outcome::Data);
    assert_eq!(
        lines(&answer),
        [
            "old-cs.umass.edu. 86400 DNAME",
            "www.old-cs.umass.edu. 86400 CNAME"
        ],
        "no chasing: the CNAME is what was asked"
    );
}

#[test]
fn the_dname_owner_itself_is_not_redirected() {
    let catalog = lab();
    let dname = catalog
        .lookup(&name("old-cs.umass.edu."), RecordType::DNAME)
        .expect("served");
    assert_eq!(lines(&dname), ["old-cs.umass.edu. 86400 DNAME"]);
    let other = catalog
        .lookup(&name("old-cs.umass.edu."), RecordType::A)
        .expect("served");
    assert_eq!(other.outcome, Outcome::NoData);
    assert!(other.answers.is_empty());
}

#[test]
fn a_substitution_longer_than_255_octets_is_yxdomain_with_the_dname() {
    let label = "x".repeat(63);
    let target = format!("{label}.{label}.{label}.{}.", "y".repeat(58));
    let text = format!(
        "origin = \"long.\"\n[soa]\nmname = \"ns.long.\"\nrname = \"h.long.\"\nserial = 1\n\
         refresh = 1\nretry = 1\nexpire = 1\nminimum = 1\n\
         [[records]]\nname = \"@\"\ntype = \"NS\"\nvalue = \"ns.example.net.\"\n\
         [[records]]\nname = \"@\"\ntype = \"DNAME\"\nvalue = \"{target}\"\n"
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("long.toml");
    std::fs::write(&file, text).expect("written");
    let zone = crate::zone::load_zone_file(&file).expect("the zone loads");
    let catalog = Catalog::new([Arc::new(zone)]);
    let too_long = catalog
        .lookup(&name("too.long."), RecordType::A)
        .expect("served");
    assert_eq!(too_long.outcome, Outcome::YxDomain);
    assert_eq!(too_long.response_code(), ResponseCode::YXDomain);
    assert_eq!(lines(&too_long), ["long. 3600 DNAME"]);
    let fits = catalog
        .lookup(&name("a.long."), RecordType::A)
        .expect("served");
    assert_eq!(fits.answers.len(), 2, "the DNAME and its CNAME");
    assert_eq!(fits.answers[1].record_type(), RecordType::CNAME);
}

#[test]
fn a_ds_question_at_a_cut_is_answered_by_the_parent_when_both_are_served() {
    // One catalog with every lab zone: edu. and umass.edu. side by side (RFC 4035 §3.1.4.1).
    let answer = lab()
        .lookup(&name("umass.edu."), RecordType::DS)
        .expect("served");
    assert_eq!(answer.outcome, Outcome::Data);
    assert_eq!(lines(&answer), ["umass.edu. 172800 DS"]);
    // Other types at the apex come from the child.
    let soa = lab()
        .lookup(&name("umass.edu."), RecordType::SOA)
        .expect("served");
    assert_eq!(lines(&soa), ["umass.edu. 86400 SOA"]);
}
