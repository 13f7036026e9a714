//! A runner for replay scenarios (`.rpl`), the test language of Unbound's
//! testbound and CZ.NIC's Deckard, against the real `resolver` binary.
//!
//! ```text
//! tests/data/scenarios/{deckard,unbound,own}/*.rpl
//!   → parse (scenario, records, matching)
//!   → netns: one private network namespace, every scenario address on its lo
//!   → runner, several scenarios at once, each with its own ports:
//!       fake servers (fake) ◀── upstream queries ── resolver process (subject)
//!       client steps (QUERY, CHECK_ANSWER…) ──────▶ resolver process
//!   → expectations: each outcome against expected.toml, as a table
//! ```

pub mod expectations;
pub mod fake;
pub mod matching;
#[path = "../common/netns.rs"]
pub mod netns;
pub mod parse;
pub mod records;
pub mod runner;
pub mod scenario;
pub mod subject;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;

use runner::{Outcome, Ports};
use scenario::Scenario;

/// The folders of scenarios, under the scenario folder.
pub const FOLDERS: [&str; 4] = ["deckard", "deckard-dnssec", "unbound", "own"];
/// Scenarios run at once.
const PARALLEL: usize = 16;
/// The first resolver port; scenario `i` listens on `LISTEN_BASE + i`.
const LISTEN_BASE: u16 = 30_000;
/// The first fake-server port; scenario `i`'s servers are on `UPSTREAM_BASE + i`.
const UPSTREAM_BASE: u16 = 20_000;
/// The most scenarios one run can give ports to (the resolver ports must
/// stay below the ephemeral range, 32768).
const MAX_SCENARIOS: usize = 2_000;
/// The most one scenario may take.
const SCENARIO_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// A scenario file, read or not.
pub struct Loaded {
    /// Its path relative to the scenario folder, e.g. `deckard/iter_resolve.rpl`.
    pub name: String,
    /// The scenario, or why it cannot be read.
    pub scenario: Result<Arc<Scenario>, String>,
}

/// Reads every `.rpl` file of the [`FOLDERS`] whose name contains `filter`, sorted by name.
pub fn load_all(root: &Path, filter: &str) -> Result<Vec<Loaded>, String> {
    let mut loaded = Vec::new();
    for folder in FOLDERS {
        let entries = std::fs::read_dir(root.join(folder))
            .map_err(|e| format!("cannot list {}: {e}", root.join(folder).display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            let name = format!("{folder}/{file_name}");
            if path.extension().is_some_and(|e| e == "rpl") && name.contains(filter) {
                let scenario = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read: {e}"))
                    .and_then(|text| parse::parse(&text).map_err(|e| format!("cannot parse: {e}")))
                    .map(Arc::new);
                loaded.push(Loaded { name, scenario });
            }
        }
    }
    loaded.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(loaded)
}

/// Every address a fake server of any of the scenarios listens on.
pub fn all_addresses(loaded: &[Loaded]) -> BTreeSet<IpAddr> {
    loaded
        .iter()
        .filter_map(|l| l.scenario.as_ref().ok())
        .flat_map(|scenario| scenario.server_addresses())
        .collect()
}

/// Runs the scenarios, [`PARALLEL`] at a time, each on its own ports; a
/// scenario that cannot be read fails with the reason.
pub async fn run_all(loaded: &[Loaded]) -> BTreeMap<String, Outcome> {
    let runs = loaded.iter().enumerate().map(|(index, l)| async move {
        let outcome = match &l.scenario {
            Ok(scenario) => run_one(scenario.clone(), ports(index)).await,
            Err(reason) => Outcome::fail(reason.clone(), reason.clone()),
        };
        (l.name.clone(), outcome)
    });
    futures::stream::iter(runs)
        .buffer_unordered(PARALLEL)
        .collect()
        .await
}

/// One scenario, within [`SCENARIO_DEADLINE`] (beyond it, the run is
/// aborted, which kills its resolver process).
async fn run_one(scenario: Arc<Scenario>, ports: Ports) -> Outcome {
    let mut run = tokio::spawn(runner::run(scenario, ports));
    match tokio::time::timeout(SCENARIO_DEADLINE, &mut run).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => Outcome::fail(format!("the runner panicked: {panic}"), ""),
        Err(_) => {
            run.abort();
            Outcome::fail(format!("took longer than {SCENARIO_DEADLINE:?}"), "")
        }
    }
}

/// The ports of the `index`-th scenario.
fn ports(index: usize) -> Ports {
    assert!(
        index < MAX_SCENARIOS,
        "more than {MAX_SCENARIOS} scenarios: no ports left"
    );
    let offset = u16::try_from(index).expect("below MAX_SCENARIOS, so it fits");
    Ports {
        listen: LISTEN_BASE + offset,
        upstream: UPSTREAM_BASE + offset,
    }
}
