//! RRset verification: RFC 4035 §5.3.

use hickory_proto::dnssec::Algorithm;
use hickory_proto::rr::{RecordType, SerialNumber};

use crate::validator::fixtures::{NOW, ZoneKey, a, name, tampered, trusted};
use crate::validator::{Bogus, ValidationBudget, verify_rrset};

fn budget() -> ValidationBudget {
    ValidationBudget::default()
}

#[test]
fn a_valid_signature_is_secure() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1), a("www.example.", 2)];
    let rrsigs = [key.sign(&rrset)];
    let verified =
        verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget()).expect("secure");
    assert_eq!(verified.key_tag, key.tag());
    assert_eq!(verified.wildcard, None);
}

#[test]
fn a_record_changed_after_signing_is_bogus() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign(&rrset)];
    let changed = [a("www.example.", 66)];
    let result = verify_rrset(&changed, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::SignatureInvalid));
}

#[test]
fn a_record_added_after_signing_is_bogus() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign(&rrset)];
    let more = [a("www.example.", 1), a("www.example.", 2)];
    let result = verify_rrset(&more, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::SignatureInvalid));
}

#[test]
fn after_the_expiration_the_signature_expired() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign(&rrset)];
    let later = NOW + 3601;
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), later, &mut budget());
    assert_eq!(result, Err(Bogus::SignatureExpired));
    assert_eq!(Bogus::SignatureExpired.info_code(), 7);
}

#[test]
fn before_the_inception_the_signature_is_not_yet_valid() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign(&rrset)];
    let earlier = NOW - 3601;
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), earlier, &mut budget());
    assert_eq!(result, Err(Bogus::SignatureNotYetValid));
    assert_eq!(Bogus::SignatureNotYetValid.info_code(), 8);
}

#[test]
fn the_validity_window_uses_serial_arithmetic_across_the_wrap() {
    // RFC 1982: inception near 2^32, expiration past the wrap, now between.
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign_with(&rrset, |input| {
        input.sig_inception = SerialNumber::new(u32::MAX - 100);
        input.sig_expiration = SerialNumber::new(100);
    })];
    let trusted = trusted(&key);
    assert!(verify_rrset(&rrset, &rrsigs, &trusted, 50, &mut budget()).is_ok());
    assert_eq!(
        verify_rrset(&rrset, &rrsigs, &trusted, 101, &mut budget()),
        Err(Bogus::SignatureExpired)
    );
    assert_eq!(
        verify_rrset(&rrset, &rrsigs, &trusted, u32::MAX - 101, &mut budget()),
        Err(Bogus::SignatureNotYetValid)
    );
}

#[test]
fn a_signer_that_is_not_the_zone_is_refused() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign_with(&rrset, |input| input.signer_name = name("other."))];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::SignerNameMismatch));
}

#[test]
fn a_zone_cannot_sign_a_name_outside_it() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.elsewhere.", 1)];
    let rrsigs = [key.sign(&rrset)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::SignerNameMismatch));
}

#[test]
fn labels_above_the_owners_labels_are_refused() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [tampered(&key.sign(&rrset), |input| input.num_labels = 3)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::LabelsExceedOwner));
}

#[test]
fn a_wildcard_expanded_answer_returns_its_source() {
    // Signed as *.example. (Labels 1), answered as a.b.example.
    let key = ZoneKey::new("example.");
    let rrset = [a("a.b.example.", 1)];
    let rrsigs = [key.sign_with(&rrset, |input| input.num_labels = 1)];
    let verified =
        verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget()).expect("secure");
    assert_eq!(verified.wildcard, Some(name("*.example.")));
}

#[test]
fn a_wildcard_above_the_zone_is_refused() {
    let key = ZoneKey::new("sub.example.");
    let rrset = [a("www.sub.example.", 1)];
    let rrsigs = [key.sign_with(&rrset, |input| input.num_labels = 1)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::WildcardOutsideZone));
}

#[test]
fn no_rrsig_of_the_type_is_rrsigs_missing() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign_with(&rrset, |input| input.type_covered = RecordType::AAAA)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::RrsigsMissing(RecordType::A)));
    assert_eq!(
        verify_rrset(&rrset, &[], &trusted(&key), NOW, &mut budget()),
        Err(Bogus::RrsigsMissing(RecordType::A))
    );
}

#[test]
fn a_signature_by_a_key_not_in_the_set_is_dnskey_missing() {
    let key = ZoneKey::new("example.");
    let stranger = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [stranger.sign(&rrset)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::DnskeyMissing));
}

#[test]
fn the_ttl_is_capped_by_original_ttl_and_expiration() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let rrsigs = [key.sign_with(&rrset, |input| input.original_ttl = 60)];
    let verified =
        verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget()).expect("secure");
    assert_eq!(verified.ttl, 60);
    let rrsigs = [key.sign(&rrset)];
    let verified =
        verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW + 3590, &mut budget()).expect("secure");
    assert_eq!(verified.ttl, 10);
}

#[test]
fn an_unsupported_algorithm_rrsig_is_skipped_for_a_good_one() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1)];
    let good = key.sign(&rrset);
    let odd = tampered(&good, |input| input.algorithm = Algorithm::Unknown(200));
    let verified = verify_rrset(
        &rrset,
        &[odd.clone(), good],
        &trusted(&key),
        NOW,
        &mut budget(),
    );
    assert!(verified.is_ok());
    let alone = verify_rrset(&rrset, &[odd], &trusted(&key), NOW, &mut budget());
    assert_eq!(alone, Err(Bogus::RrsigsMissing(RecordType::A)));
}

#[test]
fn records_of_two_owners_are_not_one_rrset() {
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1), a("ftp.example.", 1)];
    let rrsigs = [key.sign(&rrset)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted(&key), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::NotOneRrset));
    assert_eq!(
        verify_rrset(&[], &rrsigs, &trusted(&key), NOW, &mut budget()),
        Err(Bogus::NotOneRrset)
    );
}

#[test]
fn a_key_without_the_zone_key_flag_cannot_sign() {
    let key = ZoneKey::new("example.");
    let not_zone = ZoneKey::with_flags("example.", 0);
    let trusted = {
        // A set holding both; the zone key makes the set trusted.
        use crate::validator::fixtures::dnskey_rrset;
        use crate::validator::{Anchor, Security, trust_dnskeys};
        let keys = dnskey_rrset("example.", &[&key.dnskey, &not_zone.dnskey]);
        let rrsigs = [key.sign(&keys)];
        match trust_dnskeys(
            &key.zone,
            &keys,
            &rrsigs,
            &[Anchor::Ds(key.ds())],
            NOW,
            &mut budget(),
        ) {
            Security::Secure(trusted) => trusted,
            other => panic!("{other:?}"),
        }
    };
    let rrset = [a("www.example.", 1)];
    let rrsigs = [not_zone.sign(&rrset)];
    let result = verify_rrset(&rrset, &rrsigs, &trusted, NOW, &mut budget());
    assert_eq!(result, Err(Bogus::NoZoneKeyBitSet));
}

#[test]
fn a_revoked_key_signs_only_its_dnskey_rrset() {
    use crate::validator::fixtures::dnskey_rrset;
    use crate::validator::{Anchor, Security, trust_dnskeys};
    // RFC 5011 §2.1: flags 257 + REVOKE (0x0080).
    let key = ZoneKey::new("example.");
    let revoked = ZoneKey::with_flags("example.", 257 | 0x0080);
    let keys = dnskey_rrset("example.", &[&key.dnskey, &revoked.dnskey]);
    let rrsigs = [key.sign(&keys)];
    let anchors = [Anchor::Ds(key.ds())];
    let Security::Secure(trusted) =
        trust_dnskeys(&key.zone, &keys, &rrsigs, &anchors, NOW, &mut budget())
    else {
        panic!("trusted");
    };
    let rrset = [a("www.example.", 1)];
    let result = verify_rrset(
        &rrset,
        &[revoked.sign(&rrset)],
        &trusted,
        NOW,
        &mut budget(),
    );
    assert_eq!(result, Err(Bogus::DnskeyMissing));
    // Nor can a DS make a revoked key the set's entry point.
    let anchors = [Anchor::Ds(revoked.ds())];
    let rrsigs = [revoked.sign(&keys)];
    let result = trust_dnskeys(&key.zone, &keys, &rrsigs, &anchors, NOW, &mut budget());
    assert_eq!(result, Security::Bogus(Bogus::DnskeyMissing));
}

#[test]
fn a_duplicated_record_does_not_break_the_signature() {
    // RFC 4034 §6.3: the signer removed duplicates; so does the validator.
    let key = ZoneKey::new("example.");
    let rrset = [a("www.example.", 1), a("www.example.", 2)];
    let rrsigs = [key.sign(&rrset)];
    let doubled = [
        a("www.example.", 1),
        a("www.example.", 2),
        a("www.example.", 1),
    ];
    assert!(verify_rrset(&doubled, &rrsigs, &trusted(&key), NOW, &mut budget()).is_ok());
}

#[test]
fn records_received_with_different_ttls_still_verify() {
    // The signed form uses the Original TTL, whatever TTLs arrived.
    let key = ZoneKey::new("example.");
    let rrset: Vec<_> = (1..=5).map(|last| a("www.example.", last)).collect();
    let rrsigs = [key.sign(&rrset)];
    let mut received = rrset.clone();
    received.reverse();
    for (index, record) in received.iter_mut().enumerate() {
        record.ttl = 100 + index as u32 * 50;
    }
    let verified =
        verify_rrset(&received, &rrsigs, &trusted(&key), NOW, &mut budget()).expect("secure");
    assert_eq!(verified.ttl, 100);
}

#[test]
fn a_ds_rrset_signed_by_the_child_zone_itself_is_refused() {
    use crate::validator::fixtures::name;
    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::rr::{RData, Record};
    let child = ZoneKey::new("sub.example.");
    let ds = [Record::from_rdata(
        name("sub.example."),
        3600,
        RData::DNSSEC(DNSSECRData::DS(child.ds())),
    )];
    let rrsigs = [child.sign(&ds)];
    let result = verify_rrset(&ds, &rrsigs, &trusted(&child), NOW, &mut budget());
    assert_eq!(result, Err(Bogus::SignerNameMismatch));
}
