//! A private network namespace for the scenarios.
//!
//! Scenario servers use addresses that belong to others (193.0.14.129 is
//! K.ROOT-SERVERS.NET.). They are only ever used inside a namespace that
//! this test creates and that has no link but its own loopback: the test
//! re-runs itself under `unshare -rn` (a new user and network namespace),
//! brings `lo` up there and puts every scenario address on it. The
//! namespace, and every process in it, goes when the test process exits.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

/// Set in the re-run test process, which is inside the namespace.
const INSIDE: &str = "RESOLVER_IN_NETNS";

/// What to do when namespaces are not available.
const NEEDS: &str = "these tests need `unshare -rn` (util-linux) to create a user and network \
                     namespace: run them as root, or allow unprivileged user namespaces \
                     (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)";

/// True inside the namespace made by [`run_test_inside`].
pub fn inside() -> bool {
    std::env::var_os(INSIDE).is_some()
}

/// Re-runs test `test_name` of this test binary in a fresh namespace, prints
/// its output, and panics if it failed.
pub fn run_test_inside(test_name: &str) {
    let works = Command::new("unshare").args(["-rn", "true"]).output();
    match works {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "`unshare -rn true` failed ({}): {}\n{NEEDS}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => panic!("cannot run `unshare`: {error}\n{NEEDS}"),
    }
    let this_binary = std::env::current_exe().expect("the test binary knows its path");
    let output = Command::new("unshare")
        .arg("-rn")
        .arg(this_binary)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("unshare ran a moment ago");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "{test_name} failed inside its network namespace ({}); its output is above",
        output.status
    );
}

/// Brings `lo` up and adds `addresses` to it (127/8 and ::1 are there
/// already). IPv6 ones are optional: the resolver never sends to IPv6
/// nameservers, so a kernel without IPv6 only costs a warning. Refuses to
/// run outside the namespace.
pub fn add_addresses(addresses: &BTreeSet<IpAddr>) -> Result<(), String> {
    if !inside() {
        return Err(format!(
            "refusing to change interfaces outside the namespace ({INSIDE} unset)"
        ));
    }
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = addresses
        .iter()
        .filter(|a| !a.is_loopback())
        .partition(|a| a.is_ipv4());
    let mut commands = String::from("link set lo up\n");
    for address in v4 {
        commands.push_str(&format!("addr add {address}/32 dev lo\n"));
    }
    ip_batch(&commands)?;
    let v6_commands: String = v6
        .iter()
        .map(|address| format!("addr add {address}/128 dev lo nodad\n"))
        .collect();
    if let Err(error) = ip_batch(&v6_commands) {
        eprintln!("warning: no IPv6 scenario addresses ({error}); IPv6 fake servers are left out");
    }
    Ok(())
}

/// Runs `ip -batch -` with these commands.
fn ip_batch(commands: &str) -> Result<(), String> {
    let mut ip = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `ip` (iproute2): {e}"))?;
    ip.stdin
        .take()
        .expect("stdin was piped")
        .write_all(commands.as_bytes())
        .map_err(|e| format!("cannot talk to `ip`: {e}"))?;
    let output = ip
        .wait_with_output()
        .map_err(|e| format!("`ip` failed: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip -batch` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
