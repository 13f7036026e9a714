//! Threads of their own for the UDP receive loops: one single-threaded
//! runtime per thread, each serving its own SO_REUSEPORT socket of every
//! address and running the answers its queries start, as Unbound's and
//! NSD's threads each serve their own socket.
//!
//! ```text
//! kernel ─(SO_REUSEPORT: by client address and port)─▶ socket k ─▶ thread k: receive loop,
//!                                                                  its answers' tasks, their
//!                                                                  upstream sockets and timers
//! ```
//!
//! A query is received, answered and replied to on one thread, woken by its
//! own `epoll`: no task moves between threads and no thread wakes another,
//! which a work-stealing runtime does for each task it hands over. What
//! the threads share (the cache, the resolutions in progress) is shared as
//! it is on any runtime. Without workers (the tests, `trace`), the loops
//! run on the runtime that serves, as before.

use std::future::Future;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

/// The workers of this process, once started.
static WORKERS: OnceLock<Workers> = OnceLock::new();

/// Single-threaded runtimes, each driven by a thread of its own for as long
/// as the process lives.
struct Workers {
    handles: Vec<Handle>,
    /// The worker the next loop goes to.
    next: AtomicUsize,
}

/// Starts `count` worker threads (at least one) for the UDP receive loops
/// of every server started from now on; once per process (later calls
/// change nothing).
pub fn start_workers(count: usize) -> io::Result<()> {
    if WORKERS.get().is_some() {
        return Ok(());
    }
    let mut handles = Vec::with_capacity(count.max(1));
    for number in 0..count.max(1) {
        let runtime = Builder::new_current_thread().enable_all().build()?;
        handles.push(runtime.handle().clone());
        std::thread::Builder::new()
            .name(format!("udp-{number}"))
            // Drives the runtime's tasks, I/O and timers until the process ends.
            .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    }
    let _ = WORKERS.set(Workers {
        handles,
        next: AtomicUsize::new(0),
    });
    Ok(())
}

/// Runs a receive loop on the next worker thread, in turn, or on the
/// current runtime when no workers were started.
pub(super) fn spawn_loop<F>(receive_loop: F) -> JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    match WORKERS.get() {
        Some(workers) => {
            let turn = workers.next.fetch_add(1, Ordering::Relaxed);
            workers.handles[turn % workers.handles.len()].spawn(receive_loop)
        }
        None => tokio::spawn(receive_loop),
    }
}
