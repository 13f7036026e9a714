//! `resolver serve` as a process: start-up errors that name what is wrong,
//! and a SIGTERM that lets questions in progress finish.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RecordType};

/// Runs `resolver serve --config PATH` and returns its exit status and standard error.
fn serve_fails(config: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_resolver"))
        .args(["serve", "--config"])
        .arg(config)
        .output()
        .expect("resolver serve runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_missing_configuration_names_the_path_tried() {
    let (ok, stderr) = serve_fails(Path::new("/nonexistent/resolver.toml"));
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/resolver.toml"), "{stderr}");
}

#[test]
fn an_unknown_key_is_named_with_its_file() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("resolver.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = [\"127.0.0.1:0\"]\n\n[resolver]\nrootz = \"iana\"\n",
    )
    .expect("write");
    let (ok, stderr) = serve_fails(&path);
    assert!(!ok);
    assert!(
        stderr.contains("rootz") && stderr.contains("resolver.toml"),
        "{stderr}"
    );
}

#[test]
fn a_bad_zone_folder_stops_start_up_naming_file_and_record() {
    let zones = zone_dir(&[(
        "bad.toml",
        &(served_zone("bad.test.", "127.0.8.70", &[])
            + "[[records]]\nname = \"www\"\ntype = \"A\"\nvalue = \"300.1.2.3\"\n"),
    )]);
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("resolver.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[lab]\nzones = \"{}\"\nport = 0\n",
            zones.path().display()
        ),
    )
    .expect("write");
    let (ok, stderr) = serve_fails(&path);
    assert!(!ok);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("record 3") && stderr.contains("300.1.2.3"),
        "{stderr}"
    );
}

/// Kills the child on drop, whatever happens.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_questions_in_progress_finish() {
    let slow = Mock::start(
        "127.0.8.71",
        0,
        script(|q| {
            vec![
                Action::Wait(Duration::from_millis(500)),
                Action::Reply(authoritative(q, vec![mock::a(&qname(q), [192, 0, 2, 71])])),
            ]
        }),
    )
    .await;
    let listen = std::net::UdpSocket::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("bound");
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("resolver.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"{listen}\"]\n[resolver]\nroots = [\"127.0.8.71\"]\nport = {}\n",
            slow.address.port()
        ),
    )
    .expect("write");
    let mut child = Process(
        Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["serve", "--config"])
            .arg(&path)
            .stderr(Stdio::null())
            .spawn()
            .expect("start resolver serve"),
    );
    // Wait until it answers (a CH query needs no upstream: REFUSED at once).
    let mut probe = query_message(&name("version.bind."), RecordType::TXT, &Ask::default());
    probe.queries[0].query_class = DNSClass::CH;
    let bytes = probe.to_vec().expect("encodes");
    let mut up = false;
    for _ in 0..100 {
        if exchange_udp_bytes(listen, &bytes, Duration::from_millis(50))
            .await
            .is_some()
        {
            up = true;
            break;
        }
    }
    assert!(up, "resolver serve answers once started");

    let asking = tokio::spawn(ask_recursive(listen, "www.slow.test.", RecordType::A));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let reply = asking.await.expect("the client task");
    assert_eq!(
        reply.response_code,
        ResponseCode::NoError,
        "answered despite SIGTERM"
    );
    assert_eq!(addresses(&reply.answers), ["192.0.2.71"]);
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.0.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}
