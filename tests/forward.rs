//! `[[forward]]` and `[[stub]]` zones (Unbound's `forward-zone` and
//! `stub-zone`), with `resolver serve` as a process: recursive queries to a
//! forwarder (another `resolver serve`, walking the lab), the fall-back to
//! the next forwarder, a stub zone's servers instead of the walk from the
//! root, and the deepest configured zone winning.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::mock::{self, Action, Mock, script};
use common::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use tokio::net::UdpSocket;

/// A UDP relay in front of a server, keeping every query that passes: where
/// the test sees what a resolver sends its forwarder or stub server.
struct Relay {
    address: SocketAddr,
    queries: Arc<Mutex<Vec<Message>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// A relay to `upstream` on 127.0.0.1, on a free port.
    async fn start(upstream: SocketAddr) -> Relay {
        let (socket, _) = on_free_port("a relay", |port| {
            std::net::UdpSocket::bind(("127.0.0.1", port)).ok()
        });
        socket.set_nonblocking(true).expect("non-blocking");
        let socket = Arc::new(UdpSocket::from_std(socket).expect("a tokio socket"));
        let address = socket.local_addr().expect("bound");
        let queries = Arc::new(Mutex::new(Vec::new()));
        let seen = queries.clone();
        let task = tokio::spawn(async move {
            let mut buffer = vec![0u8; 65_535];
            while let Ok((length, client)) = socket.recv_from(&mut buffer).await {
                let bytes = buffer[..length].to_vec();
                if let Ok(query) = Message::from_vec(&bytes) {
                    seen.lock().expect("not poisoned").push(query);
                }
                let socket = socket.clone();
                tokio::spawn(async move {
                    if let Some(reply) = exchange_udp_bytes(upstream, &bytes, REPLY_TIMEOUT).await {
                        let _ = socket.send_to(&reply, client).await;
                    }
                });
            }
        });
        Relay {
            address,
            queries,
            task,
        }
    }

    /// The queries relayed so far.
    fn queries(&self) -> Vec<Message> {
        self.queries.lock().expect("not poisoned").clone()
    }

    /// The names asked so far, with RD as `name/RD` or `name/-`.
    fn asked(&self) -> Vec<String> {
        self.queries()
            .iter()
            .map(|query| {
                let rd = if query.recursion_desired { "RD" } else { "-" };
                format!("{}/{rd}", query.queries[0].name)
            })
            .collect()
    }
}

/// A `resolver serve` process with this configuration (after `[server]`),
/// and the folder its file is in.
struct Serve {
    address: SocketAddr,
    _process: Process,
    _folder: tempfile::TempDir,
}

impl Serve {
    async fn start(config: &str) -> Serve {
        let address = free_listen_address();
        let folder = tempfile::tempdir().expect("a folder");
        let path: PathBuf = folder.path().join("resolver.toml");
        std::fs::write(
            &path,
            format!("[server]\nlisten = [\"{address}\"]\n{config}"),
        )
        .expect("write the configuration");
        let process = start_serve(&path, address).await;
        Serve {
            address,
            _process: process,
            _folder: folder,
        }
    }

    async fn ask(&self, qname: &str) -> Message {
        ask_recursive(self.address, qname, RecordType::A).await
    }
}

/// The answer section as `name TYPE data` (TTLs left out: they run down).
fn records(reply: &Message) -> Vec<String> {
    reply
        .answers
        .iter()
        .map(|r| format!("{} {} {}", r.name, r.record_type(), r.data))
        .collect()
}

/// `[resolver]` for walking `lab` from its roots.
fn walking(lab: &Lab) -> String {
    let roots: Vec<String> = resolver::lab::root_addresses(&lab.zones)
        .iter()
        .map(|ip| format!("\"{ip}\""))
        .collect();
    format!(
        "[resolver]\nroots = [{}]\nport = {}\n",
        roots.join(", "),
        lab.port
    )
}

/// `[resolver]` with roots that must never be asked: a mock that counts.
fn unused_roots(root: &Mock, lab: &Lab) -> String {
    format!(
        "[resolver]\nroots = [\"{}\"]\nport = {}\nquery_timeout = 0.3\n",
        root.address.ip(),
        lab.port
    )
}

/// A `[[forward]]` or `[[stub]]` table.
fn zone(table: &str, zone: &str, addresses: &[String]) -> String {
    let addresses: Vec<String> = addresses.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "[[{table}]]\nzone = \"{zone}\"\naddresses = [{}]\n",
        addresses.join(", ")
    )
}

/// The lab and a second `resolver serve` walking it: the forwarder.
async fn lab_and_forwarder() -> (Lab, Serve) {
    let lab = Lab::start();
    let forwarder = Serve::start(&walking(&lab)).await;
    (lab, forwarder)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forward_zone_for_the_root_asks_the_forwarder_recursively_and_caches_its_answer() {
    let (lab, forwarder) = lab_and_forwarder().await;
    let relay = Relay::start(forwarder.address).await;
    // The roots are a mock that counts: a forwarded question never reaches it.
    let root = Mock::start("127.0.9.101", lab.port, mock::silent()).await;
    let config = unused_roots(&root, &lab) + &zone("forward", ".", &[relay.address.to_string()]);
    let local = Serve::start(&config).await;

    let reply = local.ask("gaia.cs.umass.edu.").await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    assert!(reply.recursion_available);
    assert_eq!(
        relay.asked(),
        ["gaia.cs.umass.edu./RD"],
        "one recursive query"
    );

    let again = local.ask("gaia.cs.umass.edu.").await;
    assert_eq!(addresses(&again.answers), ["128.119.245.12"]);
    assert_eq!(
        relay.queries().len(),
        1,
        "the second answer comes from the cache"
    );
    assert_eq!(root.count(), 0, "the roots are not asked (nor primed)");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarder_that_refuses_or_is_silent_falls_back_to_the_next() {
    let (lab, forwarder) = lab_and_forwarder().await;
    let relay = Relay::start(forwarder.address).await;
    // Addresses of their own (a port of 0 on 127.0.0.1 could be taken for TCP).
    let refusing = Mock::start(
        "127.0.9.106",
        0,
        script(|q| vec![Action::Reply(mock::rcode(q, ResponseCode::Refused))]),
    )
    .await;
    let silent = Mock::start("127.0.9.107", 0, mock::silent()).await;
    let root = Mock::start("127.0.9.102", lab.port, mock::silent()).await;
    let forwarders = [
        refusing.address.to_string(),
        silent.address.to_string(),
        relay.address.to_string(),
    ];
    let config = unused_roots(&root, &lab) + &zone("forward", ".", &forwarders);
    let local = Serve::start(&config).await;

    let reply = local.ask("www.umass.edu.").await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply.answers), ["128.119.8.148"]);
    assert_eq!(refusing.count(), 1, "the first forwarder was asked first");
    assert!(silent.count() >= 1, "then the second");
    assert_eq!(
        relay.asked(),
        ["www.umass.edu./RD"],
        "then the third answered"
    );

    // Both failed forwarders are now behind the one that answers.
    let reply = local.ask("cs.umass.edu.").await;
    assert_eq!(addresses(&reply.answers), ["128.119.240.84"]);
    assert_eq!(refusing.count(), 1);
    assert_eq!(relay.queries().len(), 2);
    assert_eq!(root.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stub_zone_is_asked_of_its_servers_without_the_root() {
    let lab = Lab::start();
    let root = Mock::start("127.0.9.103", lab.port, mock::silent()).await;
    // dns.umass.edu on the upstream port, given as an address alone.
    let config = unused_roots(&root, &lab) + &zone("stub", "umass.edu.", &["127.0.3.1".into()]);
    let local = Serve::start(&config).await;

    let reply = local.ask("gaia.cs.umass.edu.").await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply.answers), ["128.119.245.12"]);
    let reply = local.ask("www.cs.umass.edu.").await;
    assert_eq!(
        addresses(&reply.answers),
        ["128.119.245.12"],
        "via the CNAME"
    );
    assert_eq!(root.count(), 0, "neither the root nor edu was asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stub_zone_gets_iterative_queries_on_its_own_port() {
    let lab = Lab::start();
    let relay = Relay::start(lab.at("127.0.3.1")).await;
    let root = Mock::start("127.0.9.104", lab.port, mock::silent()).await;
    let config =
        unused_roots(&root, &lab) + &zone("stub", "umass.edu.", &[relay.address.to_string()]);
    let local = Serve::start(&config).await;

    let reply = local.ask("www.umass.edu.").await;
    assert_eq!(addresses(&reply.answers), ["128.119.8.148"]);
    assert_eq!(relay.asked(), ["www.umass.edu./-"], "an iterative query");
    assert_eq!(root.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deepest_forward_or_stub_zone_wins() {
    let (lab, forwarder) = lab_and_forwarder().await;
    let relay = Relay::start(forwarder.address).await;
    let root = Mock::start("127.0.9.105", lab.port, mock::silent()).await;

    // A stub zone below a forward zone: its names go to its own server.
    let config = unused_roots(&root, &lab)
        + &zone("forward", ".", &[relay.address.to_string()])
        + &zone("stub", "umass.edu.", &["127.0.3.1".into()]);
    let local = Serve::start(&config).await;
    let reply = local.ask("www.umass.edu.").await;
    assert_eq!(addresses(&reply.answers), ["128.119.8.148"]);
    assert!(relay.queries().is_empty(), "umass.edu. is the stub's");
    let reply = local.ask("cis.poly.edu.").await;
    assert_eq!(addresses(&reply.answers), ["128.238.29.22"]);
    assert_eq!(relay.asked(), ["cis.poly.edu./RD"], "the rest is forwarded");

    // A forward zone below a stub zone: its names go to the forwarder.
    let config = unused_roots(&root, &lab)
        + &zone("stub", "edu.", &["127.0.2.1".into()])
        + &zone("forward", "umass.edu.", &[relay.address.to_string()]);
    let local = Serve::start(&config).await;
    let reply = local.ask("www.umass.edu.").await;
    assert_eq!(addresses(&reply.answers), ["128.119.8.148"]);
    assert_eq!(relay.asked()[1..], ["www.umass.edu./RD"]);
    let reply = local.ask("cis.poly.edu.").await;
    assert_eq!(
        addresses(&reply.answers),
        ["128.238.29.22"],
        "edu's referral followed"
    );
    assert_eq!(relay.queries().len(), 2);
    assert_eq!(root.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarder_speaks_only_for_its_zone_and_a_cname_leaving_it_is_resolved_here() {
    let (lab, forwarder) = lab_and_forwarder().await;
    let relay = Relay::start(forwarder.address).await;
    // www.poly.edu is a CNAME to www.ibm.com, itself an alias: the
    // forwarder's answer holds the whole chain, but only what is under
    // poly.edu. is taken from it; the rest is walked from the lab's roots.
    let config = walking(&lab) + &zone("forward", "poly.edu.", &[relay.address.to_string()]);
    let local = Serve::start(&config).await;
    let through_forwarder = forwarder.ask("www.poly.edu.").await;
    let reply = local.ask("www.poly.edu.").await;
    assert_eq!(reply.response_code, ResponseCode::NoError);
    assert_eq!(records(&reply), records(&through_forwarder));
    assert_eq!(
        relay.asked(),
        ["www.poly.edu./RD"],
        "only the forward zone's name"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_shows_a_forwarded_query_as_recursive() {
    use resolver::trace::{TraceMode, TraceOptions, trace};
    let mut config = shipped_config_on_free_port();
    let lab_port = config.lab.as_ref().expect("a lab").port;
    // The forwarder walks the lab that the trace starts in-process.
    let forwarder = Serve::start(&format!(
        "[resolver]\nroots = [\"127.0.1.1\", \"127.0.1.2\"]\nport = {lab_port}\n"
    ))
    .await;
    config.forward =
        resolver::config::Config::parse(&zone("forward", ".", &[forwarder.address.to_string()]))
            .expect("valid")
            .forward;
    let options = TraceOptions {
        names: vec![name("gaia.cs.umass.edu.")],
        record_type: RecordType::A,
        mode: TraceMode::Iterative,
        explain: false,
        dnssec: false,
        configuration: None,
    };
    let run = trace(&config, &options).await.expect("the trace runs");
    let text = resolver::trace::render(&run.questions[0].messages, &[], &[], 0.0);
    let hops: Vec<String> = run.questions[0]
        .messages
        .iter()
        .map(|m| format!("{}>{}", m.from_name, m.to_name))
        .collect();
    assert_eq!(
        hops,
        [
            "cis.poly.edu>dns.poly.edu",
            "dns.poly.edu>forwarder",
            "forwarder>dns.poly.edu",
            "dns.poly.edu>cis.poly.edu"
        ],
        "{text}"
    );
    assert!(
        text.contains("query     gaia.cs.umass.edu. A (recursive)"),
        "{text}"
    );
    assert!(text.contains("128.119.245.12"), "{text}");
}
