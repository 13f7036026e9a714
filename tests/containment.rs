//! A bug that panics takes no other question down: the panicking answer is
//! SERVFAIL, and the bounds it held (pending answers, per client) are freed.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{Running, ask_recursive, name, tcp};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType, rdata::A};
use resolver::server::{Handler, Limits, Request, Response, serve};

/// Answers every name with 192.0.2.1 after a yield, except `panic.test.`,
/// whose answer panics half-way, as a bug in a resolution would.
struct Buggy;

impl Handler for Buggy {
    fn handle(&self, request: &Request) -> Response {
        let request = request.clone();
        Response::Later(Box::pin(async move {
            tokio::task::yield_now().await;
            let query = request.query().clone();
            if query.name == name("panic.test.") {
                panic!("a bug while resolving {}", query.name);
            }
            let mut response = request.response();
            response.answers.push(Record::from_rdata(
                query.name,
                60,
                RData::A(A::new(192, 0, 2, 1)),
            ));
            response
        }))
    }
}

/// The buggy handler behind a server that works on one answer at a time.
fn start() -> (SocketAddr, Running) {
    let listener = common::bind_listener_below_ephemeral_ports();
    let address = listener.local_addr();
    let running = Running::new();
    let limits = Limits {
        pending_answers: 1,
        pending_per_client: 1,
        ..Limits::default()
    };
    running.tasks.spawn(serve(
        listener,
        Arc::new(Buggy),
        limits,
        None,
        running.shutdown.clone(),
    ));
    (address, running)
}

#[tokio::test]
async fn a_panicking_answer_is_servfail_and_frees_its_slots() {
    let (server, _running) = start();
    for round in 0..3 {
        let failed = ask_recursive(server, "panic.test.", RecordType::A).await;
        assert_eq!(
            failed.response_code,
            ResponseCode::ServFail,
            "round {round}"
        );
        // With one pending answer allowed, this is answered only if the
        // panicked one gave its slot back.
        let fine = ask_recursive(server, "fine.test.", RecordType::A).await;
        assert_eq!(fine.response_code, ResponseCode::NoError, "round {round}");
        assert_eq!(fine.answers.len(), 1);
    }
    let mut query = Message::query();
    query.add_query(hickory_proto::op::Query::query(
        name("panic.test."),
        RecordType::A,
    ));
    query.metadata.recursion_desired = true;
    let over_tcp = tokio::time::timeout(Duration::from_secs(5), tcp(server, &query))
        .await
        .expect("a TCP answer");
    assert_eq!(over_tcp.response_code, ResponseCode::ServFail);
}
