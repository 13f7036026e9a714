//! DNSKEY RRset trust: RFC 4035 §5.2.

use hickory_proto::dnssec::rdata::DS;
use hickory_proto::dnssec::{Algorithm, DigestType};
use hickory_proto::rr::RecordType;

use crate::validator::fixtures::{NOW, ZoneKey, dnskey_rrset, name, trusted};
use crate::validator::{
    Anchor, Bogus, Insecure, Security, ValidationBudget, trust_dnskeys, verify_rrset,
};

fn budget() -> ValidationBudget {
    ValidationBudget::default()
}

#[test]
fn a_ds_matched_key_that_signed_the_set_makes_it_trusted() {
    let ksk = ZoneKey::new("example.");
    let zsk = ZoneKey::with_flags("example.", 256);
    let keys = dnskey_rrset("example.", &[&ksk.dnskey, &zsk.dnskey]);
    let rrsigs = [ksk.sign(&keys)];
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(ksk.ds())],
        NOW,
        &mut budget(),
    );
    let Security::Secure(trusted) = result else {
        panic!("trusted, not {result:?}");
    };
    assert_eq!(trusted.keys().len(), 2);
    assert_eq!(trusted.zone(), &name("example."));
    // The whole set signs the zone: the ZSK's signature verifies.
    let rrset = [crate::validator::fixtures::a("www.example.", 1)];
    assert!(verify_rrset(&rrset, &[zsk.sign(&rrset)], &trusted, NOW, &mut budget()).is_ok());
}

#[test]
fn a_set_signed_only_by_another_key_than_the_ds_matched_is_not_trusted() {
    // Hickory's advisory: one key matched the anchor, the set's signature
    // by another key was taken as enough.
    let ksk = ZoneKey::new("example.");
    let other = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey, &other.dnskey]);
    let rrsigs = [other.sign(&keys)];
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(ksk.ds())],
        NOW,
        &mut budget(),
    );
    assert_eq!(result, Security::Bogus(Bogus::DnskeyMissing));
    // The same signature is good once its own key is the one matched.
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(other.ds())],
        NOW,
        &mut budget(),
    );
    assert!(result.is_secure());
}

#[test]
fn a_dnskey_anchor_also_needs_its_own_signature_over_the_set() {
    let anchor = ZoneKey::new("example.");
    let other = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&anchor.dnskey, &other.dnskey]);
    let anchors = [Anchor::Dnskey(anchor.dnskey.clone())];
    let by_other = [other.sign(&keys)];
    let refused = trust_dnskeys(
        &name("example."),
        &keys,
        &by_other,
        &anchors,
        NOW,
        &mut budget(),
    );
    assert!(refused.is_bogus(), "{refused:?}");
    let by_anchor = [anchor.sign(&keys)];
    let trusted = trust_dnskeys(
        &name("example."),
        &keys,
        &by_anchor,
        &anchors,
        NOW,
        &mut budget(),
    );
    assert!(trusted.is_secure(), "{trusted:?}");
}

#[test]
fn a_ds_matching_no_key_is_dnskey_missing() {
    let ksk = ZoneKey::new("example.");
    let stranger = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let rrsigs = [ksk.sign(&keys)];
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(stranger.ds())],
        NOW,
        &mut budget(),
    );
    assert_eq!(result, Security::Bogus(Bogus::DnskeyMissing));
    assert_eq!(Bogus::DnskeyMissing.info_code(), 9);
}

#[test]
fn a_ds_of_another_zone_name_does_not_match() {
    // The DS digest covers the owner name (RFC 4034 §5.1.4).
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let rrsigs = [ksk.sign(&keys)];
    let mut elsewhere = ZoneKey::new("other.");
    elsewhere.dnskey = ksk.dnskey.clone();
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(elsewhere.ds())],
        NOW,
        &mut budget(),
    );
    assert_eq!(result, Security::Bogus(Bogus::DnskeyMissing));
}

#[test]
fn an_unknown_ds_algorithm_is_insecure_not_bogus() {
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let ds = DS::new(
        ksk.tag(),
        Algorithm::Unknown(200),
        DigestType::SHA256,
        vec![0; 32],
    );
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &[],
        &[Anchor::Ds(ds)],
        NOW,
        &mut budget(),
    );
    assert_eq!(
        result,
        Security::Insecure(Insecure::UnsupportedDnskeyAlgorithm(200))
    );
    assert_eq!(result.extended_error().map(|(code, _)| code), Some(1));
}

#[test]
fn an_unknown_ds_digest_type_is_insecure_not_bogus() {
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let ds = DS::new(
        ksk.tag(),
        Algorithm::ED25519,
        DigestType::Unknown(9),
        vec![0; 32],
    );
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &[],
        &[Anchor::Ds(ds)],
        NOW,
        &mut budget(),
    );
    assert_eq!(
        result,
        Security::Insecure(Insecure::UnsupportedDsDigestType(9))
    );
    assert_eq!(result.extended_error().map(|(code, _)| code), Some(2));
}

#[test]
fn one_supported_ds_beside_unknown_ones_is_used() {
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let rrsigs = [ksk.sign(&keys)];
    let odd = DS::new(
        ksk.tag(),
        Algorithm::Unknown(200),
        DigestType::SHA256,
        vec![0; 32],
    );
    let anchors = [Anchor::Ds(odd), Anchor::Ds(ksk.ds())];
    assert!(
        trust_dnskeys(
            &name("example."),
            &keys,
            &rrsigs,
            &anchors,
            NOW,
            &mut budget()
        )
        .is_secure()
    );
}

#[test]
fn a_sha1_ds_is_ignored_beside_a_sha256_one() {
    // RFC 4509 §3: the SHA-256 DS (here wrong) wins over a right SHA-1 one.
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let rrsigs = [ksk.sign(&keys)];
    let sha1 = ksk
        .dnskey
        .to_digest(&ksk.zone, DigestType::SHA1)
        .expect("a digest");
    let sha1 = DS::new(
        ksk.tag(),
        Algorithm::ED25519,
        DigestType::SHA1,
        sha1.as_ref().to_vec(),
    );
    let wrong = DS::new(
        ksk.tag(),
        Algorithm::ED25519,
        DigestType::SHA256,
        vec![0; 32],
    );
    let alone = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(sha1.clone())],
        NOW,
        &mut budget(),
    );
    assert!(alone.is_secure(), "{alone:?}");
    let both = [Anchor::Ds(sha1), Anchor::Ds(wrong)];
    let result = trust_dnskeys(&name("example."), &keys, &rrsigs, &both, NOW, &mut budget());
    assert_eq!(result, Security::Bogus(Bogus::DnskeyMissing));
}

#[test]
fn an_expired_signature_over_the_set_is_signature_expired() {
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let rrsigs = [ksk.sign(&keys)];
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &rrsigs,
        &[Anchor::Ds(ksk.ds())],
        NOW + 7200,
        &mut budget(),
    );
    assert_eq!(result, Security::Bogus(Bogus::SignatureExpired));
}

#[test]
fn a_set_without_signatures_is_rrsigs_missing() {
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let result = trust_dnskeys(
        &name("example."),
        &keys,
        &[],
        &[Anchor::Ds(ksk.ds())],
        NOW,
        &mut budget(),
    );
    assert_eq!(
        result,
        Security::Bogus(Bogus::RrsigsMissing(RecordType::DNSKEY))
    );
}

#[test]
fn no_anchor_or_no_keys_is_bogus() {
    let ksk = ZoneKey::new("example.");
    let keys = dnskey_rrset("example.", &[&ksk.dnskey]);
    let zone = name("example.");
    assert_eq!(
        trust_dnskeys(&zone, &keys, &[], &[], NOW, &mut budget()),
        Security::Bogus(Bogus::NoTrustAnchor)
    );
    let anchors = [Anchor::Ds(ksk.ds())];
    assert_eq!(
        trust_dnskeys(&zone, &[], &[], &anchors, NOW, &mut budget()),
        Security::Bogus(Bogus::DnskeyMissing)
    );
    let elsewhere = dnskey_rrset("other.", &[&ksk.dnskey]);
    assert_eq!(
        trust_dnskeys(&zone, &elsewhere, &[], &anchors, NOW, &mut budget()),
        Security::Bogus(Bogus::NotOneRrset)
    );
}

#[test]
fn the_trusted_ttl_is_the_sets_authenticated_ttl() {
    let ksk = ZoneKey::new("example.");
    assert_eq!(trusted(&ksk).ttl(), 3600);
}
