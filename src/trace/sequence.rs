//! A trace as a sequence diagram: one lifeline per server (its box at the
//! top), time downwards, one numbered arrow per message, one band per
//! question with its name and message count, and a note beside a band for
//! each cached RRset the question used instead of asking.
//!
//! ```text
//! [host]   [local]   [root]   [TLD]   [authoritative]
//!  ┌─ gaia.cs.umass.edu A: 8 messages ──────────────────┐
//!  │──1──▶    │──2────▶│        │                         │  ┌ from the cache: ... ┐
//! ```

use super::figure::{Participants, cache_note};
use super::run::TraceRun;
use super::svg::{Anchor, CHAR_WIDTH, Canvas, LINE_HEIGHT, legend};

/// The width of one lifeline's column.
const COLUMN: f64 = 226.0;

/// A box's size.
const BOX: (f64, f64) = (212.0, 72.0);

/// The height of one message's row.
const ROW: f64 = 40.0;

/// The height of a band's title row.
const BAND_TITLE: f64 = 30.0;

/// The width of the notes beside the bands.
const NOTE_WIDTH: f64 = 430.0;

/// The most characters on one line of a note.
const NOTE_CHARS: usize = 52;

/// Room right of the last lifeline, for the labels of its messages.
const SLACK: f64 = 130.0;

/// The left margin.
const MARGIN: f64 = 20.0;

/// Draws any run as a sequence diagram.
pub fn draw(run: &TraceRun, participants: &Participants, title: &str) -> Canvas {
    let columns = participants.boxes.len().max(1);
    let lifelines_width = columns as f64 * COLUMN + SLACK;
    let notes = run.questions.iter().any(|q| !q.from_cache.is_empty());
    let width = MARGIN * 2.0 + lifelines_width + if notes { NOTE_WIDTH } else { 0.0 };
    let mut canvas = Canvas::new(width.max(640.0), 0.0);
    canvas.text((MARGIN, 26.0), title, "heading", Anchor::Start, 150);
    legend(&mut canvas, (MARGIN + 4.0, 50.0));
    let box_center = 80.0 + BOX.1 / 2.0;
    let x_of = |index: usize| MARGIN + COLUMN * (index as f64 + 0.5);
    for (index, participant) in participants.boxes.iter().enumerate() {
        canvas.server_box((x_of(index), box_center), BOX, participant);
    }
    let mut y = box_center + BOX.1 / 2.0 + 16.0;
    let mut body = Canvas::new(0.0, 0.0);
    for (index, question) in run.questions.iter().enumerate() {
        let number = index + 1;
        let hops = participants
            .hops
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let note_lines: Vec<String> = question
            .from_cache
            .iter()
            .flat_map(|step| wrap(&cache_note(step), NOTE_CHARS))
            .collect();
        let rows = question.messages.len() as f64 * ROW + 10.0;
        let note_height = note_lines.len() as f64 * LINE_HEIGHT
            + question.from_cache.len().saturating_sub(1) as f64 * 6.0
            + 16.0;
        let height = BAND_TITLE + rows.max(if notes { note_height } else { 0.0 });
        body.raw(&format!(
            r#"<g class="question" data-question="{number}" data-messages="{}">"#,
            question.messages.len()
        ));
        body.raw(&format!(
            r#"<rect class="band" x="{:.1}" y="{y:.1}" width="{lifelines_width:.1}" height="{BAND_TITLE:.1}" rx="4"/>"#,
            MARGIN
        ));
        let messages = match question.messages.len() {
            1 => "1 message".to_string(),
            count => format!("{count} messages"),
        };
        body.text(
            (MARGIN + 10.0, y + 20.0),
            &format!(
                "{number}. {} {}: {messages}",
                question.name, question.record_type
            ),
            "band-title",
            Anchor::Start,
            (lifelines_width / CHAR_WIDTH) as usize,
        );
        if !question.from_cache.is_empty() {
            draw_note(&mut body, (MARGIN + lifelines_width + 16.0, y), &note_lines);
        }
        let mut row_y = y + BAND_TITLE + ROW - 8.0;
        for (message, &(from, to)) in question.messages.iter().zip(hops) {
            draw_message(
                &mut body,
                number,
                message,
                (x_of(from), x_of(to)),
                row_y,
                MARGIN + lifelines_width - 8.0,
            );
            row_y += ROW;
        }
        body.raw("</g>");
        y += height + 12.0;
    }
    if run.questions.iter().all(|q| q.messages.is_empty()) {
        body.text(
            (MARGIN, y + 20.0),
            "no messages were exchanged",
            "band-title",
            Anchor::Start,
            80,
        );
        y += 40.0;
    }
    for index in 0..participants.boxes.len() {
        canvas.raw(&format!(
            r#"<line class="lifeline" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{y:.1}"/>"#,
            box_center + BOX.1 / 2.0,
            x = x_of(index)
        ));
    }
    canvas.raw(&body.into_body());
    canvas.include(width, y + 10.0);
    canvas
}

/// One message: a horizontal arrow from the sender's lifeline to the
/// receiver's (a loop for a message to itself), its label above it.
fn draw_message(
    canvas: &mut Canvas,
    question: usize,
    message: &super::describe::MessageView,
    (from, to): (f64, f64),
    y: f64,
    right_edge: f64,
) {
    canvas.begin_message(question, message);
    let query = message.kind == super::describe::Kind::Query;
    let (kind, record) = super::figure::label(message);
    let text = format!("{kind}: {record}");
    if (from - to).abs() < 1.0 {
        canvas.arrow(&format!("M{from:.1},{:.1} h36 v16 h-30", y - 8.0), query);
        canvas.badge((from - 16.0, y), message.number);
        canvas.text(
            (from + 44.0, y + 4.0),
            &text,
            "record",
            Anchor::Start,
            ((COLUMN - 50.0) / CHAR_WIDTH) as usize,
        );
    } else {
        let direction = if to > from { 1.0 } else { -1.0 };
        let (tail, head) = (from + direction * 3.0, to - direction * 4.0);
        canvas.arrow(&format!("M{tail:.1},{y:.1} L{head:.1},{y:.1}"), query);
        // The badge at the left end, so a label running past the arrow clears it.
        let clear_of_head = if direction > 0.0 { 22.0 } else { 30.0 };
        canvas.badge((from.min(to) + clear_of_head, y), message.number);
        // One message a row: a label wider than its arrow may run past it.
        let span = (to - from).abs() - 60.0;
        let chars = text.chars().count();
        if chars as f64 * CHAR_WIDTH <= span {
            let middle = (from + to) / 2.0 + direction * 14.0;
            canvas.text((middle, y - 7.0), &text, "record", Anchor::Middle, chars);
        } else {
            let left = from.min(to) + 40.0;
            let room = ((right_edge - left) / CHAR_WIDTH).max(12.0) as usize;
            canvas.text((left, y - 7.0), &text, "record", Anchor::Start, room);
        }
    }
    canvas.end_message();
}

/// A dashed note box holding the cache's provenance lines.
fn draw_note(canvas: &mut Canvas, (x, y): (f64, f64), lines: &[String]) {
    let height = lines.len() as f64 * LINE_HEIGHT + 14.0;
    canvas.raw(&format!(
        r#"<g class="note"><rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" rx="3"/>"#,
        NOTE_WIDTH - 24.0
    ));
    for (index, line) in lines.iter().enumerate() {
        canvas.text(
            (x + 8.0, y + 18.0 + index as f64 * LINE_HEIGHT),
            line,
            "note-line",
            Anchor::Start,
            NOTE_CHARS + 2,
        );
    }
    canvas.raw("</g>");
}

/// Words wrapped to lines of at most `width` characters (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(width).collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn notes_wrap_at_word_boundaries_and_cut_long_words() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc"]);
        assert!(wrap("", 10).is_empty());
    }
}
