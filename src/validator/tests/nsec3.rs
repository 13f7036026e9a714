//! Denial of existence with NSEC3: RFC 5155 §8, RFC 9276 §3.2.

use hickory_proto::dnssec::rdata::NSEC3;
use hickory_proto::rr::{Name, Record, RecordData, RecordType};

use crate::validator::fixtures::{Nsec3Params, base32, name};
use crate::validator::nsec3::{
    prove_insecure_delegation, prove_no_closer_match, prove_nodata, prove_nxdomain,
};
use crate::validator::{Bogus, Insecure, MAX_NSEC3_ITERATIONS, Security, ValidationBudget};

use RecordType::{A, AAAA, DNSKEY, DS, NS, NSEC3PARAM, RRSIG, SOA};

/// The names of `example.` with their types: a signed child sec., an
/// unsigned child sub., a wildcard *.w. (w. an empty non-terminal) and
/// x.y. (y. an empty non-terminal).
fn names() -> Vec<(&'static str, &'static [RecordType])> {
    vec![
        ("example.", &[SOA, NS, DNSKEY, NSEC3PARAM, RRSIG]),
        ("a.example.", &[A, RRSIG]),
        ("sec.example.", &[NS, DS, RRSIG]),
        ("sub.example.", &[NS]),
        ("w.example.", &[]),
        ("*.w.example.", &[A, RRSIG]),
        ("y.example.", &[]),
        ("x.y.example.", &[A, RRSIG]),
    ]
}

fn zone(params: &Nsec3Params, opt_out: bool) -> Vec<Record> {
    params.chain("example.", &names(), opt_out)
}

fn example() -> Name {
    name("example.")
}

fn budget() -> ValidationBudget {
    ValidationBudget::default()
}

/// `chain` without the record whose span holds the hash of `owner`.
fn without_cover(params: &Nsec3Params, chain: &[Record], owner: &str) -> Vec<Record> {
    let hash = params.hash(owner);
    chain
        .iter()
        .filter(|record| {
            let nsec3 = NSEC3::try_borrow(&record.data).expect("an NSEC3");
            let start = record
                .name
                .iter()
                .next()
                .map(|label| label.to_ascii_lowercase());
            let first = start.expect("a hash label");
            let own = String::from_utf8(first).expect("ascii");
            let next = base32(nsec3.next_hashed_owner_name()).to_ascii_lowercase();
            let target = base32(&hash).to_ascii_lowercase();
            let covers = if own < next {
                own < target && target < next
            } else {
                own < target || target < next
            };
            !covers
        })
        .cloned()
        .collect()
}

#[test]
fn nxdomain_by_the_closest_encloser_proof_and_the_wildcard() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    let qname = name("b.example.");
    assert_eq!(
        prove_nxdomain(&qname, &example(), &chain, &mut budget()),
        Security::Secure(())
    );
    let no_wildcard = without_cover(&params, &chain, "*.example.");
    assert_eq!(
        prove_nxdomain(&qname, &example(), &no_wildcard, &mut budget()),
        Security::Bogus(Bogus::NsecMissing)
    );
    let no_next_closer = without_cover(&params, &chain, "b.example.");
    assert!(prove_nxdomain(&qname, &example(), &no_next_closer, &mut budget()).is_bogus());
}

#[test]
fn nxdomain_is_refused_for_names_that_exist_or_have_a_wildcard() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    assert!(prove_nxdomain(&name("a.example."), &example(), &chain, &mut budget()).is_bogus());
    assert!(prove_nxdomain(&name("y.example."), &example(), &chain, &mut budget()).is_bogus());
    assert!(prove_nxdomain(&name("foo.w.example."), &example(), &chain, &mut budget()).is_bogus());
}

#[test]
fn nxdomain_in_an_opt_out_span_is_insecure() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, true);
    let result = prove_nxdomain(&name("b.example."), &example(), &chain, &mut budget());
    assert_eq!(result, Security::Insecure(Insecure::OptOut));
}

#[test]
fn nodata_by_the_matching_nsec3() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    assert_eq!(
        prove_nodata(&name("a.example."), AAAA, &example(), &chain, &mut budget()),
        Security::Secure(())
    );
    assert!(prove_nodata(&name("a.example."), A, &example(), &chain, &mut budget()).is_bogus());
    assert_eq!(
        prove_nodata(&name("y.example."), A, &example(), &chain, &mut budget()),
        Security::Secure(())
    );
}

#[test]
fn nodata_for_ds_at_a_delegation_but_not_for_its_other_types() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    assert_eq!(
        prove_nodata(&name("sub.example."), DS, &example(), &chain, &mut budget()),
        Security::Secure(())
    );
    assert!(prove_nodata(&name("sub.example."), A, &example(), &chain, &mut budget()).is_bogus());
    assert!(prove_nodata(&name("sec.example."), DS, &example(), &chain, &mut budget()).is_bogus());
}

#[test]
fn no_ds_for_a_name_in_an_opt_out_span_is_insecure() {
    let params = Nsec3Params::recommended();
    let opted = zone(&params, true);
    let qname = name("insecure.example.");
    assert_eq!(
        prove_nodata(&qname, DS, &example(), &opted, &mut budget()),
        Security::Insecure(Insecure::OptOut)
    );
    let strict = zone(&params, false);
    assert!(prove_nodata(&qname, DS, &example(), &strict, &mut budget()).is_bogus());
}

/// RFC 5155 §8.6, §9.2: NODATA for any type, with no NSEC3 matching QNAME
/// or the wildcard, holds when the next closer name is in an opt-out span
/// (an unsigned delegation may be there): insecure, as Unbound answers.
#[test]
fn nodata_for_a_name_in_an_opt_out_span_is_insecure_for_every_type() {
    let params = Nsec3Params::recommended();
    let opted = zone(&params, true);
    let qname = name("insecure.example.");
    for qtype in [A, AAAA, RecordType::MX] {
        assert_eq!(
            prove_nodata(&qname, qtype, &example(), &opted, &mut budget()),
            Security::Insecure(Insecure::OptOut)
        );
    }
    let strict = zone(&params, false);
    assert!(prove_nodata(&qname, A, &example(), &strict, &mut budget()).is_bogus());
    // A wildcard that has the type is an answer, not a denial, opt-out or
    // not; one that lacks it is a denial, insecure in an opt-out span.
    let below_wildcard = name("foo.w.example.");
    assert!(prove_nodata(&below_wildcard, A, &example(), &opted, &mut budget()).is_bogus());
    assert_eq!(
        prove_nodata(&below_wildcard, AAAA, &example(), &opted, &mut budget()),
        Security::Insecure(Insecure::OptOut)
    );
}

#[test]
fn wildcard_nodata_by_the_wildcards_nsec3() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    let qname = name("foo.w.example.");
    assert_eq!(
        prove_nodata(&qname, AAAA, &example(), &chain, &mut budget()),
        Security::Secure(())
    );
    assert!(prove_nodata(&qname, A, &example(), &chain, &mut budget()).is_bogus());
}

/// RFC 5155 §9.2 (as Unbound reads it): a wildcard answer whose next
/// closer name lies in an opt-out span may hide an unsigned delegation
/// there: insecure, no AD.
#[test]
fn a_wildcard_answer_in_an_opt_out_span_is_insecure() {
    let params = Nsec3Params::recommended();
    let opted = zone(&params, true);
    let source = name("*.w.example.");
    let qname = name("foo.w.example.");
    assert_eq!(
        prove_no_closer_match(&qname, &source, &example(), &opted, &mut budget()),
        Security::Insecure(Insecure::OptOut)
    );
}

#[test]
fn a_wildcard_answer_is_proven_by_the_covered_next_closer_name() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    let source = name("*.w.example.");
    let qname = name("foo.w.example.");
    assert_eq!(
        prove_no_closer_match(&qname, &source, &example(), &chain, &mut budget()),
        Security::Secure(())
    );
    let uncovered = without_cover(&params, &chain, "foo.w.example.");
    assert!(
        prove_no_closer_match(&qname, &source, &example(), &uncovered, &mut budget()).is_bogus()
    );
    // a.example. exists: *.example. cannot have answered it.
    let wide = name("*.example.");
    assert!(
        prove_no_closer_match(
            &name("a.example."),
            &wide,
            &example(),
            &chain,
            &mut budget()
        )
        .is_bogus()
    );
}

#[test]
fn an_insecure_delegation_by_its_nsec3_or_an_opt_out_span() {
    let params = Nsec3Params::recommended();
    let chain = zone(&params, false);
    assert_eq!(
        prove_insecure_delegation(&name("sub.example."), &example(), &chain, &mut budget()),
        Security::Insecure(Insecure::UnsignedDelegation)
    );
    assert!(
        prove_insecure_delegation(&name("sec.example."), &example(), &chain, &mut budget())
            .is_bogus()
    );
    assert!(
        prove_insecure_delegation(&name("a.example."), &example(), &chain, &mut budget())
            .is_bogus()
    );
    let unlisted = name("insecure.example.");
    assert!(prove_insecure_delegation(&unlisted, &example(), &chain, &mut budget()).is_bogus());
    let opted = zone(&params, true);
    assert_eq!(
        prove_insecure_delegation(&unlisted, &example(), &opted, &mut budget()),
        Security::Insecure(Insecure::OptOut)
    );
}

#[test]
fn iterations_above_the_limit_are_insecure() {
    let at_limit = Nsec3Params {
        salt: vec![0xab, 0xcd],
        iterations: MAX_NSEC3_ITERATIONS,
    };
    let chain = zone(&at_limit, false);
    assert_eq!(
        prove_nxdomain(&name("b.example."), &example(), &chain, &mut budget()),
        Security::Secure(())
    );
    let above = Nsec3Params {
        salt: vec![0xab, 0xcd],
        iterations: MAX_NSEC3_ITERATIONS + 1,
    };
    let chain = zone(&above, false);
    let result = prove_nxdomain(&name("b.example."), &example(), &chain, &mut budget());
    assert_eq!(
        result,
        Security::Insecure(Insecure::Nsec3IterationsTooHigh(MAX_NSEC3_ITERATIONS + 1))
    );
    assert_eq!(result.extended_error().map(|(code, _)| code), Some(27));
}

#[test]
fn records_with_other_parameters_are_ignored() {
    let params = Nsec3Params::recommended();
    let salted = Nsec3Params {
        salt: vec![1],
        iterations: 0,
    };
    // The first record sets the parameters; the others do not count.
    let mut mixed = zone(&params, false);
    mixed.truncate(1);
    mixed.extend(zone(&salted, false));
    assert!(prove_nxdomain(&name("b.example."), &example(), &mixed, &mut budget()).is_bogus());
}

#[test]
fn the_closest_encloser_search_ends_for_crafted_sets() {
    // Hickory's validator once looped here. A qname of 100 labels, a chain
    // that matches nothing (one record whose span is empty), a qname outside
    // the zone and the root: each ends, having hashed at most one name per label.
    let params = Nsec3Params::recommended();
    let nothing = params.hash("nothing.example.");
    let crafted = vec![params.record("example.", &nothing, &nothing, &[], false)];
    let labels: Vec<&str> = std::iter::repeat_n("a", 100).collect();
    let deep = name(&format!("{}.example.", labels.join(".")));
    let mut spent = ValidationBudget::new(8, 64, 1000);
    assert!(prove_nxdomain(&deep, &example(), &crafted, &mut spent).is_bogus());
    assert!(
        spent.nsec3_hashes() <= 101,
        "{} hashes",
        spent.nsec3_hashes()
    );
    let mut spent = ValidationBudget::new(8, 64, 1000);
    assert!(prove_nxdomain(&name("www.other."), &example(), &crafted, &mut spent).is_bogus());
    assert_eq!(spent.nsec3_hashes(), 0);
    let mut spent = ValidationBudget::new(8, 64, 1000);
    assert!(prove_nxdomain(&Name::root(), &example(), &crafted, &mut spent).is_bogus());
    assert!(prove_nodata(&Name::root(), DS, &Name::root(), &crafted, &mut spent).is_bogus());
}

#[test]
fn the_owner_hash_is_read_from_base32hex_in_either_case() {
    use crate::validator::nsec3_chain::base32hex_decode;
    let hash = Nsec3Params::recommended().hash("a.example.");
    let label = base32(&hash);
    assert_eq!(base32hex_decode(label.as_bytes()), Some(hash.clone()));
    assert_eq!(
        base32hex_decode(label.to_ascii_uppercase().as_bytes()),
        Some(hash)
    );
    assert_eq!(base32hex_decode(b"zz"), None);
    assert_eq!(base32hex_decode(b"0"), None);
}

/// `hash` plus or minus one, as a big-endian number (wrapping).
fn step(hash: &[u8], up: bool) -> Vec<u8> {
    let mut out = hash.to_vec();
    for byte in out.iter_mut().rev() {
        let (value, carry) = if up {
            byte.overflowing_add(1)
        } else {
            byte.overflowing_sub(1)
        };
        *byte = value;
        if !carry {
            break;
        }
    }
    out
}

/// An NSEC3 whose span holds only the hash of `owner` (from hash-1 to hash+1).
fn span_around(params: &Nsec3Params, owner: &str) -> Record {
    let hash = params.hash(owner);
    params.record(
        "example.",
        &step(&hash, false),
        &step(&hash, true),
        &[],
        false,
    )
}

#[test]
fn nxdomain_needs_the_next_closer_name_covered_not_only_the_wildcard() {
    let params = Nsec3Params::recommended();
    let apex = params.hash("example.");
    let apex_only = params.record("example.", &apex, &step(&apex, true), &[SOA, NS], false);
    let wildcard = span_around(&params, "*.example.");
    let qname = name("b.example.");
    let without = [apex_only.clone(), wildcard.clone()];
    assert!(prove_nxdomain(&qname, &example(), &without, &mut budget()).is_bogus());
    let with = [apex_only, wildcard, span_around(&params, "b.example.")];
    assert_eq!(
        prove_nxdomain(&qname, &example(), &with, &mut budget()),
        Security::Secure(())
    );
}

#[test]
fn a_record_with_other_parameters_cannot_stand_in_for_a_missing_one() {
    let params = Nsec3Params::recommended();
    let apex = params.hash("example.");
    let apex_only = params.record("example.", &apex, &step(&apex, true), &[SOA, NS], false);
    let wildcard = span_around(&params, "*.example.");
    let once = Nsec3Params {
        salt: Vec::new(),
        iterations: 1,
    };
    let hash = params.hash("b.example.");
    let odd = once.record(
        "example.",
        &step(&hash, false),
        &step(&hash, true),
        &[],
        false,
    );
    let set = [apex_only, wildcard, odd];
    assert!(prove_nxdomain(&name("b.example."), &example(), &set, &mut budget()).is_bogus());
}

#[test]
fn the_last_span_wraps_round_to_the_first_hash() {
    // One name, one record: its span is the whole ring but its own hash.
    let params = Nsec3Params::recommended();
    let apex = params.hash("example.");
    let ring = [params.record("example.", &apex, &apex, &[SOA, NS], false)];
    let below = (0..200)
        .map(|index| format!("q{index}.example."))
        .find(|qname| params.hash(qname) < apex && params.hash(&format!("*.{qname}")) != apex)
        .expect("a name hashing below the apex");
    let above = (0..200)
        .map(|index| format!("q{index}.example."))
        .find(|qname| params.hash(qname) > apex)
        .expect("a name hashing above the apex");
    for qname in [below, above] {
        let result = prove_nxdomain(&name(&qname), &example(), &ring, &mut budget());
        assert_eq!(result, Security::Secure(()), "{qname}");
    }
}
