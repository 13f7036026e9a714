//! Questions being resolved, shared by every client that asks them
//! meanwhile (as Unbound's mesh does): one resolution per name and type.
//!
//! ```text
//! client ─▶ join(key) ─┬─ in progress: wait on it
//!                      └─ new: start it, bounded ─▶ value | panic → failed(Panicked)
//!                                                         | overrun → failed(Overran)
//!                         ─▶ every waiter gets the value; the entry leaves the map
//! ```
//!
//! A resolution is a bounded task whatever happens inside it: a bug that
//! panics or a walk that overruns its deadline becomes a failure value for
//! everyone waiting on it, and its entry is removed, so that the next client
//! asking the same question starts afresh instead of meeting a poisoned
//! future that never wakes anyone.

use std::collections::HashMap;
use std::hash::Hash;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared, WeakShared};

/// Why a resolution in progress ended without its own result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Abandoned {
    /// The resolution panicked (a bug); the panic was contained.
    #[error("the resolution failed on an internal error")]
    Panicked,
    /// The resolution ran past its bound.
    #[error("the resolution ran past its deadline of {0:?}")]
    Overran(Duration),
}

/// A resolution that several clients may wait on.
pub type Joined<V> = Shared<BoxFuture<'static, V>>;

/// The map's entries: an entry's number (so that a finished resolution
/// removes its own entry only) and a weak handle, so that the map alone
/// keeps no resolution alive.
type Entries<K, V> =
    Arc<Mutex<HashMap<K, (u64, WeakShared<BoxFuture<'static, V>>), ahash::RandomState>>>;

/// Resolutions in progress, by question; cheap to clone (shared).
pub struct InFlight<K, V: Clone> {
    entries: Entries<K, V>,
    numbers: Arc<AtomicU64>,
}

impl<K, V: Clone> Clone for InFlight<K, V> {
    fn clone(&self) -> Self {
        InFlight {
            entries: self.entries.clone(),
            numbers: self.numbers.clone(),
        }
    }
}

impl<K, V: Clone> Default for InFlight<K, V> {
    fn default() -> Self {
        InFlight {
            entries: Arc::new(Mutex::new(HashMap::default())),
            numbers: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<K, V> InFlight<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The resolution of `key`: the one in progress, or `start()` run as a
    /// new one, bounded by `limit`; a panic or an overrun gives `failed(why)`.
    ///
    /// The entry goes when the resolution ends, or when every waiter has
    /// dropped it (a client that went away cancels nothing others wait on).
    pub fn join(
        &self,
        key: K,
        limit: Duration,
        start: impl FnOnce() -> BoxFuture<'static, V>,
        failed: fn(Abandoned) -> V,
    ) -> Joined<V> {
        // The lock guards a map operation only, never an await.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = entries.get(&key).and_then(|(_, weak)| weak.upgrade()) {
            return existing;
        }
        let number = self.numbers.fetch_add(1, Ordering::Relaxed);
        let leave = Entry {
            entries: self.entries.clone(),
            key: key.clone(),
            number,
        };
        let work = start();
        let resolution = async move {
            let _leave = leave;
            match tokio::time::timeout(limit, AssertUnwindSafe(work).catch_unwind()).await {
                Ok(Ok(value)) => value,
                Ok(Err(_)) => {
                    tracing::error!(
                        "a resolution panicked: answered SERVFAIL (a bug: please report it)"
                    );
                    failed(Abandoned::Panicked)
                }
                Err(_) => failed(Abandoned::Overran(limit)),
            }
        }
        .boxed()
        .shared();
        // A Shared that has not panicked always has a weak handle.
        if let Some(weak) = resolution.downgrade() {
            entries.insert(key, (number, weak));
        }
        resolution
    }

    /// How many questions are being resolved.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when nothing is being resolved.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes a question from the map when its resolution ends or is dropped.
struct Entry<K: Eq + Hash, V: Clone> {
    entries: Entries<K, V>,
    key: K,
    number: u64,
}

impl<K: Eq + Hash, V: Clone> Drop for Entry<K, V> {
    fn drop(&mut self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries
            .get(&self.key)
            .is_some_and(|(n, _)| *n == self.number)
        {
            entries.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Result = std::result::Result<u32, Abandoned>;

    fn failed(why: Abandoned) -> Result {
        Err(why)
    }

    #[tokio::test]
    async fn a_panicking_resolution_fails_for_every_waiter_and_the_next_starts_afresh() {
        let in_flight: InFlight<&str, Result> = InFlight::default();
        let starts = Arc::new(AtomicUsize::new(0));
        let start = |starts: Arc<AtomicUsize>| {
            move || {
                async move {
                    if starts.fetch_add(1, Ordering::SeqCst) == 0 {
                        tokio::task::yield_now().await;
                        panic!("a bug in the walk");
                    }
                    Ok(7)
                }
                .boxed()
            }
        };
        let limit = Duration::from_secs(5);
        let first = in_flight.join("q", limit, start(starts.clone()), failed);
        let second = in_flight.join("q", limit, start(starts.clone()), failed);
        assert_eq!(in_flight.len(), 1, "the second client joins the first");
        let (a, b) = tokio::join!(first, second);
        assert_eq!((a, b), (Err(Abandoned::Panicked), Err(Abandoned::Panicked)));
        assert!(in_flight.is_empty(), "the entry leaves with the panic");
        let again = in_flight
            .join("q", limit, start(starts.clone()), failed)
            .await;
        assert_eq!(again, Ok(7), "the same question, asked again, is resolved");
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        assert!(in_flight.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_resolution_past_its_bound_fails_and_leaves() {
        let in_flight: InFlight<&str, Result> = InFlight::default();
        let limit = Duration::from_secs(3);
        let stuck = || futures::future::pending::<Result>().boxed();
        let waiting = in_flight.join("q", limit, stuck, failed);
        assert_eq!(waiting.await, Err(Abandoned::Overran(limit)));
        assert!(in_flight.is_empty());
    }

    #[tokio::test]
    async fn a_resolution_nobody_waits_for_leaves_the_map() {
        let in_flight: InFlight<&str, Result> = InFlight::default();
        let stuck = || futures::future::pending::<Result>().boxed();
        drop(in_flight.join("q", Duration::from_secs(60), stuck, failed));
        assert!(in_flight.is_empty());
    }
}
