//! `--explain`: why each query went to the server it went to: whose
//! servers they are, where the walk learned them (the root hints, a
//! referral, the cache), and how the one asked ranked among the others
//! (smoothed round-trip time; a tie is broken at random, RFC 1034 §5.3.3
//! step 3 leaves the order to the resolver).

use std::time::Duration;

use serde::Serialize;

use super::cached::CachedStep;
use super::describe::{Cast, Kind, MessageView};
use crate::capture::{Alternative, ServerChoice, UsedFor};

/// Why one query went where it went.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    /// The number of the query it explains.
    pub message: usize,
    /// The zone whose servers were asked.
    pub zone: String,
    /// Where the walk learned them: the root hints, the referral in a
    /// message, the cache.
    pub learned_from: String,
    /// The server asked, as `name (address)`.
    pub chosen: String,
    /// Its smoothed round-trip time in milliseconds, if it was measured before.
    pub rtt_ms: Option<f64>,
    /// The zone's other servers, each as `name (address)` with what was
    /// known of it: `never asked`, `12.5 ms`, `asked already`.
    pub others: Vec<String>,
    /// True when others ranked the same (the choice among them was random).
    pub tie: bool,
}

impl Why {
    /// The explanation in one line, as the text trace prints it.
    pub fn sentence(&self) -> String {
        let ranked = match self.rtt_ms {
            Some(ms) => format!("smoothed round-trip time {ms:.2} ms"),
            None => "never asked before".to_string(),
        };
        let mut text = format!(
            "why: a server for {} ({}); {} {ranked}",
            self.zone, self.learned_from, self.chosen
        );
        if self.others.is_empty() {
            text.push_str(", the only one");
        } else {
            let tie = if self.tie {
                ", a tie broken at random"
            } else {
                ""
            };
            text.push_str(&format!("{tie}; others: {}", self.others.join(", ")));
        }
        text
    }
}

/// The choices of one question (each with the count of its datagrams
/// before it), matched to the query each led to.
pub fn explain_choices(
    choices: &[(usize, ServerChoice)],
    views: &[MessageView],
    from_cache: &[CachedStep],
    cast: &Cast,
) -> Vec<Why> {
    choices
        .iter()
        .filter_map(|(before, choice)| {
            let query = views.iter().find(|view| {
                view.number > *before
                    && view.kind == Kind::Query
                    && view.to == choice.chosen.address
            })?;
            let others: Vec<String> = choice
                .others
                .iter()
                .map(|other| format!("{} {}", server(other, cast), known(other)))
                .collect();
            let tie = choice
                .others
                .iter()
                .any(|other| !other.tried && other.score == choice.chosen.score);
            Some(Why {
                message: query.number,
                zone: choice.zone.to_string(),
                learned_from: learned_from(choice, query.number, views, from_cache),
                chosen: server(&choice.chosen, cast),
                rtt_ms: choice.chosen.rtt.map(milliseconds),
                others,
                tie,
            })
        })
        .collect()
}

/// Where the walk learned the zone's servers, as of message `number`.
fn learned_from(
    choice: &ServerChoice,
    number: usize,
    views: &[MessageView],
    from_cache: &[CachedStep],
) -> String {
    let zone = choice.zone.to_string().to_ascii_lowercase();
    let owner_is_zone = |record: &String| {
        record
            .split_whitespace()
            .next()
            .is_some_and(|owner| owner.eq_ignore_ascii_case(&zone))
    };
    if let Some(referral) = views.iter().rev().find(|view| {
        view.number < number
            && view.kind == Kind::Referral
            && view.authority.iter().any(owner_is_zone)
    }) {
        return format!("the referral in message {}", referral.number);
    }
    let cached = from_cache.iter().find(|step| {
        step.used_for == UsedFor::Delegation
            && step.rrset.eq_ignore_ascii_case(&format!("{zone} NS"))
    });
    match cached {
        Some(step) => match (step.learned_in_message, step.learned_in_question) {
            (Some(message), Some(question)) => {
                format!("cached from message {message} of question {question}")
            }
            _ => "the cache".to_string(),
        },
        None if choice.zone.is_root() => "the root hints".to_string(),
        None => "the addresses found for its NS names".to_string(),
    }
}

/// `name (address)`, or the address alone.
fn server(alternative: &Alternative, cast: &Cast) -> String {
    let name = cast.name_of(&alternative.address);
    let address = alternative.address.ip().to_string();
    if name == address {
        address
    } else {
        format!("{name} ({address})")
    }
}

/// What was known of a server when the choice was made.
fn known(alternative: &Alternative) -> String {
    match (alternative.tried, alternative.rtt) {
        (true, _) => "asked already".to_string(),
        (false, Some(rtt)) => format!("{:.2} ms", milliseconds(rtt)),
        (false, None) => "never asked".to_string(),
    }
}

fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 100_000.0).round() / 100.0
}
