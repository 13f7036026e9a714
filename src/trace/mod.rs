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
//! that matter, the time a reply took); [`text`] and [`json`] render them,
//! [`svg`] draws the figure (laid out by [`figure`]: [`textbook`] for
//! figures 2.19 and 2.20, [`sequence`] for anything longer) and [`html`]
//! wraps it in a page with every datagram as [`dig`] prints it.

pub mod cached;
pub mod describe;
pub mod dig;
pub mod explain;
pub mod figure;
pub mod html;
pub mod json;
pub mod run;
pub mod sequence;
pub mod svg;
pub mod text;
pub mod textbook;

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
    /// The textbook's figure as one self-contained SVG drawing.
    Svg,
    /// One self-contained page: the figure, and every datagram as dig prints it.
    Html,
}

/// Why a run could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A message could not be written as JSON.
    #[error("cannot write the trace as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A run in the chosen format.
pub fn render_run(run: &TraceRun, format: Format) -> Result<String, RenderError> {
    match format {
        Format::Text => Ok(run_text(run)),
        Format::Json => Ok(json::run_json(run)?),
        Format::Svg => Ok(svg::run_svg(run)),
        Format::Html => Ok(html::run_html(run)),
    }
}
