//! The cache explained: each cached RRset a question used instead of
//! asking, with who said it, in which earlier message, how long ago, and
//! how long it is still good for.
//!
//! ```text
//!   umass.edu. NS dns.umass.edu. — from the cache: learned in message 5 of question 1
//!   from a.edu-servers.net (127.0.2.1) 0.4 s ago, 172,799 s left (referral)
//! ```

use std::net::SocketAddr;

use serde::Serialize;

use super::describe::{Cast, Kind, MessageView, compact};
use crate::capture::{CacheUse, UsedFor};

/// A cached RRset the local server used instead of asking: what it was,
/// who said it, when, and how long it is good for.
#[derive(Debug, Clone, Serialize)]
pub struct CachedStep {
    /// The records used, each as `name TTL TYPE data` (TTL as left); for a
    /// negative entry, its SOA; for a delegation, the NS records and glue.
    pub records: Vec<String>,
    /// The RRset's name and type, as `umass.edu. NS`.
    pub rrset: String,
    /// True for a cached NXDOMAIN or NODATA.
    pub negative: bool,
    /// What it was used for: the answer, a CNAME, the delegation the walk
    /// started from, a nameserver's address.
    pub used_for: UsedFor,
    /// The number of the message the use came before (one past the last
    /// message when it came after all of them).
    pub before_message: usize,
    /// The server that gave it, by name (as the trace names servers).
    pub source_name: Option<String>,
    /// The server that gave it.
    pub source: Option<SocketAddr>,
    /// The question (from 1, in the run) whose messages carried it, when this run saw it.
    pub learned_in_question: Option<usize>,
    /// The number of that reply within its question.
    pub learned_in_message: Option<usize>,
    /// Seconds since it was learned.
    pub age: f64,
    /// Seconds it is still good for.
    pub ttl_left: u32,
    /// Its rank (RFC 2181 §5.4.1): `authoritative answer`, `non-authoritative answer`, `referral`.
    pub credibility: String,
}

impl CachedStep {
    /// The step in one line, as the text trace prints it.
    pub fn sentence(&self) -> String {
        let what = if self.records.is_empty() {
            self.rrset.clone()
        } else {
            self.records.join("; ")
        };
        let negative = if self.negative { " (negative)" } else { "" };
        let mut text = format!("{what}{negative} — from the cache: ");
        match (self.learned_in_message, self.learned_in_question) {
            (Some(message), Some(question)) => text.push_str(&format!(
                "learned in message {message} of question {question} "
            )),
            _ => text.push_str("learned "),
        }
        if let Some(source) = self.source {
            let name = self
                .source_name
                .clone()
                .unwrap_or_else(|| source.ip().to_string());
            text.push_str(&format!("from {name} ({}) ", source.ip()));
        }
        text.push_str(&format!(
            "{:.1} s ago, {} s left ({})",
            self.age,
            thousands(self.ttl_left),
            self.credibility
        ));
        text
    }
}

/// The uses of one question (each with the count of its messages before
/// it), explained from the messages of the run so far: `earlier` holds the
/// views of the questions before this one, in order, `views` this one's.
pub fn explain(
    uses: &[(usize, CacheUse)],
    earlier: &[&[MessageView]],
    views: &[MessageView],
    cast: &Cast,
) -> Vec<CachedStep> {
    uses.iter()
        .map(|(before, used)| {
            let before_message = before + 1;
            let mut questions: Vec<(usize, &[MessageView])> = vec![(earlier.len() + 1, views)];
            questions.extend(earlier.iter().enumerate().rev().map(|(i, v)| (i + 1, *v)));
            let learned = questions.iter().find_map(|(question, views)| {
                carried_by(
                    used,
                    views,
                    (*question == earlier.len() + 1).then_some(before_message),
                )
                .map(|number| (*question, number))
            });
            CachedStep {
                records: used.records.iter().map(compact).collect(),
                rrset: format!("{} {}", used.name, used.record_type),
                negative: used.negative,
                used_for: used.used_for,
                before_message,
                source_name: used.source.map(|source| cast.name_of(&source)),
                source: used.source,
                learned_in_question: learned.map(|(question, _)| question),
                learned_in_message: learned.map(|(_, message)| message),
                age: (used.age.as_secs_f64() * 10.0).round() / 10.0,
                ttl_left: used.ttl_left,
                credibility: used.credibility.to_string(),
            }
        })
        .collect()
}

/// The number of the last reply in `views` (before message `before`, if
/// given) from the use's source to the question it answered.
fn carried_by(used: &CacheUse, views: &[MessageView], before: Option<usize>) -> Option<usize> {
    let source = used.source?;
    let (name, record_type) = used.question.as_ref()?;
    let name = name.to_string().to_ascii_lowercase();
    let record_type = record_type.to_string();
    views
        .iter()
        .rev()
        .filter(|view| before.is_none_or(|before| view.number < before))
        .find(|view| {
            view.kind != Kind::Query
                && view.from == source
                && view.qname.to_ascii_lowercase() == name
                && view.qtype == record_type
        })
        .map(|view| view.number)
}

/// 172799 → "172,799".
pub fn thousands(value: impl Into<u64>) -> String {
    let value: u64 = value.into();
    let digits = value.to_string();
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_numbers_are_written_with_thousands_separators() {
        assert_eq!(thousands(172_799u32), "172,799");
        assert_eq!(thousands(600u32), "600");
        assert_eq!(thousands(1_000u32), "1,000");
        assert_eq!(thousands(0u32), "0");
        assert_eq!(thousands(1_000_000u64), "1,000,000");
    }
}
