//! Runs the real `bootstrap` binary as Lambda would: a Runtime API on loopback feeds it S3 event
//! notifications built from a JSON fixture, while DynamoDB and S3 are moto. Originals are put in
//! moto's S3 and PENDING photos in moto's DynamoDB, as the API and the browser would leave them.

use crate::common;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use photo_aws::DynamoDbRepository;
use photo_domain::{Photo, PhotoId, PhotoStatus, Repository as _, UserId};
use serde_json::{Value, json};
use testkit::aws::{BUCKET, REGION, TABLE, s3_client as s3};
use testkit::runtime_api::{Function, Outcome, RuntimeApi};
use testkit::{hostile_file as hostile, test_photo as fixture};

const BIN: &str = env!("CARGO_BIN_EXE_photo-thumbnail");
const OWNER: &str = "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";

fn owner() -> UserId {
    UserId::parse(OWNER).unwrap()
}

/// Where the browser's form puts the file.
fn upload_key(id: &PhotoId) -> String {
    format!("uploads/{OWNER}/{id}")
}

/// Where processing moves it.
fn original(id: &PhotoId) -> String {
    format!("originals/{OWNER}/{id}")
}

async fn object(config: &SdkConfig, key: &str) -> Option<(Vec<u8>, String)> {
    match s3(config).get_object().bucket(BUCKET).key(key).send().await {
        Ok(out) => {
            let content_type = out.content_type().unwrap_or_default().to_owned();
            let bytes = out.body.collect().await.unwrap().into_bytes().to_vec();
            Some((bytes, content_type))
        }
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
        Err(e) => panic!("reading `{key}`: {e:?}"),
    }
}

async fn keys(config: &SdkConfig) -> Vec<String> {
    let out = s3(config)
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn stored(config: &SdkConfig, id: &PhotoId) -> Photo {
    DynamoDbRepository::new(config, TABLE)
        .get_photo(&owner(), id)
        .await
        .unwrap()
        .expect("the photo record")
}

fn invoke(function: &Function, event: &str) -> Outcome {
    function.invoke(event, Duration::from_secs(120))
}

fn response(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Response(text) => serde_json::from_str(&text).unwrap(),
        Outcome::Error(e) => panic!("the invocation failed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_processes_s3_events_over_moto() {
    let (moto, config) = common::moto_stack().await;
    let good = common::uploaded(&config, &owner(), fixture("landscape-8mp.jpg"))
        .await
        .0;
    let bad = common::uploaded(&config, &owner(), hostile("truncated.jpg"))
        .await
        .0;

    let runtime = RuntimeApi::start();
    let function = runtime.start_function(
        &mut common::bootstrap(&runtime, &moto, BIN, "photo-app-test-thumbnail", 1024),
        Duration::from_secs(30),
    );

    // One notification with both uploads and a key S3 had to encode (`+` is a space).
    let upload = common::s3_event(&[
        ("ObjectCreated:Post", &upload_key(&good)),
        ("ObjectCreated:Post", &upload_key(&bad)),
        ("ObjectCreated:Put", "originals/holiday+photo%281%29.jpg"),
    ]);
    let answer = response(invoke(&function, &upload));
    let truncated = imaging::process(&hostile("truncated.jpg"), &imaging::Settings::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        answer,
        json!({"records": [
            {"key": upload_key(&good), "outcome": "READY"},
            {"key": upload_key(&bad), "outcome": "FAILED", "reason": truncated},
            {"key": "originals/holiday photo(1).jpg", "outcome": "SKIPPED",
             "reason": "`originals/holiday photo(1).jpg` is not the key of an upload"},
        ]})
    );

    // The good photo: READY with its metadata, both derivatives in S3, metadata-free.
    let done = stored(&config, &good).await;
    assert_eq!(done.status, PhotoStatus::Ready);
    assert_eq!(done.sha256_actual, Some(done.sha256_declared));
    let dims = done.dimensions.expect("dimensions");
    assert_eq!((dims.width, dims.height), (3640, 2400));
    assert!(done.camera.is_some() && done.gps.is_some() && done.taken_at.is_some());
    let mut derivatives = Vec::new();
    for name in ["thumb.jpg", "preview.jpg"] {
        let key = format!("derivatives/{OWNER}/{good}/{name}");
        let (bytes, content_type) = object(&config, &key).await.expect(&key);
        assert_eq!(content_type, "image/jpeg", "{key}");
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "{key} is a JPEG");
        assert!(
            !bytes.windows(6).any(|w| w == b"Exif\0\0"),
            "{key} carries no EXIF (and so no GPS)"
        );
        derivatives.push(bytes);
    }
    // The upload became the original, byte for byte, and the upload key is empty.
    let (kept, content_type) = object(&config, &original(&good))
        .await
        .expect("the original");
    assert_eq!(kept, fixture("landscape-8mp.jpg"));
    assert_eq!(content_type, "image/jpeg");
    // A download of it is saved under the name it was uploaded with.
    let head = s3(&config)
        .head_object()
        .bucket(BUCKET)
        .key(original(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"IMG_0001.jpg\"; filename*=UTF-8''IMG_0001.jpg")
    );
    assert!(object(&config, &upload_key(&good)).await.is_none());

    // The hostile file: FAILED with the reason, and its original deleted.
    assert_eq!(
        stored(&config, &bad).await.status,
        PhotoStatus::Failed {
            reason: truncated.clone()
        }
    );
    let mut all = keys(&config).await;
    all.sort();
    let mut expected = vec![
        original(&good),
        format!("derivatives/{OWNER}/{good}/preview.jpg"),
        format!("derivatives/{OWNER}/{good}/thumb.jpg"),
    ];
    expected.sort();
    assert_eq!(all, expected, "only the good photo's objects remain");

    // S3 delivers the same notification again: nothing changes.
    let again = response(invoke(&function, &upload));
    assert_eq!(again["records"][0]["outcome"], "SKIPPED");
    assert_eq!(again["records"][1]["outcome"], "SKIPPED");
    assert_eq!(stored(&config, &good).await, done);
    let mut now = keys(&config).await;
    now.sort();
    assert_eq!(now, expected);
    for (name, before) in ["thumb.jpg", "preview.jpg"].iter().zip(&derivatives) {
        let key = format!("derivatives/{OWNER}/{good}/{name}");
        assert_eq!(&object(&config, &key).await.unwrap().0, before, "{key}");
    }

    // A record that fails for a reason a retry may fix (here a photo item the repository cannot
    // read) fails the invocation, so Lambda retries and then hands the event to the on-failure
    // destination; the good record of the same event is still processed.
    let broken = PhotoId::parse("01JDQ4Z1XK8V7R3M5N2P6W9Y0C").unwrap();
    aws_sdk_dynamodb::Client::new(&config)
        .put_item()
        .table_name(TABLE)
        .item(
            "pk",
            AttributeValue::S(photo_domain::keys::user_pk(&owner())),
        )
        .item(
            "sk",
            AttributeValue::S(photo_domain::keys::photo_sk(&broken)),
        )
        .item("status", AttributeValue::S("PENDING".into()))
        .send()
        .await
        .unwrap();
    let fresh = common::uploaded(&config, &owner(), fixture("orientation-6.jpg"))
        .await
        .0;
    let outcome = invoke(
        &function,
        &common::s3_event(&[
            ("ObjectCreated:Post", &upload_key(&broken)),
            ("ObjectCreated:Post", &upload_key(&fresh)),
        ]),
    );
    let Outcome::Error(error) = outcome else {
        panic!("a transient failure must fail the invocation: {outcome:?}");
    };
    let error: Value = serde_json::from_str(&error).unwrap();
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "`1` of `2` records failed; the first, `{}`",
            upload_key(&broken)
        )),
        "{message}"
    );
    assert_eq!(stored(&config, &fresh).await.status, PhotoStatus::Ready);

    let logs = function.logs();
    // The harness's Runtime API hands every invocation this X-Ray trace id, as Lambda does.
    assert!(
        logs.contains("\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\""),
        "logs carry the X-Ray trace root: {logs}"
    );
    assert!(
        logs.contains("\"request_id\":\"req-"),
        "and the request id: {logs}"
    );
    assert!(logs.contains("photo refused"), "{logs}");
    for line in logs.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

#[test]
fn a_missing_setting_is_reported_to_lambda_as_an_init_error() {
    common::check_init_error(
        BIN,
        &[("AWS_REGION", REGION), ("PHOTO_TABLE", TABLE)],
        "environment variable `PHOTO_BUCKET` is not set",
    );
}

/// The hourly schedule's event makes the function sweep abandoned uploads: a start three hours
/// old whose bytes never came is removed, its quota returned; one whose bytes are in the bucket,
/// and a recent one, stay. An event it does not know fails the invocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_sweeps_abandoned_uploads_on_the_schedules_event() {
    use photo_domain::memory::ManualClock;
    use photo_domain::{
        Clock as _, ContentType, FileName, Limits, NewUpload, ObjectKey, PhotoService, Sha256,
        SystemClock,
    };
    use std::sync::Arc;

    let (moto, config) = common::moto_stack().await;
    let repo = Arc::new(DynamoDbRepository::new(&config, TABLE));
    let store = Arc::new(photo_aws::S3ObjectStore::new(&config, BUCKET).unwrap());
    let start = async |clock: Arc<dyn photo_domain::Clock>, n: u8, size: u64| {
        let service = PhotoService::new(repo.clone(), store.clone(), clock, Limits::default());
        let upload = NewUpload {
            file_name: FileName::parse("IMG_0001.jpg").unwrap(),
            content_type: ContentType::Jpeg,
            size,
            sha256: Sha256::from_bytes([n; 32]),
        };
        service.start_upload(&owner(), upload).await.unwrap().0
    };
    let hours_ago = Arc::new(ManualClock::new(SystemClock.now().plus_secs(-3 * 3600)));
    let abandoned = start(hours_ago.clone(), 1, 100).await;
    let arrived = start(hours_ago, 2, 200).await;
    s3(&config)
        .put_object()
        .bucket(BUCKET)
        .key(ObjectKey::upload(&owner(), &arrived.id).as_str())
        .body(vec![0; 200].into())
        .send()
        .await
        .unwrap();
    let recent = start(Arc::new(SystemClock), 3, 400).await;

    let runtime = RuntimeApi::start();
    let function = runtime.start_function(
        &mut common::bootstrap(&runtime, &moto, BIN, "photo-app-test-thumbnail", 1024),
        Duration::from_secs(30),
    );
    let answer = response(invoke(&function, r#"{"sweep": "abandoned-uploads"}"#));
    assert_eq!(answer, json!({"sweep": {"removed": 1, "kept": 1}}));
    let gone = repo.get_photo(&owner(), &abandoned.id).await.unwrap();
    assert_eq!(gone, None);
    assert_eq!(stored(&config, &arrived.id).await, arrived);
    assert_eq!(stored(&config, &recent.id).await, recent);
    assert_eq!(
        repo.get_usage(&owner()).await.unwrap().used_bytes,
        600,
        "the abandoned upload's 100 bytes are back"
    );
    // Nothing more to do the next hour.
    let answer = response(invoke(&function, r#"{"sweep": "abandoned-uploads"}"#));
    assert_eq!(answer, json!({"sweep": {"removed": 0, "kept": 1}}));

    let Outcome::Error(error) = invoke(&function, r#"{"sweep": "everything"}"#) else {
        panic!("an unknown sweep must fail");
    };
    assert!(error.contains("unknown sweep"), "{error}");
}
