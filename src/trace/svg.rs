//! A trace as one self-contained SVG drawing: the textbook's figure 2.19 or
//! 2.20 ([`textbook`](super::textbook)) for one plain resolution, a sequence
//! diagram ([`sequence`](super::sequence)) for anything longer.
//!
//! Every message is a `<g class="message" data-number="N" data-question="Q">`
//! holding its arrow and its label; text is real `<text>`; queries are solid
//! lines and replies dashed, so the figure reads printed in black and white.

use std::fmt::Write;

use super::describe::{Kind, MessageView};
use super::figure::{Layout, Participant, Participants, label};
use super::run::{TraceRun, TracedQuestion};
use super::{sequence, textbook};
use crate::resolver::chain::ChainOfTrust;

/// The width of one character of the labels' monospace font (12 px), for sizing.
pub const CHAR_WIDTH: f64 = 7.3;

/// The height of one line of label text.
pub const LINE_HEIGHT: f64 = 15.0;

/// The drawing of a run.
pub fn run_svg(run: &TraceRun) -> String {
    let participants = Participants::of(run);
    let layout = participants.layout(run);
    let title = title(run, layout);
    let mut canvas = match layout {
        Layout::Iterative | Layout::Recursive => textbook::draw(run, &participants, &title),
        Layout::Sequence => sequence::draw(run, &participants, &title),
    };
    draw_chains(&mut canvas, run);
    canvas.finish(layout, &title)
}

/// The height of one line of the chain of trust.
const CHAIN_LINE: f64 = 17.0;

/// Below the figure, each question's chain of trust (`--dnssec`), one link
/// a line from the trust anchor down, as the text trace says it.
fn draw_chains(canvas: &mut Canvas, run: &TraceRun) {
    let chains: Vec<(&TracedQuestion, &ChainOfTrust)> = run
        .questions
        .iter()
        .filter_map(|question| Some((question, question.chain.as_ref()?)))
        .collect();
    if chains.is_empty() {
        return;
    }
    let (x, mut y) = (24.0, canvas.height + 10.0);
    for (question, chain) in chains {
        canvas.raw(&format!(
            r#"<g class="chain" data-question="{}" data-security="{}">"#,
            escape(&question.name.to_string()),
            chain.security
        ));
        y += CHAIN_LINE + 4.0;
        let heading = format!("Chain of trust: {} {}", question.name, question.record_type);
        canvas.text((x, y), &heading, "heading", Anchor::Start, 90);
        for (number, link) in chain.links.iter().chain([&chain.answer]).enumerate() {
            y += CHAIN_LINE;
            let arrow = if number == 0 { "  " } else { "→ " };
            canvas.text(
                (x, y),
                &format!("{arrow}{link}"),
                "link",
                Anchor::Start,
                120,
            );
            canvas.include(x + 8.0 * (link.len() as f64 + 2.0), y);
        }
        canvas.raw("</g>");
    }
    canvas.include(0.0, y + 14.0);
}

/// The drawing's title: the names asked and how.
fn title(run: &TraceRun, layout: Layout) -> String {
    let names: Vec<String> = run
        .questions
        .iter()
        .map(|q| format!("{} {}", q.name, q.record_type))
        .collect();
    let count: usize = run.questions.iter().map(|q| q.messages.len()).sum();
    let how = match layout {
        Layout::Iterative => "iterative queries (the textbook's figure 2.19)",
        Layout::Recursive => "recursive queries (the textbook's figure 2.20)",
        Layout::Sequence => "a sequence diagram, time downwards",
    };
    if names.is_empty() {
        return "resolver trace: no question".to_string();
    }
    format!(
        "resolver trace {}: {count} messages, {how}",
        names.join(", ")
    )
}

/// Escapes text for XML (and HTML): `&`, `<`, `>`, `"` and `'`.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` cut to `max` characters with an ellipsis, or `None` when it fits.
pub fn truncated(text: &str, max: usize) -> Option<String> {
    let count = text.chars().count();
    (count > max).then(|| {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    })
}

/// Where a text is anchored horizontally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG being drawn: its elements and the extent they need.
#[derive(Debug, Default)]
pub struct Canvas {
    body: String,
    /// The drawing's width.
    pub width: f64,
    /// The drawing's height.
    pub height: f64,
}

impl Canvas {
    /// An empty drawing of the given size.
    pub fn new(width: f64, height: f64) -> Canvas {
        Canvas {
            width,
            height,
            ..Canvas::default()
        }
    }

    /// Appends raw SVG markup (already escaped).
    pub fn raw(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    /// A line of text, cut to `max` characters with the whole text in a `<title>`.
    pub fn text(
        &mut self,
        (x, y): (f64, f64),
        text: &str,
        class: &str,
        anchor: Anchor,
        max: usize,
    ) {
        let shown = truncated(text, max);
        // Writing to a String cannot fail.
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" class="{class}" text-anchor="{}">"#,
            anchor.name()
        );
        match shown {
            Some(short) => {
                let _ = write!(
                    self.body,
                    "<title>{}</title>{}",
                    escape(text),
                    escape(&short)
                );
            }
            None => self.body.push_str(&escape(text)),
        }
        self.body.push_str("</text>");
    }

    /// A participant's box: its role, name and address, centred at `(x, y)`.
    pub fn server_box(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), box_: &Participant) {
        let max = ((w - 12.0) / CHAR_WIDTH) as usize;
        let _ = write!(
            self.body,
            r#"<g class="server" data-name="{}" data-address="{}"><rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" rx="8"/>"#,
            escape(&box_.name),
            box_.address,
            x - w / 2.0,
            y - h / 2.0,
        );
        let top = y - h / 2.0;
        self.text((x, top + 22.0), &box_.role, "role", Anchor::Middle, max);
        self.text((x, top + 42.0), &box_.name, "name", Anchor::Middle, max);
        let address = box_.address.to_string();
        self.text((x, top + 60.0), &address, "address", Anchor::Middle, max);
        self.body.push_str("</g>");
    }

    /// Opens a message's group; [`Canvas::end_message`] closes it.
    pub fn begin_message(&mut self, question: usize, message: &MessageView) {
        let (kind, record) = label(message);
        let class = if message.kind == Kind::Query {
            "query"
        } else {
            "reply"
        };
        let _ = write!(
            self.body,
            r#"<g class="message {class}" id="message-{question}-{n}" data-number="{n}" data-question="{question}" data-id="{id}" data-kind="{kind_name}" tabindex="0"><title>{label}</title>"#,
            n = message.number,
            id = message.id,
            kind_name = escape(&format!("{:?}", message.kind).to_lowercase()),
            label = escape(&format!(
                "message {}: {} → {}, {kind}, {record}",
                message.number, message.from_name, message.to_name
            )),
        );
    }

    /// Closes a message's group.
    pub fn end_message(&mut self) {
        self.body.push_str("</g>");
    }

    /// An arrow along a path, solid for a query and dashed for a reply.
    pub fn arrow(&mut self, path: &str, query: bool) {
        let (class, marker) = if query {
            ("arrow query-line", "arrow-query")
        } else {
            ("arrow reply-line", "arrow-reply")
        };
        let _ = write!(
            self.body,
            r#"<path d="{path}" class="{class}" marker-end="url(#{marker})"/>"#
        );
    }

    /// A numbered circle, the textbook's way of numbering its arrows.
    pub fn badge(&mut self, (x, y): (f64, f64), number: usize) {
        let _ = write!(
            self.body,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="11" class="badge"/><text x="{x:.1}" y="{:.1}" class="badge-number" text-anchor="middle">{number}</text>"#,
            y + 4.5
        );
    }

    /// The elements drawn so far, to place inside another canvas.
    pub fn into_body(self) -> String {
        self.body
    }

    /// Grows the canvas to hold a point.
    pub fn include(&mut self, x: f64, y: f64) {
        self.width = self.width.max(x);
        self.height = self.height.max(y);
    }

    /// The whole drawing: root element, title, styles, markers, the body.
    pub fn finish(self, layout: Layout, title: &str) -> String {
        let (width, height) = (self.width.ceil(), self.height.ceil());
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="trace-figure" data-layout="{}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="figure-title"><title id="figure-title">{}</title>"#,
            layout.name(),
            escape(title)
        );
        svg.push_str(STYLE);
        svg.push_str(r##"<rect class="background" x="0" y="0" width="100%" height="100%"/>"##);
        svg.push_str(&self.body);
        svg.push_str("</svg>\n");
        svg
    }
}

/// The drawing's styles and arrowheads: black and white first (solid
/// queries, dashed replies), colour as a second cue.
const STYLE: &str = r##"<style>
.trace-figure text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; fill: #111; }
.trace-figure .background { fill: #fff; }
.trace-figure .heading { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 15px; font-weight: bold; }
.trace-figure .legend { font-size: 12px; fill: #333; }
.trace-figure .server rect { fill: #f4f4f4; stroke: #222; stroke-width: 1.5; }
.trace-figure .role { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 13px; font-style: italic; }
.trace-figure .name { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 14px; font-weight: bold; }
.trace-figure .address { font-size: 12px; fill: #333; }
.trace-figure .arrow { fill: none; stroke-width: 1.6; }
.trace-figure .query-line { stroke: #1a3d8f; }
.trace-figure .reply-line { stroke: #8f1a1a; stroke-dasharray: 7 4; }
.trace-figure .kind { font-weight: bold; }
.trace-figure .badge { fill: #fff; stroke: #111; stroke-width: 1.3; }
.trace-figure .badge-number { font-weight: bold; font-size: 12px; }
.trace-figure .lifeline { stroke: #888; stroke-width: 1; stroke-dasharray: 2 4; }
.trace-figure .band { fill: #ececec; stroke: #bbb; }
.trace-figure .band-title { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 13px; font-weight: bold; }
.trace-figure .note rect { fill: #fffbe6; stroke: #555; stroke-dasharray: 3 2; }
.trace-figure .message { cursor: pointer; }
.trace-figure .message:focus { outline: none; }
.trace-figure .message.selected .arrow, .trace-figure .message:focus .arrow { stroke-width: 3.2; }
.trace-figure .message.selected text, .trace-figure .message:focus text { text-decoration: underline; }
</style><defs><marker id="arrow-query" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1a3d8f"/></marker><marker id="arrow-reply" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 L3,5 z" fill="#8f1a1a"/></marker></defs>"##;

/// The legend line: how queries and replies are drawn.
pub fn legend(canvas: &mut Canvas, (x, y): (f64, f64)) {
    canvas.arrow(&format!("M{x:.1},{y:.1} h40"), true);
    canvas.text((x + 48.0, y + 4.0), "query", "legend", Anchor::Start, 10);
    canvas.arrow(&format!("M{:.1},{y:.1} h40", x + 110.0), false);
    canvas.text(
        (x + 158.0, y + 4.0),
        "reply (referral, answer...)",
        "legend",
        Anchor::Start,
        40,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{0}b"), "a\u{fffd}b");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncated("short", 10), None);
        assert_eq!(truncated("abcdefghij", 5).as_deref(), Some("abcd…"));
        assert_eq!(truncated("abc", 0).as_deref(), Some("…"));
    }
}
