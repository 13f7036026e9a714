//! Serve-stale (RFC 8767): with `[cache] serve_stale = true`, expired data
//! is answered with TTL 30 when its refresh fails or is slow, up to
//! `stale_max` past its expiry. The clock is moved, never waited out (the
//! shift is process-wide, so the tests of this binary take turns).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use common::mock::{Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::EdnsOption;
use resolver::resolver::iterate::ede;

/// The tests of this binary move the process-wide clock: one at a time.
static CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The server's moods.
const UP: u8 = 0;
const SILENT: u8 = 1;
/// Answers a second late, with 192.0.2.1, then .2, .3...
const SLOW: u8 = 2;

/// The TTL of www.stale.test's address.
const TTL: u64 = 60;

/// A root zone delegating stale.test to a mock at 127.0.8.40 whose mood
/// the test sets: up (192.0.2.1, TTL 60), silent, or slow (a new address each time).
struct World {
    _dir: tempfile::TempDir,
    lab: Lab,
    mood: Arc<AtomicU8>,
    server: Mock,
}

async fn world() -> World {
    let root = root_zone(&[("stale.test.", "ns.stale.test.", Some("127.0.8.40"))]);
    let dir = zone_dir(&[("root.toml", &root)]);
    let lab = Lab::start_dir(dir.path());
    let mood = Arc::new(AtomicU8::new(UP));
    let seen = mood.clone();
    let slow_answers = AtomicU8::new(0);
    let server = Mock::start(
        "127.0.8.40",
        lab.port,
        script(move |q| {
            let answer = |last| {
                let mut record = common::mock::a(&qname(q), [192, 0, 2, last]);
                record.ttl = TTL as u32;
                Action::Reply(authoritative(q, vec![record]))
            };
            match seen.load(Ordering::SeqCst) {
                UP => vec![answer(1)],
                SLOW => {
                    let last = slow_answers.fetch_add(1, Ordering::SeqCst) + 1;
                    vec![Action::Wait(Duration::from_secs(1)), answer(last)]
                }
                _ => Vec::new(),
            }
        }),
    )
    .await;
    World {
        _dir: dir,
        lab,
        mood,
        server,
    }
}

fn config(world: &World, serve_stale: bool) -> resolver::config::Config {
    let mut config = config_for(&world.lab);
    config.cache.serve_stale = serve_stale;
    config.cache.stale_max = 100;
    config
}

/// The Extended DNS Error codes of a reply (RFC 8914 §2).
fn extended_errors(message: &Message) -> Vec<u16> {
    message
        .edns
        .iter()
        .flat_map(|edns| edns.options().options.iter())
        .filter_map(|(_, option)| match option {
            EdnsOption::Unknown(15, data) if data.len() >= 2 => {
                Some(u16::from_be_bytes([data[0], data[1]]))
            }
            _ => None,
        })
        .collect()
}

fn shift(seconds: u64) {
    resolver::clock::shift(Duration::from_secs(seconds));
}

/// Caches www.stale.test, lets it expire and silences its server.
async fn expired_and_server_silent(world: &World, local: &Local) {
    let fresh = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(summary(&fresh.answers), ["www.stale.test. 60 A"]);
    shift(TTL + 1);
    world.mood.store(SILENT, Ordering::SeqCst);
}

#[tokio::test]
async fn an_expired_answer_is_served_stale_with_ttl_30_when_its_server_is_silent() {
    let _turn = CLOCK.lock().await;
    let world = world().await;
    let local = Local::start(&config(&world, true));
    expired_and_server_silent(&world, &local).await;
    let asked = world.server.count();
    let stale = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(stale.response_code, ResponseCode::NoError);
    assert_eq!(summary(&stale.answers), ["www.stale.test. 30 A"]);
    assert_eq!(addresses(&stale.answers), ["192.0.2.1"]);
    assert_eq!(extended_errors(&stale), [ede::STALE_ANSWER]);
    assert!(world.server.count() > asked, "a refresh was tried");

    let asked = world.server.count();
    let again = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(summary(&again.answers), ["www.stale.test. 30 A"]);
    assert_eq!(
        world.server.count(),
        asked,
        "the failure is cached: stale at once"
    );

    shift(100);
    let gone = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(gone.response_code, ResponseCode::ServFail, "past stale_max");
}

#[tokio::test]
async fn a_stale_answer_is_never_replayed_in_place_of_fresh_data() {
    let _turn = CLOCK.lock().await;
    let world = world().await;
    let local = Local::start(&config(&world, true));
    expired_and_server_silent(&world, &local).await;
    // Stale after a failed refresh, then stale at once (the failure cached).
    for _ in 0..2 {
        let stale = local.ask("www.stale.test.", RecordType::A).await;
        assert_eq!(summary(&stale.answers), ["www.stale.test. 30 A"]);
    }
    // Fresh data in the cache, as a refresh brings it: answered at once,
    // since neither stale answer was remembered for replay.
    let mut fresh = common::mock::a(&name("www.stale.test."), [192, 0, 2, 7]);
    fresh.ttl = TTL as u32;
    let credibility = resolver::resolver::cache::Credibility::AuthoritativeAnswer;
    let now = resolver::clock::now();
    local
        .resolver
        .cache()
        .insert_rrset(&[fresh], credibility, now);
    let refreshed = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(addresses(&refreshed.answers), ["192.0.2.7"]);
    assert_eq!(summary(&refreshed.answers), ["www.stale.test. 60 A"]);
}

#[tokio::test]
async fn without_serve_stale_an_expired_answer_with_its_server_silent_is_servfail() {
    let _turn = CLOCK.lock().await;
    let world = world().await;
    let local = Local::start(&config(&world, false));
    expired_and_server_silent(&world, &local).await;
    let reply = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(reply.response_code, ResponseCode::ServFail);
    assert!(reply.answers.is_empty());
}

#[tokio::test]
async fn a_slow_refresh_gets_the_stale_answer_in_time_and_fills_the_cache_after() {
    let _turn = CLOCK.lock().await;
    let world = world().await;
    let mut config = config(&world, true);
    config.resolver.query_timeout = 3.0;
    config.cache.stale_client_timeout = 0.3;
    let local = Local::start(&config);
    // Slow from the start, so that its time-out allows for it.
    world.mood.store(SLOW, Ordering::SeqCst);
    let fresh = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(addresses(&fresh.answers), ["192.0.2.1"]);
    shift(TTL + 1);
    let started = Instant::now();
    let stale = local.ask("www.stale.test.", RecordType::A).await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "not kept waiting"
    );
    assert_eq!(summary(&stale.answers), ["www.stale.test. 30 A"]);
    assert_eq!(addresses(&stale.answers), ["192.0.2.1"]);

    // The refresh goes on without the client: the new address is cached.
    let question = name("www.stale.test.");
    let mut refreshed = None;
    for _ in 0..100 {
        refreshed = local.resolver.from_cache(&question, RecordType::A).ok();
        if refreshed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await; // real network time, not TTLs
    }
    assert!(
        refreshed.is_some(),
        "the background refresh filled the cache"
    );
    let fresh = local.ask("www.stale.test.", RecordType::A).await;
    assert_eq!(addresses(&fresh.answers), ["192.0.2.2"]);
    assert_eq!(summary(&fresh.answers), ["www.stale.test. 60 A"]);
}
