//! A local stage run in the test's own process, as `deployer up --stage local` runs it but
//! without the binary: `local_stage::server::up` on a thread with its own runtime, on a free
//! port and a fresh data directory, stopped when dropped. Tests that need the real process (a
//! crash, a signal, the data directory's lock, the flags) start the `deployer` binary instead.
//!
//! Also here: reading the stage's processing queue straight from its database, which a test
//! may do while the stage is stopped.

use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use local_stage::server::UpOptions;

use crate::local::{LocalClient, STEP};

/// A running in-process stage; it derefs to its [`LocalClient`].
#[derive(Debug)]
pub struct InProcessStage {
    client: LocalClient,
    _data: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: std::sync::mpsc::Receiver<String>,
}

impl InProcessStage {
    /// A stage as `deployer up --stage local --fast-password-hashing --no-site` runs it, with a
    /// fresh data directory.
    pub async fn start() -> InProcessStage {
        Self::start_with(|_, _| {}).await
    }

    /// A stage with a fresh data directory, its options changed by `configure` first; it gets
    /// the options and the stage's base URL (for preparing the data directory, such as
    /// putting a site there).
    pub async fn start_with(configure: impl FnOnce(&mut UpOptions, &str)) -> InProcessStage {
        let data = tempfile::tempdir().expect("creating the stage's data directory");
        let mut stage = Self::start_in(data.path(), configure).await;
        stage._data = Some(data);
        stage
    }

    /// A stage keeping its data in `data_dir` (which outlives it, for a restart).
    pub async fn start_in(
        data_dir: &Path,
        configure: impl FnOnce(&mut UpOptions, &str),
    ) -> InProcessStage {
        let defaults = stack::config::StageConfig::with_defaults(
            "local".parse().expect("`local` is a stage name"),
            "us-east-1".parse().expect("`us-east-1` is a region"),
        );
        let port = crate::free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut options = UpOptions {
            port,
            data_dir: data_dir.to_owned(),
            upload_policy_secs: None,
            password_cost: photo_domain::PasswordCost::Minimal,
            password_hashing: None,
            lock_wait: local_stage::datadir::DEFAULT_LOCK_WAIT,
            allowed_hosts: Vec::new(),
            sign_in_lockout_secs: local_stage::users::DEFAULT_LOCKOUT_SECS,
            limits: defaults.limits,
            site_workspace: None,
            processing_delay: Duration::ZERO,
            workers: UpOptions::default_workers(),
            processing_memory: UpOptions::default_processing_memory(),
            watch_build: None,
            sweep_every: UpOptions::DEFAULT_SWEEP_EVERY,
            clock: None,
        };
        configure(&mut options, &base);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel();
        // A runtime of its own: the stage outlives no test, yet must not depend on the test's
        // runtime (a `#[tokio::test]` may be current-thread) and must stop when dropped.
        std::thread::spawn(move || {
            let result = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| format!("starting the stage's runtime: {e}"))
                .and_then(|rt| {
                    rt.block_on(local_stage::server::up(options, async {
                        let _ = stopped.await;
                    }))
                    .map_err(|e| format!("{e:#}"))
                });
            let _ = done_tx.send(result.err().unwrap_or_default());
        });
        let stage = InProcessStage {
            client: LocalClient::new(base, data_dir),
            _data: None,
            stop: Some(stop),
            done,
        };
        stage
            .client
            .wait_ready(STEP, || stage.done.try_recv().ok())
            .await;
        stage
    }
}

impl Deref for InProcessStage {
    type Target = LocalClient;

    fn deref(&self) -> &LocalClient {
        &self.client
    }
}

impl Drop for InProcessStage {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful shutdown waits for open connections; a browser that keeps one alive must
        // not hold the test up, so the wait is bounded and the thread is left to the process.
        let _ = self.done.recv_timeout(Duration::from_secs(10));
    }
}

/// The processing queue's jobs as `(key, state)`, read from the stage's database in
/// `data_dir` (running or not).
pub fn jobs(data_dir: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(data_dir.join("stage.sqlite3"))
        .expect("opening the stage's database");
    let mut stmt = conn
        .prepare("SELECT key, state FROM jobs ORDER BY key")
        .expect("the stage's database has a queue");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(Iterator::collect)
        .expect("reading the queue")
}

/// The queue's jobs once they are all gone, or as they stand after `limit`. A job is removed just
/// after its photo's outcome is recorded, so a photo seen settled may still have its job for a
/// moment.
pub fn jobs_drained(data_dir: &Path, limit: Duration) -> Vec<(String, String)> {
    crate::wait_until(limit, || jobs(data_dir).is_empty());
    jobs(data_dir)
}

impl LocalClient {
    /// Polls the photo `id` until it leaves PENDING, for at most `limit`: the photo as the API
    /// shows it. The failure names the queue's jobs.
    pub async fn settled(&self, token: &str, id: &str, limit: Duration) -> serde_json::Value {
        crate::local::poll(
            &format!("photo {id} leaving PENDING"),
            limit,
            || async move {
                let (status, photo) = self.api("GET", &format!("/photos/{id}"), token, None).await;
                assert_eq!(status, 200, "{photo}");
                if photo["status"] != "PENDING" {
                    Ok(photo)
                } else {
                    Err(format!("queue: {:?}", jobs(&self.data_dir)))
                }
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stage_starts_takes_an_account_and_stops() {
        let stage = InProcessStage::start_with(|options, base| {
            assert_eq!(base, format!("http://127.0.0.1:{}", options.port));
            options.upload_policy_secs = Some(5);
        })
        .await;
        let (token, sub) = stage.account("kit@example.com", "Correct-Horse-9").await;
        let (status, me) = stage.api("GET", "/me", &token, None).await;
        assert_eq!((status, me["user_id"].as_str()), (200, Some(sub.as_str())));
        let id = stage.upload(&token, "a.jpg", b"\xff\xd8\xff\xe0 x").await;
        // The upload is known to the API; its bytes may already be judged (these are no photo),
        // so the stored original is not checked here.
        let (status, photo) = stage
            .api("GET", &format!("/photos/{id}"), &token, None)
            .await;
        assert_eq!(
            (status, photo["id"].as_str()),
            (200, Some(id.as_str())),
            "{photo}"
        );
        let base = stage.base.clone();
        drop(stage);
        assert!(
            reqwest::get(format!(
                "{base}/_cognito/{}/.well-known/jwks.json",
                crate::local::POOL_ID
            ))
            .await
            .is_err(),
            "stopped when dropped"
        );
    }
}
