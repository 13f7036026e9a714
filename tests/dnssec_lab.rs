//! The signed lab (RFC 4033–4035, RFC 5155), queried over real sockets on
//! loopback: what the authoritative servers add for a query with the DO bit
//! (RFC 4035 §3.1), each signature verified with hickory-proto against the
//! zone's DNSKEY, and what loading and `resolver lab keygen` refuse.

mod common;
#[path = "dnssec_lab/proofs.rs"]
mod proofs;

use common::*;
use hickory_proto::dnssec::rdata::{DNSSECRData, DS};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use proofs::*;
use resolver::zone::ZoneSet;

#[tokio::test]
async fn a_do_query_gets_the_answer_with_an_rrsig_that_verifies_with_the_zone_dnskey() {
    let lab = Lab::start();
    let umass = lab.at("127.0.3.1");
    let key = dnskey(umass, "umass.edu.").await;
    let reply = ask_dnssec(umass, "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.authoritative);
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert_signed(&reply.answers, RecordType::A, &key);
    let edns = reply.edns.as_ref().expect("an OPT in the reply");
    assert!(edns.flags().dnssec_ok, "DO is echoed (RFC 3225 §3)");
    let rrsig = reply.answers.iter().find_map(rrsig_of).expect("an RRSIG");
    assert_eq!(rrsig.input().signer_name, name("umass.edu."));
    assert_eq!(rrsig.input().original_ttl, 600);
    // Valid from an hour before the load to 30 days after it (RFC 4034 §3.1.5).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let inception = i64::from(rrsig.input().sig_inception.get());
    let expiration = i64::from(rrsig.input().sig_expiration.get());
    assert!(
        (now - 3700..=now - 3500).contains(&inception),
        "{inception} vs {now}"
    );
    assert_eq!(expiration - inception, 30 * 86_400 + 3600);
    // An error reply echoes DO too (RFC 3225 §3).
    let refused = ask_dnssec(umass, "www.example.org.", RecordType::A).await;
    assert_eq!(refused.response_code, ResponseCode::Refused);
    assert!(
        refused
            .edns
            .as_ref()
            .is_some_and(|edns| edns.flags().dnssec_ok)
    );
}

#[tokio::test]
async fn additional_data_the_zone_holds_is_signed_but_glue_is_not() {
    let lab = Lab::start();
    let umass = lab.at("127.0.3.1");
    let key = dnskey(umass, "umass.edu.").await;
    let reply = ask_dnssec(umass, "umass.edu.", RecordType::NS).await;
    assert_signed(&reply.answers, RecordType::NS, &key);
    assert_eq!(addresses(&reply.additionals), ["127.0.3.1"]);
    assert_signed(&reply.additionals, RecordType::A, &key);
}

#[tokio::test]
async fn without_do_no_dnssec_records_are_added() {
    let lab = Lab::start();
    let umass = lab.at("127.0.3.1");
    let reply = ask(umass, "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(summary(&reply.answers), ["gaia.cs.umass.edu. 600 A"]);
    assert!(
        !reply
            .edns
            .as_ref()
            .is_some_and(|edns| edns.flags().dnssec_ok)
    );
    let negative = ask(umass, "nosuch.umass.edu.", RecordType::A).await;
    assert_eq!(summary(&negative.authorities), ["umass.edu. 300 SOA"]);
    let referral = ask(lab.at("127.0.2.1"), "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(summary(&referral.authorities), ["umass.edu. 172800 NS"]);
    // Asked for by type, the DNSSEC data is there, as any data is.
    let keys = ask(umass, "umass.edu.", RecordType::DNSKEY).await;
    assert_eq!(summary(&keys.answers), ["umass.edu. 86400 DNSKEY"]);
}

#[tokio::test]
async fn nxdomain_in_an_nsec_zone_is_proven_by_nsec_records_that_verify() {
    let lab = Lab::start();
    let umass = lab.at("127.0.3.1");
    let key = dnskey(umass, "umass.edu.").await;
    let reply = ask_dnssec(umass, "nosuch.umass.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NXDomain);
    assert_signed(&reply.authorities, RecordType::SOA, &key);
    assert_signed(&reply.authorities, RecordType::NSEC, &key);
    let nsecs = nsec_records(&reply.authorities);
    let covers = |target: &str| {
        nsecs
            .iter()
            .any(|(owner, nsec)| nsec_covers(owner, nsec, &name(target)))
    };
    assert!(
        covers("nosuch.umass.edu."),
        "the name is covered: {nsecs:?}"
    );
    assert!(covers("*.umass.edu."), "the wildcard is covered: {nsecs:?}");
}

#[tokio::test]
async fn nodata_is_proven_by_the_nsec_at_the_name() {
    let lab = Lab::start();
    let umass = lab.at("127.0.3.1");
    let key = dnskey(umass, "umass.edu.").await;
    let reply = ask_dnssec(umass, "gaia.cs.umass.edu.", RecordType::AAAA).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert!(reply.answers.is_empty());
    assert_signed(&reply.authorities, RecordType::NSEC, &key);
    let nsecs = nsec_records(&reply.authorities);
    let (_, nsec) = nsecs
        .iter()
        .find(|(owner, _)| owner == &name("gaia.cs.umass.edu."))
        .expect("the NSEC of the name itself");
    let types: Vec<RecordType> = nsec.type_bit_maps().collect();
    assert!(types.contains(&RecordType::A) && !types.contains(&RecordType::AAAA));
}

#[tokio::test]
async fn nxdomain_in_the_nsec3_zone_is_proven_by_nsec3_records_that_verify() {
    let lab = Lab::start();
    let poly = lab.at("127.0.4.1");
    let key = dnskey(poly, "poly.edu.").await;
    let reply = ask_dnssec(poly, "nosuch.poly.edu.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::NXDomain);
    assert_signed(&reply.authorities, RecordType::SOA, &key);
    assert_signed(&reply.authorities, RecordType::NSEC3, &key);
    let nsec3s = nsec3_records(&reply.authorities);
    for (_, nsec3) in &nsec3s {
        // RFC 9276 §3.1: no extra iterations, no salt, no opt-out.
        assert_eq!(
            (nsec3.iterations(), nsec3.salt(), nsec3.opt_out()),
            (0, &[][..], false)
        );
    }
    // The closest encloser proof (RFC 5155 §7.2.1) and the wildcard (§7.2.2).
    let encloser = nsec3_hash("poly.edu.");
    assert!(
        nsec3s.iter().any(|(hash, _)| hash == &encloser),
        "poly.edu. matched"
    );
    let covered = |target: Vec<u8>| {
        nsec3s
            .iter()
            .any(|(hash, nsec3)| nsec3_covers(hash, nsec3, &target))
    };
    assert!(
        covered(nsec3_hash("nosuch.poly.edu.")),
        "the next closer name is covered"
    );
    assert!(
        covered(nsec3_hash("*.poly.edu.")),
        "the wildcard is covered"
    );
    assert!(
        nsec_records(&reply.authorities).is_empty(),
        "no NSEC in an NSEC3 zone"
    );
}

#[tokio::test]
async fn a_referral_to_a_signed_child_carries_its_ds_which_matches_the_child_dnskey() {
    let lab = Lab::start();
    let edu = lab.at("127.0.2.1");
    let edu_key = dnskey(edu, "edu.").await;
    let umass_key = dnskey(lab.at("127.0.3.1"), "umass.edu.").await;
    let reply = ask_dnssec(edu, "gaia.cs.umass.edu.", RecordType::A).await;
    assert!(!reply.authoritative, "a referral");
    assert!(summary(&reply.authorities).contains(&"umass.edu. 172800 NS".to_string()));
    assert_signed(&reply.authorities, RecordType::DS, &edu_key);
    let ds: Vec<&DS> = reply
        .authorities
        .iter()
        .filter_map(|record| match &record.data {
            RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds),
            _ => None,
        })
        .collect();
    assert!(
        ds.iter().any(|ds| ds
            .covers(&name("umass.edu."), &umass_key)
            .expect("a digest")),
        "the DS matches umass.edu.'s DNSKEY (RFC 4034 §5.2)"
    );
    // The NS set of the delegation is not signed (RFC 4035 §2.2).
    let ns_signed = reply
        .authorities
        .iter()
        .filter_map(rrsig_of)
        .any(|rrsig| rrsig.input().type_covered == RecordType::NS);
    assert!(!ns_signed);
    assert!(!has_rrsig(&reply.additionals), "glue is not signed");
}

#[tokio::test]
async fn a_referral_to_the_unsigned_child_carries_the_nsec_proving_no_ds() {
    let lab = Lab::start();
    let com = lab.at("127.0.5.1");
    let com_key = dnskey(com, "com.").await;
    let reply = ask_dnssec(com, "www.enterprise.com.", RecordType::A).await;
    assert!(!reply.authoritative, "a referral");
    assert!(
        !reply
            .authorities
            .iter()
            .any(|record| record.record_type() == RecordType::DS)
    );
    assert_signed(&reply.authorities, RecordType::NSEC, &com_key);
    let nsecs = nsec_records(&reply.authorities);
    let (_, nsec) = nsecs
        .iter()
        .find(|(owner, _)| owner == &name("enterprise.com."))
        .expect("the NSEC at the delegation point");
    let types: Vec<RecordType> = nsec.type_bit_maps().collect();
    assert!(types.contains(&RecordType::NS), "a delegation");
    assert!(!types.contains(&RecordType::DS), "with no DS: insecure");
    // The child itself answers unsigned, even to DO.
    let child = ask_dnssec(lab.at("127.0.3.1"), "www.enterprise.com.", RecordType::A).await;
    assert!(!child.answers.is_empty());
    assert!(!has_rrsig(&child.answers) && !has_rrsig(&child.authorities));
}

#[tokio::test]
async fn a_ds_query_is_answered_from_the_parent_side_of_the_cut() {
    let lab = Lab::start();
    let edu = lab.at("127.0.2.1");
    let edu_key = dnskey(edu, "edu.").await;
    let reply = ask_dnssec(edu, "umass.edu.", RecordType::DS).await;
    assert!(
        reply.authoritative,
        "the parent is authoritative for the DS (RFC 4035 §3.1.4.1)"
    );
    assert_signed(&reply.answers, RecordType::DS, &edu_key);
    // The unsigned child's DS: NODATA, proven by the NSEC at the cut.
    let com = lab.at("127.0.5.1");
    let none = ask_dnssec(com, "enterprise.com.", RecordType::DS).await;
    assert!(none.authoritative);
    assert_eq!(none.response_code, ResponseCode::NoError);
    assert!(none.answers.is_empty());
    assert_signed(
        &none.authorities,
        RecordType::NSEC,
        &dnskey(com, "com.").await,
    );
}

#[tokio::test]
async fn a_signed_answer_too_big_for_the_client_payload_is_truncated() {
    let lab = Lab::start();
    let poly = lab.at("127.0.4.1");
    let query = dnssec_query("nosuch.poly.edu.", RecordType::A, 512);
    let reply = udp(poly, &query).await;
    assert!(reply.truncation, "TC: the proof does not fit 512 octets");
    let whole = tcp(poly, &query).await;
    assert!(!whole.truncation);
    assert_eq!(nsec3_records(&whole.authorities).len(), 2);
}

#[tokio::test]
async fn a_wildcard_answer_carries_the_proof_that_no_closer_name_exists() {
    let root = root_zone(&[("wild.test.", "ns.wild.test.", Some("127.0.8.2"))]);
    let wild = served_zone(
        "wild.test.",
        "127.0.8.2",
        &[
            ("*.hosts", "A", "192.0.2.7", 300),
            ("real.hosts", "A", "192.0.2.8", 300),
        ],
    );
    let dir = zone_dir(&[("root.toml", &root), ("wild.test.toml", &wild)]);
    resolver::dnssec::keygen::keygen(dir.path(), false).expect("keys made");
    let lab = Lab::start_dir(dir.path());
    let server = lab.at("127.0.8.2");
    let key = dnskey(server, "wild.test.").await;
    let reply = ask_dnssec(server, "any.hosts.wild.test.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.7"]);
    assert_signed(&reply.answers, RecordType::A, &key);
    let rrsig = reply.answers.iter().find_map(rrsig_of).expect("an RRSIG");
    assert_eq!(
        rrsig.input().num_labels,
        3,
        "the wildcard's labels (RFC 4035 §5.3.4)"
    );
    let nsecs = nsec_records(&reply.authorities);
    assert!(
        nsecs
            .iter()
            .any(|(owner, nsec)| nsec_covers(owner, nsec, &name("any.hosts.wild.test."))),
        "no closer name exists (RFC 4035 §3.1.3.3): {nsecs:?}"
    );
    assert_signed(&reply.authorities, RecordType::NSEC, &key);
}

#[test]
fn signed_true_without_a_key_is_a_load_error_naming_the_file() {
    let zone = format!(
        "signed = true\n{}",
        served_zone("nokey.test.", "127.0.8.3", &[])
    );
    let dir = zone_dir(&[("nokey.test.toml", &zone)]);
    let errors = ZoneSet::load_dir(dir.path())
        .expect_err("no key")
        .to_string();
    assert!(errors.contains("nokey.test.toml"), "{errors}");
    assert!(errors.contains("no key for nokey.test."), "{errors}");
}

#[test]
fn a_bad_denial_value_is_a_load_error_naming_the_file() {
    let zone = format!(
        "denial = \"nsec5\"\n{}",
        served_zone("bad.test.", "127.0.8.3", &[])
    );
    let dir = zone_dir(&[("bad.test.toml", &zone)]);
    let errors = ZoneSet::load_dir(dir.path())
        .expect_err("bad value")
        .to_string();
    assert!(
        errors.contains("bad.test.toml") && errors.contains("nsec5"),
        "{errors}"
    );
}

#[test]
fn keygen_makes_one_key_per_zone_but_the_unsigned_and_keeps_existing_ones() {
    let root = root_zone(&[("a.test.", "ns.a.test.", Some("127.0.8.2"))]);
    let a = format!(
        "signed = false\n{}",
        served_zone("a.test.", "127.0.8.2", &[])
    );
    let dir = zone_dir(&[("root.toml", &root), ("a.test.toml", &a)]);
    let written = resolver::dnssec::keygen::keygen(dir.path(), false).expect("keys made");
    assert_eq!(written, [dir.path().join("keys/root.key")]);
    let again = resolver::dnssec::keygen::keygen(dir.path(), false);
    assert!(
        again.is_err(),
        "an existing key is not overwritten without --force"
    );
    resolver::dnssec::keygen::keygen(dir.path(), true).expect("--force overwrites");
    let zones = ZoneSet::load_dir(dir.path()).expect("loads");
    let signed: Vec<String> = zones
        .zones()
        .filter(|zone| zone.is_signed())
        .map(|zone| zone.origin().to_string())
        .collect();
    assert_eq!(signed, ["."]);
}

#[test]
fn resolver_check_names_a_broken_key_file_and_fails() {
    let root = root_zone(&[]);
    let dir = zone_dir(&[("root.toml", &root)]);
    resolver::dnssec::keygen::keygen(dir.path(), false).expect("keys made");
    let key = dir.path().join("keys/root.key");
    let text = std::fs::read_to_string(&key).expect("the key");
    std::fs::write(&key, text.replace("algorithm = 15", "algorithm = 8")).expect("rewritten");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("resolver check runs");
    assert!(!output.status.success());
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(errors.contains("keys/root.key"), "{errors}");
    assert!(errors.contains("algorithm 8"), "{errors}");
}

#[test]
fn resolver_check_shows_how_each_zone_is_signed() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
        .arg("check")
        .arg(lab_zones_dir())
        .output()
        .expect("resolver check runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = |zone: &str| {
        text.lines()
            .find(|line| line.starts_with(&format!("{zone} ")))
            .unwrap_or_else(|| panic!("{zone} in {text}"))
            .to_string()
    };
    assert!(line("umass.edu.").contains("NSEC 15/"), "{text}");
    assert!(line("poly.edu.").contains("NSEC3 15/"), "{text}");
    assert!(line("ibm.com.").contains("NSEC 13/"), "{text}");
    assert!(line("enterprise.com.").contains("unsigned"), "{text}");
}

#[test]
fn the_exported_lab_is_signed_with_the_committed_keys() {
    let dir = tempfile::tempdir().expect("a folder");
    resolver::export::lab(dir.path(), false).expect("exported");
    let exported = ZoneSet::load_dir(&dir.path().join("zones")).expect("loads");
    let repository = ZoneSet::load_dir(&lab_zones_dir()).expect("loads");
    let tags = |zones: &ZoneSet| -> Vec<(String, Option<u16>)> {
        zones
            .zones()
            .map(|zone| {
                let tag = zone.security().map(|security| security.key_tag);
                (zone.origin().to_string(), tag)
            })
            .collect()
    };
    assert_eq!(tags(&exported), tags(&repository));
    assert_eq!(
        tags(&exported)
            .iter()
            .filter(|(_, tag)| tag.is_none())
            .count(),
        1
    );
}

#[tokio::test]
async fn in_an_nsec3_zone_an_insecure_referral_and_a_wildcard_carry_their_nsec3_proofs() {
    let root = root_zone(&[("n3.test.", "ns.n3.test.", Some("127.0.8.7"))]);
    let zone = served_zone(
        "n3.test.",
        "127.0.8.7",
        &[
            ("*.w", "A", "192.0.2.2", 300),
            ("sub", "NS", "ns.sub", 300),
            ("ns.sub", "A", "127.0.8.8", 300),
        ],
    );
    let zone = format!("denial = \"nsec3\"\n{zone}");
    let dir = zone_dir(&[("root.toml", &root), ("n3.test.toml", &zone)]);
    resolver::dnssec::keygen::keygen(dir.path(), false).expect("keys made");
    let lab = Lab::start_dir(dir.path());
    let server = lab.at("127.0.8.7");
    let key = dnskey(server, "n3.test.").await;

    // The delegation to sub.n3.test. has no DS: the NSEC3 matching it says NS, no DS (RFC 5155 §7.2.7).
    let referral = ask_dnssec(server, "www.sub.n3.test.", RecordType::A).await;
    assert!(!referral.authoritative);
    assert_signed(&referral.authorities, RecordType::NSEC3, &key);
    let nsec3s = nsec3_records(&referral.authorities);
    let cut = nsec3_hash("sub.n3.test.");
    let (_, at_cut) = nsec3s
        .iter()
        .find(|(hash, _)| hash == &cut)
        .expect("the NSEC3 of the cut");
    let types: Vec<RecordType> = at_cut.type_bit_maps().collect();
    assert_eq!(
        types,
        [RecordType::NS],
        "NS only: no DS, nothing signed there"
    );

    // A wildcard answer: the NSEC3 covering the next closer name (RFC 5155 §7.2.6).
    let wild = ask_dnssec(server, "x.w.n3.test.", RecordType::A).await;
    assert_eq!(addresses(&wild.answers), ["192.0.2.2"]);
    assert_signed(&wild.answers, RecordType::A, &key);
    assert_signed(&wild.authorities, RecordType::NSEC3, &key);
    let next_closer = nsec3_hash("x.w.n3.test.");
    assert!(
        nsec3_records(&wild.authorities)
            .iter()
            .any(|(hash, nsec3)| nsec3_covers(hash, nsec3, &next_closer)),
        "the next closer name is covered"
    );
}
