//! How a pool spends its password hashing: bounded, and counted.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The password hashing of a pool: at most `limit` hashes run at once (each holds its memory, 19
/// MiB at the standard cost, and a core), and every hash computed or checked is counted, so a test
/// can see the work a call did without timing it.
#[derive(Debug)]
pub struct HashWork {
    limit: usize,
    running: Mutex<usize>,
    freed: Condvar,
    computed: AtomicU64,
    peak: AtomicUsize,
}

impl HashWork {
    /// At most `limit` (at least one) hashes at once.
    pub fn new(limit: usize) -> Arc<HashWork> {
        Arc::new(HashWork {
            limit: limit.max(1),
            running: Mutex::new(0),
            freed: Condvar::new(),
            computed: AtomicU64::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// One hash per core.
    pub fn per_core() -> Arc<HashWork> {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// The hashes computed or checked so far.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::SeqCst)
    }

    /// The most hashes that ran at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// The bound on hashes at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn running(&self) -> MutexGuard<'_, usize> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one hash once fewer than `limit` are running (the caller is on the blocking pool).
    pub(super) fn run<T>(&self, hash: impl FnOnce() -> T) -> T {
        {
            let mut running = self.running();
            while *running >= self.limit {
                running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
            }
            *running += 1;
            self.peak.fetch_max(*running, Ordering::SeqCst);
        }
        self.computed.fetch_add(1, Ordering::SeqCst);
        let result = hash();
        *self.running() -= 1;
        self.freed.notify_one();
        result
    }
}
