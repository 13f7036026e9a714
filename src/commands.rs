//! The subcommands of the `resolver` binary, one function each, so that
//! `main.rs` stays a thin shell and tests can call the same code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::lab::BoundLab;
use crate::zone::ZoneSet;

/// `resolver check DIR`: validate and summarise; an error lists every problem.
pub fn check(dir: &Path) -> Result<String> {
    let zones = ZoneSet::load_dir(dir)?;
    Ok(crate::check::summary(&zones))
}

/// The zone folder and port `auth` serves: the command line's, else `[lab]`'s.
pub fn lab_settings(
    config: &Config,
    zones: Option<PathBuf>,
    port: Option<u16>,
) -> Result<(PathBuf, u16)> {
    let lab = config.lab.as_ref();
    let zones = zones
        .or_else(|| lab.map(|lab| lab.zones.clone()))
        .context("no zone folder: give --zones or a [lab] section in the configuration")?;
    let port = port.or(lab.map(|lab| lab.port)).unwrap_or(5300);
    Ok((zones, port))
}

/// `resolver auth`: serve every zone of the folder on its nameservers'
/// addresses until SIGINT or SIGTERM.
pub async fn auth(zones_dir: &Path, port: u16) -> Result<()> {
    let zones = ZoneSet::load_dir(zones_dir)?;
    let lab = BoundLab::bind(&zones, port)?;
    for (address, origins) in lab.addresses() {
        tracing::info!("serving {} on {address} (UDP and TCP)", origins.join(" "));
    }
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    lab.serve(None, &shutdown, &tasks);
    shutdown_signal().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
