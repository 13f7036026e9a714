//! DNAME (RFC 6672) on loopback, both halves: the lab's authoritative
//! server answers below `old-cs.umass.edu. DNAME cs.umass.edu.` with the
//! DNAME, the CNAME it synthesises and the target's data; the resolver
//! passes the DNAME on, caches it and redirects other names below it from
//! the cache; a substitution too long for a name is YXDOMAIN end to end.

mod common;

use common::*;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{RData, RecordType};

/// The questions the resolver sent upstream since the last look, as `name TYPE`.
fn questions(local: &Local) -> Vec<String> {
    local
        .upstream()
        .iter()
        .filter(|(_, message)| message.message_type == MessageType::Query)
        .map(|(_, message)| {
            let query = &message.queries[0];
            format!("{} {}", query.name, query.query_type)
        })
        .collect()
}

/// The DNAME, CNAME and A of `gaia.old-cs.umass.edu.`, as a client reads them.
fn assert_redirected(reply: &Message, alias: &str, canonical: &str) {
    assert_eq!(reply.response_code, ResponseCode::NoError);
    let types: Vec<RecordType> = reply.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(
        types[..2],
        [RecordType::DNAME, RecordType::CNAME],
        "{reply:?}"
    );
    let dname = &reply.answers[0];
    assert_eq!(dname.name, name("old-cs.umass.edu."));
    assert_eq!(
        resolver::dname::target(dname),
        Some(name("cs.umass.edu.")),
        "the DNAME's target, decoded from the wire"
    );
    let cname = &reply.answers[1];
    assert_eq!(cname.name, name(alias));
    assert_eq!(cname.data, RData::CNAME(CNAME(name(canonical))));
    assert_eq!(
        cname.ttl, dname.ttl,
        "the synthesised CNAME takes the DNAME's TTL"
    );
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
}

#[tokio::test]
async fn the_authoritative_server_answers_below_a_dname_with_dname_cname_and_target() {
    let lab = Lab::start();
    let reply = ask(lab.at("127.0.3.1"), "gaia.old-cs.umass.edu.", RecordType::A).await;
    assert!(reply.authoritative);
    assert_redirected(&reply, "gaia.old-cs.umass.edu.", "gaia.cs.umass.edu.");
    assert_eq!(
        summary(&reply.answers),
        [
            "old-cs.umass.edu. 86400 DNAME",
            "gaia.old-cs.umass.edu. 86400 CNAME",
            "gaia.cs.umass.edu. 600 A",
        ]
    );

    // The owner itself is not redirected: asked for its DNAME, it gives it.
    let owner = ask(lab.at("127.0.3.1"), "old-cs.umass.edu.", RecordType::DNAME).await;
    assert_eq!(owner.response_code, ResponseCode::NoError);
    assert_eq!(summary(&owner.answers), ["old-cs.umass.edu. 86400 DNAME"]);
}

#[tokio::test]
async fn the_resolver_passes_the_dname_on_and_redirects_other_names_from_its_cache() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));

    let first = local.ask("gaia.old-cs.umass.edu.", RecordType::A).await;
    assert_redirected(&first, "gaia.old-cs.umass.edu.", "gaia.cs.umass.edu.");
    assert_eq!(questions(&local).len(), 3, "root, edu, umass.edu");

    // Asked again: all from the cache, the DNAME still first.
    let again = local.ask("gaia.old-cs.umass.edu.", RecordType::A).await;
    assert_redirected(&again, "gaia.old-cs.umass.edu.", "gaia.cs.umass.edu.");
    assert!(questions(&local).is_empty(), "no upstream query");

    // Another name below the DNAME: the cached DNAME redirects it, so only
    // the new name's target is asked, never www.old-cs.umass.edu. itself.
    let other = local.ask("www.old-cs.umass.edu.", RecordType::A).await;
    assert_redirected(&other, "www.old-cs.umass.edu.", "www.cs.umass.edu.");
    assert_eq!(questions(&local), ["www.cs.umass.edu. A"]);
}

#[tokio::test]
async fn a_cname_question_below_a_dname_gets_the_dname_and_its_cname_and_caches_neither_cname() {
    let lab = Lab::start();
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("gaia.old-cs.umass.edu.", RecordType::CNAME).await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(
        summary(&reply.answers),
        [
            "old-cs.umass.edu. 86400 DNAME",
            "gaia.old-cs.umass.edu. 86400 CNAME"
        ]
    );
    // The address asked next still comes with the DNAME first: the
    // synthesised CNAME was not cached as the name's own.
    let address = local.ask("gaia.old-cs.umass.edu.", RecordType::A).await;
    assert_redirected(&address, "gaia.old-cs.umass.edu.", "gaia.cs.umass.edu.");
}

#[tokio::test]
async fn a_substitution_longer_than_255_octets_is_yxdomain_at_the_server_and_the_client() {
    let label = "x".repeat(63);
    let target = format!("{label}.{label}.{label}.{}.", "y".repeat(58));
    let zones = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[("long.", "ns.long.", Some("127.0.8.2"))]),
        ),
        (
            "long.toml",
            &served_zone("long.", "127.0.8.2", &[("x", "DNAME", &target, 3600)]),
        ),
    ]);
    let lab = Lab::start_dir(zones.path());

    let direct = ask(lab.at("127.0.8.2"), "too.x.long.", RecordType::A).await;
    assert_eq!(direct.response_code, ResponseCode::YXDomain);
    assert_eq!(summary(&direct.answers), ["x.long. 3600 DNAME"]);

    let local = Local::start(&config_for(&lab));
    let reply = local.ask("too.x.long.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::YXDomain, "not SERVFAIL");
    assert_eq!(summary(&reply.answers), ["x.long. 3600 DNAME"]);
    assert!(reply.recursion_available);
}

#[tokio::test]
async fn resolver_serve_gives_a_client_the_dname_first() {
    let lab = Lab::start();
    let listen = free_listen_address();
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("resolver.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"{listen}\"]\n[resolver]\nroots = [\"127.0.1.1\"]\nport = {}\n",
            lab.port
        ),
    )
    .expect("write the config");
    let _serve = start_serve(&path, listen).await;
    let reply = ask_recursive(listen, "gaia.old-cs.umass.edu.", RecordType::A).await;
    assert_redirected(&reply, "gaia.old-cs.umass.edu.", "gaia.cs.umass.edu.");
    let other = ask_recursive(listen, "www.old-cs.umass.edu.", RecordType::A).await;
    assert_redirected(&other, "www.old-cs.umass.edu.", "www.cs.umass.edu.");
}

#[test]
fn resolver_trace_shows_the_dname_in_text_and_json() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let config = {
        let _inside = runtime.enter(); // binding the probe needs a runtime
        shipped_config_on_free_port()
    };
    let port = config.lab.as_ref().expect("a lab").port;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("resolver.toml");
    let lab_config = format!(
        "[lab]\nzones = \"{}\"\nport = {port}\n",
        lab_zones_dir().display()
    );
    std::fs::write(&path, lab_config).expect("write the config");
    let run = |extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["trace", "gaia.old-cs.umass.edu", "--config"])
            .arg(&path)
            .args(extra)
            .output()
            .expect("resolver trace runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let dname = "old-cs.umass.edu. 86400 DNAME cs.umass.edu.";
    let text = run(&[]);
    let answers: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("answer "))
        .collect();
    assert_eq!(
        answers.len(),
        2,
        "dns.umass.edu's and dns.poly.edu's: {text}"
    );
    assert!(answers.iter().all(|line| line.contains(dname)), "{text}");
    let json = run(&["--json"]);
    assert!(json.contains(&format!("\"{dname}\"")), "{json}");
}

#[tokio::test]
async fn a_dname_that_rewrites_into_itself_stops_at_the_cname_chain_limit() {
    // x.grow. DNAME y.x.grow.: every substitution lands below the DNAME again.
    let zones = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[("grow.", "ns.grow.", Some("127.0.8.3"))]),
        ),
        (
            "grow.toml",
            &served_zone("grow.", "127.0.8.3", &[("x", "DNAME", "y.x.grow.", 3600)]),
        ),
    ]);
    let lab = Lab::start_dir(zones.path());
    let local = Local::start(&config_for(&lab));
    let started = std::time::Instant::now();
    let reply = local.ask("a.x.grow.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // Each DNAME step is one link of max_cname_chain (10): the server's own
    // chain stops at 8 links, the cached DNAME gives the rest, no more asking.
    assert_eq!(
        questions(&local).len(),
        2,
        "the root, then grow.'s server once"
    );
}
