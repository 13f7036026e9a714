//! The clock TTLs are measured on: tokio's (so tests can pause and advance
//! it), plus a shift that only makes time pass faster, never slower.
//!
//! The shift exists for replay scenarios whose steps say "an hour passes"
//! (TIME_PASSES in the .rpl language): a test harness asks a running
//! `resolver serve` to jump ahead (see [`shift_on_signal`]). Nothing else
//! moves it, so in normal operation this is tokio's clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Seconds added to tokio's clock.
static SHIFT_SECONDS: AtomicU64 = AtomicU64::new(0);

/// The environment variable naming the file a harness writes a number of
/// seconds to before sending SIGUSR2.
pub const SHIFT_FILE_VARIABLE: &str = "RESOLVER_TIME_SHIFT_FILE";

/// Now, for TTLs and expiries.
pub fn now() -> Instant {
    Instant::now() + Duration::from_secs(SHIFT_SECONDS.load(Ordering::Relaxed))
}

/// Makes `by` pass at once.
pub fn shift(by: Duration) {
    SHIFT_SECONDS.fetch_add(by.as_secs(), Ordering::Relaxed);
}

/// When [`SHIFT_FILE_VARIABLE`] names a file, waits for SIGUSR2 and each
/// time moves the clock ahead by the seconds written in the file, then
/// empties it (the harness's acknowledgement). Otherwise returns at once.
pub async fn shift_on_signal() {
    let Some(file) = std::env::var_os(SHIFT_FILE_VARIABLE).map(PathBuf::from) else {
        return;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut user2) = signal(SignalKind::user_defined2()) else {
            return;
        };
        while user2.recv().await.is_some() {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if let Ok(seconds) = text.trim().parse::<u64>() {
                shift(Duration::from_secs(seconds));
                tracing::info!("the clock moved ahead {seconds} s (replay test)");
            }
            let _ = std::fs::write(&file, "");
        }
    }
}
