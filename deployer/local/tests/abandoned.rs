//! Uploads that never came, on the local stage: once their form expired and the grace passed,
//! with no bytes in the bucket, they give their quota and their checksum back, at once where an
//! upload starts and by the stage's sweep; an upload that arrived is kept however long its
//! processing waits, and ends READY. The stage runs on a clock the test moves.

use std::sync::Arc;
use std::time::{Duration, Instant};

use photo_domain::abandoned::{ARRIVAL_GRACE_SECS, UPLOAD_FORM_SECS};
use photo_domain::memory::ManualClock;
use photo_domain::{Clock as _, SystemClock};
use serde_json::{Value, json};
use testkit::local::sha256_hex;
use testkit::stage::InProcessStage;
use testkit::test_photo as fixture;

const PASSWORD: &str = "Correct-Horse-9";
const EMAIL: &str = "alice@example.com";
/// Past the form's lifetime and the grace.
const ABANDONED_AFTER: i64 = UPLOAD_FORM_SECS + ARRIVAL_GRACE_SECS + 1;

/// Starts an upload of `bytes` as `name`: the status and the body.
async fn start(stage: &InProcessStage, token: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let (status, body) = stage
        .api(
            "POST",
            "/photos/uploads",
            token,
            Some(json!({"file_name": name, "content_type": "image/jpeg",
                        "size": bytes.len(), "sha256": sha256_hex(bytes)})),
        )
        .await;
    (status, body)
}

async fn used_bytes(stage: &InProcessStage, token: &str) -> u64 {
    let (status, usage) = stage.api("GET", "/me", token, None).await;
    assert_eq!(status, 200, "{usage}");
    usage["used_bytes"].as_u64().expect("used bytes")
}

/// A stage on `clock` whose quota holds `a` and `b` together and nothing more.
async fn stage_for(
    clock: Arc<ManualClock>,
    a: &[u8],
    b: &[u8],
    sweep_every: Duration,
    processing_delay: Duration,
) -> InProcessStage {
    let quota = (a.len() + b.len()) as u64;
    InProcessStage::start_with(move |o, _| {
        o.clock = Some(clock);
        o.limits.quota_bytes = quota;
        o.sweep_every = sweep_every;
        o.processing_delay = processing_delay;
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn abandoned_uploads_give_their_quota_and_checksum_back_when_an_upload_starts() {
    let (a, b) = (fixture("orientation-1.jpg"), fixture("orientation-3.jpg"));
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    // Only the sweep at start runs: what is freed here is freed by the upload that needs it.
    let hour = Duration::from_secs(3600);
    let stage = stage_for(clock.clone(), &a, &b, hour, Duration::ZERO).await;
    let (token, _) = stage.account(EMAIL, PASSWORD).await;

    let (status, never_sent) = start(&stage, &token, "a.jpg", &a).await;
    assert_eq!(status, 201, "{never_sent}");
    let (status, _) = start(&stage, &token, "b.jpg", &b).await;
    assert_eq!(status, 201);
    let (status, refused) = start(&stage, &token, "a.jpg", &a).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("duplicate"))
    );
    assert_eq!(used_bytes(&stage, &token).await, (a.len() + b.len()) as u64);

    // Ten seconds short of abandoned: still refused, both still held.
    clock.advance_secs(ABANDONED_AFTER - 10);
    let token = stage.sign_in(EMAIL, PASSWORD).await;
    let (status, refused) = start(&stage, &token, "a.jpg", &a).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("duplicate"))
    );

    clock.advance_secs(10);
    let id = stage.upload(&token, "a.jpg", &a).await;
    assert_ne!(id, never_sent["photo"]["id"].as_str().unwrap());
    let photo = stage.settled(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(photo["status"], "READY", "{photo}");
    let path = format!("/photos/{}", never_sent["photo"]["id"].as_str().unwrap());
    let (status, _) = stage.api("GET", &path, &token, None).await;
    assert_eq!(status, 404, "the abandoned start is gone");
    // `b`'s start is abandoned too, but only what stood in the way was removed.
    assert_eq!(used_bytes(&stage, &token).await, (a.len() + b.len()) as u64);
    let (status, _) = start(&stage, &token, "b.jpg", &b).await;
    assert_eq!(status, 201, "the quota it held is free once asked for");
    assert_eq!(used_bytes(&stage, &token).await, (a.len() + b.len()) as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_removes_abandoned_uploads_and_keeps_one_that_waits_for_processing() {
    let (a, b) = (fixture("orientation-1.jpg"), fixture("orientation-3.jpg"));
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    // Every upload waits 5 s before processing takes it up; the sweep runs every 100 ms.
    let delay = Duration::from_secs(5);
    let stage = stage_for(clock.clone(), &a, &b, Duration::from_millis(100), delay).await;
    let (token, _) = stage.account(EMAIL, PASSWORD).await;

    let (status, never_sent) = start(&stage, &token, "a.jpg", &a).await;
    assert_eq!(status, 201, "{never_sent}");
    let never_sent = format!("/photos/{}", never_sent["photo"]["id"].as_str().unwrap());
    let waiting = stage.upload(&token, "b.jpg", &b).await;
    // Both past the grace while `b`'s processing has not started.
    clock.advance_secs(ABANDONED_AFTER);
    let token = stage.sign_in(EMAIL, PASSWORD).await;

    let started = Instant::now();
    loop {
        let (status, _) = stage.api("GET", &never_sent, &token, None).await;
        if status == 404 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the sweep did not remove the abandoned upload"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, photo) = stage
        .api("GET", &format!("/photos/{waiting}"), &token, None)
        .await;
    assert_eq!(status, 200, "{photo}");
    assert_eq!(
        photo["status"], "PENDING",
        "the sweep ran while the arrived upload waited, and kept it"
    );
    assert_eq!(used_bytes(&stage, &token).await, b.len() as u64);

    let photo = stage
        .settled(&token, &waiting, Duration::from_secs(120))
        .await;
    assert_eq!(photo["status"], "READY", "{photo}");
    let (status, _) = start(&stage, &token, "a.jpg", &a).await;
    assert_eq!(status, 201, "`a` is no longer a duplicate, and fits");
}
