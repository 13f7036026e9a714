//! A trace as one self-contained page: the figure ([`super::svg`]), every
//! message in a table a screen reader can read, and for each message the
//! whole datagram as dig prints it and its bytes in hex, shown when its
//! arrow or its row is chosen (click, or Enter). Inline CSS and script; the
//! page fetches nothing. Opened with `#selftest`, the page's script chooses
//! each message in turn, checks that its datagram is shown, and writes
//! `<pre id="selftest">ok N messages</pre>` (CI reads it from the rendered DOM).

use std::fmt::Write;

use super::describe::MessageView;
use super::dig::{dig_text, hex_dump};
use super::figure::{cache_note, label};
use super::run::TraceRun;
use super::svg::{escape, run_svg};
use crate::capture::Protocol;

/// The page of a run.
pub fn run_html(run: &TraceRun) -> String {
    let names: Vec<String> = run
        .questions
        .iter()
        .map(|q| format!("{} {}", q.name, q.record_type))
        .collect();
    let title = format!("resolver trace {}", names.join(", "));
    let count: usize = run.questions.iter().map(|q| q.messages.len()).sum();
    let mut page = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>The host asks its local DNS server {local}, which starts with an empty cache. {count} messages crossed the wire; choose an arrow or a row (click, or Tab and Enter) to see its datagram.</p>
</header>
<main>
<figure id="figure">
{svg}<figcaption>Solid arrows are queries, dashed arrows replies; the numbers are the order on the wire.</figcaption>
</figure>
<div class="columns">
"#,
        title = escape(&title),
        local = escape(&run.local.to_string()),
        svg = run_svg(run),
    );
    page.push_str(&table(run, count));
    page.push_str(&datagrams(run));
    page.push_str("</div>\n");
    page.push_str(&cache_notes(run));
    let _ = write!(
        page,
        "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    page
}

/// The key of a message in the page's ids: `question-number`.
fn key(question: usize, message: &MessageView) -> String {
    format!("{question}-{}", message.number)
}

/// Every message as a row: focusable, chosen with a click or Enter.
fn table(run: &TraceRun, count: usize) -> String {
    let mut html = String::new();
    // A column for the question only when there are several.
    let several = run.questions.len() > 1;
    let question_header = if several {
        r#"<th scope="col">Question</th>"#
    } else {
        ""
    };
    let _ = write!(
        html,
        r#"<section class="messages"><table id="messages">
<caption>The {count} messages, in order; choose a row (click, or Enter) to show its datagram</caption>
<thead><tr><th scope="col">#</th>{question_header}<th scope="col">From</th><th scope="col">To</th><th scope="col">Kind</th><th scope="col">Record</th><th scope="col">Size</th><th scope="col">Time</th></tr></thead>
<tbody>
"#
    );
    for (index, question) in run.questions.iter().enumerate() {
        let number = index + 1;
        for message in &question.messages {
            let key = key(number, message);
            let (kind, record) = label(message);
            let time = message
                .elapsed_ms
                .map(|ms| format!("{ms:.2} ms"))
                .unwrap_or_default();
            let protocol = match message.protocol {
                Protocol::Udp => "UDP",
                Protocol::Tcp => "TCP",
            };
            let _ = writeln!(
                html,
                r#"<tr class="message-row" id="row-{key}" data-key="{key}" data-arrow="message-{key}" tabindex="0" aria-controls="datagram-{key}" aria-selected="false"><th scope="row">{n}</th>{question}<td>{from}<br><span class="address">{from_address}</span></td><td>{to}<br><span class="address">{to_address}</span></td><td>{kind}</td><td>{record}</td><td class="size">{bytes} B, {protocol}</td><td>{time}</td></tr>"#,
                n = message.number,
                question = if several {
                    format!(
                        "<td>{number}. {}</td>",
                        escape(&format!("{} {}", question.name, question.record_type))
                    )
                } else {
                    String::new()
                },
                from = escape(&message.from_name),
                from_address = message.from,
                to = escape(&message.to_name),
                to_address = message.to,
                kind = escape(&kind),
                record = escape(&record),
                bytes = message.bytes,
            );
        }
    }
    html.push_str("</tbody></table></section>\n");
    html
}

/// Every datagram, as dig prints it and in hex; hidden until chosen.
fn datagrams(run: &TraceRun) -> String {
    let mut html = String::from(
        r#"<section id="datagrams" aria-live="polite" aria-label="The chosen datagram">
<h2>The datagram</h2>
<p id="datagram-hint">Choose a message in the figure or the table.</p>
"#,
    );
    for (index, question) in run.questions.iter().enumerate() {
        let number = index + 1;
        for message in &question.messages {
            let key = key(number, message);
            let protocol = match message.protocol {
                Protocol::Udp => "UDP",
                Protocol::Tcp => "TCP",
            };
            let _ = writeln!(
                html,
                r#"<article class="datagram" id="datagram-{key}" data-key="{key}" data-id="{id}" hidden>
<h3>Message {n} of question {number}: {from} ({from_address}) → {to} ({to_address}), {protocol}, {bytes} bytes</h3>
<pre class="dig">{dig}</pre>
<h4>The bytes</h4>
<pre class="hex">{hex}</pre>
</article>"#,
                id = message.id,
                n = message.number,
                from = escape(&message.from_name),
                from_address = message.from,
                to = escape(&message.to_name),
                to_address = message.to,
                bytes = message.bytes,
                dig = escape(&dig_text(&message.wire)),
                hex = escape(&hex_dump(&message.wire)),
            );
        }
    }
    html.push_str("</section>\n");
    html
}

/// The cached RRsets each question used, as the figure's notes say them.
fn cache_notes(run: &TraceRun) -> String {
    if run.questions.iter().all(|q| q.from_cache.is_empty()) {
        return String::new();
    }
    let mut html = String::from("<section class=\"cache\"><h2>From the cache</h2><ul>\n");
    for (index, question) in run.questions.iter().enumerate() {
        for step in &question.from_cache {
            let _ = writeln!(
                html,
                "<li>Question {} ({}): {}</li>",
                index + 1,
                escape(&question.name.to_string()),
                escape(&cache_note(step))
            );
        }
    }
    html.push_str("</ul></section>\n");
    html
}

/// The page's styles.
const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 1.5rem; color: #111; background: #fff; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; }
header p { margin: 0 0 1rem; max-width: 70rem; }
figure { margin: 0 0 1rem; overflow-x: auto; border: 1px solid #ccc; }
figcaption { font-size: .85rem; padding: .3rem .6rem; color: #333; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(38rem, 1fr); gap: 1rem; align-items: start; }
td.size, .address { white-space: nowrap; }
table { border-collapse: collapse; font-size: .85rem; width: 100%; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .4rem; text-align: left; vertical-align: top; }
thead th { background: #eee; }
.address { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .8rem; color: #444; }
tr.message-row { cursor: pointer; }
tr.message-row:hover, tr.message-row:focus { background: #eef3ff; outline: 2px solid #1a3d8f; }
tr.message-row[aria-selected="true"] { background: #dde7ff; }
#datagrams { position: sticky; top: .5rem; border: 1px solid #ccc; padding: 0 .8rem .8rem; }
#datagrams h2 { font-size: 1.1rem; }
#datagrams h3 { font-size: .95rem; }
#datagrams h4 { font-size: .85rem; margin-bottom: .2rem; }
pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .78rem; background: #f7f7f7; padding: .5rem; overflow-x: auto; tab-size: 8; }
@media (max-width: 1100px) { .columns { grid-template-columns: 1fr; } }
"#;

/// The page's script: choosing a message shows its datagram; `#selftest` checks every one.
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var articles = Array.prototype.slice.call(document.querySelectorAll("article.datagram"));
  var arrows = Array.prototype.slice.call(document.querySelectorAll("g.message"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.message-row"));
  function keyOf(element) {
    return element.getAttribute("data-key") ||
      element.getAttribute("data-question") + "-" + element.getAttribute("data-number");
  }
  function show(key) {
    articles.forEach(function (a) { a.hidden = a.getAttribute("data-key") !== key; });
    arrows.forEach(function (g) { g.classList.toggle("selected", keyOf(g) === key); });
    rows.forEach(function (r) { r.setAttribute("aria-selected", keyOf(r) === key ? "true" : "false"); });
    var hint = document.getElementById("datagram-hint");
    if (hint) { hint.hidden = true; }
  }
  arrows.concat(rows).forEach(function (element) {
    element.addEventListener("click", function () { show(keyOf(element)); });
    element.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); show(keyOf(element)); }
    });
  });
  function shown() { return articles.filter(function (a) { return !a.hidden; }); }
  function check(element, how) {
    var visible = shown();
    var key = keyOf(element);
    if (visible.length !== 1) { return how + " " + key + ": " + visible.length + " datagrams shown"; }
    var article = visible[0];
    var dig = article.querySelector("pre.dig").textContent;
    var hex = article.querySelector("pre.hex").textContent;
    if (article.getAttribute("data-key") !== key) { return how + " " + key + " showed " + article.getAttribute("data-key"); }
    if (dig.indexOf("id: " + article.getAttribute("data-id")) < 0) { return how + " " + key + ": no header with its ID"; }
    if (dig.indexOf(";; QUESTION SECTION:") < 0) { return how + " " + key + ": no question section"; }
    if (hex.indexOf("0000  ") !== 0) { return how + " " + key + ": no hex dump"; }
    return null;
  }
  function selftest() {
    var failures = [];
    if (arrows.length !== rows.length || rows.length !== articles.length) {
      failures.push(arrows.length + " arrows, " + rows.length + " rows, " + articles.length + " datagrams");
    }
    arrows.forEach(function (g) {
      g.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      var failure = check(g, "click on arrow");
      if (failure) { failures.push(failure); }
    });
    rows.forEach(function (r) {
      r.focus();
      r.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      var failure = check(r, "Enter on row");
      if (failure) { failures.push(failure); }
    });
    var result = document.createElement("pre");
    result.id = "selftest";
    result.textContent = failures.length === 0 && arrows.length > 0
      ? "ok " + arrows.length + " messages"
      : "FAIL " + (failures.join("; ") || "no messages");
    document.body.appendChild(result);
    if (arrows.length > 0) { arrows[0].dispatchEvent(new MouseEvent("click", { bubbles: true })); }
    if (document.activeElement) { document.activeElement.blur(); }
    window.scrollTo(0, 0);
  }
  if (window.location.hash === "#selftest") { selftest(); }
})();
"##;
