//! Unit tests of the idle connections kept for reuse (reuse.rs).

use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;

/// Waits (at most 5 s) until `condition` holds: the kernel's side of a
/// loopback connection moves on its own time.
fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let give_up = Instant::now() + Duration::from_secs(5);
    while Instant::now() < give_up {
        if condition() {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

/// A connected pair: ours (non-blocking, as a reactor leaves it) and the server's end.
fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let ours = TcpStream::connect(listener.local_addr().expect("bound")).expect("connects");
    ours.set_nonblocking(true).expect("non-blocking");
    let (theirs, _) = listener.accept().expect("accepted");
    (ours, theirs)
}

#[test]
fn an_open_connection_is_taken_back_and_a_closed_one_is_not() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("bound");
    let idle = Arc::new(IdleConnections::default());
    let (ours, _theirs) = pair(&listener);
    idle.put(server, ours, 1, None);
    assert_eq!(idle.count(), 1);
    let (_, queries) = idle.take(server).expect("kept and still open");
    assert_eq!(queries, 1);
    assert!(idle.take(server).is_none(), "taken once");

    let (ours, theirs) = pair(&listener);
    idle.put(server, ours, 1, None);
    drop(theirs); // the server's idle timeout
    let closed = eventually(|| {
        let mut byte = [0u8; 1];
        let entries = idle.entries.lock().expect("not poisoned");
        let stream = &entries.0[&server][0].stream;
        matches!(stream.peek(&mut byte), Ok(0))
    });
    assert!(closed, "the close reaches us");
    assert!(
        idle.take(server).is_none(),
        "a closed connection is not reused"
    );
    assert_eq!(idle.count(), 0, "and it is gone");
}

#[test]
fn unread_bytes_make_a_connection_unfit() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("bound");
    let idle = Arc::new(IdleConnections::default());
    let (ours, mut theirs) = pair(&listener);
    let probe = ours.try_clone().expect("a second descriptor");
    idle.put(server, ours, 1, None);
    theirs.write_all(&[0, 2, 0xab, 0xcd]).expect("written");
    let mut byte = [0u8; 1];
    assert!(
        eventually(|| probe.peek(&mut byte).is_ok()),
        "the bytes reach us"
    );
    assert!(idle.take(server).is_none(), "a late reply waits unread");
}

#[test]
fn the_bounds_hold() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("bound");
    let idle = Arc::new(IdleConnections::default());
    let mut theirs = Vec::new();
    for _ in 0..IDLE_PER_SERVER + 3 {
        let (ours, other) = pair(&listener);
        theirs.push(other);
        idle.put(server, ours, 1, None);
    }
    assert_eq!(idle.count(), IDLE_PER_SERVER, "per server");
    let (ours, _other) = pair(&listener);
    idle.put(server, ours, QUERIES_PER_CONNECTION, None);
    assert_eq!(
        idle.count(),
        IDLE_PER_SERVER,
        "a connection that carried enough is closed"
    );
    for port in 1..=IDLE_IN_ALL as u16 {
        let (ours, other) = pair(&listener);
        theirs.push(other);
        idle.put(SocketAddr::new(server.ip(), port), ours, 1, None);
    }
    assert_eq!(idle.count(), IDLE_IN_ALL, "in all");
}

#[test]
fn a_connection_is_kept_for_its_idle_time_and_no_longer() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("bound");
    let idle = Arc::new(IdleConnections::default());
    let start = Instant::now();
    let mut theirs = Vec::new();
    // (what the server advertised, a moment still in time, a moment too late)
    let second = Duration::from_secs(1);
    for (keepalive, in_time, too_late) in [
        (None, IDLE_FOR - second, IDLE_FOR),
        (Some(second), second * 8 / 10, second * 9 / 10),
        (Some(IDLE_FOR * 4), IDLE_FOR - second, IDLE_FOR),
    ] {
        for (after, kept) in [(in_time, true), (too_late, false)] {
            let (ours, other) = pair(&listener);
            theirs.push(other);
            idle.put_at(server, ours, 1, keepalive, start);
            assert_eq!(
                idle.take_at(server, start + after).is_some(),
                kept,
                "advertised {keepalive:?}, taken {after:?} later"
            );
            assert_eq!(idle.count(), 0, "taken or closed");
        }
    }
    let (ours, _other) = pair(&listener);
    idle.put_at(server, ours, 1, Some(Duration::ZERO), start);
    assert_eq!(
        idle.count(),
        0,
        "a timeout of 0: closed at once (RFC 7828 §3.2.2)"
    );
}

#[test]
fn connections_past_their_idle_time_are_closed_at_the_next_put() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("bound");
    let idle = Arc::new(IdleConnections::default());
    let start = Instant::now();
    let (old, _theirs_old) = pair(&listener);
    idle.put_at(SocketAddr::new(server.ip(), 1), old, 1, None, start);
    let (young, _theirs_young) = pair(&listener);
    idle.put_at(server, young, 1, None, start + IDLE_FOR);
    assert_eq!(idle.count(), 1, "the other server's old connection went");
}

#[tokio::test]
async fn a_connection_is_closed_by_us_when_its_idle_time_ends() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("bound");
    let idle = Arc::new(IdleConnections::default());
    // One kept for IDLE_FOR first: the closing task's wake-up is timed
    // for it, and must be timed again for the shorter one kept next.
    let (long, mut theirs_long) = pair(&listener);
    idle.put(SocketAddr::new(server.ip(), 1), long, 1, None);
    tokio::task::yield_now().await; // the task runs: it waits for that one
    let (ours, mut theirs) = pair(&listener);
    let put = Instant::now();
    idle.put(server, ours, 1, Some(Duration::from_millis(200)));
    // No take or put follows: the server's end sees our close all the same.
    theirs
        .set_read_timeout(Some(IDLE_FOR / 2))
        .expect("a bound on the wait");
    let read = tokio::task::spawn_blocking(move || theirs.read(&mut [0u8; 1]))
        .await
        .expect("the read ran");
    assert!(matches!(read, Ok(0)), "closed by us: {read:?}");
    assert!(
        put.elapsed() >= Duration::from_millis(180),
        "not before nine tenths of the 200 ms advertised"
    );
    assert_eq!(idle.count(), 1, "the other one is kept");
    theirs_long.set_nonblocking(true).expect("non-blocking");
    assert!(
        matches!(theirs_long.read(&mut [0u8; 1]), Err(error) if error.kind() == io::ErrorKind::WouldBlock),
        "and still open"
    );
}
