//! Plays one scenario against a fresh resolver process.
//!
//! ```text
//! screen (what this resolver cannot be set up for) → fake servers → resolver → ready?
//! for each STEP, the current step set first:
//!   QUERY         send the question (RD etc. from REPLY), keep the answer
//!   CHECK_ANSWER  compare the last answer with the entry's MATCH fields
//!   TIME_PASSES   the resolver's clock jumps ahead (SIGUSR2 and a clock file)
//!   REPLY         nothing: the fake servers use it when asked
//!   CHECK_OUT_QUERY, TRAFFIC, TIMEOUT  nothing (testbound lock-step controls)
//! ```

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType};
use tokio::time::Instant;

use super::fake::{CurrentStep, FakeNetwork};
use super::matching::{self, Context, Transport};
use super::records::{message_text, query_text};
use super::scenario::{Action, Entry, Scenario, Step, StubZone, Wire};
use super::subject::{ResolverProcess, Settings};

/// How long a client waits for an answer: beyond the resolver's default
/// `resolution_timeout` (4 s), so that SERVFAIL after time-outs still arrives.
const ANSWER_WAIT: Duration = Duration::from_secs(6);
/// The EDNS payload size of client queries (Deckard's).
const CLIENT_PAYLOAD: u16 = 4096;

/// How a scenario went.
pub enum Outcome {
    /// Every CHECK_ANSWER matched.
    Pass,
    /// It could not run, or a step failed.
    Fail(Failure),
}

/// Why a scenario failed.
pub struct Failure {
    /// One line, for the table.
    pub summary: String,
    /// Everything needed to understand it: the step, the query, the expected
    /// and the actual answer, the upstream traffic and the resolver's log.
    pub details: String,
}

impl Outcome {
    /// A failure with its one-line summary and its full story.
    pub fn fail(summary: impl Into<String>, details: impl Into<String>) -> Self {
        Outcome::Fail(Failure {
            summary: summary.into(),
            details: details.into(),
        })
    }
}

/// The ports one scenario uses, different for every scenario run at the same time.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// Where the resolver listens (at 127.0.0.1).
    pub listen: u16,
    /// Where the fake servers listen (at every scenario address).
    pub upstream: u16,
}

/// Runs one scenario.
pub async fn run(scenario: Arc<Scenario>, ports: Ports) -> Outcome {
    let settings = match settings(&scenario, ports) {
        Ok(settings) => settings,
        Err(reason) => return Outcome::fail(reason, ""),
    };
    let step = CurrentStep::default();
    let network = match FakeNetwork::start(scenario.clone(), ports.upstream, step.clone()).await {
        Ok(network) => network,
        Err(error) => return Outcome::fail(format!("cannot start the fake servers: {error}"), ""),
    };
    let mut resolver = match ResolverProcess::start(&settings) {
        Ok(resolver) => resolver,
        Err(error) => return Outcome::fail(format!("cannot start the resolver: {error}"), ""),
    };
    if let Err(error) = resolver.wait_until_answering().await {
        return Outcome::fail(error, resolver.log());
    }
    let mut play = Play {
        resolver: &resolver,
        step: &step,
        last: None,
        started: Instant::now(),
    };
    for scripted in &scenario.steps {
        if let Err(failure) = play.step(scripted).await {
            let details = format!(
                "scenario: {}\n{:?}\n{}\n--- upstream queries (fake servers)\n{}\n--- resolver log\n{}",
                scenario.title,
                scenario.config,
                failure.details,
                network.traffic(),
                resolver.log()
            );
            return Outcome::fail(failure.summary, details);
        }
    }
    Outcome::Pass
}

/// The resolver's settings for a scenario, or why this resolver cannot be set up for it.
fn settings(scenario: &Scenario, ports: Ports) -> Result<Settings, String> {
    if let Some(step) = scenario
        .steps
        .iter()
        .find(|s| matches!(s.action, Action::Unsupported(_)))
    {
        return Err(format!(
            "unsupported step type {} (line {})",
            step.action.name(),
            step.line
        ));
    }
    let config = &scenario.config;
    let (root, below): (Vec<_>, Vec<_>) = config
        .stub_zones
        .iter()
        .partition(|stub| stub.name.is_root());
    let roots: Vec<_> = root
        .iter()
        .flat_map(|stub| stub.addresses.iter().copied())
        .collect();
    let zones = |zones: &[&StubZone]| -> Vec<_> {
        zones
            .iter()
            .map(|zone| (zone.name.clone(), zone.addresses.clone()))
            .collect()
    };
    if let Some(zone) = config
        .stub_zones
        .iter()
        .chain(&config.forward_zones)
        .find(|zone| zone.addresses.is_empty())
    {
        return Err(format!("the zone {} has no server address", zone.name));
    }
    let configured = !below.is_empty() || !config.forward_zones.is_empty();
    if roots.is_empty() && !configured {
        return Err("no stub-addr for the root".to_string());
    }
    Ok(Settings {
        listen_port: ports.listen,
        upstream_port: ports.upstream,
        roots,
        stubs: zones(&below),
        forwards: zones(&config.forward_zones.iter().collect::<Vec<_>>()),
        min_ttl: config.min_ttl,
        max_ttl: config.max_ttl,
        max_negative_ttl: config.max_negative_ttl,
        min_negative_ttl: config.min_negative_ttl,
        // Unset, it is Unbound's default (on), which the scenarios were written for.
        qname_minimisation: config.qname_minimisation.unwrap_or(true),
        // Unset, minimal responses: Unbound's default, and what Deckard's
        // scenarios (written for Knot Resolver) expect.
        minimal_responses: config.minimal_responses.unwrap_or(true),
        // Unset, IPv6 is used (Unbound's and Knot Resolver's default); the
        // namespace has no IPv6 route, which would leave it off otherwise.
        ipv6: config.do_ip6.unwrap_or(true),
        trust_anchors: config.trust_anchors.clone(),
        validation_date: config.validation_date.clone(),
    })
}

/// The last QUERY and what came back.
struct Asked {
    /// The step and the question, as text.
    query: String,
    /// The answer, or why there is none.
    answer: Result<Message, String>,
}

/// A scenario being played.
struct Play<'a> {
    resolver: &'a ResolverProcess,
    step: &'a CurrentStep,
    last: Option<Asked>,
    started: Instant,
}

impl Play<'_> {
    async fn step(&mut self, step: &Step) -> Result<(), Failure> {
        self.step.set(step.id);
        match &step.action {
            Action::Query(entry) => self.query(step, entry).await,
            Action::CheckAnswer(entry) => self.check(step, entry),
            Action::TimePasses(seconds) => self
                .resolver
                .pass_time(*seconds)
                .await
                .map_err(|e| failed(&format!("STEP {} TIME_PASSES", step.id), e)),
            Action::Reply(_) | Action::LockStep(_) | Action::Unsupported(_) => Ok(()),
        }
    }

    /// QUERY: the entry's message (or packet) to the resolver; the answer is kept.
    async fn query(&mut self, step: &Step, entry: &Entry) -> Result<(), Failure> {
        let described = format!("STEP {} QUERY (line {})", step.id, step.line);
        let (packet, awaited) = match &entry.wire {
            Some(Wire::Raw(bytes)) => (bytes.clone(), false),
            Some(Wire::Hex(bytes)) => (bytes.clone(), true),
            None => (
                client_query(entry).map_err(|e| failed(&described, e))?,
                true,
            ),
        };
        if !awaited {
            return self
                .resolver
                .send(&packet)
                .await
                .map_err(|e| failed(&described, e));
        }
        let question = match &entry.wire {
            Some(_) => format!("{} bytes of hex", packet.len()),
            None => query_text(&entry.message),
        };
        self.last = Some(Asked {
            query: format!("{described}:\n{}", indent(&question)),
            answer: self.resolver.ask(&packet, ANSWER_WAIT).await,
        });
        Ok(())
    }

    /// CHECK_ANSWER: the last answer against the entry.
    fn check(&self, step: &Step, entry: &Entry) -> Result<(), Failure> {
        let described = format!("STEP {} CHECK_ANSWER (line {})", step.id, step.line);
        let Some(asked) = &self.last else {
            return Err(failed(&described, "no QUERY before it"));
        };
        let expected = format!("expected:\n{}", indent(&message_text(&entry.message)));
        let answer = match &asked.answer {
            Ok(answer) => answer,
            Err(error) => {
                return Err(Failure {
                    summary: format!("{described}: {error}"),
                    details: format!("{described}\n{}\n{expected}\nactual: {error}", asked.query),
                });
            }
        };
        let context = Context {
            transport: Transport::Udp,
            ttl_slack: self.started.elapsed().as_secs().saturating_add(1) as u32,
        };
        matching::compare(entry, answer, &context).map_err(|mismatch| Failure {
            summary: format!("{described}: {mismatch}"),
            details: format!(
                "{described}: {mismatch}\n{}\n{expected}\nactual:\n{}",
                asked.query,
                indent(&message_text(answer))
            ),
        })
    }
}

/// The wire form of a QUERY entry: its header flags and question, a random
/// ID, and EDNS as Deckard sends it (payload 4096, DO when the entry says so).
fn client_query(entry: &Entry) -> Result<Vec<u8>, String> {
    let mut query = entry.message.clone();
    query.metadata.id = rand::random();
    query.metadata.message_type = MessageType::Query;
    let mut edns = Edns::new();
    edns.set_max_payload(CLIENT_PAYLOAD);
    let dnssec_ok = entry
        .message
        .edns
        .as_ref()
        .is_some_and(|e| e.flags().dnssec_ok);
    edns.set_dnssec_ok(dnssec_ok);
    query.edns = Some(edns);
    query
        .to_vec()
        .map_err(|e| format!("cannot encode the query: {e}"))
}

fn failed(described: &str, error: impl std::fmt::Display) -> Failure {
    Failure {
        summary: format!("{described}: {error}"),
        details: format!("{described}: {error}"),
    }
}

/// Text indented by four spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
