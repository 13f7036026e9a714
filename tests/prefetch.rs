//! Prefetch (Unbound's `prefetch: yes`): with `[cache] prefetch = true`, a
//! question answered from the cache in the last tenth of its RRset's TTL
//! refreshes it in the background, so that it never expires in front of a
//! client. The clock is moved, never waited out (the shift is process-wide,
//! so the tests of this binary take turns).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use common::mock::{Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::rr::RecordType;

/// The tests of this binary move the process-wide clock: one at a time.
static CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The TTL of www.pre.test's address.
const TTL: u64 = 100;

/// A root zone delegating pre.test to a mock at 127.0.8.40 that answers
/// www.pre.test with 192.0.2.1, then .2, .3... (TTL 100).
async fn world() -> (tempfile::TempDir, Lab, Mock) {
    let root = root_zone(&[("pre.test.", "ns.pre.test.", Some("127.0.8.40"))]);
    let dir = zone_dir(&[("root.toml", &root)]);
    let lab = Lab::start_dir(dir.path());
    let answers = Arc::new(AtomicU8::new(0));
    let server = Mock::start(
        "127.0.8.40",
        lab.port,
        script(move |q| {
            let last = answers.fetch_add(1, Ordering::SeqCst) + 1;
            let mut record = common::mock::a(&qname(q), [192, 0, 2, last]);
            record.ttl = TTL as u32;
            vec![Action::Reply(authoritative(q, vec![record]))]
        }),
    )
    .await;
    (dir, lab, server)
}

fn shift(seconds: u64) {
    resolver::clock::shift(Duration::from_secs(seconds));
}

/// Caches www.pre.test (one query to its server), asks again half-way
/// (answered from the cache, and remembered for replay), then moves to
/// 96 % of its TTL and asks: that answer comes from the cache at once.
async fn asked_in_the_last_tenth(local: &Local, server: &Mock) {
    let first = local.ask("www.pre.test.", RecordType::A).await;
    assert_eq!(addresses(&first.answers), ["192.0.2.1"]);
    assert_eq!(server.count(), 1);
    shift(TTL / 2);
    let cached = local.ask("www.pre.test.", RecordType::A).await;
    assert_eq!(summary(&cached.answers), ["www.pre.test. 50 A"]);
    shift(TTL * 46 / 100);
    let started = Instant::now();
    let late = local.ask("www.pre.test.", RecordType::A).await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "not kept waiting"
    );
    assert_eq!(
        summary(&late.answers),
        ["www.pre.test. 4 A"],
        "from the cache"
    );
    assert_eq!(addresses(&late.answers), ["192.0.2.1"]);
}

/// Waits (on the network, not the TTL clock) up to `tries` × 50 ms until
/// `server` has seen `count` queries.
async fn server_sees(server: &Mock, count: usize, tries: usize) -> bool {
    for _ in 0..tries {
        if server.count() >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_name_asked_in_the_last_tenth_of_its_ttl_is_refreshed_before_it_expires() {
    let _turn = CLOCK.lock().await;
    let (_dir, lab, server) = world().await;
    let mut config = config_for(&lab);
    config.cache.prefetch = true;
    let local = Local::start(&config);
    asked_in_the_last_tenth(&local, &server).await;
    assert!(
        server_sees(&server, 2, 100).await,
        "the prefetch asked the server"
    );
    assert_eq!(server.count(), 2, "once");

    shift(TTL * 4 / 100); // the first answer's expiry
    let after = local.ask("www.pre.test.", RecordType::A).await;
    assert_eq!(
        addresses(&after.answers),
        ["192.0.2.2"],
        "the prefetched answer"
    );
    assert_eq!(summary(&after.answers), ["www.pre.test. 96 A"]);
    assert_eq!(
        server.count(),
        2,
        "from the cache: nobody waited at the expiry"
    );
}

#[tokio::test]
async fn without_prefetch_the_name_expires_and_the_next_client_waits_for_it() {
    let _turn = CLOCK.lock().await;
    let (_dir, lab, server) = world().await;
    let local = Local::start(&config_for(&lab));
    asked_in_the_last_tenth(&local, &server).await;
    assert!(
        !server_sees(&server, 2, 20).await,
        "no refresh in the background"
    );

    shift(TTL * 4 / 100);
    let after = local.ask("www.pre.test.", RecordType::A).await;
    assert_eq!(summary(&after.answers), ["www.pre.test. 100 A"]);
    assert_eq!(server.count(), 2, "fetched again, in front of the client");
}
