//! The resolver under test: the real `resolver serve` binary, one fresh
//! process per scenario, configured from the scenario, killed (by its PID)
//! when dropped, its log kept for failure reports.

use std::fmt::Write as _;
use std::fs::File;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tempfile::TempDir;
use tokio::net::UdpSocket;
use tokio::time::{Instant, sleep, timeout_at};

/// How long the resolver may take to start answering.
const STARTUP: Duration = Duration::from_secs(10);
/// The `[resolver] query_timeout` of the scenarios, in seconds: fake
/// servers answer at once or never.
const QUERY_TIMEOUT: f64 = 0.3;

/// What the resolver's configuration file says.
pub struct Settings {
    /// The port it listens on at 127.0.0.1.
    pub listen_port: u16,
    /// The port it sends every upstream query to.
    pub upstream_port: u16,
    /// The root servers (the scenario's stub for "."); none: the IANA hints,
    /// as Unbound's built-in ones when a scenario configures no root.
    pub roots: Vec<IpAddr>,
    /// `[[stub]]` zones (the scenario's `stub-zone:` clauses below the root).
    pub stubs: Vec<(Name, Vec<IpAddr>)>,
    /// `[[forward]]` zones (the scenario's `forward-zone:` clauses).
    pub forwards: Vec<(Name, Vec<IpAddr>)>,
    /// `[cache] min_ttl`, when the scenario sets it.
    pub min_ttl: Option<u32>,
    /// `[cache] max_ttl`, when the scenario sets it.
    pub max_ttl: Option<u32>,
    /// `[cache] max_negative_ttl`, when the scenario sets it.
    pub max_negative_ttl: Option<u32>,
    /// `[cache] min_negative_ttl`, when the scenario sets it.
    pub min_negative_ttl: Option<u32>,
    /// `[resolver] qname_minimisation`.
    pub qname_minimisation: bool,
    /// `[server] minimal_responses`.
    pub minimal_responses: bool,
    /// `[resolver] ipv6` (the scenario's `do-ip6:`).
    pub ipv6: bool,
    /// `[dnssec] trust_anchors` (the scenario's `trust-anchor:` lines);
    /// none: no validation, as Unbound without an anchor.
    pub trust_anchors: Vec<String>,
    /// `[dnssec] date` (the scenario's `val-override-date:`).
    pub validation_date: Option<String>,
}

impl Settings {
    /// `resolver.toml` for these settings (every key this runner relies on is spelled out).
    fn toml(&self) -> String {
        let roots = match self.roots.as_slice() {
            [] => "\"iana\"".to_string(),
            roots => format!("[{}]", quoted(roots)),
        };
        // The fake servers live on private addresses; no 0x20, as in testbound.
        let mut text = format!(
            "[server]\nlisten = [\"127.0.0.1:{}\"]\nallow = [\"127.0.0.0/8\"]\n\
             minimal_responses = {}\n\n\
             [resolver]\nroots = {roots}\nport = {}\nquery_timeout = {QUERY_TIMEOUT}\n\
             qname_minimisation = {}\nipv6 = {}\nprivate_nameservers = true\nrandomize_case = false\n\n\
             [log]\nqueries = true\nlevel = \"debug\"\n\n",
            self.listen_port,
            self.minimal_responses,
            self.upstream_port,
            self.qname_minimisation,
            self.ipv6,
        );
        let tables = [("stub", &self.stubs), ("forward", &self.forwards)];
        for (table, zones) in tables {
            for (zone, addresses) in zones {
                let _ = writeln!(
                    text,
                    "[[{table}]]\nzone = \"{zone}\"\naddresses = [{}]\n",
                    quoted(addresses)
                );
            }
        }
        text.push_str("[dnssec]\n");
        match self.trust_anchors.is_empty() {
            true => text.push_str("validate = false\n"),
            false => {
                let anchors: Vec<String> =
                    self.trust_anchors.iter().map(|a| toml_string(a)).collect();
                let _ = writeln!(text, "trust_anchors = [{}]", anchors.join(", "));
            }
        }
        if let Some(date) = &self.validation_date {
            let _ = writeln!(text, "date = {}", toml_string(date));
        }
        text.push_str("\n[cache]\n");
        let bounds = [
            ("min_ttl", self.min_ttl),
            ("max_ttl", self.max_ttl),
            ("max_negative_ttl", self.max_negative_ttl),
            ("min_negative_ttl", self.min_negative_ttl),
        ];
        for (key, value) in bounds {
            if let Some(value) = value {
                let _ = writeln!(text, "{key} = {value}"); // writing to a String cannot fail
            }
        }
        text
    }
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Addresses as a TOML list's items: `"192.0.2.1", "192.0.2.2"`.
fn quoted(addresses: &[IpAddr]) -> String {
    let quoted: Vec<String> = addresses.iter().map(|a| format!("\"{a}\"")).collect();
    quoted.join(", ")
}

/// A running `resolver serve`; killed when dropped.
pub struct ResolverProcess {
    child: Child,
    address: SocketAddr,
    log_path: PathBuf,
    clock_path: PathBuf,
    _folder: TempDir,
}

impl ResolverProcess {
    /// Writes the configuration to a temporary folder and starts the binary,
    /// its stderr (the log) going to a file beside it.
    pub fn start(settings: &Settings) -> io::Result<Self> {
        let folder = tempfile::tempdir()?;
        let config_path = folder.path().join("resolver.toml");
        std::fs::write(&config_path, settings.toml())?;
        let log_path = folder.path().join("resolver.log");
        let clock_path = folder.path().join("clock");
        let child = Command::new(env!("CARGO_BIN_EXE_resolver"))
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log_path)?)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env(resolver::clock::SHIFT_FILE_VARIABLE, &clock_path)
            .spawn()?;
        Ok(ResolverProcess {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], settings.listen_port)),
            log_path,
            clock_path,
            _folder: folder,
        })
    }

    /// Waits until the resolver answers a query it can answer without
    /// sending any (no RD, nothing cached: REFUSED at once).
    pub async fn wait_until_answering(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        let mut probe = Message::query();
        probe.add_query(Query::query(Name::root(), RecordType::SOA));
        let probe = probe.to_vec().map_err(|e| e.to_string())?;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the resolver exited at start-up: {status}"));
            }
            if self.ask(&probe, Duration::from_millis(100)).await.is_ok() {
                return Ok(());
            }
            sleep(Duration::from_millis(20)).await;
        }
        Err(format!("the resolver did not answer within {STARTUP:?}"))
    }

    /// Sends a query over UDP and waits up to `wait` for its reply, as a
    /// stub does: a datagram from another address, with another ID, or
    /// for another question is not the reply and waiting goes on. Scenarios
    /// run side by side and a client's port is soon another's, so a late
    /// reply to an earlier client (a RAW packet's FORMERR, a probe's
    /// REFUSED) can reach this socket first.
    pub async fn ask(&self, query: &[u8], wait: Duration) -> Result<Message, String> {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot bind a client socket: {e}"))?;
        socket
            .send_to(query, self.address)
            .await
            .map_err(|e| format!("cannot send to {}: {e}", self.address))?;
        let asked = Message::from_vec(query).ok();
        let deadline = Instant::now() + wait;
        let mut buffer = vec![0u8; 65_535];
        loop {
            let (received, source) = timeout_at(deadline, socket.recv_from(&mut buffer))
                .await
                .map_err(|_| format!("no answer within {wait:?}"))?
                .map_err(|e| format!("cannot receive: {e}"))?;
            let reply = &buffer[..received];
            if source != self.address || !same_id(query, reply) {
                continue;
            }
            let answer = Message::from_vec(reply)
                .map_err(|e| format!("unreadable answer ({received} bytes): {e}"))?;
            let other_question = asked
                .as_ref()
                .is_some_and(|asked| !answer.queries.is_empty() && answer.queries != asked.queries);
            if !other_question {
                return Ok(answer);
            }
        }
    }

    /// Sends a packet over UDP without waiting for anything (Deckard's RAW queries).
    pub async fn send(&self, packet: &[u8]) -> Result<(), String> {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot bind a client socket: {e}"))?;
        socket
            .send_to(packet, self.address)
            .await
            .map(drop)
            .map_err(|e| format!("cannot send to {}: {e}", self.address))
    }

    /// TIME_PASSES: moves the resolver's clock ahead by the whole seconds
    /// (written to its clock file, then SIGUSR2; it empties the file when
    /// done) and sleeps for the fraction.
    pub async fn pass_time(&self, seconds: f64) -> Result<(), String> {
        let whole = seconds.trunc() as u64;
        if whole > 0 {
            std::fs::write(&self.clock_path, whole.to_string())
                .map_err(|e| format!("cannot write the clock file: {e}"))?;
            let status = Command::new("kill")
                .args(["-USR2", &self.child.id().to_string()])
                .status()
                .map_err(|e| format!("cannot run kill: {e}"))?;
            if !status.success() {
                return Err("the resolver did not take SIGUSR2".to_string());
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            while std::fs::read_to_string(&self.clock_path).is_ok_and(|t| !t.is_empty()) {
                if Instant::now() > deadline {
                    return Err("the resolver did not move its clock".to_string());
                }
                sleep(Duration::from_millis(5)).await;
            }
        }
        sleep(Duration::from_secs_f64(seconds.fract())).await;
        Ok(())
    }

    /// What the resolver has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }
}

/// True when `reply` carries the ID of `query` (or either is too short to carry one).
fn same_id(query: &[u8], reply: &[u8]) -> bool {
    match (query.get(..2), reply.get(..2)) {
        (Some(asked), Some(answered)) => asked == answered,
        _ => true,
    }
}

impl Drop for ResolverProcess {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL to this PID; it may have exited already
        let _ = self.child.wait();
    }
}
