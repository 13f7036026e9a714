//! A trace as text: the textbook's narrative, one message in two lines.
//!
//! ```text
//!   1  cis.poly.edu → dns.poly.edu  query     gaia.cs.umass.edu. A (recursive)
//!      127.0.0.1:40000 → 127.0.4.1:41000, UDP, 46 bytes
//! ```

use std::fmt::Write;

use super::cached::CachedStep;
use super::describe::{Kind, MessageView};
use super::explain::Why;
use super::run::{HOST, LOCAL_SERVER, TraceRun};
use crate::capture::Protocol;
use crate::resolver::chain::ChainOfTrust;

/// The whole run: a header saying who asks whom, then each question's messages.
pub fn run_text(run: &TraceRun) -> String {
    let mut text = String::new();
    let lab = if run.lab_in_process {
        "the lab's servers run in this process"
    } else {
        "the lab's servers are the ones already running"
    };
    let configuration = run
        .configuration
        .as_ref()
        .map(|source| format!(" (configuration: {source})"))
        .unwrap_or_default();
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "The host {HOST} asks its local DNS server {LOCAL_SERVER} ({}), which starts with an empty cache; {lab}{configuration}.",
        run.local
    );
    for question in &run.questions {
        let _ = writeln!(text, "\n{} {}", question.name, question.record_type);
        let why: &[Why] = if run.explain { &question.why } else { &[] };
        text.push_str(&render(
            &question.messages,
            &question.from_cache,
            why,
            question.span_ms,
        ));
        if let Some(chain) = &question.chain {
            text.push_str(&chain_text(chain));
        }
    }
    text
}

/// The chain of trust, one link a line, from the trust anchor down
/// (RFC 4033 §3.1).
pub fn chain_text(chain: &ChainOfTrust) -> String {
    let mut text = String::from("Chain of trust:\n");
    for (number, link) in chain.links.iter().chain([&chain.answer]).enumerate() {
        let arrow = if number == 0 { " " } else { "→" };
        // Writing to a String cannot fail.
        let _ = writeln!(text, "  {arrow} {link}");
    }
    text
}

/// The messages of one question as text: two lines each, the textbook's
/// narrative and the wire details, each cached RRset used in its place
/// (a line before the message that followed its use), why each query went
/// to its server (with `--explain`, a line after it), then the totals.
pub fn render(
    views: &[MessageView],
    from_cache: &[CachedStep],
    why: &[Why],
    span_ms: f64,
) -> String {
    let mut text = String::new();
    let width = views
        .iter()
        .map(|v| v.from_name.len().max(v.to_name.len()))
        .max()
        .unwrap_or(0);
    let notes = |text: &mut String, before: &dyn Fn(usize) -> bool| {
        for step in from_cache.iter().filter(|step| before(step.before_message)) {
            // Writing to a String cannot fail.
            let _ = writeln!(text, "     ⤷ {}", step.sentence());
        }
    };
    for view in views {
        notes(&mut text, &|before| before == view.number);
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "{:>3}  {:<width$} → {:<width$}  {}",
            view.number,
            view.from_name,
            view.to_name,
            narrative(view),
        );
        let mut wire = format!(
            "{:>3}  {} → {}, {}, {} bytes",
            "",
            view.from,
            view.to,
            match view.protocol {
                Protocol::Udp => "UDP",
                Protocol::Tcp => "TCP",
            },
            view.bytes
        );
        if let Some(ms) = view.elapsed_ms {
            let _ = write!(wire, ", {ms:.2} ms");
        }
        let _ = writeln!(text, "{wire}");
        for reason in why.iter().filter(|why| why.message == view.number) {
            let _ = writeln!(text, "     ⤷ {}", reason.sentence());
        }
    }
    notes(&mut text, &|before| before > views.len());
    let queries = views.iter().filter(|v| v.kind == Kind::Query).count();
    let _ = writeln!(
        text,
        "{}: {}, {}, {span_ms:.2} ms",
        plural(views.len(), "message"),
        plural(queries, "query"),
        plural(views.len() - queries, "reply"),
    );
    text
}

/// "1 query", "4 queries", "8 messages".
fn plural(count: usize, noun: &str) -> String {
    match (count, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{count} {stem}ies"),
        (_, None) => format!("{count} {noun}s"),
    }
}

/// The first line of a message: what it says.
fn narrative(view: &MessageView) -> String {
    let question = format!("{} {}", view.qname, view.qtype);
    let aa = if view.authoritative {
        " (authoritative)"
    } else {
        ""
    };
    match view.kind {
        Kind::Query => {
            let mode = if view.recursion_desired {
                "recursive"
            } else {
                "iterative"
            };
            format!("query     {question} ({mode})")
        }
        Kind::Referral => {
            let ns: Vec<&str> = view.authority.iter().map(String::as_str).collect();
            let mut text = format!("referral  {}", ns.join("; "));
            if !view.additional.is_empty() {
                let _ = write!(text, "; glue {}", view.additional.join("; "));
            }
            text
        }
        Kind::Answer => format!("answer    {}{aa}", view.answer.join("; ")),
        Kind::NxDomain => format!("NXDOMAIN  {question}; {}{aa}", view.authority.join("; ")),
        Kind::NoData => format!("NODATA    {question}; {}{aa}", view.authority.join("; ")),
        Kind::Lame => format!(
            "lame      {question}: {}",
            view.reason.as_deref().unwrap_or("unusable")
        ),
        Kind::Error => format!("{:<9} {question}", view.rcode),
    }
}
