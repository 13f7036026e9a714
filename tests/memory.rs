//! Memory bounded in bytes: `[cache] size` holds however large the RRsets
//! and however many the names (the real binary, its resident memory read
//! from /proc). The only test in its binary, so nothing else runs beside it.

mod common;

use common::*;
use futures::StreamExt;
use hickory_proto::rr::RecordType;

/// Resident memory of a process, in bytes (`VmRSS` in /proc/PID/status).
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// Asks `count` distinct names under big.test. from `first` on, ten at a
/// time; says how many were answered NOERROR. A name that is not is asked
/// once more, as a stub resolver would (on a loaded machine an upstream
/// exchange can time out: that is not what this test measures).
async fn ask_names(server: std::net::SocketAddr, first: usize, count: usize) -> usize {
    let answered = |name: String| async move {
        let reply = ask_recursive(server, &name, RecordType::TXT).await;
        reply.response_code == hickory_proto::op::ResponseCode::NoError
    };
    futures::stream::iter(first..first + count)
        .map(|i| async move {
            let name = format!("h{i}.big.test.");
            answered(name.clone()).await || answered(name).await
        })
        .buffer_unordered(10)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn large_rrsets_under_many_names_stay_within_the_cache_size() {
    // Every name under big.test. has a TXT RRset of about 3 KB (over TCP).
    let strings: Vec<String> = (b'a'..=b'l')
        .map(|c| (c as char).to_string().repeat(250))
        .collect();
    let mut records: Vec<(&str, &str, &str, u32)> = Vec::new();
    for text in &strings {
        records.push(("*", "TXT", text, 3600));
    }
    let root = root_zone(&[("big.test.", "ns.big.test.", Some("127.0.8.90"))]);
    let big = served_zone("big.test.", "127.0.8.90", &records);
    let dir = zone_dir(&[("root.toml", &root), ("big.toml", &big)]);
    let lab = Lab::start_dir(dir.path());

    let listen = free_listen_address();
    let config_dir = tempfile::tempdir().expect("a folder");
    let path = config_dir.path().join("resolver.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = [\"{listen}\"]\n[resolver]\nroots = [\"127.0.8.1\"]\nport = {}\n\
             [cache]\nsize = \"16M\"\n[log]\nlevel = \"error\"\n",
            lab.port
        ),
    )
    .expect("write");
    let child = start_serve(&path, listen).await;

    // Idle size: started, the delegations cached, the code paths warm.
    assert_eq!(ask_names(listen, 0, 500).await, 500);
    let idle = resident(child.0.id());
    let names = 20_000;
    let answered = ask_names(listen, 500, names).await;
    let after = resident(child.0.id());
    let grown = after.saturating_sub(idle);
    println!(
        "{answered} of {names} names of ~3 KB RRsets: resident {} KiB idle, {} KiB after (+{} KiB; size 16 MiB)",
        idle / 1024,
        after / 1024,
        grown / 1024
    );
    assert_eq!(answered, names, "every question answered: none lost");
    assert!(
        after < idle + (16 << 20),
        "resident {after} bytes after, {idle} idle: more than 16 MiB above idle"
    );
}
