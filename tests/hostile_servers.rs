//! Hostile servers: mock nameservers that spoof, poison, loop, lie, stall
//! and send garbage. The resolver must keep answering, stay correct and
//! never be poisoned.

mod common;

use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, authoritative, qname, rcode, reply_to, script};
use common::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use resolver::resolver::iterate::ede;

/// A world: a root zone at 127.0.8.1 with these delegations, and these zone files.
fn world(
    delegations: &[(&str, &str, Option<&str>)],
    zones: &[(&str, String)],
) -> (tempfile::TempDir, Lab) {
    let mut files: Vec<(&str, &str)> = vec![];
    let root = root_zone(delegations);
    files.push(("root.toml", &root));
    for (file, text) in zones {
        files.push((file, text));
    }
    let dir = zone_dir(&files);
    let lab = Lab::start_dir(dir.path());
    (dir, lab)
}

/// The victim: victim.test at 127.0.8.50, www.victim.test A 192.0.2.50.
fn victim_zone() -> (&'static str, String) {
    (
        "victim.toml",
        served_zone(
            "victim.test.",
            "127.0.8.50",
            &[("www", "A", "192.0.2.50", 3600)],
        ),
    )
}

/// A reply full of poison for the victim zone, in every section.
fn poisoned(query: &Message, id: u16) -> Message {
    let mut reply = authoritative(query, vec![mock::a(&qname(query), [6, 6, 6, 6])]);
    reply.metadata.id = id;
    reply
        .answers
        .push(mock::a(&name("www.victim.test."), [6, 6, 6, 6]));
    reply
        .authorities
        .push(mock::ns("victim.test.", "ns.evil.test."));
    reply
        .additionals
        .push(mock::a(&name("ns.evil.test."), [127, 0, 8, 66]));
    reply
        .additionals
        .push(mock::a(&name("ns.victim.test."), [127, 0, 8, 66]));
    reply
}

#[tokio::test(flavor = "multi_thread")]
async fn kaminsky_style_spoofing_never_poisons_the_victim_zone() {
    let (_dir, lab) = world(
        &[
            ("attacker.test.", "ns.attacker.test.", Some("127.0.8.40")),
            ("victim.test.", "ns.victim.test.", Some("127.0.8.50")),
        ],
        &[victim_zone()],
    );
    let evil = Mock::start(
        "127.0.8.66",
        lab.port,
        script(|q| {
            vec![Action::Reply(authoritative(
                q,
                vec![mock::a(&qname(q), [6, 6, 6, 6])],
            ))]
        }),
    )
    .await;
    const SPOOFS_PER_QUERY: u16 = 40;
    let attacker = Mock::start(
        "127.0.8.40",
        lab.port,
        script(|q| {
            // Forty guesses at the ID first, then the genuine reply, which itself
            // carries the same out-of-bailiwick poison.
            let mut actions: Vec<Action> = (1..=SPOOFS_PER_QUERY)
                .map(|i| Action::Reply(poisoned(q, q.id.wrapping_add(i))))
                .collect();
            actions.push(Action::Reply(poisoned(q, q.id)));
            actions
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let queries = 100;
    for i in 0..queries {
        let reply = local
            .ask(&format!("r{i}.attacker.test."), RecordType::A)
            .await;
        assert_eq!(reply.response_code, ResponseCode::NoError);
        assert!(
            reply
                .answers
                .iter()
                .all(|r| name("attacker.test.").zone_of(&r.name)),
            "out-of-bailiwick records are not served: {:?}",
            reply.answers
        );
    }
    let reply = local.ask("www.victim.test.", RecordType::A).await;
    assert_eq!(
        addresses(&reply.answers),
        ["192.0.2.50"],
        "the victim zone is intact"
    );
    assert_eq!(evil.count(), 0, "the poison's nameserver was never asked");
    let attempts = attacker.count() * (usize::from(SPOOFS_PER_QUERY) + 1);
    println!("Kaminsky-style attempts: {attempts} poisoned replies, 0 poisoned");
}

#[tokio::test]
async fn out_of_bailiwick_records_in_a_genuine_reply_are_neither_cached_nor_served() {
    let (_dir, lab) = world(
        &[
            ("attacker.test.", "ns.attacker.test.", Some("127.0.8.40")),
            ("victim.test.", "ns.victim.test.", Some("127.0.8.50")),
        ],
        &[victim_zone()],
    );
    let _attacker = Mock::start(
        "127.0.8.40",
        lab.port,
        script(|q| vec![Action::Reply(poisoned(q, q.id))]),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("www.attacker.test.", RecordType::A).await;
    assert_eq!(summary(&reply.answers), ["www.attacker.test. 300 A"]);
    assert!(reply.authorities.is_empty() && reply.additionals.is_empty());
    local.upstream();
    let victim = local.ask("www.victim.test.", RecordType::A).await;
    assert_eq!(addresses(&victim.answers), ["192.0.2.50"]);
    assert!(
        local.upstream_queries() > 0,
        "nothing about the victim was cached"
    );
}

/// A mock that refers every question one label deeper, to itself.
fn deeper_and_deeper() -> mock::Script {
    let asked = std::sync::Mutex::new(std::collections::HashMap::<String, usize>::new());
    script(move |q| {
        let qname = qname(q);
        let mut asked = asked.lock().expect("not poisoned");
        let count = asked.entry(qname.to_string()).or_insert(0);
        *count += 1;
        // Zone "deep.test." has 2 labels; the n-th referral is to 2 + n labels.
        let labels = (2 + *count).min(qname.iter().len());
        let zone = qname.trim_to(labels).to_string();
        let server = format!("ns.{zone}");
        let mut reply = reply_to(q);
        reply.authorities.push(mock::ns(&zone, &server));
        reply
            .additionals
            .push(mock::a(&name(&server), [127, 0, 8, 40]));
        vec![Action::Reply(reply)]
    })
}

#[tokio::test]
async fn a_chain_of_referrals_longer_than_the_limit_fails_quickly() {
    let (_dir, lab) = world(&[("deep.test.", "ns.deep.test.", Some("127.0.8.40"))], &[]);
    let deep = Mock::start("127.0.8.40", lab.port, deeper_and_deeper()).await;
    let local = Local::start(&config_for(&lab));
    let long_name: String = (0..30).map(|i| format!("l{i}.")).collect::<String>() + "deep.test.";
    let started = Instant::now();
    let reply = local.ask(&long_name, RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        deep.count() <= 17,
        "16 referrals followed at most, {} queries",
        deep.count()
    );
}

#[tokio::test]
async fn referrals_back_up_the_tree_are_lame_and_fail_quickly() {
    let (_dir, lab) = world(&[("up.test.", "ns.up.test.", Some("127.0.8.40"))], &[]);
    let _up = Mock::start(
        "127.0.8.40",
        lab.port,
        script(|q| {
            let mut reply = reply_to(q);
            reply.authorities.push(mock::ns(".", "a.root-servers.net."));
            vec![Action::Reply(reply)]
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let started = Instant::now();
    let reply = local.ask("www.up.test.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_nameserver_named_by_a_cname_is_not_used() {
    // alias.test. is delegated to nsalias.names.test., which is an alias of
    // real.names.test. (the server that does hold alias.test.).
    let dir = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[
                ("alias.test.", "nsalias.names.test.", None),
                ("names.test.", "ns.names.test.", Some("127.0.8.51")),
            ]),
        ),
        (
            "names.toml",
            &served_zone(
                "names.test.",
                "127.0.8.51",
                &[
                    ("nsalias", "CNAME", "real", 3600),
                    ("real", "A", "127.0.8.52", 3600),
                ],
            ),
        ),
        (
            "alias.toml",
            &zone_text(
                "alias.test.",
                &[
                    ("@", "NS", "real.names.test.", 3600),
                    ("www", "A", "192.0.2.9", 3600),
                ],
            ),
        ),
    ]);
    let lab = Lab::start_dir(dir.path());
    let local = Local::start(&config_for(&lab));
    let started = Instant::now();
    let reply = local.ask("www.alias.test.", RecordType::A).await;
    assert_eq!(
        reply.response_code,
        ResponseCode::ServFail,
        "RFC 2181 §10.3"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn nxnsattack_referrals_to_hundreds_of_glueless_names_stay_bounded() {
    let (_dir, lab) = world(
        &[
            ("attacker.test.", "ns.attacker.test.", Some("127.0.8.40")),
            ("victim.test.", "ns.victim.test.", Some("127.0.8.50")),
        ],
        &[],
    );
    // Every question is referred to a fresh child zone with 300 glueless
    // nameservers in the victim's zone.
    let _attacker = Mock::start(
        "127.0.8.40",
        lab.port,
        script(|q| {
            let name = qname(q);
            let child = name.trim_to(3).to_string();
            let mut reply = reply_to(q);
            for i in 0..300 {
                reply.authorities.push(mock::ns(
                    &child,
                    &format!(
                        "ns{i}.{}.victim.test.",
                        child.trim_end_matches('.').replace('.', "-")
                    ),
                ));
            }
            vec![Action::Reply(reply)]
        }),
    )
    .await;
    let victim = Mock::start(
        "127.0.8.50",
        lab.port,
        script(|q| {
            let mut reply = rcode(q, ResponseCode::NXDomain);
            reply.metadata.authoritative = true;
            reply.authorities.push(mock::soa("victim.test."));
            vec![Action::Reply(reply)]
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let questions = 5;
    let mut worst = 0;
    for i in 0..questions {
        let reply = local
            .ask(&format!("www.q{i}.attacker.test."), RecordType::A)
            .await;
        assert_eq!(reply.response_code, ResponseCode::ServFail);
        let upstream = local.upstream();
        worst = worst.max(
            upstream
                .iter()
                .filter(|(_, m)| m.message_type == hickory_proto::op::MessageType::Query)
                .count(),
        );
    }
    let per_question_to_victim = victim.count() as f64 / f64::from(questions);
    println!(
        "NXNSAttack: at most {worst} upstream queries per client question, {per_question_to_victim:.1} to the victim"
    );
    // Root, the attacker (UDP, then TCP for the big referral), then one lookup
    // per glueless name up to max_glueless_lookups (6), each one query once the
    // victim's delegation is cached: 10 here, 12 allowing for the root's.
    assert!(
        worst <= 12,
        "stated bound: 12 upstream queries per question, got {worst}"
    );
    assert!(
        victim.count() <= 6 * questions as usize,
        "at most max_glueless_lookups (6) victim lookups per question, got {}",
        victim.count()
    );
}

/// Lame behaviours: REFUSED, SERVFAIL, an answer without AA, a referral to the root.
fn lame(kind: usize) -> mock::Script {
    script(move |q| {
        let reply = match kind {
            0 => rcode(q, ResponseCode::Refused),
            1 => rcode(q, ResponseCode::ServFail),
            2 => {
                let mut reply = authoritative(q, vec![mock::a(&qname(q), [6, 6, 6, 6])]);
                reply.metadata.authoritative = false;
                reply.metadata.recursion_available = true;
                reply
            }
            _ => {
                let mut reply = reply_to(q);
                reply.authorities.push(mock::ns(".", "a.root-servers.net."));
                reply
            }
        };
        vec![Action::Reply(reply)]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn lame_servers_are_passed_over_and_penalised() {
    for kind in 0..4 {
        let (_dir, lab) = world(
            &[
                ("lame.test.", "ns1.lame.test.", Some("127.0.8.41")),
                ("lame.test.", "ns2.lame.test.", Some("127.0.8.42")),
            ],
            &[(
                "lame.toml",
                zone_text(
                    "lame.test.",
                    &[
                        ("@", "NS", "ns2", 3600),
                        ("ns2", "A", "127.0.8.42", 3600),
                        ("www", "A", "192.0.2.42", 3600),
                        ("mail", "A", "192.0.2.43", 3600),
                    ],
                ),
            )],
        );
        let lame_server = Mock::start("127.0.8.41", lab.port, lame(kind)).await;
        // A fresh resolver picks either server at random: forty starts miss
        // the lame one with odds 2^-40.
        let mut lame_tried = false;
        for _ in 0..40 {
            let local = Local::start(&config_for(&lab));
            let before = lame_server.count();
            let reply = local.ask("www.lame.test.", RecordType::A).await;
            assert_eq!(
                addresses(&reply.answers),
                ["192.0.2.42"],
                "lameness kind {kind}"
            );
            lame_tried |= lame_server.count() > before;
            let after_first = lame_server.count();
            for host in ["mail.lame.test.", "nosuch.lame.test.", "www2.lame.test."] {
                local.ask(host, RecordType::A).await;
            }
            assert_eq!(
                lame_server.count(),
                after_first,
                "the lame server is avoided (kind {kind})"
            );
            if lame_tried {
                break;
            }
        }
        assert!(
            lame_tried,
            "the lame server was tried at least once (kind {kind})"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_server_does_not_hold_up_other_clients() {
    let (_dir, lab) = world(
        &[
            ("slow.test.", "ns.slow.test.", Some("127.0.8.43")),
            ("fast.test.", "ns.fast.test.", Some("127.0.8.44")),
        ],
        &[(
            "fast.toml",
            served_zone(
                "fast.test.",
                "127.0.8.44",
                &[
                    ("www", "A", "192.0.2.44", 3600),
                    ("cached", "A", "192.0.2.45", 3600),
                ],
            ),
        )],
    );
    let _silent = Mock::start("127.0.8.43", lab.port, mock::silent()).await;
    let mut config = config_for(&lab);
    config.limits.resolution_timeout = 2.0;
    let local = Local::start(&config);
    local.ask("cached.fast.test.", RecordType::A).await;

    let started = Instant::now();
    let stuck = local.ask("www.slow.test.", RecordType::A);
    let others = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        let cached = local.ask("cached.fast.test.", RecordType::A).await;
        let cached_time = t.elapsed();
        let t = Instant::now();
        let fresh = local.ask("www.fast.test.", RecordType::A).await;
        (cached, cached_time, fresh, t.elapsed())
    };
    let (stuck, (cached, cached_time, fresh, fresh_time)) = tokio::join!(stuck, others);
    assert_eq!(stuck.response_code, ResponseCode::ServFail);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "SERVFAIL by the deadline"
    );
    assert_eq!(addresses(&cached.answers), ["192.0.2.45"]);
    assert_eq!(addresses(&fresh.answers), ["192.0.2.44"]);
    assert!(
        cached_time < Duration::from_millis(100),
        "cached: {cached_time:?}"
    );
    assert!(
        fresh_time < Duration::from_millis(500),
        "uncached: {fresh_time:?}"
    );
    // The SERVFAIL says why, in an Extended DNS Error (RFC 8914).
    let ede_option = stuck.edns.as_ref().and_then(|edns| {
        edns.option(hickory_proto::rr::rdata::opt::EdnsCode::Unknown(15))
            .cloned()
    });
    let Some(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(15, data)) = ede_option else {
        panic!("an Extended DNS Error: {:?}", stuck.edns);
    };
    assert_eq!(
        u16::from_be_bytes([data[0], data[1]]),
        ede::NO_REACHABLE_AUTHORITY
    );
    let text = String::from_utf8_lossy(&data[2..]);
    assert!(
        text.contains("slow.test") || text.contains("deadline"),
        "{text}"
    );
}

/// Broken replies: garbage with our ID, cut short, of class CH, a
/// compression loop. (An oversized reply is not broken: it is asked again
/// over TCP, tests/transport.rs.)
fn broken(kind: usize) -> mock::Script {
    script(move |q| {
        let good = authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 42])]);
        let id = q.id.to_be_bytes();
        let bytes = match kind {
            0 => {
                let mut bytes = vec![id[0], id[1], 0x84, 0x00, 0xff, 0xff];
                bytes.extend((0..40).map(|i: u8| i.wrapping_mul(37)));
                bytes
            }
            1 => {
                let bytes = good.to_vec().expect("encodes");
                bytes[..bytes.len() - 3].to_vec()
            }
            2 => {
                let mut chaos = good.clone();
                chaos.answers = chaos.answers.into_iter().map(mock::chaos).collect();
                chaos.to_vec().expect("encodes")
            }
            _ => {
                let mut bytes = reply_to(q).to_vec().expect("encodes");
                bytes[7] = 1; // ANCOUNT 1
                bytes.extend_from_slice(&[
                    0xc0,
                    bytes.len() as u8,
                    0,
                    1,
                    0,
                    1,
                    0,
                    0,
                    0,
                    60,
                    0,
                    4,
                    1,
                    2,
                    3,
                    4,
                ]);
                bytes
            }
        };
        vec![Action::Raw(bytes)]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_replies_count_as_a_failed_server_and_never_crash() {
    for kind in 0..4 {
        let (_dir, lab) = world(
            &[
                ("broken.test.", "ns1.broken.test.", Some("127.0.8.45")),
                ("broken.test.", "ns2.broken.test.", Some("127.0.8.46")),
            ],
            &[(
                "broken.toml",
                zone_text(
                    "broken.test.",
                    &[
                        ("@", "NS", "ns2", 3600),
                        ("ns2", "A", "127.0.8.46", 3600),
                        ("www", "A", "192.0.2.46", 3600),
                    ],
                ),
            )],
        );
        let broken_server = Mock::start("127.0.8.45", lab.port, broken(kind)).await;
        // Each fresh resolver picks one of the two equally unknown servers at
        // random: forty fresh starts miss the broken one with odds 2^-40.
        let mut tried = false;
        for _ in 0..40 {
            let local = Local::start(&config_for(&lab));
            let before = broken_server.count();
            let reply = local.ask("www.broken.test.", RecordType::A).await;
            assert_eq!(
                addresses(&reply.answers),
                ["192.0.2.46"],
                "broken kind {kind}"
            );
            tried |= broken_server.count() > before;
            if tried {
                break;
            }
        }
        assert!(tried, "the broken server was tried (kind {kind})");
    }
}

#[tokio::test]
async fn a_server_that_refuses_edns_is_asked_again_without_it() {
    let (_dir, lab) = world(&[("old.test.", "ns.old.test.", Some("127.0.8.47"))], &[]);
    let old = Mock::start(
        "127.0.8.47",
        lab.port,
        script(|q| {
            let reply = if q.edns.is_some() {
                let mut formerr = rcode(q, ResponseCode::FormErr);
                formerr.queries.clear();
                formerr
            } else {
                authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 47])])
            };
            vec![Action::Reply(reply)]
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let reply = local.ask("www.old.test.", RecordType::A).await;
    assert_eq!(addresses(&reply.answers), ["192.0.2.47"]);
    let seen = old.queries();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].edns.is_some() && seen[1].edns.is_none());
}

#[tokio::test]
async fn spoofs_from_elsewhere_and_with_other_questions_are_ignored() {
    let (_dir, lab) = world(
        &[("spoof.test.", "ns.spoof.test.", Some("127.0.8.48"))],
        &[],
    );
    let _spoofer = Mock::start(
        "127.0.8.48",
        lab.port,
        script(|q| {
            let poison = authoritative(q, vec![mock::a(&qname(q), [6, 6, 6, 6])]);
            let mut other_question = poison.clone();
            other_question.queries = vec![hickory_proto::op::Query::query(
                name("other.spoof.test."),
                RecordType::A,
            )];
            let mut wrong_id = poison.clone();
            wrong_id.metadata.id = q.id.wrapping_add(1);
            let mut upper = poison.clone();
            upper.queries[0].name = name(&qname(q).to_string().to_uppercase());
            vec![
                Action::FromElsewhere(poison),
                Action::Reply(wrong_id),
                Action::Reply(other_question),
                Action::Reply(upper),
                Action::Wait(Duration::from_millis(20)),
                Action::Reply(authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 48])])),
            ]
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    for host in ["www.spoof.test.", "mail.spoof.test."] {
        let reply = local.ask(host, RecordType::A).await;
        assert_eq!(addresses(&reply.answers), ["192.0.2.48"], "{host}");
    }
}
