//! The failure cache (RFC 9520): a question whose resolution failed because
//! no server of a zone answered usefully is answered SERVFAIL from here for
//! a short while, instead of walking to the same dead servers again for
//! every client that asks it.
//!
//! ```text
//! client ─▶ Service: cache miss ─▶ failure cache: held → SERVFAIL (EDE "cached")
//!                                  └─ not held → shared resolution
//!                                       ├─ ServersFailed → held for 5 s, 10, 20, 30 … (RFC 9520 §3.2)
//!                                       └─ anything else → forgotten
//! ```
//!
//! Only a failure of the servers is held ([`ResolveError::ServersFailed`]:
//! every server unreachable, timed out, lame or malformed, or no address
//! for any). A spent budget (deadline, query count, referral or chain
//! limits) says as much about the question's bounds as about the servers,
//! and a contained panic is our bug: neither is held, so the next client
//! walks again.

use std::time::Duration;

use moka::sync::Cache as MokaCache;
use tokio::time::Instant;

use super::ResolveError;
use crate::names::QuestionKey;

/// The hold of a question's first failure (RFC 9520 §3.2 suggests 5 s).
pub const FIRST_HOLD: Duration = Duration::from_secs(5);

/// The longest hold, however often the question fails (RFC 9520 §3.2
/// allows up to 5 minutes; a dead server that comes back is used within 30 s).
pub const MAX_HOLD: Duration = Duration::from_secs(30);

/// How long after its hold ends a failure still counts as a repeat: a
/// question failing again within this doubles its hold (RFC 9520 §3.2).
pub const REPEAT_WINDOW: Duration = MAX_HOLD;

/// Questions held at most (RFC 9520 §3.4: the cache must be bounded);
/// moka evicts the least used beyond.
pub const MAX_ENTRIES: u64 = 10_000;

/// The key of a held failure: the question (RFC 9520 §3.1: name, type;
/// the class is always IN, the only one the resolver serves).
type Question = QuestionKey;

/// One held failure.
#[derive(Debug, Clone)]
struct Held {
    /// When clients stop being answered from it (on [`crate::clock`]).
    until: Instant,
    /// How long it was held for, to double on a repeat.
    hold: Duration,
    /// Why the resolution failed.
    error: ResolveError,
}

/// Resolution failures held for a short while (RFC 9520 §3); cheap to clone (shared).
#[derive(Clone)]
pub struct FailureCache {
    entries: MokaCache<Question, Held, ahash::RandomState>,
}

impl Default for FailureCache {
    fn default() -> Self {
        FailureCache {
            entries: MokaCache::builder()
                .max_capacity(MAX_ENTRIES)
                // On moka's own clock: a bound on memory only; every read
                // checks the entry's hold against the resolver's clock.
                .time_to_live(MAX_HOLD + REPEAT_WINDOW)
                .build_with_hasher(ahash::RandomState::new()),
        }
    }
}

impl FailureCache {
    /// True for the failures that are held: those of the servers, not of
    /// the question's budget or of our own code (RFC 9520 §2, §3.1).
    pub fn holds(error: &ResolveError) -> bool {
        matches!(error, ResolveError::ServersFailed { .. })
    }

    /// Remembers that the question `key` failed at `now` with `error`, if
    /// it is a failure that is held; returns the hold: [`FIRST_HOLD`], or
    /// twice the last one on a repeat, at most [`MAX_HOLD`] (RFC 9520 §3.2).
    pub fn insert(
        &self,
        key: &QuestionKey,
        error: &ResolveError,
        now: Instant,
    ) -> Option<Duration> {
        if !Self::holds(error) {
            return None;
        }
        let hold = match self.entries.get(key) {
            Some(last) if now < last.until + REPEAT_WINDOW => (last.hold * 2).min(MAX_HOLD),
            _ => FIRST_HOLD,
        };
        let held = Held {
            until: now + hold,
            hold,
            error: error.clone(),
        };
        self.entries.insert(key.clone(), held);
        Some(hold)
    }

    /// The held failure of the question `key` at `now`, as the error a
    /// client is answered SERVFAIL with; `None` when not held.
    pub fn lookup(&self, key: &QuestionKey, now: Instant) -> Option<ResolveError> {
        let held = self.entries.get(key)?;
        let left = held.until.checked_duration_since(now)?;
        (!left.is_zero()).then(|| ResolveError::FailureCached {
            seconds_left: left.as_secs_f64().ceil() as u64,
            error: Box::new(held.error.clone()),
        })
    }

    /// Forgets the question `key`: it was resolved, so a later failure is a first one.
    pub fn remove(&self, key: &QuestionKey) {
        // Every resolution that succeeds comes here; few were ever held.
        if self.entries.contains_key(key) {
            self.entries.invalidate(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::error::Failure;
    use hickory_proto::rr::{Name, RecordType};

    fn servers_failed() -> ResolveError {
        ResolveError::ServersFailed {
            zone: Name::root(),
            server: None,
            failure: Failure::Timeout,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_failure_is_held_twice_as_long_up_to_the_limit() {
        let cache = FailureCache::default();
        let key = QuestionKey::new(
            &Name::from_ascii("down.test.").expect("valid"),
            RecordType::A,
        );
        let mut now = Instant::now();
        let mut holds = Vec::new();
        for _ in 0..6 {
            let hold = cache.insert(&key, &servers_failed(), now);
            let hold = hold.expect("a failure of the servers is held");
            assert!(
                cache
                    .lookup(&key, now + hold - Duration::from_millis(1))
                    .is_some()
            );
            assert!(cache.lookup(&key, now + hold).is_none());
            holds.push(hold.as_secs());
            now += hold;
        }
        assert_eq!(holds, [5, 10, 20, 30, 30, 30]);
        now += REPEAT_WINDOW;
        let hold = cache.insert(&key, &servers_failed(), now);
        assert_eq!(
            hold,
            Some(FIRST_HOLD),
            "a failure long after the last is a first one"
        );
    }

    #[test]
    fn budget_and_internal_failures_are_not_held() {
        let cache = FailureCache::default();
        let key = QuestionKey::new(
            &Name::from_ascii("slow.test.").expect("valid"),
            RecordType::A,
        );
        let now = Instant::now();
        for error in [
            ResolveError::Deadline(Duration::from_secs(4)),
            ResolveError::QueryBudget(48),
            ResolveError::ReferralLimit(16),
            ResolveError::CnameChain(10),
            ResolveError::Abandoned(crate::resolver::in_flight::Abandoned::Panicked),
        ] {
            assert_eq!(cache.insert(&key, &error, now), None, "{error}");
        }
        assert!(cache.lookup(&key, now).is_none());
    }

    #[test]
    fn names_differing_in_case_are_one_question() {
        let cache = FailureCache::default();
        let now = Instant::now();
        let upper = Name::from_ascii("DOWN.test.").expect("valid");
        let lower = Name::from_ascii("down.TEST.").expect("valid");
        cache.insert(
            &QuestionKey::new(&upper, RecordType::A),
            &servers_failed(),
            now,
        );
        assert!(
            cache
                .lookup(&QuestionKey::new(&lower, RecordType::A), now)
                .is_some()
        );
        assert!(
            cache
                .lookup(&QuestionKey::new(&lower, RecordType::AAAA), now)
                .is_none(),
            "another type"
        );
        cache.remove(&QuestionKey::new(&lower, RecordType::A));
        assert!(
            cache
                .lookup(&QuestionKey::new(&upper, RecordType::A), now)
                .is_none()
        );
    }
}
