//! Replay scenarios (`.rpl`, the language of Unbound's testbound and
//! CZ.NIC's Deckard) against the real binary, in a private network
//! namespace: every scenario's outcome must be the one `expected.toml` lists.
//!
//! `RPL_FILTER=iter_cname cargo test --test scenarios` runs only the
//! scenarios whose path contains the text; `RPL_DETAILS=1` prints the full
//! story of every failure, expected or not.

mod rpl;

use std::path::PathBuf;

/// This test's name, for re-running it inside the namespace.
const TEST_NAME: &str = "replay_scenarios_end_as_expected";

#[test]
fn replay_scenarios_end_as_expected() {
    if !rpl::netns::inside() {
        rpl::netns::run_test_inside(TEST_NAME);
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios");
    let filter = std::env::var("RPL_FILTER").unwrap_or_default();
    let loaded = rpl::load_all(&root, &filter).expect("the scenario folders are readable");
    assert!(!loaded.is_empty(), "no scenario matches {filter:?}");
    let expected_text = std::fs::read_to_string(root.join("expected.toml"))
        .expect("tests/data/scenarios/expected.toml is readable");
    let expected = rpl::expectations::parse(&expected_text).expect("expected.toml is valid");

    rpl::netns::add_addresses(&rpl::all_addresses(&loaded)).expect("the namespace is set up");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcomes = runtime.block_on(rpl::run_all(&loaded));

    let all_stories = std::env::var_os("RPL_DETAILS").is_some();
    let report = rpl::expectations::report(&outcomes, &expected, filter.is_empty(), all_stories);
    print!("\n{}{}", report.stories, report.table);
    assert_eq!(
        report.surprise_count, 0,
        "scenarios not ending as expected.toml says: see the table above (marked !!)"
    );
}
