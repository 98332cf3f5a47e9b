//! End to end: the real `deployer up --stage local` binary, for what only the process shows: its
//! flags, the data directory's lock and the port held against a second instance, a clean stop on
//! SIGINT and SIGTERM, and recovery after `kill -9`. The stage's HTTP behaviour is tested
//! in-process in `deployer/local/tests/over_http.rs`.

use std::io::Read as _;
use std::ops::Deref;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use testkit::local::{LocalClient, STEP, fields_of};
use testkit::stage::jobs;
use testkit::{free_port, test_photo as fixture, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_deployer");
const PASSWORD: &str = "Correct-Horse-9";

fn up_command(port: u16, data_dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["up", "--stage", "local", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--fast-password-hashing")
        // Building the SPA takes minutes; its serving has unit tests.
        .arg("--no-site")
        .args(extra)
        .env_remove("DEPLOYER_STAGE")
        .env_remove("DEPLOYER_LOCAL_UPLOAD_POLICY_SECS")
        .stdin(Stdio::null());
    cmd
}

/// A running `deployer up --stage local`, killed when dropped; it derefs to its client.
struct Stage {
    child: Child,
    client: LocalClient,
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Deref for Stage {
    type Target = LocalClient;

    fn deref(&self) -> &LocalClient {
        &self.client
    }
}

impl Stage {
    async fn start(data_dir: &Path, extra: &[&str]) -> Stage {
        let port = free_port();
        let child = up_command(port, data_dir, extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stage = Stage {
            child,
            client: LocalClient::new(format!("http://127.0.0.1:{port}"), data_dir),
        };
        let Stage { child, client } = &mut stage;
        // Generating the token key on first start takes a moment in a debug build.
        client
            .wait_ready(2 * STEP, || {
                let status = child.try_wait().unwrap()?;
                let mut err = String::new();
                let _ = child.stderr.take()?.read_to_string(&mut err);
                Some(format!("exit {status}: {err}"))
            })
            .await;
        stage
    }

    /// Sends a signal and waits (bounded) for the exit status.
    fn signal(&mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success());
        let mut status = None;
        let exited = wait_until(Duration::from_secs(30), || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        assert!(exited, "no exit on {signal}");
        status.unwrap()
    }

    /// Sends a signal and checks for a clean exit.
    fn stop_with(&mut self, signal: &str) {
        let status = self.signal(signal);
        assert!(status.success(), "{signal}: {status}");
    }
}

/// Runs `deployer` expecting it to fail at once with a one-line error: that line.
fn one_line_error(cmd: &mut Command) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_until(Duration::from_secs(60), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
        panic!("`deployer up` kept running");
    }
    let out: Output = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[tokio::test(flavor = "multi_thread")]
async fn data_survives_a_restart_and_the_data_dir_and_port_are_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut stage = Stage::start(&data, &[]).await;
    let (alice, _) = stage.account("alice@example.com", PASSWORD).await;
    let photo = b"\xff\xd8\xff\xe0 kept photo".to_vec();
    let (id, form) = stage.start_upload(&alice, "beach.jpg", &photo).await;
    assert_eq!(
        stage.post_form(&form, &fields_of(&form), &photo).await.0,
        204
    );

    let err = one_line_error(&mut up_command(free_port(), &data, &[]));
    assert!(err.contains("is in use by another `deployer up`"), "{err}");

    let port = stage.base.rsplit(':').next().unwrap().to_owned();
    let other = dir.path().join("other");
    let err = one_line_error(&mut up_command(port.parse().unwrap(), &other, &[]));
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );

    // Any other stage is an AWS stage: it needs its `deployer.toml` entry, not the data dir.
    let mut wrong_stage = Command::new(BIN);
    wrong_stage
        .args(["up", "--stage", "dev", "--data-dir"])
        .arg(&other);
    let err = one_line_error(&mut wrong_stage);
    assert!(err.contains("cannot read `deployer.toml`"), "{err}");

    // Ctrl-C stops it cleanly; everything is there after a restart.
    stage.stop_with("-INT");
    drop(stage);

    let mut stage = Stage::start(&data, &[]).await;
    let alice = stage.sign_in("alice@example.com", PASSWORD).await;
    let (status, body) = stage.api("GET", "/photos", &alice, None).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);

    // SIGTERM, as a service manager sends it, stops it cleanly too.
    stage.stop_with("-TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_killed_while_processing_finishes_the_photo_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Processing waits 60 s before it starts: the kill lands while the job is in hand.
    let mut stage = Stage::start(&data, &["--processing-delay-ms", "60000"]).await;
    let (alice, alice_sub) = stage.account("alice@example.com", PASSWORD).await;
    let id = stage
        .upload(&alice, "landscape-8mp.jpg", &fixture("landscape-8mp.jpg"))
        .await;
    let key = format!("uploads/{alice_sub}/{id}");
    let bytes = fixture("orientation-6.jpg");
    let (orphan, _) = stage
        .start_upload(&alice, "orientation-6.jpg", &bytes)
        .await;
    let running = vec![(key.clone(), "running".to_owned())];
    assert!(
        wait_until(Duration::from_secs(30), || jobs(&data) == running),
        "never running: {:?}",
        jobs(&data)
    );
    let status = stage.signal("-KILL");
    assert!(!status.success(), "{status}");
    drop(stage);
    assert_eq!(jobs(&data), running);
    // The crash also cut the second upload between storing the file and queueing it: its file
    // is in the bucket, but no job names it.
    for (area, contents) in [("data", bytes.as_slice()), ("meta", b"image/jpeg")] {
        let path = data
            .join("objects")
            .join(area)
            .join(format!("uploads/{alice_sub}/{orphan}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    let stage = Stage::start(&data, &[]).await;
    let alice = stage.sign_in("alice@example.com", PASSWORD).await;
    for id in [&id, &orphan] {
        let photo = stage.settled(&alice, id, Duration::from_secs(120)).await;
        assert_eq!(photo["status"], "READY", "{photo}");
        assert!(
            stage
                .stored(&format!("derivatives/{alice_sub}/{id}/thumb.jpg"))
                .is_some()
        );
    }
    // The job is removed just after the photo is written, so it may outlive READY by a moment.
    assert!(
        wait_until(Duration::from_secs(30), || jobs(&data).is_empty()),
        "{:?}",
        jobs(&data)
    );
}

/// A photo whose processing takes the process down every time (here: killed with it in hand)
/// uses up its attempts, one per start, and then ends FAILED with the reason: the stage does not
/// crash-loop on it.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_killed_at_every_start_ends_failed_after_its_attempts() {
    const ATTEMPTS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let delay = ["--processing-delay-ms", "60000"];
    let first = Stage::start(&data, &delay).await;
    let (alice, alice_sub) = first.account("alice@example.com", PASSWORD).await;
    let id = first
        .upload(&alice, "orientation-6.jpg", &fixture("orientation-6.jpg"))
        .await;
    let running = vec![(format!("uploads/{alice_sub}/{id}"), "running".to_owned())];
    let mut first = Some(first);
    for start in 1..=ATTEMPTS {
        let mut stage = match first.take() {
            Some(stage) => stage,
            None => Stage::start(&data, &delay).await,
        };
        assert!(
            wait_until(Duration::from_secs(30), || jobs(&data) == running),
            "start {start}: never running: {:?}",
            jobs(&data)
        );
        assert!(!stage.signal("-KILL").success());
        drop(stage);
    }

    let stage = Stage::start(&data, &[]).await;
    let alice = stage.sign_in("alice@example.com", PASSWORD).await;
    let photo = stage.settled(&alice, &id, Duration::from_secs(60)).await;
    assert_eq!(photo["status"], "FAILED", "{photo}");
    let reason = photo["failure_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("stopped while processing it, 5 times"),
        "{photo}"
    );
    let failed = vec![(format!("uploads/{alice_sub}/{id}"), "failed".to_owned())];
    assert_eq!(jobs(&data), failed);
    // The stage is up and serving.
    let (status, page) = stage.api("GET", "/photos", &alice, None).await;
    assert_eq!(status, 200, "{page}");
}
