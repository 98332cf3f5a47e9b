//! The local stage's processing queue: uploaded originals waiting for the thumbnail step, in SQLite.
//!
//! It stands in for the bucket notification and Lambda's retries: a job is written in the same
//! request that stores the upload, survives restarts, and is retried with a growing delay until
//! it succeeds or runs out of attempts. An attempt is counted when it starts, so a job whose
//! process died in its middle (a crash, a kill, running out of memory) has used that attempt:
//! it is picked up again at the next start, and once its attempts are spent it is given up
//! (the photo ends FAILED) instead of taking the stage down at every start.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use photo_domain::{Clock, ObjectKey};
use rusqlite::{Connection, OptionalExtension as _, params};
use tokio::task::JoinSet;

use crate::store::schema;

/// Lambda retries an asynchronous invocation twice; the local stage tries a little harder.
pub const MAX_ATTEMPTS: i64 = 5;

/// Processes one uploaded original.
#[async_trait]
pub trait Processor: Send + Sync + std::fmt::Debug {
    /// `Err` is transient: the job is tried again later.
    async fn process(&self, key: &ObjectKey) -> Result<(), String>;

    /// Called once when a job has failed its last attempt, so the upload does not stay
    /// unprocessed without a word (the thumbnail step marks the photo FAILED).
    async fn gave_up(&self, key: &ObjectKey, error: &str) {
        let _ = (key, error);
    }
}

/// The queue's table.
#[derive(Debug)]
pub struct Queue {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
    wake: tokio::sync::Notify,
}

/// A job as stored, for tests and the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub key: String,
    pub state: String,
    /// Attempts started, including one in progress or cut short by the process stopping.
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// What `last_error` says of an attempt the process did not live to finish.
pub const INTERRUPTED: &str = "the local stage stopped while processing it";

/// A job taken by the worker.
enum Claimed {
    /// Run it (its attempt is already counted).
    Run { key: String },
    /// Its attempts were spent by runs that never finished: give up without running it again.
    Spent { key: String, attempts: i64 },
}

impl Queue {
    /// Opens the queue; jobs left `running` by a stopped process become `pending` again, their
    /// interrupted attempt counted.
    pub fn open(mut conn: Connection, clock: Arc<dyn Clock>) -> rusqlite::Result<Self> {
        schema::migrate(&mut conn)?;
        conn.execute(
            "UPDATE jobs SET state = 'pending', last_error = ?1 WHERE state = 'running'",
            params![INTERRUPTED],
        )?;
        Ok(Queue {
            conn: Mutex::new(conn),
            clock,
            wake: tokio::sync::Notify::new(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a job (an upload of the same key again restarts its attempts).
    pub fn enqueue(&self, key: &ObjectKey) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO jobs (key, state, attempts, next_at_ms, last_error) \
             VALUES (?1, 'pending', 0, ?2, NULL)",
            params![key.as_str(), self.clock.now().millis()],
        )?;
        self.wake.notify_one();
        Ok(())
    }

    /// Adds a job unless the key already has one (finished jobs have none): for uploads found
    /// at start whose job was never written. Returns whether a job was added.
    pub fn enqueue_missing(&self, key: &ObjectKey) -> rusqlite::Result<bool> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO jobs (key, state, attempts, next_at_ms, last_error) \
             VALUES (?1, 'pending', 0, ?2, NULL)",
            params![key.as_str(), self.clock.now().millis()],
        )? > 0;
        if added {
            self.wake.notify_one();
        }
        Ok(added)
    }

    /// Every job, by key.
    pub fn jobs(&self) -> rusqlite::Result<Vec<Job>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT key, state, attempts, last_error FROM jobs ORDER BY key")?;
        let rows = stmt.query_map([], |r| {
            Ok(Job {
                key: r.get(0)?,
                state: r.get(1)?,
                attempts: r.get(2)?,
                last_error: r.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Takes the next due job: marks it running and counts the attempt before it starts, or,
    /// when interrupted runs have spent every attempt, marks it failed.
    fn claim(&self) -> rusqlite::Result<Option<Claimed>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let due: Option<(String, i64)> = tx
            .query_row(
                "SELECT key, attempts FROM jobs WHERE state = 'pending' AND next_at_ms <= ?1 \
                 ORDER BY next_at_ms LIMIT 1",
                params![self.clock.now().millis()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let claimed = match due {
            None => None,
            Some((key, attempts)) if attempts >= MAX_ATTEMPTS => {
                tx.execute(
                    "UPDATE jobs SET state = 'failed' WHERE key = ?1",
                    params![key],
                )?;
                Some(Claimed::Spent { key, attempts })
            }
            Some((key, _)) => {
                tx.execute(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1 WHERE key = ?1",
                    params![key],
                )?;
                Some(Claimed::Run { key })
            }
        };
        tx.commit()?;
        Ok(claimed)
    }

    /// Records a job's outcome; `true` when that was its last attempt.
    fn finish(&self, key: &str, outcome: &Result<(), String>) -> rusqlite::Result<bool> {
        let conn = self.conn();
        match outcome {
            Ok(()) => {
                conn.execute("DELETE FROM jobs WHERE key = ?1", params![key])?;
                Ok(false)
            }
            Err(error) => {
                // Counted when the attempt started.
                let attempts = conn.query_row(
                    "SELECT attempts FROM jobs WHERE key = ?1",
                    params![key],
                    |r| r.get::<_, i64>(0),
                )?;
                let state = if attempts >= MAX_ATTEMPTS {
                    "failed"
                } else {
                    "pending"
                };
                // 1 s, 2 s, 4 s, ...: a transient failure clears, a permanent one stops soon.
                let delay_ms = 1000i64 << (attempts - 1).min(10);
                conn.execute(
                    "UPDATE jobs SET state = ?2, attempts = ?3, next_at_ms = ?4, last_error = ?5 \
                     WHERE key = ?1",
                    params![
                        key,
                        state,
                        attempts,
                        self.clock.now().millis() + delay_ms,
                        error
                    ],
                )?;
                Ok(state == "failed")
            }
        }
    }

    /// Runs one claimed job to its end: processes it (or gives up on a spent one) and records
    /// the outcome.
    async fn run_claimed(
        &self,
        claimed: Claimed,
        processor: &dyn Processor,
    ) -> rusqlite::Result<()> {
        let key = match claimed {
            Claimed::Run { key } => key,
            Claimed::Spent { key, attempts } => {
                let error = format!("{INTERRUPTED}, {attempts} times");
                tracing::error!(key = %key, error = %error, "processing gave up: every attempt was cut short");
                processor
                    .gave_up(&ObjectKey::from_trusted(key.clone()), &error)
                    .await;
                return Ok(());
            }
        };
        let outcome = processor
            .process(&ObjectKey::from_trusted(key.clone()))
            .await;
        if let Err(e) = &outcome {
            tracing::warn!(key = %key, error = %e, "processing failed");
        }
        if self.finish(&key, &outcome)?
            && let Err(e) = &outcome
        {
            tracing::error!(key = %key, error = %e, "processing gave up after its last attempt");
            processor
                .gave_up(&ObjectKey::from_trusted(key.clone()), e)
                .await;
        }
        Ok(())
    }

    /// Runs due jobs one at a time; returns how many ran. One pass, for tests.
    pub async fn run_due(&self, processor: &dyn Processor) -> rusqlite::Result<usize> {
        let mut ran = 0;
        while let Some(claimed) = self.claim()? {
            self.run_claimed(claimed, processor).await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// The workers: up to `workers` jobs at a time until `stop` resolves, each claimed as a slot
    /// frees. Jobs in progress when `stop` fires are finished first, so a graceful shutdown
    /// never leaves one half done; nothing new starts after it.
    pub async fn work(
        self: Arc<Self>,
        processor: Arc<dyn Processor>,
        workers: usize,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let workers = workers.max(1);
        let mut stop = stop;
        let mut running = JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            while running.len() < workers {
                match self.claim() {
                    Ok(Some(claimed)) => {
                        let (queue, processor) = (self.clone(), processor.clone());
                        running.spawn(async move {
                            if let Err(e) = queue.run_claimed(claimed, processor.as_ref()).await {
                                tracing::error!(error = %e, "processing queue");
                            }
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "processing queue");
                        break;
                    }
                }
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => {}
            }
        }
        while running.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photo_domain::Timestamp;
    use photo_domain::memory::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Default)]
    struct Flaky {
        fail_first: usize,
        calls: AtomicUsize,
        gave_up: Mutex<Vec<(String, String)>>,
    }

    #[async_trait]
    impl Processor for Flaky {
        async fn process(&self, _key: &ObjectKey) -> Result<(), String> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.fail_first {
                Err(format!("attempt {n} failed"))
            } else {
                Ok(())
            }
        }

        async fn gave_up(&self, key: &ObjectKey, error: &str) {
            self.gave_up
                .lock()
                .unwrap()
                .push((key.as_str().to_owned(), error.to_owned()));
        }
    }

    fn key() -> ObjectKey {
        ObjectKey::from_trusted("originals/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV".into())
    }

    #[tokio::test]
    async fn failures_are_retried_later_and_jobs_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.sqlite3");
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(100)));
        let queue = Queue::open(Connection::open(&path).unwrap(), clock.clone()).unwrap();
        queue.enqueue(&key()).unwrap();
        let flaky = Flaky {
            fail_first: 1,
            ..Flaky::default()
        };
        assert_eq!(queue.run_due(&flaky).await.unwrap(), 1);
        let jobs = queue.jobs().unwrap();
        assert_eq!((jobs[0].state.as_str(), jobs[0].attempts), ("pending", 1));
        assert_eq!(jobs[0].last_error.as_deref(), Some("attempt 0 failed"));
        // Not due yet: the retry waits.
        assert_eq!(queue.run_due(&flaky).await.unwrap(), 0);
        drop(queue);
        let queue = Queue::open(Connection::open(&path).unwrap(), clock.clone()).unwrap();
        clock.advance_secs(1);
        assert_eq!(queue.run_due(&flaky).await.unwrap(), 1);
        assert!(queue.jobs().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_job_stops_after_its_last_attempt_and_running_jobs_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.sqlite3");
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(100)));
        let queue = Queue::open(Connection::open(&path).unwrap(), clock.clone()).unwrap();
        queue.enqueue(&key()).unwrap();
        let broken = Flaky {
            fail_first: usize::MAX,
            ..Flaky::default()
        };
        for _ in 0..MAX_ATTEMPTS + 2 {
            queue.run_due(&broken).await.unwrap();
            clock.advance_secs(3600);
        }
        assert_eq!(broken.calls.load(Ordering::SeqCst), MAX_ATTEMPTS as usize);
        assert_eq!(queue.jobs().unwrap()[0].state, "failed");
        assert_eq!(
            *broken.gave_up.lock().unwrap(),
            vec![(key().as_str().to_owned(), "attempt 4 failed".to_owned())]
        );
        // A failed job is not brought back by the scan for unqueued uploads.
        assert!(!queue.enqueue_missing(&key()).unwrap());
        assert_eq!(queue.jobs().unwrap()[0].state, "failed");
        // A job claimed by a process that then died is pending again at the next start.
        queue.enqueue(&key()).unwrap();
        assert!(
            matches!(queue.claim().unwrap(), Some(Claimed::Run { key: k }) if k == key().as_str())
        );
        drop(queue);
        let queue = Queue::open(Connection::open(&path).unwrap(), clock).unwrap();
        let job = &queue.jobs().unwrap()[0];
        assert_eq!((job.state.as_str(), job.attempts), ("pending", 1));
        assert_eq!(job.last_error.as_deref(), Some(INTERRUPTED));
    }

    #[tokio::test]
    async fn attempts_cut_short_by_the_process_dying_count_and_end_in_giving_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.sqlite3");
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(100)));
        let queue = Queue::open(Connection::open(&path).unwrap(), clock.clone()).unwrap();
        queue.enqueue(&key()).unwrap();
        drop(queue);
        // Every start claims the job and the process dies with it in hand.
        for start in 1..=MAX_ATTEMPTS {
            let queue = Queue::open(Connection::open(&path).unwrap(), clock.clone()).unwrap();
            assert!(
                matches!(queue.claim().unwrap(), Some(Claimed::Run { .. })),
                "start {start}"
            );
            assert_eq!(queue.jobs().unwrap()[0].attempts, start);
        }
        // The next start does not run it again: it gives up, once, and the photo can be failed.
        let queue = Queue::open(Connection::open(&path).unwrap(), clock.clone()).unwrap();
        let never_runs = Flaky {
            fail_first: usize::MAX,
            ..Flaky::default()
        };
        assert_eq!(queue.run_due(&never_runs).await.unwrap(), 1);
        assert_eq!(never_runs.calls.load(Ordering::SeqCst), 0);
        assert_eq!(
            *never_runs.gave_up.lock().unwrap(),
            vec![(
                key().as_str().to_owned(),
                format!("{INTERRUPTED}, {MAX_ATTEMPTS} times")
            )]
        );
        assert_eq!(queue.jobs().unwrap()[0].state, "failed");
        assert_eq!(queue.run_due(&never_runs).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn an_unqueued_upload_is_queued_once() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(100)));
        let queue = Queue::open(Connection::open_in_memory().unwrap(), clock).unwrap();
        assert!(queue.enqueue_missing(&key()).unwrap());
        assert!(!queue.enqueue_missing(&key()).unwrap());
        assert_eq!(queue.jobs().unwrap().len(), 1);
        assert_eq!(queue.run_due(&Flaky::default()).await.unwrap(), 1);
        assert!(queue.jobs().unwrap().is_empty());
    }
    /// Counts jobs in progress at once.
    #[derive(Debug, Default)]
    struct Slow {
        now: AtomicUsize,
        most: AtomicUsize,
        done: AtomicUsize,
    }

    #[async_trait]
    impl Processor for Slow {
        async fn process(&self, _key: &ObjectKey) -> Result<(), String> {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.done.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_workers_run_up_to_their_number_of_jobs_at_once() {
        for workers in [1, 3] {
            let clock = Arc::new(ManualClock::new(Timestamp::from_secs(100)));
            let queue =
                Arc::new(Queue::open(Connection::open_in_memory().unwrap(), clock).unwrap());
            for i in 0..7 {
                queue
                    .enqueue(&ObjectKey::from_trusted(format!(
                        "originals/alice/01ARZ3NDEKTSV4RRFFQ69G5FA{i}"
                    )))
                    .unwrap();
            }
            let slow = Arc::new(Slow::default());
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            let worker = tokio::spawn(queue.clone().work(slow.clone(), workers, stop));
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while slow.done.load(Ordering::SeqCst) < 7 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "7 jobs with {workers} workers"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stop_tx.send(true).unwrap();
            worker.await.unwrap();
            assert_eq!(
                slow.most.load(Ordering::SeqCst),
                workers,
                "{workers} workers"
            );
            assert!(queue.jobs().unwrap().is_empty());
        }
    }
}
