//! The data directory: private to its owner, keeping no mailed code in its database, and its
//! lock held by one stage at a time, waited for, and its holder named.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use testkit::stage::InProcessStage;

const PASSWORD: &str = "Correct-Horse-9";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_directory_is_private_and_keeps_no_code() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let stage = InProcessStage::start_in(&data, |_, _| {}).await;
    let (token, _) = stage.account("erin@example.com", PASSWORD).await;
    // A real photo, processed to the end: the original and its derivatives are all written.
    let photo = testkit::test_photo("orientation-1.jpg");
    let id = stage.upload(&token, "p.jpg", &photo).await;
    let settled = stage
        .settled(&token, &id, std::time::Duration::from_secs(120))
        .await;
    assert_eq!(settled["status"], "READY", "{settled}");
    stage
        .cognito_ok(
            "ForgotPassword",
            serde_json::json!({"ClientId": testkit::local::CLIENT_ID,
                               "Username": "erin@example.com"}),
        )
        .await;
    let code = stage.mailed_code("erin@example.com", "reset").await;

    assert_eq!(mode(&data), 0o700);
    let db = data.join("stage.sqlite3");
    for name in ["stage.sqlite3", "stage.sqlite3-wal", "stage.sqlite3-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    let objects = files_under(&data.join("objects"));
    let outbox = files_under(&data.join("outbox"));
    assert!(!objects.is_empty() && outbox.len() >= 2);
    for file in objects.iter().chain(&outbox) {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    // The outbox has the code to read; the database only its digest.
    assert!(
        outbox
            .iter()
            .any(|f| std::fs::read_to_string(f).unwrap().contains(&code))
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: Vec<String> = conn
        .prepare("SELECT * FROM codes")
        .unwrap()
        .query_map([], |r| {
            Ok((0..4)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" "))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(!stored[0].contains(&code), "{stored:?}");
    drop(stage);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_waits_for_the_lock_and_names_the_process_that_keeps_it() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");

    // Held for good (by this test's process): the start gives up and names the holder.
    let held = local_stage::datadir::DataDir::open(&data).unwrap();
    let dir = data.clone();
    // On a thread of its own: the start panics (as a test's stage that stops at once does).
    let refused = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            InProcessStage::start_in(&dir, |options, _| {
                options.lock_wait = std::time::Duration::from_millis(300);
            })
            .await
        });
    })
    .join()
    .expect_err("the stage started on a held data directory");
    let message = refused.downcast::<String>().map(|m| *m).unwrap_or_default();
    assert!(
        message.contains("is in use by another `deployer up`")
            && message.contains(&format!("process {}", std::process::id())),
        "{message}"
    );

    // Let go while the next start waits (as a crashed stage's lock is freed as it exits): it
    // starts.
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        drop(held);
    });
    let stage = InProcessStage::start_in(&data, |options, _| {
        options.lock_wait = std::time::Duration::from_secs(60);
    })
    .await;
    release.join().unwrap();
    stage.account("fay@example.com", PASSWORD).await;
}
