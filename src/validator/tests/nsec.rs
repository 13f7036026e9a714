//! Denial of existence with NSEC: RFC 4035 §5.4, RFC 6840 §4.

use hickory_proto::rr::{Record, RecordType};

use crate::validator::fixtures::{name, nsec};
use crate::validator::nsec::{
    prove_insecure_delegation, prove_no_closer_match, prove_nodata, prove_nxdomain,
};
use crate::validator::{Bogus, Insecure, Security};

use RecordType::{A, AAAA, CNAME, DNSKEY, DS, NS, NSEC, RRSIG, SOA};

/// The zone `example.`, in canonical order:
/// example. a. d. sec.(signed child) sub.(unsigned child) *.w. x.y. (y. is an
/// empty non-terminal).
fn zone() -> Vec<Record> {
    vec![
        nsec("example.", "a.example.", &[SOA, NS, DNSKEY, RRSIG, NSEC]),
        nsec("a.example.", "d.example.", &[A, RRSIG, NSEC]),
        nsec("d.example.", "sec.example.", &[A, RRSIG, NSEC]),
        nsec("sec.example.", "sub.example.", &[NS, DS, RRSIG, NSEC]),
        nsec("sub.example.", "*.w.example.", &[NS, RRSIG, NSEC]),
        nsec("*.w.example.", "x.y.example.", &[A, RRSIG, NSEC]),
        nsec("x.y.example.", "example.", &[A, RRSIG, NSEC]),
    ]
}

/// The records of `zone()` owned by these names.
fn only(owners: &[&str]) -> Vec<Record> {
    zone()
        .into_iter()
        .filter(|record| owners.iter().any(|owner| record.name == name(owner)))
        .collect()
}

fn example() -> hickory_proto::rr::Name {
    name("example.")
}

#[test]
fn nxdomain_needs_the_qname_and_the_wildcard_covered() {
    let qname = name("b.example.");
    let proof = only(&["a.example.", "example."]);
    assert_eq!(
        prove_nxdomain(&qname, &example(), &proof),
        Security::Secure(())
    );
    let no_wildcard_proof = only(&["a.example."]);
    assert_eq!(
        prove_nxdomain(&qname, &example(), &no_wildcard_proof),
        Security::Bogus(Bogus::NsecMissing)
    );
    let no_qname_proof = only(&["example."]);
    assert_eq!(
        prove_nxdomain(&qname, &example(), &no_qname_proof),
        Security::Bogus(Bogus::NsecMissing)
    );
}

#[test]
fn nxdomain_is_refused_where_the_wildcard_exists() {
    // foo.w.example. would be answered by *.w.example.
    assert_eq!(
        prove_nxdomain(&name("foo.w.example."), &example(), &zone()),
        Security::Bogus(Bogus::NsecMissing)
    );
}

#[test]
fn nxdomain_is_refused_for_an_existing_name_or_an_empty_non_terminal() {
    assert!(prove_nxdomain(&name("a.example."), &example(), &zone()).is_bogus());
    assert!(prove_nxdomain(&name("y.example."), &example(), &zone()).is_bogus());
}

#[test]
fn an_nsec_of_a_delegation_proves_nothing_below_it() {
    // RFC 6840 §4.1: sub.example.'s NSEC spans foo.sub.example. but the
    // parent is not authoritative there.
    let proof = only(&["sub.example.", "example."]);
    assert!(prove_nxdomain(&name("foo.sub.example."), &example(), &proof).is_bogus());
}

#[test]
fn nodata_by_the_nsec_at_the_qname_lacking_the_type_and_cname() {
    let proof = only(&["a.example."]);
    assert_eq!(
        prove_nodata(&name("a.example."), AAAA, &example(), &proof),
        Security::Secure(())
    );
    assert!(prove_nodata(&name("a.example."), A, &example(), &proof).is_bogus());
    let cname = vec![nsec("c.example.", "d.example.", &[CNAME, RRSIG, NSEC])];
    assert!(prove_nodata(&name("c.example."), AAAA, &example(), &cname).is_bogus());
}

#[test]
fn nodata_for_an_empty_non_terminal() {
    let proof = only(&["*.w.example."]);
    assert_eq!(
        prove_nodata(&name("y.example."), A, &example(), &proof),
        Security::Secure(())
    );
}

#[test]
fn nodata_for_ds_at_a_delegation_but_not_for_its_other_types() {
    let proof = only(&["sub.example."]);
    assert_eq!(
        prove_nodata(&name("sub.example."), DS, &example(), &proof),
        Security::Secure(())
    );
    assert!(prove_nodata(&name("sub.example."), A, &example(), &proof).is_bogus());
    // The child's apex NSEC (with SOA) cannot deny the parent's DS.
    let child_apex = vec![nsec(
        "sub.example.",
        "a.sub.example.",
        &[SOA, NS, RRSIG, NSEC],
    )];
    assert!(
        prove_nodata(
            &name("sub.example."),
            DS,
            &name("sub.example."),
            &child_apex
        )
        .is_bogus()
    );
}

#[test]
fn wildcard_nodata_by_the_covering_nsec_and_the_wildcards() {
    let proof = only(&["*.w.example."]);
    assert_eq!(
        prove_nodata(&name("foo.w.example."), AAAA, &example(), &proof),
        Security::Secure(())
    );
    assert!(prove_nodata(&name("foo.w.example."), A, &example(), &proof).is_bogus());
}

#[test]
fn a_wildcard_answer_is_proven_by_the_nsec_covering_the_qname() {
    let proof = only(&["*.w.example."]);
    let source = name("*.w.example.");
    assert_eq!(
        prove_no_closer_match(&name("foo.w.example."), &source, &example(), &proof),
        Security::Secure(())
    );
    assert!(prove_no_closer_match(&name("foo.w.example."), &source, &example(), &[]).is_bogus());
}

#[test]
fn a_wildcard_answer_is_refused_when_a_closer_name_exists() {
    // d.example. exists, so *.example. cannot answer foo.d.example.
    let proof = only(&["d.example."]);
    let source = name("*.example.");
    assert!(prove_no_closer_match(&name("foo.d.example."), &source, &example(), &proof).is_bogus());
}

#[test]
fn an_insecure_delegation_has_ns_and_no_ds_or_soa() {
    assert_eq!(
        prove_insecure_delegation(&name("sub.example."), &example(), &zone()),
        Security::Insecure(Insecure::UnsignedDelegation)
    );
    assert!(prove_insecure_delegation(&name("sec.example."), &example(), &zone()).is_bogus());
    assert!(prove_insecure_delegation(&name("a.example."), &example(), &zone()).is_bogus());
    assert!(prove_insecure_delegation(&example(), &example(), &zone()).is_bogus());
}

#[test]
fn nsecs_of_another_zone_are_ignored() {
    let proof = only(&["a.example.", "example."]);
    assert!(prove_nxdomain(&name("b.example."), &name("other."), &proof).is_bogus());
    assert!(prove_nxdomain(&name("b.other."), &example(), &proof).is_bogus());
}

#[test]
fn an_nsec_owned_outside_the_zone_is_not_used() {
    // In example. these prove x.m.example. away; a zone m.example. (below
    // them) must not take a.example. -> z.example. as spanning its names.
    let outside = vec![
        nsec("example.", "a.example.", &[SOA, NS, RRSIG, NSEC]),
        nsec("a.example.", "z.example.", &[A, RRSIG, NSEC]),
    ];
    assert_eq!(
        prove_nxdomain(&name("x.m.example."), &example(), &outside),
        Security::Secure(())
    );
    assert!(prove_nxdomain(&name("x.m.example."), &name("m.example."), &outside).is_bogus());
}
