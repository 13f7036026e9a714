//! Trust anchors: RFC 4034 §2.2, §5.3 presentation forms; the IANA root.

use hickory_proto::dnssec::rdata::DS;
use hickory_proto::dnssec::{Algorithm, DigestType};
use hickory_proto::rr::Name;

use crate::validator::fixtures::{ZoneKey, name};
use crate::validator::{
    Anchor, AnchorError, IANA_ROOT_TRUST_ANCHORS, iana_root_anchors, parse_trust_anchor,
    parse_trust_anchors,
};

#[test]
fn a_ds_anchor_in_presentation_form_is_read() {
    let anchor = parse_trust_anchor(IANA_ROOT_TRUST_ANCHORS[0]).expect("a DS");
    assert_eq!(anchor.zone, Name::root());
    let Anchor::Ds(ds) = anchor.anchor else {
        panic!("a DS, not {:?}", anchor.anchor);
    };
    assert_eq!(ds.key_tag(), 20326);
    assert_eq!(ds.algorithm(), Algorithm::RSASHA256);
    assert_eq!(ds.digest_type(), DigestType::SHA256);
    assert_eq!(ds.digest().len(), 32);
}

#[test]
fn a_dnskey_anchor_in_presentation_form_is_read() {
    let key = ZoneKey::new("example.");
    let text = format!("example. 3600 IN DNSKEY {}", key.dnskey);
    let anchor = parse_trust_anchor(&text).expect("a DNSKEY");
    assert_eq!(anchor.zone, name("example."));
    assert_eq!(anchor.anchor, Anchor::Dnskey(key.dnskey.clone()));
}

#[test]
fn other_text_is_refused_with_a_clear_error() {
    assert!(matches!(
        parse_trust_anchor("example. IN A 192.0.2.1"),
        Err(AnchorError::NotDsOrDnskey(..))
    ));
    assert!(matches!(parse_trust_anchor(""), Err(AnchorError::Empty(_))));
    assert!(matches!(
        parse_trust_anchor(". IN DS 20326 8 2 ZZ"),
        Err(AnchorError::Syntax { .. })
    ));
    assert!(matches!(
        parse_trust_anchor(". IN DS 20326 8"),
        Err(AnchorError::Syntax { .. })
    ));
    let chaos =
        ". CH DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
    assert!(matches!(
        parse_trust_anchor(chaos),
        Err(AnchorError::NotInternetClass(..))
    ));
    let error = parse_trust_anchor("example. IN A 192.0.2.1")
        .unwrap_err()
        .to_string();
    assert!(error.contains("DS or DNSKEY"), "{error}");
}

#[test]
fn a_list_is_read_whole_or_refused() {
    assert_eq!(
        parse_trust_anchors(&IANA_ROOT_TRUST_ANCHORS)
            .expect("two DS")
            .len(),
        2
    );
    assert!(parse_trust_anchors(&[IANA_ROOT_TRUST_ANCHORS[0], "nonsense"]).is_err());
}

#[test]
fn the_iana_root_keys_are_the_ones_the_iana_ds_records_name() {
    let keys = iana_root_anchors();
    assert_eq!(keys.len(), 2);
    let published: Vec<DS> = IANA_ROOT_TRUST_ANCHORS
        .iter()
        .map(
            |text| match parse_trust_anchor(text).expect("a DS").anchor {
                Anchor::Ds(ds) => ds,
                other => panic!("{other:?}"),
            },
        )
        .collect();
    for (key, ds) in keys.iter().zip(&published) {
        let Anchor::Dnskey(dnskey) = &key.anchor else {
            panic!("{key:?}");
        };
        assert_eq!(key.zone, Name::root());
        assert_eq!(dnskey.flags(), 257);
        assert_eq!(dnskey.calculate_key_tag().ok(), Some(ds.key_tag()));
        assert_eq!(ds.covers(&Name::root(), dnskey).ok(), Some(true));
    }
}

#[test]
fn a_ttl_with_a_unit_is_read_as_a_ttl() {
    let text =
        ". 1h IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
    assert!(matches!(
        parse_trust_anchor(text).map(|anchor| anchor.anchor),
        Ok(Anchor::Ds(_))
    ));
}

#[test]
fn broken_text_is_an_error_never_a_panic() {
    let inputs = [
        "(",
        ")",
        "\"",
        ";",
        ". IN DS",
        ". IN DNSKEY",
        ". IN DNSKEY 257 3 15",
        ". IN DNSKEY 257 2 15 AAAA",
        ". IN DNSKEY 257 3 15 !!!!",
        ". IN DS 99999 8 2 00",
        "\u{0}\u{1} DS",
        ". IN DS 1 8 2 é",
    ];
    for input in inputs {
        assert!(parse_trust_anchor(input).is_err(), "{input:?}");
    }
}

#[test]
fn the_forms_found_in_replay_scenarios_are_read() {
    // Tabs, a digest split by a space, lowercase hex, a DNSKEY across
    // parentheses: as Deckard's trust-anchor: lines write them.
    let split = "example.com.\t\tIN DS 438 10 2 33F8133EB48EDB093839E985600EB7B7009EB5AC312D11CCA9007F6B 71D94D7B";
    let lower =
        ". 172800 IN DS 19036 8 2 49aac11d7b6f6446702e54a1607371607a1a41855200fd2ce1cdde32f24e8fb5";
    let sha384 = ". 3600 IN DS 17272 13 4 B87AD8C76DC2244E7AA57285057BF533F2E248CC8D7E1A071D8A3837A711A5EA705C4707E6E8911DA653BE1AE019927B";
    let dnskey = "example. DNSKEY  257 3 7 AwEAAcUlFV1vhmqx6NSOUOq2R/dsR7Xm3upJ ( j7IommWSpJABVfW8Q0rOvXdM6kzt+TAu92L9 AbsUdblMFin8CVF3n4s= )";
    for (text, digest_length) in [(split, 32), (lower, 32), (sha384, 48)] {
        let anchor = parse_trust_anchor(text).unwrap_or_else(|error| panic!("{text}: {error}"));
        let Anchor::Ds(ds) = anchor.anchor else {
            panic!("a DS: {text}");
        };
        assert_eq!(ds.digest().len(), digest_length, "{text}");
    }
    let anchor = parse_trust_anchor(dnskey).unwrap_or_else(|error| panic!("{dnskey}: {error}"));
    assert_eq!(anchor.zone, name("example."));
    let Anchor::Dnskey(key) = anchor.anchor else {
        panic!("a DNSKEY");
    };
    assert_eq!(key.flags(), 257);
    let lines = "example. 3600 IN DNSKEY 257 3 7 ( ; a KSK\n AwEAAcUlFV1vhmqx6NSOUOq2R/dsR7Xm3upJ\n j7IommWSpJABVfW8Q0rOvXdM6kzt+TAu92L9 AbsUdblMFin8CVF3n4s= )";
    assert!(matches!(
        parse_trust_anchor(lines).map(|anchor| anchor.anchor),
        Ok(Anchor::Dnskey(_))
    ));
    let classless = "example.com. 3600 DS 2854 3 1 46e4ffc6e9a4793b488954bd3f0cc6af0dfb201b";
    assert!(matches!(
        parse_trust_anchor(classless).map(|anchor| anchor.anchor),
        Ok(Anchor::Ds(_))
    ));
}
