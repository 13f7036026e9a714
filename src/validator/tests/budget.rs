//! The validation budget: KeyTrap (CVE-2023-50387) and NSEC3-encloser
//! (CVE-2023-50868) inputs are cut off, and the cut is counted.

use std::collections::HashSet;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG};
use hickory_proto::dnssec::{PublicKey, PublicKeyBuf, Verifier};
use hickory_proto::rr::{RData, Record};

use crate::validator::fixtures::{NOW, Nsec3Params, ZoneKey, a, dnskey_rrset, name};
use crate::validator::{
    Anchor, Bogus, BudgetKind, MAX_SIGNATURES_PER_RRSET, Security, TrustedKeys, ValidationBudget,
    nsec3, trust_dnskeys, verify_rrset,
};

/// `count` DNSKEYs with the key tag of `key` but other public keys: bytes
/// at two even offsets swapped leave the RFC 4034 Appendix B sum unchanged.
fn colliding_keys(key: &DNSKEY, count: usize) -> Vec<DNSKEY> {
    let public = key.public_key().public_bytes().to_vec();
    let mut seen = HashSet::from([public.clone()]);
    let mut keys = Vec::new();
    for i in (0..public.len()).step_by(2) {
        for j in (i + 2..public.len()).step_by(2) {
            let mut swapped = public.clone();
            swapped.swap(i, j);
            if keys.len() < count && seen.insert(swapped.clone()) {
                let buf = PublicKeyBuf::new(swapped, key.algorithm());
                keys.push(DNSKEY::with_flags(key.flags(), buf));
            }
        }
    }
    assert_eq!(keys.len(), count, "enough distinct swaps");
    keys
}

/// A trusted set of the real key and `fakes` keys sharing its tag (the
/// real key listed last, so every fake is tried first).
fn colliding_set(real: &ZoneKey, fakes: usize) -> TrustedKeys {
    let fakes = colliding_keys(&real.dnskey, fakes);
    let mut all: Vec<&DNSKEY> = fakes.iter().collect();
    all.push(&real.dnskey);
    for key in &all {
        assert_eq!(key.calculate_key_tag().ok(), Some(real.tag()));
    }
    let keys = dnskey_rrset("example.", &all);
    let rrsigs = [real.sign(&keys)];
    let mut budget = ValidationBudget::new(64, 64, 0);
    match trust_dnskeys(
        &real.zone,
        &keys,
        &rrsigs,
        &[Anchor::Ds(real.ds())],
        NOW,
        &mut budget,
    ) {
        Security::Secure(trusted) => trusted,
        other => panic!("{other:?}"),
    }
}

/// `count` RRSIGs over `rrset` that look like the real key's but whose
/// signatures are garbage.
fn garbage_rrsigs(real: &ZoneKey, rrset: &[Record], count: usize) -> Vec<Record> {
    let good = real.sign(rrset);
    let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &good.data else {
        unreachable!("the fixture signs with RRSIG");
    };
    (0..count)
        .map(|index| {
            let mut bad = good.clone();
            let signature = vec![index as u8; rrsig.sig().len()];
            bad.data = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
                rrsig.input().clone(),
                signature,
            )));
            bad
        })
        .collect()
}

#[test]
fn colliding_key_tags_and_many_rrsigs_are_cut_off_after_the_rrset_budget() {
    let real = ZoneKey::new("example.");
    let trusted = colliding_set(&real, 20);
    let rrset = [a("www.example.", 1)];
    let rrsigs = garbage_rrsigs(&real, &rrset, 10);
    let mut budget = ValidationBudget::default();
    let result = verify_rrset(&rrset, &rrsigs, &trusted, NOW, &mut budget);
    assert_eq!(
        result,
        Err(Bogus::BudgetExhausted(BudgetKind::SignaturesPerRrset))
    );
    // 21 keys x 10 RRSIGs would be 210 checks; exactly the budget's 8 ran.
    assert_eq!(budget.signatures(), MAX_SIGNATURES_PER_RRSET);
    assert_eq!(result.unwrap_err().info_code(), 0);
}

#[test]
fn the_question_budget_spans_rrsets() {
    let real = ZoneKey::new("example.");
    let trusted = colliding_set(&real, 20);
    let mut budget = ValidationBudget::new(8, 20, 0);
    let mut results = Vec::new();
    for last in 0..4 {
        let rrset = [a("www.example.", last)];
        results.push(verify_rrset(
            &rrset,
            &garbage_rrsigs(&real, &rrset, 2),
            &trusted,
            NOW,
            &mut budget,
        ));
    }
    let per_rrset = Err(Bogus::BudgetExhausted(BudgetKind::SignaturesPerRrset));
    let per_question = Err(Bogus::BudgetExhausted(BudgetKind::SignaturesPerQuestion));
    assert_eq!(
        results,
        [
            per_rrset.clone(),
            per_rrset,
            per_question.clone(),
            per_question
        ]
    );
    assert_eq!(budget.signatures(), 20);
}

#[test]
fn the_real_key_among_colliding_ones_still_verifies_within_budget() {
    let real = ZoneKey::new("example.");
    let trusted = colliding_set(&real, 5);
    let rrset = [a("www.example.", 1)];
    let mut budget = ValidationBudget::default();
    let verified = verify_rrset(&rrset, &[real.sign(&rrset)], &trusted, NOW, &mut budget);
    assert!(verified.is_ok(), "{verified:?}");
    assert_eq!(budget.signatures(), 6);
}

#[test]
fn nsec3_hashes_are_cut_off_by_the_budget() {
    let params = Nsec3Params::recommended();
    let chain = params.chain("example.", &[("example.", &[])], false);
    let deep = name("a.b.c.d.e.f.g.h.example.");
    let mut budget = ValidationBudget::new(8, 64, 4);
    let result = nsec3::prove_nxdomain(&deep, &name("example."), &chain, &mut budget);
    assert_eq!(
        result,
        Security::Bogus(Bogus::BudgetExhausted(BudgetKind::Nsec3Hashes))
    );
    assert_eq!(budget.nsec3_hashes(), 4);
}

#[test]
fn many_ds_records_for_colliding_keys_are_cut_off_after_the_digest_budget() {
    use crate::validator::MAX_DS_DIGESTS_PER_DNSKEY_SET;
    use hickory_proto::dnssec::rdata::DS;
    use hickory_proto::dnssec::{Algorithm, DigestType};
    let real = ZoneKey::new("example.");
    let fakes = colliding_keys(&real.dnskey, 20);
    let mut all: Vec<&DNSKEY> = fakes.iter().collect();
    all.push(&real.dnskey);
    let keys = dnskey_rrset("example.", &all);
    let rrsigs = [real.sign(&keys)];
    let wrong: Vec<Anchor> = (0..20u8)
        .map(|index| {
            Anchor::Ds(DS::new(
                real.tag(),
                Algorithm::ED25519,
                DigestType::SHA256,
                vec![index; 32],
            ))
        })
        .collect();
    let mut budget = ValidationBudget::default();
    let result = trust_dnskeys(&real.zone, &keys, &rrsigs, &wrong, NOW, &mut budget);
    assert_eq!(
        result,
        Security::Bogus(Bogus::BudgetExhausted(BudgetKind::DsDigests))
    );
    const { assert!(MAX_DS_DIGESTS_PER_DNSKEY_SET < 20 * 21) };
    // A few DS records, the right one among them, stay within it.
    let mut few: Vec<Anchor> = wrong.into_iter().take(3).collect();
    few.push(Anchor::Ds(real.ds()));
    let single = dnskey_rrset("example.", &[&real.dnskey]);
    let rrsigs = [real.sign(&single)];
    assert!(trust_dnskeys(&real.zone, &single, &rrsigs, &few, NOW, &mut budget).is_secure());
}
