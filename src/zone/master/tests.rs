//! The master-file reader's tests: RFC 1035 §5 syntax and its errors.

use super::*;

#[test]
fn nothing_panics_on_bad_input() {
    let path = Path::new("t.test.zone");
    for text in [
        "(",
        ")",
        "\"",
        "\\",
        "@",
        " IN A",
        "$ORIGIN",
        "$TTL x",
        "$TTL 4294967295",
        "a\\",
        "(\n\n",
        "\"(\" IN A",
        "@ IN SOA",
        "@ IN DNAME",
        "@ 1 IN DNAME (",
        "@ IN TXT \"unclosed",
        "$ORIGIN ..",
        "* IN A 1.2.3.4",
        "@ IN CNAME \\999",
        "\u{feff}@ IN A 1.2.3.4",
        "@ IN A 1.2.3.4 ; é\n\t\t; only a comment",
    ] {
        assert!(parse_master(path, text).is_err(), "{text:?}");
    }
}

#[test]
fn entries_span_parentheses_and_quotes_and_skip_comments() {
    let text = "; a comment\n@ IN SOA a b (\n 1 2 3 4 5 )\n\nx IN TXT \"a\nb\"\n";
    let found: Vec<(usize, &str)> = entries(text).iter().map(|e| (e.line, e.text)).collect();
    assert_eq!(
        found,
        [
            (2, "@ IN SOA a b (\n 1 2 3 4 5 )"),
            (5, "x IN TXT \"a\nb\"")
        ]
    );
}

#[test]
fn octets_in_quotes_are_read_as_rfc_1035_says() {
    let decode = |text| decode_quoted_octets(text);
    assert_eq!(
        decode("x TXT \"a\\021b\"").as_deref(),
        Some("x TXT \"a\u{15}b\"")
    );
    assert_eq!(
        decode("x TXT \"\\195\\169\"").as_deref(),
        Some("x TXT \"é\"")
    );
    assert_eq!(
        decode("x TXT \"\\034\\092\"").as_deref(),
        Some("x TXT \"\\\"\\\\\"")
    );
    assert_eq!(
        decode("a\\032b A \"\\\"\\065\"").as_deref(),
        Some("a\\032b A \"\\\"A\"")
    );
    assert_eq!(decode("x TXT \"\\255\""), None, "not UTF-8");
    assert_eq!(decode("x TXT \"\\999\""), None, "not an octet");
}

#[test]
fn before_any_origin_names_are_under_the_file_name() {
    assert_eq!(
        origin_from_file_name(Path::new("x/root.zone")),
        Name::root()
    );
    let umass = Name::from_ascii("umass.edu.").expect("valid");
    assert_eq!(origin_from_file_name(Path::new("UMass.edu.zone")), umass);
}
