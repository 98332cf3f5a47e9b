//! A data directory written by the first local stage (before the schema had a version; checked
//! in under `tests/data/v1/`, with what it holds in `tests/data/v1.json`) opens with today's
//! stage, migrates by itself, and every user, photo, album and share link is found; the upload
//! it stored but never queued is recovered from the index of PENDING photos and processed.

use std::path::Path;
use std::time::Duration;

use local_stage::store::SCHEMA_VERSION;
use serde_json::{Value, json};
use testkit::stage::InProcessStage;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().or(i["token"].as_str()).unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("a string: {v}"))
        .to_owned()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_version_data_directory_migrates_and_keeps_everything() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(here.join("v1.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&here.join("v1"), dir.path());
    let db = dir.path().join("stage.sqlite3");
    let version = |db: &Path| -> i64 {
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        version(&db),
        0,
        "the checked-in directory predates versions"
    );

    let stage = InProcessStage::start_in(dir.path(), |_, _| {}).await;
    assert_eq!(version(&db), SCHEMA_VERSION);
    let (alice, bob) = (&manifest["alice"], &manifest["bob"]);
    let a = stage
        .sign_in(&text(&alice["email"]), &text(&alice["password"]))
        .await;
    let b = stage
        .sign_in(&text(&bob["email"]), &text(&bob["password"]))
        .await;
    let (_, me) = stage.api("GET", "/me", &a, None).await;
    assert_eq!(me["user_id"], alice["sub"], "{me}");
    // Usernames are compared without regard to case now, the first stage's accounts too; their
    // passwords (from before the policy) keep working.
    let shouting = stage
        .sign_in(
            &text(&alice["email"]).to_ascii_uppercase(),
            &text(&alice["password"]),
        )
        .await;
    let (_, me) = stage.api("GET", "/me", &shouting, None).await;
    assert_eq!(me["user_id"], alice["sub"], "{me}");

    // Every photo of alice's, in the states the first stage left them.
    let ready: Vec<String> = manifest["ready"]
        .as_array()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    let (failed, unsent, stranded) = (
        text(&manifest["failed"]),
        text(&manifest["pending_unsent"]),
        text(&manifest["stranded"]),
    );
    // A start the first stage never received bytes for is long abandoned: the stage's first
    // sweep removes it, returning its quota.
    let started = std::time::Instant::now();
    while stage
        .api("GET", &format!("/photos/{unsent}"), &a, None)
        .await
        .0
        != 404
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the abandoned upload was not swept"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, page) = stage.api("GET", "/photos?limit=50", &a, None).await;
    assert_eq!(status, 200, "{page}");
    let mut all = ready.clone();
    all.extend([failed.clone(), stranded.clone()]);
    assert_eq!(ids(&page), sorted(all));
    for id in &ready {
        let (status, photo) = stage.api("GET", &format!("/photos/{id}"), &a, None).await;
        assert_eq!(
            (status, photo["status"].as_str()),
            (200, Some("READY")),
            "{photo}"
        );
        let thumb = stage.get(photo["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(thumb.status(), 200, "the derivatives are where they were");
    }
    let (_, first) = stage
        .api("GET", &format!("/photos/{}", ready[0]), &a, None)
        .await;
    assert_eq!(
        (first["title"].as_str(), first["favourite"].as_bool()),
        (Some("Harbour at dawn"), Some(true)),
        "{first}"
    );
    let (_, photo) = stage
        .api("GET", &format!("/photos/{failed}"), &a, None)
        .await;
    assert_eq!(photo["status"], "FAILED", "{photo}");
    // Stored before the crash, never queued: found through the PENDING index and processed.
    let photo = stage.settled(&a, &stranded, Duration::from_secs(60)).await;
    assert_eq!(photo["status"], "READY", "{photo}");
    let (_, me) = stage.api("GET", "/me", &a, None).await;
    assert_eq!(me["photo_count"], 5, "{me}");

    // Albums and their photos.
    let albums = &manifest["albums"];
    let (_, page) = stage.api("GET", "/albums", &a, None).await;
    assert_eq!(
        ids(&page),
        sorted(vec![text(&albums["holidays"]), text(&albums["empty"])])
    );
    let holidays = text(&albums["holidays"]);
    let (_, members) = stage
        .api("GET", &format!("/albums/{holidays}/photos"), &a, None)
        .await;
    assert_eq!(ids(&members), sorted(ready[..2].to_vec()));
    // Albums from before they kept their contents are counted when the stage opens.
    let (_, album) = stage
        .api("GET", &format!("/albums/{holidays}"), &a, None)
        .await;
    assert_eq!(album["photo_count"], 2, "{album}");
    let cover = album["cover_photo_id"].as_str().unwrap().to_owned();
    assert!(ready[..2].contains(&cover), "{album}");
    let (_, empty) = stage
        .api(
            "GET",
            &format!("/albums/{}", text(&albums["empty"])),
            &a,
            None,
        )
        .await;
    assert_eq!(empty["name"], "Été vide", "{empty}");
    assert_eq!(
        (&empty["photo_count"], &empty["cover_photo_id"]),
        (&json!(0), &Value::Null)
    );

    // Share links: listed, and opened as their expiry and revocation say.
    let shares = &manifest["shares"];
    let (_, page) = stage.api("GET", "/shares", &a, None).await;
    let tokens = [&shares["photo"], &shares["album"], &shares["revoked"]].map(text);
    assert_eq!(ids(&page), sorted(tokens.to_vec()));
    for item in page["items"].as_array().unwrap() {
        let token = text(&item["token"]);
        let public = format!("{}/api/public/shares/{token}", stage.base);
        let status = stage.get(&public).await.status().as_u16();
        let expired = item["expires_at"].as_str().unwrap() < now_rfc3339().as_str();
        let expected = if token == tokens[2] || expired {
            410
        } else if token == tokens[1] {
            401
        } else {
            200
        };
        assert_eq!(status, expected, "{item}");
    }

    // Bob's own, and nothing of alice's.
    let (_, page) = stage.api("GET", "/photos", &b, None).await;
    assert_eq!(ids(&page), vec![text(&manifest["bob_photo"])]);
    let (_, page) = stage.api("GET", "/albums", &b, None).await;
    assert_eq!(ids(&page), vec![text(&albums["bob"])]);
    let (status, _) = stage
        .api("GET", &format!("/photos/{}", ready[0]), &b, None)
        .await;
    assert_eq!(status, 404);
}

/// Now as the API writes times (RFC 3339, UTC, milliseconds), which compare as text.
fn now_rfc3339() -> String {
    use photo_domain::Clock as _;
    photo_domain::SystemClock.now().to_rfc3339()
}
