//! RFC 1035 master files both ways: `*.zone` files load beside TOML zones,
//! by the same rules and with errors naming the file and line, and
//! `resolver zone export` writes every zone as one, which loads back the same.

mod common;

use std::path::Path;
use std::process::Command;

use common::{lab_zones_dir, name, zone_dir};
use hickory_proto::rr::{RData, RecordType};
use resolver::zone::{LoadErrors, ZoneErrorKind, ZoneSet};

/// Every record of every zone, as comparable text, zone by zone.
fn records_by_zone(zones: &ZoneSet) -> Vec<(String, Vec<String>)> {
    zones
        .zones()
        .map(|zone| {
            let mut records: Vec<String> = zone
                .nodes()
                .flat_map(|(_, node)| node.rrsets())
                // What signing added (DNSKEY, DS, NSEC) is not exported unless asked (--signed).
                .filter(|rrset| !rrset.generated)
                .flat_map(|rrset| &rrset.records)
                .map(|r| format!("{} {} {} {:?}", r.name, r.ttl, r.record_type(), r.data))
                .collect();
            records.sort();
            (zone.origin().to_string(), records)
        })
        .collect()
}

/// `resolver zone export FROM TO`, which must succeed.
fn export(from: &Path, to: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .args(["zone", "export"])
        .arg(from)
        .arg(to)
        .output()
        .expect("resolver runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_lab_exported_as_master_files_loads_back_with_the_same_records() {
    let out = tempfile::tempdir().expect("a folder");
    export(&lab_zones_dir(), out.path());
    let toml = ZoneSet::load_dir(&lab_zones_dir()).expect("the lab loads");
    for zone in toml.zones() {
        let file = if zone.origin().is_root() {
            "root.zone".to_string()
        } else {
            format!("{}zone", zone.origin())
        };
        let text = std::fs::read_to_string(out.path().join(&file)).expect("one file per zone");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(format!("$ORIGIN {}", zone.origin()).as_str())
        );
        assert!(
            lines.next().is_some_and(|l| l.starts_with("$TTL ")),
            "{text}"
        );
    }
    let master = ZoneSet::load_dir(out.path()).expect("the exported lab loads");
    let (before, after) = (records_by_zone(&toml), records_by_zone(&master));
    assert_eq!(before.len(), 10);
    for (toml_zone, master_zone) in before.iter().zip(&after) {
        assert_eq!(toml_zone, master_zone);
    }
    assert_eq!(before.len(), after.len());
}

#[test]
fn txt_quotes_backslashes_and_several_strings_survive_the_round_trip() {
    let zone = common::served_zone("t.test.", "127.0.9.9", &[]).replace(
        "[[records]]\nname = \"@\"",
        "[[records]]\nname = \"txt\"\ntype = \"TXT\"\nvalue = [\"say \\\"hi\\\"\", \"back\\\\slash; semi\", \"\"]\n\n[[records]]\nname = \"@\"",
    );
    let dir = zone_dir(&[("t.toml", &zone)]);
    let out = tempfile::tempdir().expect("a folder");
    export(dir.path(), out.path());
    let before = ZoneSet::load_dir(dir.path()).expect("loads");
    let after = ZoneSet::load_dir(out.path()).expect("the export loads");
    assert_eq!(records_by_zone(&before), records_by_zone(&after));
    let txt = after.get(&name("t.test.")).expect("the zone");
    let rrset = txt
        .rrset(&name("txt.t.test."), RecordType::TXT)
        .expect("TXT");
    let RData::TXT(data) = &rrset.records[0].data else {
        panic!("a TXT record");
    };
    let strings: Vec<&[u8]> = data.txt_data.iter().map(|s| &s[..]).collect();
    assert_eq!(strings, [&b"say \"hi\""[..], b"back\\slash; semi", b""]);
}

/// A BIND-style master file for t.test.: directives, parentheses, comments,
/// implicit owners and TTL units.
const MASTER: &str = "$ORIGIN t.test.
$TTL 1h
@   IN SOA ns hostmaster (
        1       ; serial
        7200 3600 1209600 300 )
    IN NS ns          ; the owner of the line before
ns  IN A 127.0.9.9
www 600 IN CNAME ns
old IN DNAME new.t.test.
txt IN TXT \"hello; world\" two
";

#[test]
fn a_master_file_loads_with_directives_parentheses_and_implicit_owners() {
    let dir = zone_dir(&[("t.test.zone", MASTER)]);
    let zones = ZoneSet::load_dir(dir.path()).expect("valid");
    let zone = zones
        .get(&name("t.test."))
        .expect("the zone, named by its SOA");
    assert_eq!(zone.soa().ttl, 3600);
    assert_eq!(zone.record_count(), 6);
    let ns = zone
        .rrset(&name("t.test."), RecordType::NS)
        .expect("apex NS");
    assert_eq!(
        ns.records[0].data,
        RData::NS(hickory_proto::rr::rdata::NS(name("ns.t.test.")))
    );
    let www = zone
        .rrset(&name("www.t.test."), RecordType::CNAME)
        .expect("CNAME");
    assert_eq!(www.ttl(), 600);
    let old = zone
        .rrset(&name("old.t.test."), RecordType::DNAME)
        .expect("a DNAME");
    assert_eq!(
        resolver::dname::target(&old.records[0]),
        Some(name("new.t.test."))
    );
    let txt = zone
        .rrset(&name("txt.t.test."), RecordType::TXT)
        .expect("TXT");
    let RData::TXT(data) = &txt.records[0].data else {
        panic!("a TXT record");
    };
    assert_eq!(data.txt_data.len(), 2);
    assert_eq!(&data.txt_data[0][..], b"hello; world");
}

/// The errors of a master file `test.zone` (it must be refused).
fn errors_of(text: &str) -> LoadErrors {
    let dir = zone_dir(&[("t.test.zone", text)]);
    ZoneSet::load_dir(dir.path()).expect_err("the zone must be refused")
}

/// The one error of a master file: its kind, and its text naming the file and line.
fn one_error(text: &str, line: usize) -> ZoneErrorKind {
    let errors = errors_of(text);
    assert_eq!(errors.0.len(), 1, "{errors}");
    let error = errors.0.into_iter().next().expect("one");
    let message = error.to_string();
    assert!(
        message.contains(&format!("t.test.zone:{line}:")),
        "{message}"
    );
    assert_eq!(error.line, Some(line), "{message}");
    error.kind
}

#[test]
fn a_bad_record_in_a_master_file_is_named_by_file_and_line() {
    let text = format!("{MASTER}bad IN A 999.1.1.1\n");
    let message = errors_of(&text).to_string();
    assert!(
        message.contains("t.test.zone:11: record 7 (bad A): "),
        "{message}"
    );
    let kind = one_error(&text, 11);
    assert!(matches!(kind, ZoneErrorKind::MasterSyntax(_)), "{kind:?}");
    let kind = one_error(&format!("{MASTER}info IN HINFO a b\n"), 11);
    assert!(matches!(kind, ZoneErrorKind::UnknownType(_)), "{kind:?}");
    let kind = one_error(&format!("{MASTER}$INCLUDE other.zone\n"), 11);
    assert!(
        matches!(kind, ZoneErrorKind::BadDirective { .. }),
        "{kind:?}"
    );
    let kind = one_error(&format!("{MASTER}chaos CH TXT x\n"), 11);
    assert!(
        matches!(kind, ZoneErrorKind::NotInternetClass(_)),
        "{kind:?}"
    );
}

#[test]
fn master_files_are_held_to_the_rules_of_toml_zones() {
    // As in a TOML zone, the name's first record is the one named.
    let kind = one_error(&format!("{MASTER}www IN A 192.0.2.1\n"), 8);
    assert!(
        matches!(kind, ZoneErrorKind::CnameAndOtherData(_)),
        "{kind:?}"
    );
    let kind = one_error(&format!("{MASTER}x.old IN A 192.0.2.1\n"), 11);
    assert!(matches!(kind, ZoneErrorKind::BelowDname { .. }), "{kind:?}");
    let kind = one_error(&format!("{MASTER}ns 60 IN A 127.0.9.8\n"), 11);
    assert!(
        matches!(kind, ZoneErrorKind::TtlMismatch { .. }),
        "{kind:?}"
    );
    let kind = one_error(&format!("{MASTER}elsewhere.example. IN A 192.0.2.1\n"), 11);
    assert!(
        matches!(kind, ZoneErrorKind::OutsideOrigin { .. }),
        "{kind:?}"
    );
    let errors = errors_of("$ORIGIN t.test.\nns IN A 127.0.9.9\n");
    assert!(
        errors
            .0
            .iter()
            .any(|e| matches!(e.kind, ZoneErrorKind::MissingSoa)),
        "{errors}"
    );
}

#[test]
fn check_takes_master_files_beside_toml_zones() {
    let toml = common::served_zone("u.test.", "127.0.9.8", &[]);
    let dir = zone_dir(&[("t.test.zone", MASTER), ("u.test.toml", &toml)]);
    let output = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("resolver check runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.starts_with("2 zones"), "{text}");
    assert!(text.contains("t.test.zone"), "{text}");
}

#[test]
fn zone_export_refuses_to_overwrite_unless_forced() {
    let out = tempfile::tempdir().expect("a folder");
    export(&lab_zones_dir(), out.path());
    let again = |force: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_resolver"));
        command
            .args(["zone", "export"])
            .arg(lab_zones_dir())
            .arg(out.path());
        if force {
            command.arg("--force");
        }
        command.output().expect("resolver runs")
    };
    let refused = again(false);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(again(true).status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lab_serves_its_zones_from_master_files() {
    let out = tempfile::tempdir().expect("a folder");
    export(&lab_zones_dir(), out.path());
    let lab = common::Lab::start_dir(out.path());
    let reply = common::ask(lab.at("127.0.3.1"), "gaia.cs.umass.edu.", RecordType::A).await;
    assert!(reply.metadata.authoritative, "{reply:?}");
    assert_eq!(common::addresses(&reply.answers), ["128.119.245.12"]);
    let referral = common::ask(lab.at("127.0.1.1"), "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(common::summary(&referral.authorities), ["edu. 172800 NS"]);
}
