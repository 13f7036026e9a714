//! The control endpoint (`[control]`): /metrics counts what clients and
//! nameservers saw, /cache says where each entry came from, a flush makes
//! the next question walk again, and only allowed clients are served.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hickory_proto::rr::RecordType;
use resolver::control::{Control, serve};

/// The lab, a resolver for it, and its control endpoint for `allow`.
struct Controlled {
    lab: Lab,
    local: Local,
    url: String,
    address: SocketAddr,
}

async fn controlled(allow: &[&str]) -> Controlled {
    let lab = Lab::start();
    let config = config_for(&lab);
    controlled_with(lab, &config, allow).await
}

/// The same, with the resolver configured by `config`.
async fn controlled_with(
    lab: Lab,
    config: &resolver::config::Config,
    allow: &[&str],
) -> Controlled {
    let local = Local::start(config);
    let listener = tokio::net::TcpListener::bind(free_listen_address())
        .await
        .expect("a control port");
    let address = listener.local_addr().expect("an address");
    let allow = allow
        .iter()
        .map(|net| net.parse().expect("a prefix"))
        .collect();
    let control = Control::new(local.resolver.clone(), allow, lab.port)
        .with_cast(resolver::trace::Cast::of_zones(&lab.zones))
        .with_resolver_address(local.address);
    local.running.tasks.spawn(serve(
        listener,
        Arc::new(control),
        local.running.shutdown.clone(),
    ));
    Controlled {
        url: format!("http://{address}"),
        address,
        lab,
        local,
    }
}

/// A GET or POST of `path`, its status and body (ureq runs blocking, so off the runtime).
async fn http(method: &'static str, url: String) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let response = match method {
            "POST" => agent.post(&url).send_empty(),
            _ => agent.get(&url).call(),
        };
        let mut response = response.expect("the endpoint answers");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().expect("a text body");
        (status, body)
    })
    .await
    .expect("the client thread")
}

/// A watcher of `/events` at `url`, reading until it has seen `count` answers (their JSON).
fn watch_events(url: String, count: usize) -> tokio::task::JoinHandle<Vec<serde_json::Value>> {
    tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        let mut response = agent.get(&url).call().expect("the stream opens");
        let reader = std::io::BufReader::new(response.body_mut().as_reader());
        reader
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| line.strip_prefix("data: ").map(str::to_string))
            .take(count)
            .map(|data| serde_json::from_str::<serde_json::Value>(&data).expect("JSON"))
            .collect::<Vec<_>>()
    })
}

/// Waits (a bounded while) until someone watches the resolver's events.
async fn until_watched(resolver: &resolver::resolver::Resolver) {
    for _ in 0..500 {
        if resolver.events().watched() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no watcher subscribed to /events");
}

/// The value of the sample whose line starts with `series ` in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_the_questions_the_cache_and_the_walk() {
    let c = controlled(&["127.0.0.0/8"]).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    c.local.ask("nosuch.umass.edu.", RecordType::A).await;
    let (status, text) = http("GET", format!("{}/metrics", c.url)).await;
    assert_eq!(status, 200);
    let queries = |qtype: &str, rcode: &str| {
        sample(
            &text,
            &format!(
                "resolver_queries_total{{protocol=\"udp\",qtype=\"{qtype}\",rcode=\"{rcode}\"}}"
            ),
        )
    };
    assert_eq!(queries("A", "NOERROR"), Some(2.0), "{text}");
    assert_eq!(queries("A", "NXDOMAIN"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "resolver_cache_hits_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "resolver_cache_misses_total"),
        Some(2.0),
        "{text}"
    );
    // gaia: root and edu refer, umass.edu answers; nosuch: umass.edu's NXDOMAIN.
    let upstream = |result: &str| {
        sample(
            &text,
            &format!("resolver_upstream_queries_total{{result=\"{result}\"}}"),
        )
    };
    assert_eq!(upstream("referral"), Some(2.0), "{text}");
    assert_eq!(upstream("answer"), Some(1.0), "{text}");
    assert_eq!(upstream("negative"), Some(1.0), "{text}");
    assert_eq!(upstream("timeout"), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, "resolver_resolution_seconds_count"),
        Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "resolver_cache_entries").is_some_and(|n| n >= 3.0),
        "{text}"
    );
    assert!(
        sample(&text, "resolver_cache_bytes").is_some_and(|n| n > 0.0),
        "{text}"
    );
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics ends with # EOF: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_tcp_connections_and_rate_limited_queries() {
    let lab = Lab::start();
    let mut config = config_for(&lab);
    config.server.rate_limit = 2;
    config.server.rate_limit_exempt = Vec::new();
    let c = controlled_with(lab, &config, &["127.0.0.0/8"]).await;
    let (local, url) = (&c.local, format!("{}/metrics", c.url));

    let ask = Ask {
        recursion_desired: true,
        ..Ask::default()
    };
    let reply = tcp(
        local.address,
        &query_message(&name("gaia.cs.umass.edu."), RecordType::A, &ask),
    )
    .await;
    assert_eq!(reply.answers.len(), 1);
    // Over UDP, far beyond 2 a second: some are limited (dropped or TC).
    for _ in 0..20 {
        let bytes = query_message(&name("gaia.cs.umass.edu."), RecordType::A, &ask)
            .to_vec()
            .expect("encodes");
        exchange_udp_bytes(local.address, &bytes, Duration::from_millis(20)).await;
    }
    // The TCP client has gone: the gauge comes back to 0 once the server sees it close.
    let mut text = String::new();
    for _ in 0..100 {
        text = http("GET", url.clone()).await.1;
        if sample(&text, "resolver_tcp_connections") == Some(0.0) {
            break;
        }
    }
    assert_eq!(
        sample(&text, "resolver_tcp_connections"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "resolver_queries_total{protocol=\"tcp\",qtype=\"A\",rcode=\"NOERROR\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "resolver_rate_limited_total").is_some_and(|n| n >= 10.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_says_who_gave_each_entry_and_a_flush_makes_the_walk_start_again() {
    let c = controlled(&["127.0.0.0/8"]).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    let (status, body) = http(
        "GET",
        format!("{}/cache?name=gaia.cs.umass.edu&type=A", c.url),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let entries: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let gaia = &entries[0];
    assert_eq!(gaia["name"], "gaia.cs.umass.edu.");
    assert_eq!(
        gaia["records"][0]
            .as_str()
            .map(|r| r.ends_with("A 128.119.245.12")),
        Some(true),
        "{body}"
    );
    assert_eq!(gaia["credibility"], "authoritative answer");
    let port = c.lab.port;
    assert_eq!(
        gaia["provenance"]["server"],
        format!("127.0.3.1:{port}"),
        "dns.umass.edu gave it: {body}"
    );
    assert_eq!(gaia["provenance"]["question"], "gaia.cs.umass.edu.");
    assert_eq!(gaia["provenance"]["server_name"], "dns.umass.edu.");
    // Under umass.edu: the delegation from edu's server too.
    let (_, body) = http("GET", format!("{}/cache?name=umass.edu", c.url)).await;
    let entries: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let delegation = entries
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["kind"] == "delegation")
        .expect("umass.edu's delegation");
    assert_eq!(
        delegation["provenance"]["server"],
        format!("127.0.2.1:{port}"),
        "{body}"
    );
    assert_eq!(delegation["credibility"], "referral");

    let upstream = || c.local.collector.take().len();
    upstream();
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(upstream(), 0, "from the cache");
    let (status, body) = http(
        "POST",
        format!("{}/cache/flush?name=gaia.cs.umass.edu", c.url),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"removed":1}"#));
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(
        upstream(),
        2,
        "asked dns.umass.edu again (the delegation was kept)"
    );
    let (_, body) = http("POST", format!("{}/cache/flush", c.url)).await;
    assert!(body.starts_with(r#"{"removed":"#), "{body}");
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(upstream(), 6, "everything forgotten: from the root again");
    let (status, body) = http("GET", format!("{}/cache?name=no..name", c.url)).await;
    assert_eq!(status, 400, "{body}");
    // The servers asked, timed and counted.
    let (_, body) = http("GET", format!("{}/servers", c.url)).await;
    let servers: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let umass = servers
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["address"] == format!("127.0.3.1:{port}"))
        .expect("dns.umass.edu was asked");
    assert_eq!(umass["name"], "dns.umass.edu", "{body}");
    assert_eq!(
        (
            umass["answered"].as_u64(),
            umass["failed"].as_u64(),
            umass["lame"].as_u64()
        ),
        (Some(3), Some(0), Some(0)),
        "{body}"
    );
}

/// A raw request from a chosen source address: the status line of the reply.
fn status_line_from(source: &str, to: SocketAddr, request: &[u8]) -> String {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    let source: SocketAddr = format!("{source}:0").parse().expect("an address");
    socket.bind(&source.into()).expect("bind the source");
    socket.connect(&to.into()).expect("connect");
    let mut stream: std::net::TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a time-out");
    stream.write_all(request).expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_allowed_clients_are_served_and_garbage_gets_400() {
    let c = controlled(&["127.0.0.1/32"]).await;
    let to = c.address;
    let get = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (allowed, other, garbage) = tokio::task::spawn_blocking(move || {
        (
            status_line_from("127.0.0.1", to, get),
            status_line_from("127.0.0.9", to, get),
            status_line_from("127.0.0.1", to, b"\x16\x03\x01 not HTTP at all\r\n\r\n"),
        )
    })
    .await
    .expect("the client thread");
    assert!(allowed.starts_with("HTTP/1.1 200"), "{allowed}");
    assert!(other.starts_with("HTTP/1.1 403"), "{other}");
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_send_nothing_do_not_keep_others_out() {
    let c = controlled(&["127.0.0.0/8"]).await;
    // Every connection slot taken by a client that never sends a header.
    let idle: Vec<std::net::TcpStream> = (0..resolver::control::MAX_CONNECTIONS)
        .map(|_| std::net::TcpStream::connect(c.address).expect("connect"))
        .collect();
    let started = std::time::Instant::now();
    let (status, _) = http("GET", format!("{}/metrics", c.url)).await;
    assert_eq!(status, 200);
    let waited = started.elapsed();
    assert!(
        waited < resolver::control::HEADER_TIMEOUT + Duration::from_secs(4),
        "served once the header time-out freed a slot: {waited:?}"
    );
    drop(idle);
}

/// `resolver control ARGS...` against the endpoint: success, standard output, standard error.
async fn control_command(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
            .arg("control")
            .args(&args)
            .output()
            .expect("resolver control runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    })
    .await
    .expect("the command's thread")
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_control_shows_the_cache_for_people_and_flushes_it() {
    let c = controlled(&["127.0.0.0/8"]).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    let args = |rest: &[&str]| {
        let mut args = vec!["--url".to_string(), c.url.clone()];
        args.extend(rest.iter().map(|a| a.to_string()));
        args
    };
    let (ok, out, err) =
        control_command(args(&["cache", "gaia.cs.umass.edu", "--type", "A"])).await;
    assert!(ok, "{err}");
    let port = c.lab.port;
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("gaia.cs.umass.edu. A (rrset) "), "{out}");
    assert!(
        first.ends_with(&format!(
            "authoritative answer; from dns.umass.edu. (127.0.3.1:{port}) for gaia.cs.umass.edu. A"
        )),
        "{out}"
    );
    assert!(
        out.contains(" A 128.119.245.12\n"),
        "its record under it: {out}"
    );
    let (ok, out, _) = control_command(args(&["stats"])).await;
    assert!(
        ok && out.contains("total.num.cachemiss=1\n") && out.contains("upstream.referral=2\n"),
        "{out}"
    );
    let (ok, out, _) = control_command(args(&["--json", "servers"])).await;
    assert!(
        ok && out.contains(&format!("\"127.0.3.1:{port}\"")),
        "{out}"
    );
    let (ok, out, _) = control_command(args(&["flush", "umass.edu", "--subtree"])).await;
    assert!(ok, "{out}");
    assert_eq!(
        out, "removed 3 entries\n",
        "gaia's A, umass.edu's delegation and its DS (which came in the referral)"
    );
    let (_, out, _) = control_command(args(&["cache", "umass.edu"])).await;
    assert_eq!(out, "nothing cached at or under this name\n");
    // Nothing listening: a clear error, once, and exit status 1.
    let nobody = format!("http://{}", free_listen_address());
    let (ok, _, err) = control_command(vec!["--url".into(), nobody, "stats".into()]).await;
    assert!(!ok);
    assert!(
        err.contains("cannot reach the control endpoint") && err.lines().count() == 1,
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_show_each_question_as_it_is_answered_with_its_messages() {
    let c = controlled(&["127.0.0.0/8"]).await;
    let url = format!("{}/events", c.url);
    // A watcher reading the stream until it has seen two answers.
    let watcher = watch_events(url, 2);
    // Asked once someone watches (the stream is open).
    until_watched(&c.local.resolver).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    let events = watcher.await.expect("the watcher");
    let walked = &events[0];
    assert_eq!(walked["name"], "gaia.cs.umass.edu.");
    assert_eq!(walked["rcode"], "NOERROR");
    assert_eq!(walked["cached"], false);
    let kinds: Vec<&str> = walked["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["kind"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        kinds,
        ["query", "referral", "query", "referral", "query", "answer"],
        "{walked}"
    );
    assert_eq!(
        walked["messages"][5]["answer"][0],
        "gaia.cs.umass.edu. 600 A 128.119.245.12"
    );
    let again = &events[1];
    assert_eq!(again["cached"], true);
    assert_eq!(again["messages"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_control_watch_prints_each_walk_as_the_trace_does() {
    use std::io::BufRead;
    let c = controlled(&["127.0.0.0/8"]).await;
    let mut child = Process(
        std::process::Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["control", "--url", &c.url, "watch"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("resolver control watch runs"),
    );
    let stdout = child.0.stdout.take().expect("its output");
    let lines = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take_while(|line| !line.starts_with("6 messages"))
            .collect::<Vec<_>>()
    });
    until_watched(&c.local.resolver).await;
    c.local.ask("gaia.cs.umass.edu.", RecordType::A).await;
    let lines = tokio::time::timeout(Duration::from_secs(10), lines)
        .await
        .expect("the walk printed in time")
        .expect("the reader");
    let text = lines.join("\n");
    assert!(
        text.contains("asks gaia.cs.umass.edu. A: NOERROR, 3 upstream queries"),
        "{text}"
    );
    assert!(
        text.contains("referral  edu. 172800 NS a.edu-servers.net."),
        "{text}"
    );
    assert!(
        text.contains("answer    gaia.cs.umass.edu. 600 A 128.119.245.12 (authoritative)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_page_is_served_whole_and_each_event_carries_its_figure() {
    let c = controlled(&["127.0.0.0/8"]).await;
    let (local, url) = (&c.local, c.url.clone());
    let (status, page) = http("GET", format!("{url}/")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("new EventSource(\"/events\")"),
        "the page watches /events"
    );
    for remote in ["http://", "https://", "src=", "//cdn"] {
        assert!(
            !page.contains(remote),
            "nothing fetched from elsewhere: {remote}"
        );
    }
    // A watcher of /events, then the page's own ask: the event carries the walk drawn.
    let watcher = watch_events(format!("{url}/events"), 1);
    until_watched(&local.resolver).await;
    let (status, body) = http("POST", format!("{url}/ask?name=gaia.cs.umass.edu&type=A")).await;
    assert_eq!(status, 200, "{body}");
    let asked: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(asked["rcode"], "NOERROR");
    assert_eq!(
        asked["answers"][0],
        "gaia.cs.umass.edu. 600 A 128.119.245.12"
    );
    let events = watcher.await.expect("the watcher");
    let event = events.first().expect("an answer event");
    let svg = event["svg"].as_str().expect("a figure");
    let document = roxmltree::Document::parse(svg).expect("the figure is well-formed SVG");
    let messages = document
        .descendants()
        .filter(|node| {
            node.attribute("class")
                .is_some_and(|class| class.split(' ').any(|c| c == "message"))
        })
        .count();
    assert_eq!(
        messages, 8,
        "the client's query, the walk's six messages, the answer"
    );
    let (status, _) = http("POST", format!("{url}/ask")).await;
    assert_eq!(status, 400, "no name: a clear error");
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_serve_counts_what_the_labs_servers_answered_by_zone() {
    let dir = tempfile::tempdir().expect("a folder");
    let folder = dir.path().to_path_buf();
    // Outside the runtime: it makes one of its own to find a free lab port.
    let path = tokio::task::spawn_blocking(move || lab_config_file(&folder))
        .await
        .expect("the config's thread");
    let listen = free_listen_address();
    let control = free_listen_address();
    let mut text = std::fs::read_to_string(&path).expect("the config");
    // The walk's messages alone, without validation's DS and DNSKEY queries.
    text += &format!(
        "[server]\nlisten = [\"{listen}\"]\n[control]\nlisten = \"{control}\"\n[dnssec]\nvalidate = false\n"
    );
    std::fs::write(&path, text).expect("write the config");
    let _serve = start_serve(&path, listen).await;
    ask_recursive(listen, "gaia.cs.umass.edu.", RecordType::A).await;
    ask_recursive(listen, "nosuch.umass.edu.", RecordType::A).await;
    let (status, text) = http("GET", format!("http://{control}/metrics")).await;
    assert_eq!(status, 200);
    let answered = |zone: &str, rcode: &str| {
        sample(
            &text,
            &format!("resolver_authoritative_queries_total{{zone=\"{zone}\",rcode=\"{rcode}\"}}"),
        )
    };
    assert_eq!(answered("umass.edu.", "NOERROR"), Some(1.0), "{text}");
    assert_eq!(answered("umass.edu.", "NXDOMAIN"), Some(1.0), "{text}");
    assert_eq!(
        answered("edu.", "NOERROR"),
        Some(1.0),
        "one referral: {text}"
    );
    assert!(answered(".", "NOERROR").is_some(), "{text}");
}
