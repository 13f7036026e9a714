//! A replay scenario as read from its `.rpl` file.
//!
//! ```text
//! server: / stub-zone: / forward-zone: … CONFIG        → Config
//! CONFIG_END
//! SCENARIO_BEGIN title
//! RANGE_BEGIN from to [address]          → Range: fake servers' answers,
//!   ADDRESS a                               valid while the current step is
//!   ENTRY_BEGIN … ENTRY_END                 within from..=to
//! RANGE_END
//! STEP n QUERY / CHECK_ANSWER / REPLY …  → Step: what the client does, and
//!   ENTRY_BEGIN … ENTRY_END                 what it must get back
//! SCENARIO_END
//! ```

use std::collections::BTreeSet;
use std::net::IpAddr;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData};

use super::matching::MatchField;

/// One `.rpl` file.
pub struct Scenario {
    /// The text after SCENARIO_BEGIN.
    pub title: String,
    /// The CONFIG section, as far as it concerns the resolver.
    pub config: Config,
    /// The fake servers' scripted answers.
    pub ranges: Vec<Range>,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

/// The CONFIG section: the options the runner maps onto `resolver.toml`.
/// Every other option (`val-*`, `target-fetch-policy`, `harden-*`, …) is read and ignored.
#[derive(Debug, Default)]
pub struct Config {
    /// `stub-zone:` blocks; Deckard's bare `stub-addr:` is a stub for the root.
    pub stub_zones: Vec<StubZone>,
    /// `forward-zone:` blocks (`name:`, `forward-addr:`).
    pub forward_zones: Vec<StubZone>,
    /// Written for Unbound's testbound (it has `server:` or `stub-zone:`
    /// clauses), which searches the ranges last-written first.
    pub testbound: bool,
    /// `qname-minimisation:` (Unbound) or `query-minimization:` (Deckard).
    pub qname_minimisation: Option<bool>,
    /// `do-ip6:`.
    pub do_ip6: Option<bool>,
    /// `cache-min-ttl:` (Unbound) or `features: min_ttl = N` (Deckard).
    pub min_ttl: Option<u32>,
    /// `cache-max-ttl:` (Unbound) or `features: max_ttl = N` (Deckard).
    pub max_ttl: Option<u32>,
    /// `cache-max-negative-ttl:` (Unbound).
    pub max_negative_ttl: Option<u32>,
    /// `cache-min-negative-ttl:` (Unbound).
    pub min_negative_ttl: Option<u32>,
    /// `minimal-responses:` (Unbound).
    pub minimal_responses: Option<bool>,
    /// `trust-anchor:` lines, DS or DNSKEY records in presentation form.
    pub trust_anchors: Vec<String>,
    /// `val-override-date:` (YYYYMMDDHHMMSS) or `val-override-timestamp:`
    /// (seconds): the time signatures are checked at.
    pub validation_date: Option<String>,
}

/// Where resolution of names under `name` starts (Unbound's `stub-zone:`),
/// or where they are sent recursively (`forward-zone:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubZone {
    /// The zone (`name:`).
    pub name: Name,
    /// Its servers (`stub-addr:` or `forward-addr:`).
    pub addresses: Vec<IpAddr>,
}

/// RANGE_BEGIN … RANGE_END: answers given while the current step is within
/// `first_step..=last_step`, by the servers at `addresses` (by any server when empty).
pub struct Range {
    /// The first step the range is valid at.
    pub first_step: u64,
    /// The last step the range is valid at.
    pub last_step: u64,
    /// ADDRESS lines (and addresses on the RANGE_BEGIN line).
    pub addresses: Vec<IpAddr>,
    /// The entries, tried in order.
    pub entries: Vec<Entry>,
}

impl Range {
    /// True when the range answers at `step` for a query to `server`
    /// (`None`: a server no range names, which any range may answer, as in Deckard).
    pub fn serves(&self, step: u64, server: Option<IpAddr>) -> bool {
        (self.first_step..=self.last_step).contains(&step)
            && match server {
                None => true,
                Some(address) => self.addresses.is_empty() || self.addresses.contains(&address),
            }
    }
}

/// STEP n TYPE: one action of the client or of the clock.
pub struct Step {
    /// The line of STEP.
    pub line: usize,
    /// The step number; ranges are selected by it.
    pub id: u64,
    /// What the step does.
    pub action: Action,
}

/// The step types.
pub enum Action {
    /// QUERY: the client sends the entry's question (or its RAW / HEX packet).
    Query(Entry),
    /// CHECK_ANSWER: the last answer must match the entry's MATCH fields.
    CheckAnswer(Entry),
    /// REPLY: a one-shot answer for the next upstream query it matches, when no range answers.
    Reply(Entry),
    /// TIME_PASSES ELAPSE seconds.
    TimePasses(f64),
    /// testbound's lock-step controls (CHECK_OUT_QUERY, TRAFFIC, TIMEOUT): a
    /// resolver running on the real clock needs none of them, as in Deckard.
    LockStep(String),
    /// Any other step type.
    Unsupported(String),
}

impl Action {
    /// The step type as written in the file.
    pub fn name(&self) -> &str {
        match self {
            Action::Query(_) => "QUERY",
            Action::CheckAnswer(_) => "CHECK_ANSWER",
            Action::Reply(_) => "REPLY",
            Action::TimePasses(_) => "TIME_PASSES",
            Action::LockStep(name) | Action::Unsupported(name) => name,
        }
    }
}

/// ENTRY_BEGIN … ENTRY_END: a message with its MATCH and ADJUST rules.
pub struct Entry {
    /// The line of ENTRY_BEGIN.
    pub line: usize,
    /// MATCH: what a message must share with this one (empty: anything matches).
    pub matches: BTreeSet<MatchField>,
    /// ADJUST: how a reply built from this entry is fitted to the query.
    pub adjust: BTreeSet<Adjust>,
    /// REPLY flags, rcode and opcode, and the SECTIONs.
    pub message: Message,
    /// RAW or HEX_ANSWER: the packet, as bytes, that replaces `message` on the wire.
    pub wire: Option<Wire>,
}

/// A packet given as hex.
pub enum Wire {
    /// Deckard's RAW: sent as is; a RAW query gets no answer awaited.
    Raw(Vec<u8>),
    /// testbound's HEX_ANSWER_BEGIN … HEX_ANSWER_END: sent as is, like a message.
    Hex(Vec<u8>),
}

impl Wire {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Wire::Raw(bytes) | Wire::Hex(bytes) => bytes,
        }
    }
}

/// ADJUST keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Adjust {
    /// `copy_id`: the reply takes the query's ID (and, as in Deckard, its QNAME's spelling).
    CopyId,
    /// `copy_query`: the reply takes the query's question section.
    CopyQuery,
    /// `raw_id`: a RAW reply takes the query's ID.
    RawId,
    /// `do_not_answer`: no reply at all.
    DoNotAnswer,
}

impl Scenario {
    /// The addresses named by the ranges (ADDRESS lines).
    pub fn range_addresses(&self) -> BTreeSet<IpAddr> {
        self.ranges
            .iter()
            .flat_map(|range| range.addresses.iter().copied())
            .collect()
    }

    /// Every address the resolver may be sent to: stub and forward
    /// addresses, ADDRESS lines, and the A/AAAA data the fake servers hand
    /// out (glue, answers).
    pub fn server_addresses(&self) -> BTreeSet<IpAddr> {
        let stubs = self
            .config
            .stub_zones
            .iter()
            .chain(&self.config.forward_zones)
            .flat_map(|stub| stub.addresses.iter().copied());
        let served = self
            .served_entries()
            .flat_map(|entry| entry.message.all_sections())
            .filter_map(|record| match &record.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                _ => None,
            });
        stubs
            .chain(self.range_addresses())
            .chain(served)
            .filter(is_plain_unicast)
            .collect()
    }

    /// The entries fake servers answer with: those of the ranges and of REPLY steps.
    fn served_entries(&self) -> impl Iterator<Item = &Entry> {
        let replies = self.steps.iter().filter_map(|step| match &step.action {
            Action::Reply(entry) => Some(entry),
            _ => None,
        });
        self.ranges
            .iter()
            .flat_map(|range| range.entries.iter())
            .chain(replies)
    }

    /// The seconds all TIME_PASSES steps add up to.
    pub fn total_elapse(&self) -> f64 {
        self.steps
            .iter()
            .map(|step| match step.action {
                Action::TimePasses(seconds) => seconds,
                _ => 0.0,
            })
            .sum()
    }
}

/// True for an address a server can listen on and be sent to without
/// further ado (not unspecified, multicast, broadcast or IPv6 link-local).
fn is_plain_unicast(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => {
            let link_local = v6.segments()[0] & 0xffc0 == 0xfe80;
            !(v6.is_unspecified() || v6.is_multicast() || link_local)
        }
    }
}
