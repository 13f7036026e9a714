//! `resolver trace --format svg|html`: the textbook's figures drawn from the
//! real messages, checked by structure (the SVG parsed as XML).

mod common;

use common::figure::*;
use resolver::trace::{Format, Kind, TraceMode, TraceRun, render_run};
use roxmltree::Document;

fn svg_of(run: &TraceRun) -> String {
    render_run(run, Format::Svg).expect("renders")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_iterative_lookup_is_figure_2_19_with_eight_numbered_labelled_arrows() {
    let run = traced(&["gaia.cs.umass.edu"], TraceMode::Iterative).await;
    let svg = svg_of(&run);
    let document = Document::parse(&svg).expect("the SVG is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("data-layout"), Some("iterative"));
    let messages = elements(&document, "message");
    assert_eq!(numbers(&messages), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    for (message, view) in messages.iter().zip(&run.questions[0].messages) {
        assert_eq!(message.tag_name().name(), "g");
        assert!(
            message
                .descendants()
                .any(|n| n.tag_name().name() == "path" && n.attribute("marker-end").is_some()),
            "message {} has an arrow with an arrowhead",
            view.number
        );
        let query = view.kind == Kind::Query;
        assert_eq!(has_class(message, "query"), query);
        assert_eq!(has_class(message, "reply"), !query);
    }
    let labels: Vec<String> = messages.iter().map(text_of).collect();
    assert!(labels[0].contains("query (recursive)"), "{}", labels[0]);
    assert!(labels[1].contains("query (iterative)"), "{}", labels[1]);
    assert!(labels[2].contains("referral") && labels[2].contains("edu. NS a.edu-servers.net."));
    assert!(labels[4].contains("referral") && labels[4].contains("umass.edu. NS dns.umass.edu."));
    assert!(
        labels[6].contains("answer (authoritative)"),
        "{}",
        labels[6]
    );
    for label in &labels[6..] {
        assert!(
            label.contains("gaia.cs.umass.edu. A 128.119.245.12"),
            "{label}"
        );
    }
    let boxes = elements(&document, "server");
    let texts: Vec<String> = boxes.iter().map(text_of).collect();
    assert_eq!(boxes.len(), 5, "{texts:?}");
    let root_server = &run.questions[0].messages[1].to_name;
    for (index, (role, server)) in [
        ("requesting host", "cis.poly.edu"),
        ("local DNS server", "dns.poly.edu"),
        ("root DNS server", root_server.as_str()),
        ("TLD DNS server", "a.edu-servers.net"),
        ("authoritative DNS server", "dns.umass.edu"),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(texts[index].contains(role), "{}", texts[index]);
        assert!(texts[index].contains(server), "{}", texts[index]);
    }
    let asked = &run.questions[0].messages;
    for (index, message) in [(2, &asked[1]), (3, &asked[3]), (4, &asked[5])] {
        assert!(
            texts[index].contains(&message.to.to_string()),
            "{}",
            texts[index]
        );
    }
    assert!(texts[3].contains("127.0.2.1:") && texts[4].contains("127.0.3.1:"));
    assert!(texts[1].contains(&run.local.to_string()), "{}", texts[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recursive_mode_is_figure_2_20s_chain() {
    let run = traced(&["gaia.cs.umass.edu"], TraceMode::Recursive).await;
    let svg = svg_of(&run);
    let document = Document::parse(&svg).expect("well-formed");
    assert_eq!(
        document.root_element().attribute("data-layout"),
        Some("recursive")
    );
    let messages = elements(&document, "message");
    assert_eq!(numbers(&messages), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert!(text_of(&messages[2]).contains("query (recursive)"));
    let roles: Vec<String> = elements(&document, "server").iter().map(text_of).collect();
    assert!(roles[2].contains("root DNS server"), "{roles:?}");
    assert!(roles[4].contains("authoritative DNS server"), "{roles:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn four_names_are_a_sequence_diagram_with_a_band_per_question() {
    let names = [
        "gaia.cs.umass.edu",
        "gaia.cs.umass.edu",
        "www.umass.edu",
        "cis.poly.edu",
    ];
    let run = traced(&names, TraceMode::Iterative).await;
    let svg = svg_of(&run);
    let document = Document::parse(&svg).expect("well-formed");
    assert_eq!(
        document.root_element().attribute("data-layout"),
        Some("sequence")
    );
    let messages = elements(&document, "message");
    assert_eq!(messages.len(), 20);
    let order: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            let attribute = |name| m.attribute(name).unwrap_or_default().to_string();
            (attribute("data-question"), attribute("data-number"))
        })
        .collect();
    let mut expected = Vec::new();
    for (question, count) in [(1, 8), (2, 2), (3, 4), (4, 6)] {
        for number in 1..=count {
            expected.push((question.to_string(), number.to_string()));
        }
    }
    assert_eq!(order, expected);
    let bands = elements(&document, "question");
    let counts: Vec<&str> = bands
        .iter()
        .map(|b| b.attribute("data-messages").unwrap_or_default())
        .collect();
    assert_eq!(counts, ["8", "2", "4", "6"]);
    let band = text_of(&bands[0]);
    assert!(band.contains("gaia.cs.umass.edu. A: 8 messages"), "{band}");
    assert!(text_of(&bands[1]).contains("gaia.cs.umass.edu. A: 2 messages"));
    assert!(text_of(&bands[3]).contains("cis.poly.edu. A: 6 messages"));
    // One lifeline per server: the poly.edu server is not the local server, though both are dns.poly.edu.
    let boxes: Vec<String> = elements(&document, "server").iter().map(text_of).collect();
    assert_eq!(boxes.len(), 6, "{boxes:?}");
    assert!(boxes[5].contains("authoritative DNS server") && boxes[5].contains("dns.poly.edu"));
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_of_different_messages_do_not_overlap_in_any_layout() {
    for (names, mode) in [
        (&["gaia.cs.umass.edu"][..], TraceMode::Iterative),
        (&["gaia.cs.umass.edu"][..], TraceMode::Recursive),
        (&["www.poly.edu", "cis.poly.edu"][..], TraceMode::Iterative),
    ] {
        assert_labels_apart(&svg_of(&traced(names, mode).await));
    }
}

#[test]
fn the_readme_shows_a_figure_2_19_made_by_the_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("the README");
    assert!(
        readme.contains("](docs/trace.svg)"),
        "the README embeds the figure"
    );
    let svg = std::fs::read_to_string(root.join("docs/trace.svg")).expect("the figure");
    let document = Document::parse(&svg).expect("well-formed");
    assert_eq!(
        document.root_element().attribute("data-layout"),
        Some("iterative")
    );
    let messages = elements(&document, "message");
    assert_eq!(numbers(&messages), ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert!(text_of(&messages[6]).contains("gaia.cs.umass.edu. A 128.119.245.12"));
    assert!(!svg.contains("<script") && !svg.contains("href="));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cname_across_zones_or_a_glueless_delegation_is_a_sequence_diagram() {
    for names in [["www.poly.edu"], ["relay1.west-coast.enterprise.com"]] {
        let run = traced(&names, TraceMode::Iterative).await;
        let svg = svg_of(&run);
        let document = Document::parse(&svg).expect("well-formed");
        assert_eq!(
            document.root_element().attribute("data-layout"),
            Some("sequence"),
            "{names:?}"
        );
        let bands: Vec<&str> = elements(&document, "question")
            .iter()
            .map(|b| b.attribute("data-messages").unwrap_or_default())
            .collect();
        let count = run.questions[0].messages.len();
        assert!(count > 8, "{names:?}: {count} messages");
        assert_eq!(bands, [count.to_string()], "{names:?}");
        assert_labels_apart(&svg);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dnssec_trace_draws_each_chain_of_trust_below_the_figure() {
    let mut options = options(
        &["gaia.cs.umass.edu", "www.enterprise.com"],
        TraceMode::Iterative,
    );
    options.dnssec = true;
    let config = common::shipped_config_on_free_port();
    let run = resolver::trace::trace(&config, &options)
        .await
        .expect("the trace runs");
    let svg = svg_of(&run);
    let document = Document::parse(&svg).expect("the SVG is well-formed XML");
    let chains = elements(&document, "chain");
    let security: Vec<&str> = chains
        .iter()
        .filter_map(|chain| chain.attribute("data-security"))
        .collect();
    assert_eq!(security, ["secure", "insecure"]);
    let lines: Vec<String> = chains[0]
        .descendants()
        .filter(|node| node.tag_name().name() == "text")
        .map(|node| text_of(&node))
        .collect();
    assert_eq!(lines[0], "Chain of trust: gaia.cs.umass.edu. A");
    assert!(lines[1].ends_with(". DNSKEY (trust anchor)"), "{lines:?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("→ gaia.cs.umass.edu. A RRSIG: secure")
    );
    // Below everything else, inside the drawing.
    let height: f64 = document
        .root_element()
        .attribute("height")
        .and_then(|h| h.parse().ok())
        .expect("a height");
    let last_y: f64 = chains[1]
        .descendants()
        .filter_map(|node| node.attribute("y")?.parse().ok())
        .fold(0.0, f64::max);
    assert!(last_y < height, "{last_y} within {height}");
    // Without --dnssec, no chain is drawn.
    let plain = traced(&["gaia.cs.umass.edu"], TraceMode::Iterative).await;
    assert!(elements(&Document::parse(&svg_of(&plain)).expect("XML"), "chain").is_empty());
}
