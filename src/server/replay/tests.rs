//! The replay layer's tests: IDs and TTLs patched, keys folded, bytes bounded.

use super::*;
use hickory_proto::op::{Edns, Message};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{RData, Record};

fn query(name: &str, id: u16) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = id;
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(
        Name::from_ascii(name).expect("valid"),
        RecordType::A,
    ));
    message.to_vec().expect("encodes")
}

fn answer(name: &str, ttl: u32) -> Vec<u8> {
    let mut message = Message::response(0, OpCode::Query);
    message.add_query(Query::query(
        Name::from_ascii(name).expect("valid"),
        RecordType::A,
    ));
    message.add_answer(Record::from_rdata(
        Name::from_ascii(name).expect("valid"),
        ttl,
        RData::A(A::new(192, 0, 2, 1)),
    ));
    message.to_vec().expect("encodes")
}

#[tokio::test(start_paused = true)]
async fn with_prefetch_a_replay_stops_at_nine_tenths_of_the_ttl() {
    let cache = AnswerCache::new(1 << 20);
    let asked_bytes = query("www.example.", 7);
    let asked = quick(&asked_bytes, Protocol::Udp).expect("a plain query");
    let now = Instant::now();
    let answer = answer("www.example.", 600);
    cache.put(&asked, &answer, Lifetime::UntilPrefetch, now, 0);
    let at = |seconds| now + Duration::from_secs(seconds);
    assert!(cache.get(&asked, || at(539), 0, None).is_some());
    assert!(
        cache.get(&asked, || at(540), 0, None).is_none(),
        "the last tenth reaches the handler"
    );
}

/// A cache that remembers the answer to `www.example. A` (ID 7, TTL 600), counting down.
fn remembering_www_example() -> AnswerCache {
    let cache = AnswerCache::new(1 << 20);
    let first_bytes = query("www.example.", 7);
    let first = quick(&first_bytes, Protocol::Udp).expect("a plain query");
    cache.put(
        &first,
        &answer("www.example.", 600),
        Lifetime::CountingDown,
        Instant::now(),
        0,
    );
    cache
}

#[tokio::test(start_paused = true)]
async fn a_replay_has_the_new_id_and_the_ttl_counted_down() {
    let cache = remembering_www_example();
    tokio::time::advance(Duration::from_secs(100)).await;
    let again_bytes = query("www.example.", 9);
    let again = quick(&again_bytes, Protocol::Udp).expect("a plain query");
    let bytes = cache
        .get(&again, Instant::now, 0, None)
        .expect("remembered");
    let message = Message::from_vec(&bytes).expect("decodes");
    assert_eq!(message.id, 9);
    assert!(message.recursion_desired);
    assert_eq!(message.answers[0].ttl, 500);
    assert!(
        cache.get(&again, Instant::now, 1, None).is_none(),
        "another version of the data: not replayed"
    );
    tokio::time::advance(Duration::from_secs(500)).await;
    assert!(
        cache.get(&again, Instant::now, 0, None).is_none(),
        "expired"
    );
}

#[test]
fn the_key_folds_the_case_and_keeps_the_transport() {
    let lower_bytes = query("www.example.", 1);
    let lower = quick(&lower_bytes, Protocol::Udp).expect("a plain query");
    let upper_bytes = query("WWW.example.", 1);
    let upper = quick(&upper_bytes, Protocol::Udp).expect("a plain query");
    let tcp_bytes = query("www.example.", 1);
    let tcp = quick(&tcp_bytes, Protocol::Tcp).expect("a plain query");
    assert_eq!(
        lower.key, upper.key,
        "one key per name, whatever its spelling"
    );
    assert_ne!(lower.key, tcp.key);
}

#[tokio::test(start_paused = true)]
async fn a_replay_echoes_the_question_as_this_query_spelt_it() {
    let cache = remembering_www_example();
    let mixed_bytes = query("wWw.ExAmple.", 9);
    let mixed = quick(&mixed_bytes, Protocol::Udp).expect("a plain query");
    let bytes = cache
        .get(&mixed, Instant::now, 0, None)
        .expect("remembered");
    let message = Message::from_vec(&bytes).expect("decodes");
    assert_eq!(message.queries[0].name.to_string(), "wWw.ExAmple.");
    assert_eq!(message.answers.len(), 1);
}

#[test]
fn remembered_answers_stay_within_their_bytes() {
    let cache = AnswerCache::new(64 << 10);
    let now = Instant::now();
    for i in 0..2_000 {
        let owner = format!("host-{i}.example.");
        let asked_bytes = query(&owner, 1);
        let asked = quick(&asked_bytes, Protocol::Udp).expect("a plain query");
        cache.put(&asked, &answer(&owner, 600), Lifetime::CountingDown, now, 0);
    }
    let held = cache.entries.weight();
    assert!(held <= 64 << 10, "{held} bytes for a bound of 64 KiB");
    assert!(cache.entries.len() < 2_000);
    assert!(
        !cache.entries.is_empty(),
        "answers are still kept, not all dropped"
    );
}

#[test]
fn a_question_echoed_in_another_form_is_not_replayed() {
    // The root as a compression pointer (to a zero octet of the header):
    // six octets in the query, one label in the answer's echo.
    let asked = [0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 8, 0, 5, 0, 1];
    let Some(query) = quick(&asked, Protocol::Udp) else {
        return; // not taken by the quick path at all: nothing to replay
    };
    let cache = AnswerCache::new(1 << 20);
    cache.put(
        &query,
        &answer(".", 600),
        Lifetime::Static,
        Instant::now(),
        0,
    );
    if let Some(bytes) = cache.get(&query, Instant::now, 0, None) {
        assert!(Message::from_vec(&bytes).is_ok(), "a replay always decodes");
    }
}

/// `www.example.` asked with an OPT of `payload` octets, the DO bit if
/// `dnssec_ok`, and `options`.
fn query_with_opt(payload: u16, dnssec_ok: bool, options: &[(u16, &[u8])]) -> Vec<u8> {
    let mut message = Message::from_vec(&query("www.example.", 1)).expect("decodes");
    let mut edns = Edns::new();
    edns.set_max_payload(payload);
    edns.set_dnssec_ok(dnssec_ok);
    for &(code, data) in options {
        edns.options_mut()
            .insert(EdnsOption::Unknown(code, data.to_vec()));
    }
    message.edns = Some(edns);
    message.to_vec().expect("encodes")
}

const COOKIE: (u16, &[u8]) = (10, &[1, 2, 3, 4, 5, 6, 7, 8]);

#[test]
fn the_key_reads_the_opt_payload_and_do_bit_and_not_its_options() {
    let key = |bytes: &[u8], protocol| quick(bytes, protocol).expect("replayable").key;
    let udp = |bytes: &[u8]| key(bytes, Protocol::Udp);
    let plain = udp(&query_with_opt(1232, false, &[]));
    assert_eq!(
        plain,
        udp(&query_with_opt(1232, false, &[COOKIE])),
        "a cookie is no part of it"
    );
    assert_eq!(
        plain,
        udp(&query_with_opt(4096, false, &[])),
        "clamped to ours"
    );
    assert_ne!(
        plain,
        udp(&query_with_opt(512, false, &[])),
        "a smaller limit"
    );
    assert_ne!(
        plain,
        udp(&query_with_opt(1232, true, &[])),
        "DO asks its own"
    );
    assert_ne!(plain, udp(&query("www.example.", 1)), "no OPT");
    assert_ne!(plain, key(&query_with_opt(1232, false, &[]), Protocol::Tcp));
}

#[test]
fn an_opt_the_ordinary_path_must_judge_is_not_replayed() {
    let replayable = |bytes: &[u8], protocol| quick(bytes, protocol).is_some();
    // An option running past the OPT's data: the ordinary path judges it
    // (hickory-proto's decoder skips what it cannot frame).
    let mut overrun = query_with_opt(1232, false, &[COOKIE]);
    let at = overrun.len() - COOKIE.1.len() - 2; // the cookie's OPTION-LENGTH
    overrun[at..at + 2].copy_from_slice(&9u16.to_be_bytes());
    assert!(!replayable(&overrun, Protocol::Udp), "overrun");
    // Options hickory-proto reads, and may refuse: NSID, DAU, client subnet.
    for code in [3, 5, 8] {
        let bytes = query_with_opt(1232, false, &[(code, &[])]);
        assert!(!replayable(&bytes, Protocol::Udp), "option {code}");
    }
    // A keepalive option with a TIMEOUT: FORMERR over TCP, ignored over UDP.
    let telling = query_with_opt(1232, false, &[(11, &[0, 100])]);
    assert!(!replayable(&telling, Protocol::Tcp));
    assert!(replayable(&telling, Protocol::Udp));
    let asking = query_with_opt(1232, false, &[(11, &[])]);
    let asked = |bytes: &[u8]| quick(bytes, Protocol::Tcp).map(|query| query.keepalive_asked);
    assert_eq!(
        asked(&asking),
        Some(true),
        "replayed, and told the idle timeout"
    );
    assert_eq!(asked(&query_with_opt(1232, false, &[COOKIE])), Some(false));
    // Another version: BADVERS on the ordinary path.
    let mut message = Message::from_vec(&query_with_opt(1232, false, &[])).expect("decodes");
    message.edns.as_mut().expect("an OPT").set_version(1);
    assert!(!replayable(
        &message.to_vec().expect("encodes"),
        Protocol::Udp
    ));
}
