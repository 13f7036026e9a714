//! Support for the figure's tests: a real trace of the lab, and the SVG
//! read back with a real XML parser.

use hickory_proto::rr::RecordType;
use resolver::trace::{TraceMode, TraceOptions, TraceRun, trace};
use roxmltree::{Document, Node};

use super::{name, shipped_config_on_free_port};

/// What to trace: the names, fully qualified.
pub fn options(names: &[&str], mode: TraceMode) -> TraceOptions {
    TraceOptions {
        // Fully qualified, as the command line makes them.
        names: names.iter().map(|n| name(&format!("{n}."))).collect(),
        record_type: RecordType::A,
        mode,
        explain: false,
        dnssec: false,
        configuration: None,
    }
}

/// A trace of the lab on a free port.
pub async fn traced(names: &[&str], mode: TraceMode) -> TraceRun {
    trace(&shipped_config_on_free_port(), &options(names, mode))
        .await
        .expect("the trace runs")
}

/// True when a node has the class.
pub fn has_class(node: &Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|c| c == class))
}

/// The elements with the class, in document order.
pub fn elements<'a>(document: &'a Document, class: &str) -> Vec<Node<'a, 'a>> {
    document
        .descendants()
        .filter(|n| n.is_element() && has_class(n, class))
        .collect()
}

/// All the text of a node: its `<text>` elements (the shown text) and `<title>`s (the whole text).
pub fn text_of(node: &Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `data-number` of each node.
pub fn numbers(messages: &[Node]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.attribute("data-number").unwrap_or_default().to_string())
        .collect()
}

/// The text elements of each message, as rectangles (12 px monospace, 7.3 px a character).
pub fn label_boxes(document: &Document) -> Vec<(String, (f64, f64, f64, f64))> {
    let mut boxes = Vec::new();
    for message in elements(document, "message") {
        let number = message.attribute("data-number").unwrap_or_default();
        for text in message
            .descendants()
            .filter(|n| n.tag_name().name() == "text")
        {
            if has_class(&text, "badge-number") {
                continue;
            }
            let shown: String = text
                .children()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect();
            let number_of = |name| {
                text.attribute(name)
                    .and_then(|v: &str| v.parse::<f64>().ok())
                    .expect("a coordinate")
            };
            let (x, y) = (number_of("x"), number_of("y"));
            let width = shown.chars().count() as f64 * 7.3;
            let left = match text.attribute("text-anchor") {
                Some("middle") => x - width / 2.0,
                Some("end") => x - width,
                _ => x,
            };
            boxes.push((number.to_string(), (left, y - 10.0, left + width, y + 3.0)));
        }
    }
    boxes
}

/// The rectangle of each server's box.
pub fn server_boxes(document: &Document) -> Vec<(f64, f64, f64, f64)> {
    elements(document, "server")
        .iter()
        .filter_map(|server| server.children().find(|n| n.tag_name().name() == "rect"))
        .map(|rect| {
            let number = |name| {
                rect.attribute(name)
                    .and_then(|v: &str| v.parse::<f64>().ok())
                    .expect("a coordinate")
            };
            let (x, y) = (number("x"), number("y"));
            (x, y, x + number("width"), y + number("height"))
        })
        .collect()
}

fn overlap(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Fails when labels of two different messages overlap, or a label overlaps a server's box.
pub fn assert_labels_apart(svg: &str) {
    let document = Document::parse(svg).expect("well-formed");
    let labels = label_boxes(&document);
    let servers = server_boxes(&document);
    for (i, (a_number, a)) in labels.iter().enumerate() {
        for (b_number, b) in &labels[i + 1..] {
            assert!(
                a_number == b_number || !overlap(*a, *b),
                "the labels of messages {a_number} and {b_number} overlap"
            );
        }
        assert!(
            !servers.iter().any(|s| overlap(*a, *s)),
            "the label of message {a_number} overlaps a box"
        );
    }
}
