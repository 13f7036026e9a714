//! `resolver trace --format html`, the binary's `-o FILE`, and figures of
//! hand-built runs: a cached step's note, and odd input (no messages, an
//! undecodable datagram, very long and strange names).

mod common;

use common::figure::*;
use common::*;
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use resolver::capture::Protocol;
use resolver::trace::{
    CachedStep, Format, Kind, MessageView, TraceMode, TraceRun, TracedQuestion, render_run,
};
use roxmltree::{Document, Node};

fn svg_of(run: &TraceRun) -> String {
    render_run(run, Format::Svg).expect("renders")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_holds_the_figure_every_datagram_and_an_accessible_table() {
    let run = traced(&["gaia.cs.umass.edu"], TraceMode::Iterative).await;
    let html = render_run(&run, Format::Html).expect("renders");
    assert!(html.starts_with("<!DOCTYPE html>"));
    let start = html.find("<svg").expect("the SVG is inline");
    let end = html.find("</svg>").expect("closed") + "</svg>".len();
    let document = Document::parse(&html[start..end]).expect("the inline SVG is well-formed");
    assert_eq!(elements(&document, "message").len(), 8);
    assert_eq!(html.matches(r#"<article class="datagram""#).count(), 8);
    assert_eq!(html.matches(r#"<pre class="dig">"#).count(), 8);
    assert_eq!(html.matches(r#"<pre class="hex">0000  "#).count(), 8);
    for message in &run.questions[0].messages {
        assert!(
            html.contains(&format!(
                ";; -&gt;&gt;HEADER&lt;&lt;- opcode: QUERY, status: NOERROR, id: {}",
                message.id
            )),
            "message {}'s header",
            message.number
        );
    }
    // The lab is signed and the resolver asks with DO: the answer carries its RRSIG.
    assert!(html.contains(";; flags: qr aa; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1"));
    assert!(html.contains("gaia.cs.umass.edu.\t600\tIN\tRRSIG\tA "));
    assert!(html.contains(";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags: do; udp: "));
    assert!(html.contains(";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: "));
    assert!(html.contains(";; AUTHORITY SECTION:\nedu.\t172800\tIN\tNS\ta.edu-servers.net."));
    assert!(html.contains(";; ANSWER SECTION:\ngaia.cs.umass.edu.\t600\tIN\tA\t128.119.245.12"));
    assert!(html.contains("<table id=\"messages\">\n<caption>"));
    assert!(html.contains(r#"<th scope="col">"#));
    assert_eq!(html.matches(r#"<tr class="message-row""#).count(), 8);
    assert_eq!(html.matches(r#"<th scope="row">"#).count(), 8);
    // Each row names its arrow and its datagram, and is reached with Tab.
    assert!(html.contains(r#"data-arrow="message-1-3" tabindex="0" aria-controls="datagram-1-3""#));
    assert!(html.contains(r#"<g class="message reply" id="message-1-3""#));
    // Nothing to fetch: the only URL is the SVG namespace, which is a name, not a request.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(
        urls,
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    for attribute in ["src=", "href=", "@import", "url(http", "fetch("] {
        assert!(!html.contains(attribute), "the page has {attribute}");
    }
}

/// A hand-built message.
fn view(number: usize, from: (&str, &str), to: (&str, &str), kind: Kind) -> MessageView {
    MessageView {
        number,
        from_name: from.0.to_string(),
        from: from.1.parse().expect("an address"),
        to_name: to.0.to_string(),
        to: to.1.parse().expect("an address"),
        protocol: Protocol::Udp,
        bytes: 3,
        kind,
        reason: None,
        id: 7,
        qname: "www.umass.edu.".to_string(),
        qtype: "A".to_string(),
        recursion_desired: false,
        recursion_available: false,
        authoritative: kind == Kind::Answer,
        truncated: false,
        rcode: "NOERROR".to_string(),
        answer: vec!["www.umass.edu. 86400 A 128.119.8.148".to_string()],
        authority: Vec::new(),
        additional: Vec::new(),
        dnssec: Vec::new(),
        elapsed_ms: None,
        wire: vec![0xde, 0xad, 0x00],
    }
}

const HOST: (&str, &str) = ("cis.poly.edu", "127.0.0.1:40000");
const LOCAL: (&str, &str) = ("dns.poly.edu", "127.0.4.1:41000");

fn question(
    name_text: &str,
    messages: Vec<MessageView>,
    from_cache: Vec<CachedStep>,
) -> TracedQuestion {
    TracedQuestion {
        name: name(name_text),
        record_type: RecordType::A,
        messages,
        span_ms: 0.1,
        reply: Message::query(),
        from_cache,
        why: Vec::new(),
        chain: None,
    }
}

fn hand_built(questions: Vec<TracedQuestion>) -> TraceRun {
    TraceRun {
        local: LOCAL.1.parse().expect("an address"),
        lab_in_process: true,
        questions,
        explain: false,
        configuration: None,
    }
}

#[test]
fn a_cached_step_is_a_note_beside_its_band() {
    let upstream = ("dns.umass.edu", "127.0.3.1:5300");
    let step = CachedStep {
        records: vec!["umass.edu. 172800 NS dns.umass.edu.".to_string()],
        rrset: "umass.edu. NS".to_string(),
        negative: false,
        used_for: resolver::capture::UsedFor::Delegation,
        before_message: 2,
        source_name: Some("a.edu-servers.net".to_string()),
        source: Some("127.0.2.1:5300".parse().expect("an address")),
        learned_in_question: Some(1),
        learned_in_message: Some(5),
        age: 0.4,
        ttl_left: 172_799,
        credibility: "referral".to_string(),
    };
    let messages = vec![
        view(1, HOST, LOCAL, Kind::Query),
        view(2, LOCAL, upstream, Kind::Query),
        view(3, upstream, LOCAL, Kind::Answer),
        view(4, LOCAL, HOST, Kind::Answer),
    ];
    let run = hand_built(vec![question("www.umass.edu.", messages, vec![step])]);
    let svg = svg_of(&run);
    let document = Document::parse(&svg).expect("well-formed");
    // A question with cached steps is drawn as a sequence, to make room for its note.
    assert_eq!(
        document.root_element().attribute("data-layout"),
        Some("sequence")
    );
    let notes = elements(&document, "note");
    assert_eq!(notes.len(), 1);
    let note = text_of(&notes[0])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        note.contains(
            "from the cache: umass.edu. NS, learned in message 5 of question 1 from a.edu-servers.net, 172,799 s left"
        ),
        "{note}"
    );
    assert_eq!(
        notes[0]
            .parent()
            .and_then(|band| band.attribute("data-question")),
        Some("1")
    );
    let html = render_run(&run, Format::Html).expect("renders");
    assert!(html.contains("172,799 s left"));
}

#[test]
fn odd_runs_draw_without_panicking() {
    let empty = hand_built(Vec::new());
    let no_messages = hand_built(vec![question("gaia.cs.umass.edu.", Vec::new(), Vec::new())]);
    let long = "a".repeat(60);
    let long_name = format!("{long}.{long}.{long}.{long}.example.");
    let strange = ("<&\"'>", "127.0.9.9:53");
    let mut answer = view(2, strange, HOST, Kind::Answer);
    answer.answer = vec![format!("{long_name} 60 A 192.0.2.1")];
    let odd = hand_built(vec![question(
        &long_name,
        vec![view(1, HOST, strange, Kind::Query), answer],
        Vec::new(),
    )]);
    for run in [&empty, &no_messages, &odd] {
        let svg = svg_of(run);
        let document = Document::parse(&svg).expect("well-formed even for odd runs");
        let html = render_run(run, Format::Html).expect("renders");
        assert!(html.contains("</html>"));
        assert_eq!(
            elements(&document, "message").len(),
            run.questions
                .iter()
                .map(|q| q.messages.len())
                .sum::<usize>()
        );
    }
    let svg = svg_of(&odd);
    let document = Document::parse(&svg).expect("well-formed");
    let boxes: Vec<String> = elements(&document, "server").iter().map(text_of).collect();
    assert!(boxes.iter().any(|b| b.contains("<&\"'>")), "{boxes:?}");
    // A long label is cut with an ellipsis and kept whole in a title.
    let reply = &elements(&document, "message")[1];
    let texts: Vec<Node> = reply
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .collect();
    let cut = texts
        .iter()
        .find(|t| t.children().any(|c| c.tag_name().name() == "title"))
        .expect("a cut label");
    let shown: String = cut
        .children()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    assert!(shown.ends_with('…'), "{shown}");
    assert!(text_of(cut).contains(&format!("{long_name} A 192.0.2.1")));
    assert_labels_apart(&svg);
    // The hand-built wire does not decode: the page says so instead of failing.
    let html = render_run(&odd, Format::Html).expect("renders");
    assert!(html.contains("the 3 bytes do not decode as a DNS message"));
    assert!(html.contains("&lt;&amp;&quot;&#39;&gt;"));
    assert!(!html.contains("<&\"'>"));
}

#[test]
fn the_binary_writes_the_figure_and_the_page_to_files() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = lab_config_file(dir.path());
    for (format, file) in [("svg", "trace.svg"), ("html", "trace.html")] {
        let output = dir.path().join(file);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["trace", "gaia.cs.umass.edu", "--format", format, "--config"])
            .arg(&path)
            .arg("-o")
            .arg(&output)
            .output()
            .expect("resolver trace runs");
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        assert!(status.stdout.is_empty(), "-o writes to the file only");
        let written = std::fs::read_to_string(&output).expect("the file is written");
        assert_eq!(
            written.matches(r#"<g class="message"#).count(),
            8,
            "{format}"
        );
    }
}
