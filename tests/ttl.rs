//! TTLs count down and expire on the resolver's clock, moved ahead by the
//! test instead of waited out (the only test in its binary: the shift is
//! process-wide).

mod common;

use std::time::Duration;

use common::*;
use hickory_proto::rr::RecordType;

#[tokio::test]
async fn answers_come_from_the_cache_with_the_ttl_counting_down() {
    let dir = zone_dir(&[
        (
            "root.toml",
            &root_zone(&[("short.test.", "ns.short.test.", Some("127.0.8.2"))]),
        ),
        (
            "short.toml",
            &zone_text(
                "short.test.",
                &[
                    ("@", "NS", "ns", 3600),
                    ("ns", "A", "127.0.8.2", 3600),
                    ("host", "A", "192.0.2.5", 2),
                ],
            ),
        ),
    ]);
    let lab = Lab::start_dir(dir.path());
    let local = Local::start(&config_for(&lab));
    let first = local.ask("host.short.test.", RecordType::A).await;
    assert_eq!(first.answers[0].ttl, 2);
    assert_eq!(local.upstream_queries(), 2);

    resolver::clock::shift(Duration::from_secs(1));
    let cached = local.ask("host.short.test.", RecordType::A).await;
    assert_eq!(cached.answers[0].ttl, 1, "the TTL counts down");
    assert_eq!(local.upstream_queries(), 0, "answered from the cache");

    resolver::clock::shift(Duration::from_secs(1));
    let refetched = local.ask("host.short.test.", RecordType::A).await;
    assert_eq!(refetched.answers[0].ttl, 2, "expired, fetched again");
    assert_eq!(
        local.upstream_queries(),
        1,
        "the delegation is still cached: one query to ns.short.test"
    );
}
