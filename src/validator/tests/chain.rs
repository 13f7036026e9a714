//! The pieces together, as the iterator will call them: from a trust anchor
//! for the root down to a wildcard answer in example., and where the chain
//! stops at an unsigned delegation (RFC 4035 §5, RFC 4033 §5).

use hickory_proto::dnssec::rdata::{DNSSECRData, DS};
use hickory_proto::rr::{RData, Record, RecordData, RecordType};

use crate::validator::fixtures::{NOW, ZoneKey, a, dnskey_rrset, name, nsec};
use crate::validator::{
    Anchor, Bogus, Insecure, Security, TrustedKeys, ValidationBudget, nsec as denial,
    trust_dnskeys, verify_rrset,
};

/// The root's DNSKEY RRset trusted from a DNSKEY trust anchor.
fn root_keys(
    root: &ZoneKey,
    anchor: &ZoneKey,
    budget: &mut ValidationBudget,
) -> Security<TrustedKeys> {
    let keys = dnskey_rrset(".", &[&root.dnskey]);
    let rrsigs = [root.sign(&keys)];
    trust_dnskeys(
        &name("."),
        &keys,
        &rrsigs,
        &[Anchor::Dnskey(anchor.dnskey.clone())],
        NOW,
        budget,
    )
}

/// The DS RRset of `child` as the root publishes it.
fn ds_rrset(child: &ZoneKey) -> Vec<Record> {
    vec![Record::from_rdata(
        child.zone.clone(),
        86400,
        RData::DNSSEC(DNSSECRData::DS(child.ds())),
    )]
}

#[test]
fn a_chain_from_the_root_anchor_to_a_wildcard_answer_is_secure() {
    let root = ZoneKey::new(".");
    let example = ZoneKey::new("example.");
    let mut budget = ValidationBudget::default();
    // . DNSKEY (trust anchor)
    let Security::Secure(root_trusted) = root_keys(&root, &root, &mut budget) else {
        panic!("the root's keys are trusted");
    };
    // example. DS, signed by the root
    let ds = ds_rrset(&example);
    verify_rrset(&ds, &[root.sign(&ds)], &root_trusted, NOW, &mut budget)
        .expect("the DS is secure");
    let anchors: Vec<Anchor> = ds
        .iter()
        .filter_map(|record| DS::try_borrow(&record.data))
        .cloned()
        .map(Anchor::Ds)
        .collect();
    // example. DNSKEY, matched by the DS and self-signed
    let keys = dnskey_rrset("example.", &[&example.dnskey]);
    let Security::Secure(example_trusted) = trust_dnskeys(
        &example.zone,
        &keys,
        &[example.sign(&keys)],
        &anchors,
        NOW,
        &mut budget,
    ) else {
        panic!("example.'s keys are trusted");
    };
    // foo.w.example. A, expanded from *.w.example.
    let answer = [a("foo.w.example.", 7)];
    let rrsigs = [example.sign_with(&answer, |input| input.num_labels = 2)];
    let verified =
        verify_rrset(&answer, &rrsigs, &example_trusted, NOW, &mut budget).expect("signed");
    let source = verified.wildcard.expect("a wildcard answer");
    // ... and the NSEC that proves no closer match, itself verified first.
    let proof = [nsec(
        "*.w.example.",
        "x.example.",
        &[RecordType::A, RecordType::RRSIG, RecordType::NSEC],
    )];
    verify_rrset(
        &proof,
        &[example.sign(&proof)],
        &example_trusted,
        NOW,
        &mut budget,
    )
    .expect("the NSEC is secure");
    let qname = name("foo.w.example.");
    assert_eq!(
        denial::prove_no_closer_match(&qname, &source, &example.zone, &proof),
        Security::Secure(())
    );
    assert!(
        budget.signatures() <= 5,
        "{} signatures",
        budget.signatures()
    );
}

#[test]
fn the_chain_stops_insecure_at_an_unsigned_delegation() {
    let root = ZoneKey::new(".");
    let mut budget = ValidationBudget::default();
    let Security::Secure(root_trusted) = root_keys(&root, &root, &mut budget) else {
        panic!("the root's keys are trusted");
    };
    // The root's NSEC at unsigned.: NS, no DS, no SOA.
    let proof = [nsec(
        "unsigned.",
        "z.",
        &[RecordType::NS, RecordType::RRSIG, RecordType::NSEC],
    )];
    verify_rrset(
        &proof,
        &[root.sign(&proof)],
        &root_trusted,
        NOW,
        &mut budget,
    )
    .expect("the NSEC is secure");
    assert_eq!(
        denial::prove_insecure_delegation(&name("unsigned."), &name("."), &proof),
        Security::Insecure(Insecure::UnsignedDelegation)
    );
}

#[test]
fn a_wrong_trust_anchor_makes_the_root_bogus() {
    let root = ZoneKey::new(".");
    let stranger = ZoneKey::new(".");
    let result = root_keys(&root, &stranger, &mut ValidationBudget::default());
    assert_eq!(result, Security::Bogus(Bogus::DnskeyMissing));
}

#[test]
fn a_ds_signed_by_the_child_instead_of_the_parent_is_refused() {
    let root = ZoneKey::new(".");
    let example = ZoneKey::new("example.");
    let mut budget = ValidationBudget::default();
    let Security::Secure(root_trusted) = root_keys(&root, &root, &mut budget) else {
        panic!("the root's keys are trusted");
    };
    let ds = ds_rrset(&example);
    let by_child = [example.sign(&ds)];
    assert!(verify_rrset(&ds, &by_child, &root_trusted, NOW, &mut budget).is_err());
}
