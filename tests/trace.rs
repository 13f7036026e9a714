//! `resolver trace`: the textbook's eight messages, and fewer with a warm cache.

mod common;

use common::*;
use hickory_proto::rr::RecordType;
use resolver::trace::{Kind, render};
use resolver::trace::{TraceMode, TraceOptions, TraceRun, trace};

fn options(names: &[&str], mode: TraceMode) -> TraceOptions {
    TraceOptions {
        names: names.iter().map(|n| name(n)).collect(),
        record_type: RecordType::A,
        mode,
        explain: true,
        dnssec: false,
        configuration: None,
    }
}

/// Who sent each message to whom, as `from>to`.
fn hops(run: &TraceRun, question: usize) -> Vec<String> {
    run.questions[question]
        .messages
        .iter()
        .map(|m| format!("{}>{}", m.from_name, m.to_name))
        .collect()
}

fn kinds(run: &TraceRun, question: usize) -> Vec<Kind> {
    run.questions[question]
        .messages
        .iter()
        .map(|m| m.kind)
        .collect()
}

/// The root server asked (either of the lab's two may be chosen).
fn root_of(run: &TraceRun) -> String {
    run.questions[0].messages[1].to_name.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_lookup_is_the_textbooks_eight_messages() {
    let config = shipped_config_on_free_port();
    let run = trace(
        &config,
        &options(&["gaia.cs.umass.edu"], TraceMode::Iterative),
    )
    .await
    .expect("the trace runs");
    let port = config.lab.as_ref().expect("a lab").port;
    // Seen once in a full run, not since: something served the port
    // between the probe and the trace's own bind. Say which port.
    assert!(
        run.lab_in_process,
        "port {port}, free a moment before, was served when the trace bound its lab"
    );
    let root = root_of(&run);
    assert!(
        root == "a.root-servers.net" || root == "b.root-servers.net",
        "{root}"
    );
    assert_eq!(
        hops(&run, 0),
        [
            "cis.poly.edu>dns.poly.edu".to_string(),
            format!("dns.poly.edu>{root}"),
            format!("{root}>dns.poly.edu"),
            "dns.poly.edu>a.edu-servers.net".to_string(),
            "a.edu-servers.net>dns.poly.edu".to_string(),
            "dns.poly.edu>dns.umass.edu".to_string(),
            "dns.umass.edu>dns.poly.edu".to_string(),
            "dns.poly.edu>cis.poly.edu".to_string(),
        ]
    );
    assert_eq!(
        kinds(&run, 0),
        [
            Kind::Query,
            Kind::Query,
            Kind::Referral,
            Kind::Query,
            Kind::Referral,
            Kind::Query,
            Kind::Answer,
            Kind::Answer
        ]
    );
    let messages = &run.questions[0].messages;
    assert!(messages[0].recursion_desired, "the host asks recursively");
    assert!(
        messages[1..7]
            .iter()
            .all(|m| !m.recursion_desired || m.kind != Kind::Query)
    );
    assert_eq!(messages[2].authority, ["edu. 172800 NS a.edu-servers.net."]);
    assert_eq!(
        messages[4].authority,
        ["umass.edu. 172800 NS dns.umass.edu."]
    );
    assert_eq!(
        messages[4].additional,
        ["dns.umass.edu. 172800 A 127.0.3.1"]
    );
    assert!(messages[6].authoritative);
    assert_eq!(
        messages[7].answer,
        ["gaia.cs.umass.edu. 600 A 128.119.245.12"]
    );
    assert!(
        messages
            .iter()
            .filter(|m| m.kind != Kind::Query)
            .all(|m| m.elapsed_ms.is_some())
    );

    let text = render(
        messages,
        &run.questions[0].from_cache,
        &[],
        run.questions[0].span_ms,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("  1  cis.poly.edu"), "{text}");
    assert!(
        lines[0].contains("query     gaia.cs.umass.edu. A (recursive)"),
        "{text}"
    );
    assert!(
        lines[2].contains("query     gaia.cs.umass.edu. A (iterative)"),
        "{text}"
    );
    assert!(
        lines[4].contains("referral  edu. 172800 NS a.edu-servers.net.; glue a.edu-servers.net. 172800 A 127.0.2.1"),
        "{text}"
    );
    assert!(
        lines[12].contains("answer    gaia.cs.umass.edu. 600 A 128.119.245.12 (authoritative)"),
        "{text}"
    );
    assert!(
        lines[16].starts_with("8 messages: 4 queries, 4 replies, "),
        "{text}"
    );
}

/// The textbook's cache story in one run: gaia twice, another umass.edu
/// host, another .edu zone.
async fn four_names() -> (resolver::config::Config, TraceRun) {
    let config = shipped_config_on_free_port();
    let names = [
        "gaia.cs.umass.edu",
        "gaia.cs.umass.edu",
        "www.umass.edu",
        "cis.poly.edu",
    ];
    let run = trace(&config, &options(&names, TraceMode::Iterative))
        .await
        .expect("the trace runs");
    (config, run)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warm_cache_shortens_the_walk_to_2_4_and_6_messages() {
    let (_, run) = four_names().await;
    let counts: Vec<usize> = run.questions.iter().map(|q| q.messages.len()).collect();
    assert_eq!(counts, [8, 2, 4, 6]);
    // The same name again: straight from the cache, the TTL still 600 or just below.
    assert_eq!(
        hops(&run, 1),
        ["cis.poly.edu>dns.poly.edu", "dns.poly.edu>cis.poly.edu"]
    );
    // Another umass.edu host: straight to dns.umass.edu.
    assert_eq!(hops(&run, 2)[1], "dns.poly.edu>dns.umass.edu");
    // Another .edu zone: the edu server, skipping the root.
    assert_eq!(hops(&run, 3)[1], "dns.poly.edu>a.edu-servers.net");
    assert_eq!(hops(&run, 3)[3], "dns.poly.edu>dns.poly.edu");
}

/// Where a cached step came from: (question, message) of the reply that carried it.
fn learned_in(step: &resolver::trace::CachedStep) -> Option<(usize, usize)> {
    step.learned_in_question.zip(step.learned_in_message)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_step_the_cache_saves_says_who_said_it_in_which_message() {
    let (config, run) = four_names().await;
    assert!(
        run.questions[0].from_cache.is_empty(),
        "an empty cache saves nothing"
    );

    // The same name again: the answer itself, from dns.umass.edu's message 7.
    let [answer] = run.questions[1].from_cache.as_slice() else {
        panic!("one cached answer: {:?}", run.questions[1].from_cache);
    };
    assert_eq!(answer.rrset, "gaia.cs.umass.edu. A");
    assert_eq!(answer.records, ["gaia.cs.umass.edu. 600 A 128.119.245.12"]);
    assert_eq!(learned_in(answer), Some((1, 7)));
    assert_eq!(answer.source_name.as_deref(), Some("dns.umass.edu"));
    assert_eq!(answer.credibility, "authoritative answer");
    assert!(
        answer.ttl_left <= 600 && answer.ttl_left > 590,
        "{}",
        answer.ttl_left
    );
    assert_eq!(
        answer.before_message, 2,
        "used between the host's query and the reply"
    );

    // Another umass.edu host: the delegation the edu server gave in message 5.
    let [delegation] = run.questions[2].from_cache.as_slice() else {
        panic!("one cached delegation: {:?}", run.questions[2].from_cache);
    };
    assert_eq!(delegation.rrset, "umass.edu. NS");
    assert_eq!(learned_in(delegation), Some((1, 5)));
    assert_eq!(delegation.source_name.as_deref(), Some("a.edu-servers.net"));
    assert_eq!(delegation.credibility, "referral");

    // Another .edu zone: edu's delegation, from the root's referral in message 3.
    let edu = &run.questions[3].from_cache[0];
    assert_eq!(edu.rrset, "edu. NS");
    assert_eq!(learned_in(edu), Some((1, 3)));
    assert_eq!(edu.source_name.as_deref(), Some(root_of(&run).as_str()));

    // The text says so between the host's query and what followed it.
    let text = resolver::trace::run_text(&run);
    assert!(
        text.contains("umass.edu. 86400 NS dns.umass.edu.; dns.umass.edu. 86400 A 127.0.3.1 — from the cache: learned in message 5 of question 1 from a.edu-servers.net (127.0.2.1) "),
        "{text}"
    );
    // And the JSON, on the host's query.
    let json = resolver::trace::render_run(&run, resolver::trace::Format::Json).expect("JSON");
    let www: serde_json::Value = json
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a JSON line"))
        .find(|m| {
            m["question"].as_str().map(|q| q.trim_end_matches('.')) == Some("www.umass.edu")
                && m["number"] == 1
        })
        .unwrap_or_else(|| panic!("the host's query for www.umass.edu: {json}"));
    assert_eq!(www["from_cache"][0]["learned_in_message"], 5);
    assert_eq!(
        www["from_cache"][0]["source"],
        "127.0.2.1:5300".replace(
            "5300",
            &config.lab.as_ref().expect("a lab").port.to_string()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_says_whose_servers_each_query_went_to_and_why_that_one() {
    let config = shipped_config_on_free_port();
    let run = trace(
        &config,
        &options(
            &["gaia.cs.umass.edu", "www.umass.edu"],
            TraceMode::Iterative,
        ),
    )
    .await
    .expect("the trace runs");
    let why = &run.questions[0].why;
    let explained: Vec<(usize, &str, &str)> = why
        .iter()
        .map(|w| (w.message, w.zone.as_str(), w.learned_from.as_str()))
        .collect();
    assert_eq!(
        explained,
        [
            (2, ".", "the root hints"),
            (4, "edu.", "the referral in message 3"),
            (6, "umass.edu.", "the referral in message 5"),
        ]
    );
    // Two root servers, neither asked before: a tie, the other one named.
    assert!(why[0].tie && why[0].rtt_ms.is_none(), "{why:?}");
    assert_eq!(why[0].others.len(), 1, "{why:?}");
    assert!(why[0].others[0].ends_with("never asked"), "{why:?}");
    assert!(why[1].others.is_empty());
    // The second name: umass.edu's server from the cache, its RTT now measured.
    let again = &run.questions[1].why[0];
    assert_eq!(again.learned_from, "cached from message 5 of question 1");
    assert!(again.rtt_ms.is_some_and(|ms| ms > 0.0), "{again:?}");
    let text = resolver::trace::run_text(&run);
    assert!(
        text.contains("why: a server for umass.edu. (the referral in message 5); dns.umass.edu (127.0.3.1) never asked before, the only one"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recursive_figure_passes_the_query_down_and_the_answer_up() {
    let config = shipped_config_on_free_port();
    let run = trace(
        &config,
        &options(&["gaia.cs.umass.edu"], TraceMode::Recursive),
    )
    .await
    .expect("the trace runs");
    let root = root_of(&run);
    assert_eq!(
        hops(&run, 0),
        [
            "cis.poly.edu>dns.poly.edu".to_string(),
            format!("dns.poly.edu>{root}"),
            format!("{root}>a.edu-servers.net"),
            "a.edu-servers.net>dns.umass.edu".to_string(),
            "dns.umass.edu>a.edu-servers.net".to_string(),
            format!("a.edu-servers.net>{root}"),
            format!("{root}>dns.poly.edu"),
            "dns.poly.edu>cis.poly.edu".to_string(),
        ]
    );
    let messages = &run.questions[0].messages;
    assert!(
        messages[..4]
            .iter()
            .all(|m| m.kind == Kind::Query && m.recursion_desired)
    );
    assert!(
        messages[4..]
            .iter()
            .all(|m| m.answer == ["gaia.cs.umass.edu. 600 A 128.119.245.12"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_lab_is_used_instead_of_failing_to_bind() {
    let lab = Lab::start();
    let mut config = shipped_config_on_free_port();
    config.lab.as_mut().expect("a lab").port = lab.port;
    let run = trace(
        &config,
        &options(&["gaia.cs.umass.edu"], TraceMode::Iterative),
    )
    .await
    .expect("the trace runs with the running lab");
    assert!(!run.lab_in_process);
    assert_eq!(run.questions[0].messages.len(), 8);
}

#[test]
fn the_binary_prints_text_and_json() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = lab_config_file(dir.path());
    let run = |extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["trace", "gaia.cs.umass.edu", "--config"])
            .arg(&path)
            .args(extra)
            .output()
            .expect("resolver trace runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let text = run(&[]);
    assert!(text.contains("8 messages: 4 queries, 4 replies"), "{text}");
    let json = run(&["--json"]);
    let objects: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), 8);
    assert_eq!(objects[0]["from_name"], "cis.poly.edu");
    assert_eq!(objects[0]["kind"], "query");
    assert_eq!(objects[6]["kind"], "answer");
    assert_eq!(objects[7]["question"], "gaia.cs.umass.edu.");
}

#[tokio::test(flavor = "multi_thread")]
async fn dnssec_shows_the_dnskey_messages_and_the_chain_of_trust_with_the_ds_from_referrals() {
    let config = shipped_config_on_free_port();
    let mut options = options(
        &["gaia.cs.umass.edu", "www.enterprise.com"],
        TraceMode::Iterative,
    );
    options.dnssec = true;
    let run = trace(&config, &options).await.expect("the trace runs");
    let asked: Vec<String> = run.questions[0]
        .messages
        .iter()
        .filter(|m| m.kind == Kind::Query)
        .map(|m| format!("{} {}", m.qname, m.qtype))
        .collect();
    // The DS records come in the referrals (RFC 4035 §3.1.4); each key set is asked for.
    let expected = [
        "gaia.cs.umass.edu. A",
        "gaia.cs.umass.edu. A",
        "gaia.cs.umass.edu. A",
        "gaia.cs.umass.edu. A",
        ". DNSKEY",
        "edu. DNSKEY",
        "umass.edu. DNSKEY",
    ];
    assert_eq!(asked, expected);
    assert!(
        run.questions[0].reply.authentic_data,
        "the host's answer has AD"
    );
    let chain = run.questions[0].chain.as_ref().expect("a chain of trust");
    assert_eq!(
        chain.links,
        [
            ". DNSKEY (trust anchor)",
            "edu. DS",
            "edu. DNSKEY",
            "umass.edu. DS",
            "umass.edu. DNSKEY"
        ]
    );
    assert_eq!(chain.answer, "gaia.cs.umass.edu. A RRSIG: secure");
    // The unsigned zone: where the chain stops, and the proof that says so.
    let insecure = run.questions[1].chain.as_ref().expect("a chain of trust");
    assert_eq!(insecure.security, "insecure");
    assert!(
        insecure
            .links
            .iter()
            .any(|link| link.starts_with("enterprise.com. DS: none, com. NSEC proves it")),
        "{:?}",
        insecure.links
    );
    let text = resolver::trace::render_run(&run, resolver::trace::Format::Text).expect("text");
    assert!(
        text.contains("Chain of trust:\n    . DNSKEY (trust anchor)\n  → edu. DS\n"),
        "{text}"
    );
    // Without --dnssec, the textbook's eight messages and no chain.
    options.dnssec = false;
    options.names.truncate(1);
    let plain = trace(&config, &options).await.expect("the trace runs");
    assert_eq!(plain.questions[0].messages.len(), 8);
    assert!(plain.questions[0].chain.is_none());
}
