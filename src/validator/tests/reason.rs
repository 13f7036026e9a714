//! Reasons and their Extended DNS Errors: RFC 8914 §4.

use hickory_proto::rr::RecordType;

use crate::validator::{Bogus, BudgetKind, Insecure, Security};

#[test]
fn each_bogus_reason_has_its_rfc_8914_code() {
    let table = [
        (Bogus::SignatureExpired, 7),
        (Bogus::SignatureNotYetValid, 8),
        (Bogus::DnskeyMissing, 9),
        (Bogus::RrsigsMissing(RecordType::A), 10),
        (Bogus::NoZoneKeyBitSet, 11),
        (Bogus::NsecMissing, 12),
        (Bogus::SignatureInvalid, 6),
        (Bogus::SignerNameMismatch, 6),
        (Bogus::BudgetExhausted(BudgetKind::Nsec3Hashes), 0),
    ];
    for (reason, code) in table {
        assert_eq!(reason.info_code(), code, "{reason:?}");
        assert!(!reason.text().is_empty());
    }
    assert!(
        Bogus::BudgetExhausted(BudgetKind::SignaturesPerRrset)
            .text()
            .contains("budget")
    );
}

#[test]
fn insecure_reasons_have_codes_only_where_rfc_8914_and_9276_give_one() {
    assert_eq!(
        Insecure::UnsupportedDnskeyAlgorithm(200).info_code(),
        Some(1)
    );
    assert_eq!(Insecure::UnsupportedDsDigestType(9).info_code(), Some(2));
    assert_eq!(Insecure::Nsec3IterationsTooHigh(500).info_code(), Some(27));
    assert_eq!(Insecure::UnsignedDelegation.info_code(), None);
    assert_eq!(
        Security::<()>::Insecure(Insecure::OptOut).extended_error(),
        None
    );
    assert_eq!(Security::Secure(()).extended_error(), None);
    assert_eq!(
        Security::<()>::Bogus(Bogus::SignatureExpired).extended_error(),
        Some((7, "Signature Expired"))
    );
}
