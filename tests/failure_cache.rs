//! Failure caching (RFC 9520): a question whose servers all failed is
//! answered SERVFAIL from the failure cache for a while, growing on
//! repeats, instead of being walked again for every client. The clock is
//! moved, never waited out (the shift is process-wide, so the tests of
//! this binary take turns).

mod common;

use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, rcode, script};
use common::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use resolver::resolver::failure_cache::FIRST_HOLD;
use resolver::resolver::iterate::ede;

/// The tests of this binary move the process-wide clock: one at a time.
static CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A root zone delegating down.test to a server at 127.0.8.40 (a mock).
fn world() -> (tempfile::TempDir, Lab) {
    let root = root_zone(&[("down.test.", "ns.down.test.", Some("127.0.8.40"))]);
    let dir = zone_dir(&[("root.toml", &root)]);
    let lab = Lab::start_dir(dir.path());
    (dir, lab)
}

fn shift(seconds: u64) {
    resolver::clock::shift(Duration::from_secs(seconds));
}

#[tokio::test]
async fn a_servfailing_zone_is_walked_once_per_hold_and_the_hold_grows() {
    let _turn = CLOCK.lock().await;
    let (_dir, lab) = world();
    let down = Mock::start(
        "127.0.8.40",
        lab.port,
        script(|q| vec![Action::Reply(rcode(q, ResponseCode::ServFail))]),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let first = local.ask("www.down.test.", RecordType::A).await;
    assert_eq!(first.response_code, ResponseCode::ServFail);
    let walked = down.count();
    assert!(walked >= 1, "the first client's question is walked");

    shift(1);
    let second = local.ask("www.down.test.", RecordType::A).await;
    assert_eq!(second.response_code, ResponseCode::ServFail);
    assert_eq!(
        down.count(),
        walked,
        "a second later: no walk, the failure is cached"
    );
    let errors = extended_errors(&second);
    assert_eq!(errors.len(), 1, "one Extended DNS Error: {errors:?}");
    assert_eq!(errors[0].0, ede::NO_REACHABLE_AUTHORITY, "{errors:?}");
    assert!(
        errors[0].1.contains("cached"),
        "the text says so: {errors:?}"
    );
    let other_type = local.ask("www.down.test.", RecordType::AAAA).await;
    assert_eq!(other_type.response_code, ResponseCode::ServFail);
    assert!(down.count() > walked, "another type is another question");
    let walked = down.count();

    shift(FIRST_HOLD.as_secs());
    local.ask("www.down.test.", RecordType::A).await;
    assert!(down.count() > walked, "after the hold, walked again");
    let walked = down.count();

    shift(FIRST_HOLD.as_secs() + 1);
    local.ask("www.down.test.", RecordType::A).await;
    assert_eq!(down.count(), walked, "failed again: held twice as long");
    shift(FIRST_HOLD.as_secs());
    local.ask("www.down.test.", RecordType::A).await;
    assert!(down.count() > walked, "and walked again after that");
}

#[tokio::test]
async fn a_silent_zone_keeps_the_second_client_from_waiting_out_the_time_out() {
    let _turn = CLOCK.lock().await;
    let (_dir, lab) = world();
    let down = Mock::start("127.0.8.40", lab.port, mock::silent()).await;
    let local = Local::start(&config_for(&lab));
    let first = local.ask("www.down.test.", RecordType::A).await;
    assert_eq!(first.response_code, ResponseCode::ServFail);
    let walked = down.count();
    assert!(walked >= 1);

    shift(1);
    let started = Instant::now();
    let second = local.ask("www.down.test.", RecordType::A).await;
    assert_eq!(second.response_code, ResponseCode::ServFail);
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "no time-out waited"
    );
    assert_eq!(down.count(), walked, "one walk for two clients");
    assert_eq!(extended_errors(&second)[0].0, ede::NO_REACHABLE_AUTHORITY);
}
