//! `expected.toml`: how every scenario is expected to end, and the table
//! comparing that with how it ended.
//!
//! ```toml
//! [scenarios]
//! "deckard/iter_resolve.rpl" = "pass"
//! "deckard/iter_minim_a.rpl" = { fail = "needs QNAME minimisation (not implemented)" }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

use super::runner::Outcome;

/// What a scenario is expected to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Pass.
    Pass,
    /// Fail, for this reason.
    Fail(String),
}

/// The file's shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenarios: BTreeMap<String, Entry>,
}

/// One scenario's line: `"pass"` or `{ fail = "reason" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Word(String),
    Fail { fail: String },
}

/// Reads `expected.toml`: scenario path (relative to the scenario folder) → expectation.
pub fn parse(text: &str) -> Result<BTreeMap<String, Expected>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    file.scenarios
        .into_iter()
        .map(|(name, entry)| match entry {
            Entry::Word(word) if word == "pass" => Ok((name, Expected::Pass)),
            Entry::Word(word) => Err(format!(
                "{name}: {word:?} is neither \"pass\" nor {{ fail = \"reason\" }}"
            )),
            Entry::Fail { fail } if fail.trim().is_empty() => {
                Err(format!("{name}: a failure needs its reason"))
            }
            Entry::Fail { fail } => Ok((name, Expected::Fail(fail))),
        })
        .collect()
}

/// The comparison of outcomes with expectations.
pub struct Report {
    /// The table, one row per scenario, then the counts.
    pub table: String,
    /// The full story of every scenario that did not end as expected (of
    /// every failed one with `all_stories`).
    pub stories: String,
    /// How many did not end as expected (or are missing from one side).
    pub surprise_count: usize,
}

/// Compares `outcomes` (scenario → outcome) with `expected`; with `complete`,
/// expectations without a scenario count as surprises too.
pub fn report(
    outcomes: &BTreeMap<String, Outcome>,
    expected: &BTreeMap<String, Expected>,
    complete: bool,
    all_stories: bool,
) -> Report {
    let width = outcomes.keys().map(String::len).max().unwrap_or(8).max(8);
    let mut table = format!("{:<width$}  expected  actual  reason\n", "scenario");
    let mut stories = String::new();
    let mut surprise_count = 0;
    let (mut passed, mut failed) = (0, 0);
    for (name, outcome) in outcomes {
        let expectation = expected.get(name);
        let (actual, failure) = match outcome {
            Outcome::Pass => ("pass", None),
            Outcome::Fail(failure) => ("fail", Some(failure)),
        };
        if failure.is_some() {
            failed += 1;
        } else {
            passed += 1;
        }
        let (wanted, reason) = match expectation {
            Some(Expected::Pass) => ("pass", String::new()),
            Some(Expected::Fail(reason)) => ("fail", reason.clone()),
            None => ("-", "not listed in expected.toml".to_string()),
        };
        let surprise = wanted != actual;
        let mark = if surprise { "!!" } else { "" };
        let _ = writeln!(
            table,
            "{name:<width$}  {wanted:<8}  {actual:<6}  {mark}{reason}"
        );
        if let Some(failure) = failure {
            let _ = writeln!(
                table,
                "{:<width$}                    └ {}",
                "", failure.summary
            );
        }
        if surprise {
            surprise_count += 1;
        }
        if surprise || (all_stories && failure.is_some()) {
            let story = match failure {
                Some(failure) => failure.details.clone(),
                None => "it passes now: mark it \"pass\" in expected.toml".to_string(),
            };
            let _ = writeln!(
                stories,
                "=== {name}: expected {wanted}, got {actual}\n{story}\n"
            );
        }
    }
    if complete {
        for name in expected.keys().filter(|name| !outcomes.contains_key(*name)) {
            surprise_count += 1;
            let _ = writeln!(
                table,
                "{name:<width$}  listed    -       !!no such scenario file"
            );
        }
    }
    let _ = writeln!(
        table,
        "{} scenarios: {passed} pass, {failed} fail; {surprise_count} not as expected",
        outcomes.len()
    );
    Report {
        table,
        stories,
        surprise_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpl::runner::Failure;

    #[test]
    fn expectations_are_pass_or_a_failure_with_its_reason() {
        let parsed =
            parse("[scenarios]\n\"a.rpl\" = \"pass\"\n\"b.rpl\" = { fail = \"needs DNSSEC\" }\n")
                .expect("parses");
        assert_eq!(parsed["a.rpl"], Expected::Pass);
        assert_eq!(parsed["b.rpl"], Expected::Fail("needs DNSSEC".to_string()));
        assert!(parse("[scenarios]\n\"a.rpl\" = \"passes\"\n").is_err());
        assert!(parse("[scenarios]\n\"a.rpl\" = { fail = \"\" }\n").is_err());
    }

    #[test]
    fn only_differences_are_surprises() {
        let failure = || {
            Outcome::Fail(Failure {
                summary: "STEP 10 CHECK_ANSWER: rcode".to_string(),
                details: "the story".to_string(),
            })
        };
        let outcomes = BTreeMap::from([
            ("a.rpl".to_string(), Outcome::Pass),
            ("b.rpl".to_string(), failure()),
            ("c.rpl".to_string(), failure()),
        ]);
        let expected = BTreeMap::from([
            ("a.rpl".to_string(), Expected::Pass),
            ("b.rpl".to_string(), Expected::Fail("BUG: x".to_string())),
            ("c.rpl".to_string(), Expected::Pass),
            ("d.rpl".to_string(), Expected::Pass),
        ]);
        let report = report(&outcomes, &expected, true, false);
        assert_eq!(report.surprise_count, 2, "{}", report.table);
        assert!(report.stories.contains("c.rpl"));
        assert!(!report.stories.contains("b.rpl"));
        assert!(report.table.contains("d.rpl"));
        assert!(
            report
                .table
                .contains("3 scenarios: 1 pass, 2 fail; 2 not as expected")
        );
    }
}
