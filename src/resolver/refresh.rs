//! Refreshes in the background: a resolution that goes on after the client
//! that started it was answered (a stale answer, RFC 8767 §5; a prefetch).
//!
//! Bounded: at most [`MAX_REFRESHES`] at once and one per question; each is
//! a shared resolution (in_flight.rs), itself bounded by the question's
//! deadline, so a refresh task always ends.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use hickory_proto::rr::{Name, RecordType};

use crate::names::QuestionKey;

/// Background refreshes running at most at once; beyond, none is started.
pub const MAX_REFRESHES: usize = 64;

/// The questions being refreshed; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Refreshes {
    running: Arc<Mutex<HashSet<QuestionKey, ahash::RandomState>>>,
}

impl Refreshes {
    /// Runs `work` as a task of its own, unless `name`/`qtype` is being
    /// refreshed already or [`MAX_REFRESHES`] are running; true if started.
    pub fn spawn(
        &self,
        name: &Name,
        qtype: RecordType,
        work: impl Future<Output = ()> + Send + 'static,
    ) -> bool {
        let key = QuestionKey::new(name, qtype);
        {
            // The lock guards a set operation only, never an await.
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if running.len() >= MAX_REFRESHES || !running.insert(key.clone()) {
                return false;
            }
        }
        let done = Done {
            running: self.running.clone(),
            key,
        };
        tokio::spawn(async move {
            let _done = done;
            work.await;
        });
        true
    }

    /// How many refreshes are running.
    pub fn len(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when none is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Takes a question out of the set when its refresh ends, panics or is dropped.
struct Done {
    running: Arc<Mutex<HashSet<QuestionKey, ahash::RandomState>>>,
    key: QuestionKey,
}

impl Drop for Done {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_refresh_per_question_and_a_bounded_number_in_all() {
        let refreshes = Refreshes::default();
        let (release, wait) = tokio::sync::watch::channel(false);
        let stuck = || {
            let mut wait = wait.clone();
            async move {
                let _ = wait.wait_for(|go| *go).await;
            }
        };
        let name = |i: usize| Name::from_ascii(format!("n{i}.test.")).expect("valid");
        assert!(refreshes.spawn(&name(0), RecordType::A, stuck()));
        assert!(
            !refreshes.spawn(&name(0), RecordType::A, stuck()),
            "already refreshing"
        );
        assert!(
            refreshes.spawn(&name(0), RecordType::AAAA, stuck()),
            "another question"
        );
        for i in 1..MAX_REFRESHES + 10 {
            refreshes.spawn(&name(i), RecordType::A, stuck());
        }
        assert_eq!(refreshes.len(), MAX_REFRESHES);
        release.send(true).expect("the tasks listen");
        for _ in 0..100 {
            if refreshes.is_empty() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(refreshes.is_empty(), "each leaves when it ends");
    }
}
