//! Internet mode, in a network namespace of our own: test hosts at
//! public-looking addresses (the IANA roots' among them, reachable only
//! inside the namespace) act as roots, TLDs and authoritative servers.
//! Priming, IPv6 handling, refused referrals to private addresses, QNAME
//! minimisation and 0x20.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, script};
use common::netns;
use common::*;
use hickory_proto::op::{MessageType, ResponseCode};
use hickory_proto::rr::RecordType;
use resolver::config::{Config, Roots};
use resolver::lab::BoundLab;
use resolver::zone::ZoneSet;

/// a.root-servers.net and b.root-servers.net, as in the IANA hints.
const ROOT_A: &str = "198.41.0.4";
const ROOT_B: &str = "170.247.170.2";
const ROOT_A_V6: &str = "2001:503:ba3e::2:30";
const COM: &str = "192.5.6.30";
const EXAMPLE: &str = "203.0.113.53";
const PRIVATE: &str = "10.0.0.53";

/// Every address the world uses, to put on the namespace's loopback.
fn world_addresses() -> BTreeSet<IpAddr> {
    [ROOT_A, ROOT_B, ROOT_A_V6, COM, EXAMPLE, PRIVATE]
        .iter()
        .map(|a| ip(a))
        .collect()
}

/// The world's zones: the root (at two IANA root addresses), com, and
/// example.com with an empty non-terminal; evil.com is delegated to a
/// private address.
fn world() -> tempfile::TempDir {
    let root = zone_text(
        ".",
        &[
            ("@", "NS", "a.root-servers.net.", 518_400),
            ("@", "NS", "b.root-servers.net.", 518_400),
            ("a.root-servers.net.", "A", ROOT_A, 518_400),
            ("a.root-servers.net.", "AAAA", ROOT_A_V6, 518_400),
            ("b.root-servers.net.", "A", ROOT_B, 518_400),
            ("com.", "NS", "a.gtld-servers.net.", 172_800),
            ("a.gtld-servers.net.", "A", COM, 172_800),
        ],
    );
    let com = zone_text(
        "com.",
        &[
            ("@", "NS", "a.gtld-servers.net.", 172_800),
            ("example", "NS", "ns.example.com.", 172_800),
            ("ns.example", "A", EXAMPLE, 172_800),
            ("evil", "NS", "ns.evil.com.", 172_800),
            ("ns.evil", "A", PRIVATE, 172_800),
        ],
    );
    let example = zone_text(
        "example.com.",
        &[
            ("@", "NS", "ns", 3600),
            ("ns", "A", EXAMPLE, 3600),
            ("www", "A", "203.0.113.80", 3600),
            ("host.dept", "A", "203.0.113.81", 3600),
        ],
    );
    zone_dir(&[
        ("root.toml", &root),
        ("com.toml", &com),
        ("example.toml", &example),
    ])
}

/// Runs `body` inside the namespace with the world served on port 53.
fn inside_world<F, Fut>(test: &str, body: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if !netns::inside() {
        netns::run_test_inside(test);
        return;
    }
    netns::add_addresses(&world_addresses()).expect("addresses on the namespace's loopback");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let dir = world();
        let zones = ZoneSet::load_dir(dir.path()).expect("the world's zones");
        let running = Running::new();
        BoundLab::bind(&zones, 53, &Default::default())
            .expect("port 53 inside the namespace")
            .serve(None, &running.shutdown, &running.tasks);
        body().await;
    });
}

/// The Internet configuration: no lab, the IANA roots, port 53.
fn internet() -> Config {
    let mut config = Config::parse("").expect("the defaults parse");
    config.resolver.roots = Some(Roots::Iana);
    // The namespace's stand-in Internet is unsigned: validating it from
    // IANA's root keys would make every answer bogus (as it should).
    config.dnssec.validate = Some(false);
    config
}

/// The names asked upstream, in order, with the server asked.
fn upstream_questions(local: &Local) -> Vec<(IpAddr, String, RecordType)> {
    local
        .upstream()
        .into_iter()
        .filter(|(_, m)| m.message_type == MessageType::Query)
        .map(|(d, m)| {
            (
                d.to.ip(),
                m.queries[0].name.to_string(),
                m.queries[0].query_type,
            )
        })
        .collect()
}

#[test]
fn the_root_is_primed_and_the_primed_servers_are_used() {
    inside_world(
        "the_root_is_primed_and_the_primed_servers_are_used",
        || async {
            let local = Local::start(&internet());
            let started = Instant::now();
            let ttl = local.resolver.prime().await.expect("priming works");
            assert_eq!(ttl, 86_400, "the root NS TTL, capped by [cache] max_ttl");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "unreachable hints are skipped fast"
            );
            let asked = upstream_questions(&local);
            let priming = asked.last().expect("a priming query");
            assert_eq!((priming.1.as_str(), priming.2), (".", RecordType::NS));
            assert!([ip(ROOT_A), ip(ROOT_B)].contains(&priming.0), "{asked:?}");
            // No IPv6 route in the namespace: no IPv6 address was tried.
            assert!(asked.iter().all(|(to, _, _)| to.is_ipv4()), "{asked:?}");

            let reply = local.ask("www.example.com.", RecordType::A).await;
            assert_eq!(addresses(&reply.answers), ["203.0.113.80"]);
            let asked = upstream_questions(&local);
            assert!(
                [ip(ROOT_A), ip(ROOT_B)].contains(&asked[0].0),
                "after priming, the primed root servers are asked: {asked:?}"
            );
        },
    );
}

#[test]
fn qname_minimisation_shows_each_server_only_what_it_needs() {
    inside_world(
        "qname_minimisation_shows_each_server_only_what_it_needs",
        || async {
            let local = Local::start(&internet());
            let reply = local.ask("host.dept.example.com.", RecordType::AAAA).await;
            assert_eq!(reply.response_code, ResponseCode::NoError);
            let reply = local.ask("host.dept.example.com.", RecordType::A).await;
            assert_eq!(addresses(&reply.answers), ["203.0.113.81"]);
            // Hints with no host in the namespace fail at once: count only the servers that exist.
            let hosts = world_addresses();
            let asked: Vec<(String, RecordType)> = upstream_questions(&local)
                .into_iter()
                .filter(|(to, _, _)| hosts.contains(to))
                // 0x20 is on with the IANA roots: compare without case.
                .map(|(_, name, qtype)| (name.to_lowercase(), qtype))
                .collect();
            assert_eq!(
                asked,
                [
                    ("com.".to_string(), RecordType::A),
                    ("example.com.".to_string(), RecordType::A),
                    ("dept.example.com.".to_string(), RecordType::A),
                    ("host.dept.example.com.".to_string(), RecordType::AAAA),
                    ("host.dept.example.com.".to_string(), RecordType::A),
                ],
                "the root sees com., com sees example.com., then the empty non-terminal; \
             the second question starts from the cache"
            );
        },
    );
}

#[test]
fn minimisation_is_off_in_the_lab_and_can_be_turned_off() {
    inside_world(
        "minimisation_is_off_in_the_lab_and_can_be_turned_off",
        || async {
            let mut config = internet();
            config.resolver.qname_minimisation = Some(false);
            let local = Local::start(&config);
            local.ask("www.example.com.", RecordType::A).await;
            let asked = upstream_questions(&local);
            assert!(
                asked
                    .iter()
                    .all(|(_, name, _)| name.eq_ignore_ascii_case("www.example.com.")),
                "{asked:?}"
            );
        },
    );
}

#[test]
fn referrals_to_private_addresses_are_not_followed() {
    inside_world(
        "referrals_to_private_addresses_are_not_followed",
        || async {
            let lure = Mock::start(
                PRIVATE,
                53,
                script(|q| {
                    vec![Action::Reply(mock::authoritative(
                        q,
                        vec![mock::a(&mock::qname(q), [6, 6, 6, 6])],
                    ))]
                }),
            )
            .await;
            let local = Local::start(&internet());
            let started = Instant::now();
            let reply = local.ask("www.evil.com.", RecordType::A).await;
            assert_eq!(reply.response_code, ResponseCode::ServFail);
            assert!(started.elapsed() < Duration::from_secs(1));
            assert_eq!(lure.count(), 0, "nothing was sent to a private address");

            let mut config = internet();
            config.resolver.private_nameservers = Some(true);
            let allowed = Local::start(&config);
            let reply = allowed.ask("www.evil.com.", RecordType::A).await;
            assert_eq!(
                addresses(&reply.answers),
                ["6.6.6.6"],
                "allowed by configuration"
            );
        },
    );
}

#[test]
fn randomized_case_is_sent_checked_and_not_served() {
    inside_world("randomized_case_is_sent_checked_and_not_served", || async {
        let mut config = internet();
        config.resolver.randomize_case = Some(true);
        let local = Local::start(&config);
        for host in ["www.example.com.", "host.dept.example.com."] {
            let reply = local.ask(host, RecordType::A).await;
            assert_eq!(reply.answers.len(), 1, "{host}");
            assert!(
                reply.answers[0].name.eq_case(&name(host)),
                "served as asked: {:?}",
                reply.answers
            );
        }
        let sent = upstream_questions(&local);
        let mixed = sent
            .iter()
            .filter(|(_, name, _)| name.chars().any(|c| c.is_ascii_uppercase()))
            .count();
        assert!(mixed > 0, "upstream questions carry random case: {sent:?}");
    });
}

#[test]
fn a_server_that_does_not_echo_the_case_is_asked_again_without_0x20() {
    inside_world(
        "a_server_that_does_not_echo_the_case_is_asked_again_without_0x20",
        || async {
            // 127.53.0.1 answers for the root with the question lower-cased.
            let _careless = Mock::start(
                "127.53.0.1",
                53,
                script(|q| {
                    let mut reply = mock::authoritative(
                        q,
                        vec![mock::a(&mock::qname(q).to_lowercase(), [192, 0, 2, 1])],
                    );
                    reply.queries[0].name = reply.queries[0].name.to_lowercase();
                    vec![Action::Reply(reply)]
                }),
            )
            .await;
            let mut config = Config::parse("").expect("defaults");
            config.resolver.roots = Some(Roots::Addresses(vec![ip("127.53.0.1")]));
            config.resolver.query_timeout = 0.2;
            config.limits.resolution_timeout = 1.0;
            config.resolver.randomize_case = Some(true);
            let strict = Local::start(&config);
            let reply = strict.ask("www.example.org.", RecordType::A).await;
            assert_eq!(
                addresses(&reply.answers),
                ["192.0.2.1"],
                "a reply whose question lost the case is not taken; the server is asked again without 0x20"
            );
            let asked = upstream_questions(&strict);
            assert!(
                asked.len() >= 2
                    && asked[0].1.chars().any(|c| c.is_ascii_uppercase())
                    && asked
                        .last()
                        .is_some_and(|(_, name, _)| name == "www.example.org."),
                "first with random case, then plain: {asked:?}"
            );
            config.resolver.randomize_case = Some(false);
            let plain = Local::start(&config);
            assert_eq!(
                addresses(&plain.ask("www.example.org.", RecordType::A).await.answers),
                ["192.0.2.1"]
            );
        },
    );
}

#[test]
fn ipv6_nameservers_are_used_when_enabled() {
    inside_world("ipv6_nameservers_are_used_when_enabled", || async {
        let mut config = internet();
        config.resolver.roots = Some(Roots::Addresses(vec![ip(ROOT_A_V6)]));
        config.resolver.ipv6 = Some(true);
        let local = Local::start(&config);
        let reply = local.ask("www.example.com.", RecordType::A).await;
        assert_eq!(addresses(&reply.answers), ["203.0.113.80"]);
        let asked = upstream_questions(&local);
        assert!(
            asked[0].0.is_ipv6(),
            "the root was asked over IPv6: {asked:?}"
        );
    });
}
