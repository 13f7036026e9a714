//! The log of SERVFAILs, summarised: the first of each interval is logged
//! at `warn` with the number left out before it, the rest at `debug`, so a
//! client that asks for failing names cannot flood the log.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::ResolveError;
use crate::server::Request;

/// At most one SERVFAIL line at `warn` per interval.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// When the last `warn` line went out, and the failures since then.
static LOGGED: Mutex<Option<(Instant, u64)>> = Mutex::new(None);

/// Logs one SERVFAIL: at `warn` if none was in the last [`INTERVAL`]
/// (saying how many were left out), else at `debug`.
pub fn report(request: &Request, error: &ResolveError) {
    let query = request.query();
    match due(Instant::now()) {
        Some(left_out) => tracing::warn!(
            name = %query.name,
            qtype = %query.query_type,
            left_out,
            "SERVFAIL: {error}"
        ),
        None => tracing::debug!(name = %query.name, qtype = %query.query_type, "SERVFAIL: {error}"),
    }
}

/// `Some(failures left out since the last line)` when a line is due at `now`.
fn due(now: Instant) -> Option<u64> {
    let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    match logged.as_mut() {
        Some((last, left_out)) if now.saturating_duration_since(*last) < INTERVAL => {
            *left_out += 1;
            None
        }
        Some((last, left_out)) => {
            let count = *left_out;
            (*last, *left_out) = (now, 0);
            Some(count)
        }
        None => {
            *logged = Some((now, 0));
            Some(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_failures_is_one_line_per_interval() {
        let start = Instant::now();
        let lines = (0..10_000)
            .filter(|i| due(start + Duration::from_millis(*i)).is_some())
            .count();
        assert_eq!(lines, 1, "one line in 10 s of failures");
        assert_eq!(due(start + INTERVAL + Duration::from_secs(1)), Some(9_999));
    }
}
