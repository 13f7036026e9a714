//! `resolver trace`: the textbook's figure, made of real datagrams.
//!
//! ```text
//! cis.poly.edu ──1──▶ dns.poly.edu ──2──▶ a.root-servers.net    (3: referral to edu)
//!      ▲                  │  ▲ ──4──▶ a.edu-servers.net         (5: referral to dns.umass.edu)
//!      └──────8───────────┘  └ ──6──▶ dns.umass.edu             (7: the answer)
//! ```
//!
//! The server and the transport report every message they send or receive
//! to a tap ([`crate::capture`]); [`run`] collects them for each question;
//! [`describe`] turns each into a [`MessageView`] (who to whom, query /
//! referral / answer / negative as the resolver classifies it, the records
//! that matter, the time a reply took); [`text`] and [`json`] render them.

pub mod cached;
pub mod describe;
pub mod explain;
pub mod json;
pub mod run;
pub mod text;

pub use cached::CachedStep;
pub use describe::{Cast, Kind, MessageView, compact, describe, rcode_name, totals};
pub use explain::Why;
pub use run::{HOST, LOCAL_SERVER, TraceMode, TraceOptions, TraceRun, TracedQuestion, trace};
pub use text::{render, run_text};

/// How `resolver trace` prints a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Two lines per message: the textbook's narrative and the wire details.
    Text,
    /// One JSON object per message.
    Json,
}

/// A run in the chosen format.
pub fn render_run(run: &TraceRun, format: Format) -> Result<String, serde_json::Error> {
    match format {
        Format::Text => Ok(run_text(run)),
        Format::Json => json::run_json(run),
    }
}
