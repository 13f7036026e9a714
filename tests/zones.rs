//! Zone loading: every validation error names the file and the record, and
//! `resolver check` summarises a good folder or fails on a bad one.

mod common;

use std::process::Command;

use common::zone_dir;
use resolver::zone::{LoadErrors, ZoneErrorKind, ZoneSet};

/// The head of a valid zone for `origin`, served by ns.<origin> at `address`.
fn head(origin: &str, address: &str) -> String {
    format!(
        r#"origin = "{origin}"
ttl = 3600

[soa]
mname = "ns.{origin}"
rname = "hostmaster.{origin}"
serial = 1
refresh = 7200
retry = 3600
expire = 1209600
minimum = 300

[[records]]
name = "@"
type = "NS"
value = "ns"

[[records]]
name = "ns"
type = "A"
value = "{address}"
"#
    )
}

/// A record entry as TOML.
fn record(name: &str, record_type: &str, value: &str) -> String {
    format!("\n[[records]]\nname = \"{name}\"\ntype = \"{record_type}\"\nvalue = \"{value}\"\n")
}

/// Loads one zone file and returns its errors (the load must fail).
fn errors_of(text: &str) -> LoadErrors {
    let dir = zone_dir(&[("test.toml", text)]);
    ZoneSet::load_dir(dir.path()).expect_err("the zone must be rejected")
}

/// Asserts there is exactly one error, of the expected kind, naming file, record and line.
fn assert_one(
    errors: &LoadErrors,
    kind: impl Fn(&ZoneErrorKind) -> bool,
    record: usize,
    line: usize,
) {
    assert_eq!(errors.0.len(), 1, "one error expected: {errors}");
    let error = &errors.0[0];
    assert!(kind(&error.kind), "unexpected error: {error}");
    assert_eq!(error.record, Some(record), "{error}");
    assert_eq!(error.line, Some(line), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("test.toml"),
        "the message names the file: {text}"
    );
    assert!(
        text.contains(&format!(":{line}: record {record}")),
        "{text}"
    );
}

/// The line where the n-th appended record (after the two of `head`) starts.
fn line_of_third_record() -> usize {
    head("t.test.", "127.0.9.9").lines().count() + 2
}

#[test]
fn a_bad_name_is_reported_with_its_record() {
    let text = head("t.test.", "127.0.9.9") + &record("a..b", "A", "192.0.2.1");
    let errors = errors_of(&text);
    assert_one(
        &errors,
        |k| matches!(k, ZoneErrorKind::BadName { .. }),
        3,
        line_of_third_record(),
    );
}

#[test]
fn a_bad_address_is_reported() {
    let text = head("t.test.", "127.0.9.9") + &record("host", "A", "192.0.2");
    let errors = errors_of(&text);
    assert_one(
        &errors,
        |k| matches!(k, ZoneErrorKind::BadAddress { .. }),
        3,
        line_of_third_record(),
    );
    let text = head("t.test.", "127.0.9.9") + &record("host", "AAAA", "192.0.2.1");
    let errors = errors_of(&text);
    assert_one(
        &errors,
        |k| matches!(k, ZoneErrorKind::BadAddress { .. }),
        3,
        line_of_third_record(),
    );
}

#[test]
fn an_unknown_type_is_reported() {
    let text = head("t.test.", "127.0.9.9") + &record("host", "HINFO", "x");
    let errors = errors_of(&text);
    assert_one(
        &errors,
        |k| matches!(k, ZoneErrorKind::UnknownType(_)),
        3,
        line_of_third_record(),
    );
}

#[test]
fn a_cname_beside_other_data_is_reported() {
    let text = head("t.test.", "127.0.9.9")
        + &record("www", "CNAME", "ns")
        + &record("www", "TXT", "hello");
    let errors = errors_of(&text);
    assert!(
        errors
            .0
            .iter()
            .any(|e| matches!(e.kind, ZoneErrorKind::CnameAndOtherData(_)) && e.record.is_some()),
        "{errors}"
    );
}

#[test]
fn a_record_outside_the_origin_is_reported() {
    let text = head("t.test.", "127.0.9.9") + &record("www.example.org.", "A", "192.0.2.1");
    let errors = errors_of(&text);
    assert_one(
        &errors,
        |k| matches!(k, ZoneErrorKind::OutsideOrigin { .. }),
        3,
        line_of_third_record(),
    );
}

#[test]
fn an_in_zone_nameserver_without_address_is_reported() {
    let text = head("t.test.", "127.0.9.9") + &record("sub", "NS", "ns.sub");
    let errors = errors_of(&text);
    assert_one(
        &errors,
        |k| matches!(k, ZoneErrorKind::NsWithoutAddress(_)),
        3,
        line_of_third_record(),
    );
}

#[test]
fn two_files_for_one_origin_are_reported() {
    let dir = zone_dir(&[
        ("one.toml", &head("t.test.", "127.0.9.9")),
        ("two.toml", &head("T.TEST.", "127.0.9.9")),
    ]);
    let errors = ZoneSet::load_dir(dir.path()).expect_err("duplicate origin");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert!(matches!(
        errors.0[0].kind,
        ZoneErrorKind::DuplicateOrigin { .. }
    ));
    let text = errors.to_string();
    assert!(
        text.contains("one.toml") && text.contains("two.toml"),
        "{text}"
    );
}

#[test]
fn ttls_outside_the_range_are_reported() {
    for ttl in ["-1", "2147483648"] {
        let text = head("t.test.", "127.0.9.9")
            + &format!(
                "\n[[records]]\nname = \"h\"\ntype = \"A\"\nvalue = \"192.0.2.1\"\nttl = {ttl}\n"
            );
        let errors = errors_of(&text);
        assert_one(
            &errors,
            |k| matches!(k, ZoneErrorKind::TtlOutOfRange(_)),
            3,
            line_of_third_record(),
        );
    }
}

#[test]
fn every_error_of_a_file_is_reported_at_once() {
    let text = head("t.test.", "127.0.9.9")
        + &record("a", "A", "not-an-address")
        + &record("b", "BOGUS", "x")
        + &record("c.other.", "A", "192.0.2.1");
    let errors = errors_of(&text);
    let records: Vec<Option<usize>> = errors.0.iter().map(|e| e.record).collect();
    assert_eq!(records, [Some(3), Some(4), Some(5)], "{errors}");
}

#[test]
fn a_zone_without_soa_or_apex_ns_is_reported() {
    let text = "origin = \"t.test.\"\n".to_string() + &record("h", "A", "192.0.2.1");
    let errors = errors_of(&text);
    assert!(
        errors
            .0
            .iter()
            .any(|e| matches!(e.kind, ZoneErrorKind::MissingSoa)),
        "{errors}"
    );
}

#[test]
fn unknown_keys_are_named() {
    let text = head("t.test.", "127.0.9.9")
        + "\n[[records]]\nname = \"h\"\ntype = \"A\"\nvalu = \"1.2.3.4\"\n";
    let errors = errors_of(&text);
    let message = errors.to_string();
    assert!(
        message.contains("valu") && message.contains("test.toml"),
        "{message}"
    );
}

#[test]
fn rrset_ttls_must_agree() {
    let text = head("t.test.", "127.0.9.9")
        + "\n[[records]]\nname = \"h\"\ntype = \"A\"\nvalue = \"192.0.2.1\"\nttl = 60\n"
        + "\n[[records]]\nname = \"h\"\ntype = \"A\"\nvalue = \"192.0.2.2\"\nttl = 61\n";
    let errors = errors_of(&text);
    assert!(
        matches!(errors.0[0].kind, ZoneErrorKind::TtlMismatch { .. }),
        "{errors}"
    );
}

#[test]
fn data_below_a_delegation_must_be_glue() {
    let text = head("t.test.", "127.0.9.9")
        + &record("sub", "NS", "ns.sub")
        + &record("ns.sub", "A", "192.0.2.1")
        + &record("www.sub", "TXT", "hidden");
    let errors = errors_of(&text);
    assert!(
        matches!(errors.0[0].kind, ZoneErrorKind::Occluded { .. }),
        "{errors}"
    );
}

#[test]
fn names_are_case_insensitive() {
    let text = head("t.test.", "127.0.9.9") + &record("WWW", "A", "192.0.2.1");
    let dir = zone_dir(&[("test.toml", &text)]);
    let zones = ZoneSet::load_dir(dir.path()).expect("valid");
    let zone = zones
        .get(&common::name("T.Test."))
        .expect("found ignoring case");
    assert!(zone.node(&common::name("www.t.test.")).is_some());
}

#[test]
fn check_summarises_the_lab() {
    let output = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .arg("check")
        .arg(common::lab_zones_dir())
        .output()
        .expect("resolver check runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("10 zones"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("127.0.3.1") && l.contains("umass.edu.")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("umass.edu.") && l.contains("dns.umass.edu. 127.0.3.1")),
        "{text}"
    );
}

#[test]
fn check_fails_on_a_bad_folder_and_lists_the_errors() {
    let text =
        head("t.test.", "127.0.9.9") + &record("a", "A", "999.1.1.1") + &record("b", "MX", "mail");
    let dir = zone_dir(&[("test.toml", &text)]);
    let output = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("resolver check runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 errors"), "{stderr}");
    assert!(
        stderr.contains("record 3") && stderr.contains("record 4"),
        "{stderr}"
    );
}
