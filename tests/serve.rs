//! `resolver serve` as a process: start-up errors that name what is wrong,
//! and a SIGTERM that lets questions in progress finish.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::mock::{self, Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

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
    let listen = free_listen_address();
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
    let mut child = start_serve(&path, listen).await;

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

/// Sends SIGHUP to a child process.
fn hang_up(child: &Child) {
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_zones_without_dropping_queries() {
    let zones = zone_dir(&[(
        "reload.toml",
        &served_zone(
            "reload.test.",
            "127.0.8.80",
            &[("www", "A", "192.0.2.80", 60)],
        ),
    )]);
    let file = zones.path().join("reload.toml");
    let port = rand::random_range(32_100..32_700);
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let child = Process(
        Command::new(env!("CARGO_BIN_EXE_resolver"))
            .args(["auth", "--config"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("resolver.toml"))
            .arg("--zones")
            .arg(zones.path())
            .args(["--port", &port.to_string()])
            .stderr(log.reopen().expect("the log"))
            .spawn()
            .expect("start resolver auth"),
    );
    let server = std::net::SocketAddr::new(ip("127.0.8.80"), port);
    let probe = query_message(&name("www.reload.test."), RecordType::A, &Ask::default())
        .to_vec()
        .expect("encodes");
    assert!(
        answers_soon(server, &probe).await,
        "resolver auth answers once started"
    );
    assert_eq!(
        ask(server, "new.reload.test.", RecordType::A)
            .await
            .response_code,
        ResponseCode::NXDomain
    );

    // Queries go on all along; not one may be lost.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let asking = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let (mut asked, mut lost) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                asked += 1;
                if exchange_udp_bytes(server, &probe, Duration::from_secs(1))
                    .await
                    .is_none()
                {
                    lost += 1;
                }
            }
            (asked, lost)
        })
    };
    let updated = served_zone(
        "reload.test.",
        "127.0.8.80",
        &[
            ("www", "A", "192.0.2.80", 60),
            ("new", "A", "192.0.2.81", 60),
        ],
    );
    std::fs::write(&file, updated).expect("rewrite the zone");
    for _ in 0..5 {
        hang_up(&child.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut reloaded = false;
    for _ in 0..40 {
        if addresses(&ask(server, "new.reload.test.", RecordType::A).await.answers)
            == ["192.0.2.81"]
        {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "the new record is served after SIGHUP");

    // An invalid zone keeps the old data and says why.
    std::fs::write(
        &file,
        "origin = \"reload.test.\"\n[[records]]\nname = \"x\"\ntype = \"A\"\nvalue = \"1.2.3\"\n",
    )
    .expect("break the zone");
    hang_up(&child.0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        addresses(&ask(server, "new.reload.test.", RecordType::A).await.answers),
        ["192.0.2.81"]
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (asked, lost) = asking.await.expect("the asking task");
    assert!(asked > 10, "{asked} queries during the reloads");
    assert_eq!(lost, 0, "{lost} of {asked} queries lost during the reloads");
    let logged = std::fs::read_to_string(log.path()).expect("the log");
    assert!(
        logged.contains("kept the zones") && logged.contains("reload.toml"),
        "{logged}"
    );
}
