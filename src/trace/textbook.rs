//! The textbook's two figures (Kurose & Ross, figures 2.19 and 2.20): the
//! requesting host bottom left, the local DNS server beside it, the root,
//! TLD and authoritative servers across the top and the right, and a pair of
//! numbered arrows (the query and its reply) between each two boxes that talk.
//!
//! ```text
//!              [root]
//!               ▲ ¦           [TLD]
//!               │ ▼        ↗ ↙    ▲ ¦ (2.20: TLD ↔ authoritative)
//!            [local] ──────▶      │ ▼
//!     ↗ ↙            ◀------  [authoritative]
//! [host]
//! ```

use super::describe::MessageView;
use super::figure::{Participants, label};
use super::run::TraceRun;
use super::svg::{Anchor, CHAR_WIDTH, Canvas, LINE_HEIGHT, legend};

/// A box's size.
const BOX: (f64, f64) = (270.0, 76.0);

/// Where each box goes: host, local, then the upstream servers in the order first asked.
const SLOTS: [(f64, f64); 5] = [
    (330.0, 780.0),
    (330.0, 450.0),
    (330.0, 130.0),
    (1010.0, 450.0),
    (1010.0, 780.0),
];

/// Half the distance between a query's line and its reply's.
const PAIR_GAP: f64 = 7.0;

/// The most characters of a label line.
const LABEL_CHARS: usize = 36;

/// Draws a one-question run in the textbook's layout.
pub fn draw(run: &TraceRun, participants: &Participants, title: &str) -> Canvas {
    let mut canvas = Canvas::new(SLOTS[3].0 + BOX.0 / 2.0 + 30.0, 0.0);
    canvas.text((20.0, 26.0), title, "heading", Anchor::Start, 150);
    legend(&mut canvas, (24.0, 50.0));
    for (index, participant) in participants.boxes.iter().enumerate() {
        let center = SLOTS[index.min(SLOTS.len() - 1)];
        canvas.server_box(center, BOX, participant);
        canvas.include(center.0 + BOX.0 / 2.0 + 30.0, center.1 + BOX.1 / 2.0 + 30.0);
    }
    if let (Some(question), Some(hops)) = (run.questions.first(), participants.hops.first()) {
        for (message, &(from, to)) in question.messages.iter().zip(hops) {
            draw_message(&mut canvas, message, (from, to));
        }
    }
    canvas
}

/// One message: its arrow beside its twin's, its numbered badge and its label.
fn draw_message(canvas: &mut Canvas, message: &MessageView, (from, to): (usize, usize)) {
    let (low, high) = (from.min(to), from.max(to));
    let (a, b) = (slot(low), slot(high));
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx.hypot(dy).max(1.0);
    let along = (dx / length, dy / length);
    let normal = (-along.1, along.0);
    // The message from the lower box to the higher runs on one side, its reply on the other.
    let side = if from == low { 1.0 } else { -1.0 };
    let offset = (normal.0 * PAIR_GAP * side, normal.1 * PAIR_GAP * side);
    let start_gap = exit_distance(along);
    let end_gap = exit_distance(along) + 4.0;
    let start = (
        a.0 + offset.0 + along.0 * start_gap,
        a.1 + offset.1 + along.1 * start_gap,
    );
    let end = (
        b.0 + offset.0 - along.0 * end_gap,
        b.1 + offset.1 - along.1 * end_gap,
    );
    let (tail, head) = if from == low {
        (start, end)
    } else {
        (end, start)
    };
    canvas.begin_message(1, message);
    canvas.arrow(
        &format!("M{:.1},{:.1} L{:.1},{:.1}", tail.0, tail.1, head.0, head.1),
        message.kind == super::describe::Kind::Query,
    );
    let middle = label_position(low, high);
    let t = if from == low {
        middle - 0.07
    } else {
        middle + 0.07
    };
    let point = (
        start.0 + (end.0 - start.0) * t,
        start.1 + (end.1 - start.1) * t,
    );
    canvas.badge(point, message.number);
    let outward = (normal.0 * side, normal.1 * side);
    let at = (point.0 + outward.0 * 20.0, point.1 + outward.1 * 20.0);
    let anchor = if outward.0 > 0.2 {
        Anchor::Start
    } else if outward.0 < -0.2 {
        Anchor::End
    } else {
        Anchor::Middle
    };
    let first = if outward.1 > 0.35 {
        at.1 + 10.0
    } else if outward.1 < -0.35 {
        at.1 - LINE_HEIGHT - 2.0
    } else {
        at.1 - 2.0
    };
    let (kind, record) = label(message);
    canvas.text((at.0, first), &kind, "kind", anchor, LABEL_CHARS);
    canvas.text(
        (at.0, first + LINE_HEIGHT),
        &record,
        "record",
        anchor,
        LABEL_CHARS,
    );
    let reach = LABEL_CHARS as f64 * CHAR_WIDTH;
    canvas.include(
        if anchor == Anchor::Start {
            at.0 + reach
        } else {
            at.0
        },
        first + LINE_HEIGHT + 10.0,
    );
    canvas.end_message();
}

/// Where along a pair of arrows their badges and labels go: midway along
/// a straight pair, nearer the right-hand box along a diagonal (clear of
/// the labels beside the left-hand column).
fn label_position(low: usize, high: usize) -> f64 {
    let (a, b) = (slot(low), slot(high));
    if (a.0 - b.0).abs() > 1.0 && (a.1 - b.1).abs() > 1.0 {
        0.68
    } else {
        0.5
    }
}

/// The centre of a box's slot.
fn slot(index: usize) -> (f64, f64) {
    SLOTS[index.min(SLOTS.len() - 1)]
}

/// How far a line from a box's centre in direction `along` runs inside the box, plus a margin.
fn exit_distance(along: (f64, f64)) -> f64 {
    let (half_width, half_height) = (BOX.0 / 2.0 + 6.0, BOX.1 / 2.0 + 6.0);
    let x = if along.0.abs() > 1e-6 {
        half_width / along.0.abs()
    } else {
        f64::INFINITY
    };
    let y = if along.1.abs() > 1e-6 {
        half_height / along.1.abs()
    } else {
        f64::INFINITY
    };
    x.min(y)
}
