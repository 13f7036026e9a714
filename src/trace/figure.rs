//! What the figure shows, decided from the messages: who takes part (the
//! host, the local server, the servers it asked), in which role, and which
//! of the textbook's layouts fits.
//!
//! ```text
//! one question, every exchange with the local server  → Iterative (figure 2.19)
//! one question, each server passing the query on      → Recursive (figure 2.20)
//! anything else (more messages, several questions)    → Sequence (one lifeline per server)
//! ```

use std::net::SocketAddr;

use super::cached::{CachedStep, thousands};
use super::describe::{Kind, MessageView};
use super::run::TraceRun;

/// The most servers the textbook's five boxes hold: host, local and three upstream.
pub const TEXTBOOK_BOXES: usize = 5;

/// Which drawing a run gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Figure 2.19: the local server asks each upstream server in turn.
    Iterative,
    /// Figure 2.20: each server passes the query on to the next.
    Recursive,
    /// A sequence diagram: one lifeline per server, time downwards.
    Sequence,
}

impl Layout {
    /// The name written into the drawing (`data-layout`).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Iterative => "iterative",
            Layout::Recursive => "recursive",
            Layout::Sequence => "sequence",
        }
    }
}

/// One box of the figure: a host or a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Its role in the textbook's words: `requesting host`, `root DNS server`...
    pub role: String,
    /// Its name, as the trace names it.
    pub name: String,
    /// The address it was reached at (a server's listening address).
    pub address: SocketAddr,
}

/// The figure's content: its participants, in order of first appearance,
/// and for each message the participants it goes between.
#[derive(Debug, Clone)]
pub struct Participants {
    /// The host, the local server, then the servers in the order first asked.
    pub boxes: Vec<Participant>,
    /// For each question, for each message: (sender, receiver) as indexes into `boxes`.
    pub hops: Vec<Vec<(usize, usize)>>,
}

impl Participants {
    /// Finds who takes part in a run. The local server is `run.local` and
    /// whatever sends from its IP without being a server asked there; any
    /// other sender of a query is the server with its IP (a server passing
    /// a query on asks from an ephemeral port).
    pub fn of(run: &TraceRun) -> Participants {
        let mut cast = Participants {
            boxes: Vec::new(),
            hops: Vec::new(),
        };
        for question in &run.questions {
            let hops = question
                .messages
                .iter()
                .map(|message| cast.hop(run, message))
                .collect();
            cast.hops.push(hops);
        }
        cast.name_roles(run);
        cast
    }

    /// The sender and receiver of one message.
    fn hop(&mut self, run: &TraceRun, message: &MessageView) -> (usize, usize) {
        let query = message.kind == Kind::Query;
        let (client, server) = if query {
            (
                (&message.from, &message.from_name),
                (&message.to, &message.to_name),
            )
        } else {
            (
                (&message.to, &message.to_name),
                (&message.from, &message.from_name),
            )
        };
        // The sender first, so boxes appear in the order they first speak.
        if query {
            let client = self.client(*client.0, client.1, run.local);
            (client, self.server(*server.0, server.1, run.local))
        } else {
            let server = self.server(*server.0, server.1, run.local);
            (server, self.client(*client.0, client.1, run.local))
        }
    }

    /// The participant listening at `address`.
    fn server(&mut self, address: SocketAddr, name: &str, local: SocketAddr) -> usize {
        let role = if address == local {
            "local DNS server"
        } else {
            "DNS server"
        };
        self.find_or_add(|p| p.address == address, address, name, role)
    }

    /// The participant sending from `address`: the local server from its
    /// IP and name, else a server already seen at that IP with that name, else a host.
    fn client(&mut self, address: SocketAddr, name: &str, local: SocketAddr) -> usize {
        let local_by_name = self
            .boxes
            .iter()
            .position(|p| p.address == local && p.name == name);
        if let Some(index) = local_by_name.filter(|_| address.ip() == local.ip()) {
            return index;
        }
        if let Some(index) = self
            .boxes
            .iter()
            .position(|p| p.address.ip() == address.ip() && p.name == name)
        {
            return index;
        }
        self.find_or_add(|p| p.address == address, address, name, "requesting host")
    }

    fn find_or_add(
        &mut self,
        matches: impl Fn(&Participant) -> bool,
        address: SocketAddr,
        name: &str,
        role: &str,
    ) -> usize {
        if let Some(index) = self.boxes.iter().position(matches) {
            return index;
        }
        self.boxes.push(Participant {
            role: role.to_string(),
            name: name.to_string(),
            address,
        });
        self.boxes.len() - 1
    }

    /// Names the upstream servers' roles from what they said: a referral to
    /// a top-level zone comes from a root server, a referral to a zone one
    /// label below from a TLD server, an authoritative reply from an
    /// authoritative server. In figure 2.20 (where every reply is the same
    /// answer) the three upstream servers are, in order, root, TLD and authoritative.
    fn name_roles(&mut self, run: &TraceRun) {
        for (question, hops) in run.questions.iter().zip(&self.hops) {
            for (message, &(from, _)) in question.messages.iter().zip(hops) {
                let role = match message.kind {
                    Kind::Referral => match referral_depth(message) {
                        Some(1) => "root DNS server",
                        Some(2) => "TLD DNS server",
                        _ => continue,
                    },
                    Kind::Answer | Kind::NxDomain | Kind::NoData if message.authoritative => {
                        "authoritative DNS server"
                    }
                    _ => continue,
                };
                if self.boxes[from].role == "DNS server" {
                    self.boxes[from].role = role.to_string();
                }
            }
        }
        if self.layout(run) == Layout::Recursive && self.boxes.len() == TEXTBOOK_BOXES {
            let roles = [
                "root DNS server",
                "TLD DNS server",
                "authoritative DNS server",
            ];
            for (participant, role) in self.boxes[2..].iter_mut().zip(roles) {
                participant.role = role.to_string();
            }
        }
    }

    /// The layout that fits: a textbook figure for one question whose
    /// messages pair up (each pair of boxes exchanges at most one query and
    /// its reply) among at most five boxes, as a star around the local
    /// server (2.19) or as a chain (2.20); a sequence diagram otherwise.
    pub fn layout(&self, run: &TraceRun) -> Layout {
        let [question] = run.questions.as_slice() else {
            return Layout::Sequence;
        };
        let hops = &self.hops[0];
        if hops.len() < 2
            || !question.from_cache.is_empty()
            || self.boxes.len() > TEXTBOOK_BOXES
            || hops.iter().any(|(from, to)| from == to)
        {
            return Layout::Sequence;
        }
        let mut seen = Vec::new();
        for hop in hops {
            if seen.contains(hop) {
                return Layout::Sequence;
            }
            seen.push(*hop);
        }
        // Participants 0 and 1 are the host and the local server, by the order of message 1.
        if hops.iter().all(|&(from, to)| from == 1 || to == 1) {
            return Layout::Iterative;
        }
        if hops.iter().all(|&(from, to)| from.abs_diff(to) == 1) {
            return Layout::Recursive;
        }
        Layout::Sequence
    }
}

/// The number of labels of the zone a referral points to.
fn referral_depth(message: &MessageView) -> Option<usize> {
    let owner = message.authority.first()?.split_whitespace().next()?;
    Some(owner.trim_end_matches('.').split('.').count())
}

/// A record `name TTL TYPE data` without its TTL, as the figure shows it.
pub fn without_ttl(record: &str) -> String {
    let mut fields = record.split_whitespace();
    let name = fields.next().unwrap_or_default();
    let _ttl = fields.next();
    let rest: Vec<&str> = fields.collect();
    format!("{name} {}", rest.join(" ")).trim_end().to_string()
}

/// A message's label: its kind, and the record that matters.
pub fn label(message: &MessageView) -> (String, String) {
    let question = format!("{} {}", message.qname, message.qtype);
    match message.kind {
        Kind::Query => {
            let mode = if message.recursion_desired {
                "recursive"
            } else {
                "iterative"
            };
            (format!("query ({mode})"), question)
        }
        Kind::Referral => (
            "referral".to_string(),
            message
                .authority
                .first()
                .map(|ns| without_ttl(ns))
                .unwrap_or(question),
        ),
        Kind::Answer => {
            let aa = if message.authoritative {
                "answer (authoritative)"
            } else {
                "answer"
            };
            let records: Vec<String> = message.answer.iter().map(|r| without_ttl(r)).collect();
            (aa.to_string(), records.join("; "))
        }
        Kind::NxDomain => ("NXDOMAIN".to_string(), question),
        Kind::NoData => ("NODATA".to_string(), question),
        Kind::Lame => (
            "lame".to_string(),
            message.reason.clone().unwrap_or(question),
        ),
        Kind::Error => (message.rcode.clone(), question),
    }
}

/// A cached step as the figure's note says it: "from the cache: umass.edu.
/// NS, learned in message 5 of question 1 from a.edu-servers.net, 172,799 s left".
pub fn cache_note(step: &CachedStep) -> String {
    let mut note = format!("from the cache: {}", step.rrset);
    if step.negative {
        note.push_str(" (negative)");
    }
    match (step.learned_in_message, step.learned_in_question) {
        (Some(message), Some(question)) => {
            note.push_str(&format!(
                ", learned in message {message} of question {question}"
            ));
        }
        (Some(message), None) => note.push_str(&format!(", learned in message {message}")),
        _ => {}
    }
    if let Some(source) = &step.source_name {
        note.push_str(&format!(" from {source}"));
    }
    note.push_str(&format!(
        ", {} s left, used for the {}, credibility: {}",
        thousands(u64::from(step.ttl_left)),
        step.used_for,
        step.credibility
    ));
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_loses_its_ttl_and_odd_input_does_not_panic() {
        assert_eq!(
            without_ttl("edu. 172800 NS a.edu-servers.net."),
            "edu. NS a.edu-servers.net."
        );
        assert_eq!(without_ttl(""), "");
        assert_eq!(without_ttl("x"), "x");
    }
}
