//! The functions as they ship, on both Lambda architectures: each is built for
//! `x86_64-unknown-linux-musl` and `aarch64-unknown-linux-musl` by the deployer's own build code
//! (static, `ring` cross-compiled, the ELF check), and run against the loopback Runtime API
//! with moto behind it, the arm64 binary under `qemu-aarch64-static`. The tests in `api` and
//! `thumbnail` cover the behaviour on the host's test build; these prove that the binaries
//! `deployer package` would upload start, reach DynamoDB, S3 and Cognito, verify a token and turn
//! a photo into a thumbnail on either architecture.
//!
//! Both functions are built for both architectures in one `cargo build` in the `lambda-test`
//! profile (see `testkit::lambda`), shared by the four tests.

use crate::common;

use std::time::Duration;

use photo_aws::DynamoDbRepository;
use photo_contract::functions::{API, THUMBNAIL};
use photo_domain::{ObjectKey, PhotoStatus, Repository as _, UserId};
use serde_json::{Value, json};
use testkit::aws::{BUCKET, TABLE, s3_client as s3};
use testkit::lambda::Architecture;
use testkit::runtime_api::{Outcome, RuntimeApi};

/// A small photo (1200×800, 135 kB), so the emulated decode is quick.
const PHOTO: &str = "orientation-1.jpg";

/// Emulated, a start and an invocation take several times longer than natively.
const START: Duration = Duration::from_secs(60);
const INVOKE: Duration = Duration::from_secs(120);

/// The API function of `arch` answers API Gateway's request with the photo, read from moto's
/// DynamoDB after verifying the user's real token against moto's user pool.
async fn api_serves_a_photo(arch: Architecture) {
    // Built first (minutes from cold, seconds after), so moto is not left idle meanwhile.
    testkit::lambda::bootstrap(API, arch);
    let (moto, config) = common::moto_stack().await;
    let user = testkit::aws::cognito_user(&config, "photos", "alice").await;
    let owner = UserId::parse(&user.sub).unwrap();
    let bytes = testkit::test_photo(PHOTO);
    let sha = imaging::Sha256Digest::of(&bytes).to_hex();
    let (id, _) = common::uploaded(&config, &owner, bytes).await;

    let runtime = RuntimeApi::start();
    let mut command = common::lambda_bootstrap(&runtime, &moto, API, arch, 256);
    common::api_settings(&mut command, &moto, &user);
    let function = runtime.start_function(&mut command, START);

    let request_id = format!("cross-{arch}=");
    let outcome = function.invoke(
        &common::call("GET", "/photos/{id}", &request_id)
            .id(&id.to_string())
            .token(&user.access_token)
            .event(&user),
        INVOKE,
    );
    let Outcome::Response(text) = outcome else {
        panic!(
            "the {arch} function reported an error: {outcome:?}; logs: {}",
            function.logs()
        );
    };
    let response: Value = serde_json::from_str(&text).unwrap();
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the body is JSON ({e}): {response}"));
    assert_eq!(response["statusCode"], 200, "{body}");
    assert_eq!(
        response["headers"]["x-request-id"], request_id,
        "API Gateway's request id"
    );
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["file_name"], "IMG_0001.jpg");
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["sha256"], sha);
    // The output reaches the test through a pipe and a reader thread: it may trail the answer.
    let logged = testkit::wait_until(Duration::from_secs(10), || {
        function.logs().contains(&request_id)
    });
    assert!(logged, "logs carry the request id: {}", function.logs());
}

/// The thumbnail function of `arch` turns a real photo in moto's S3 into real JPEG derivatives
/// and marks the photo READY in moto's DynamoDB.
async fn thumbnail_makes_jpegs(arch: Architecture) {
    testkit::lambda::bootstrap(THUMBNAIL, arch);
    let (moto, config) = common::moto_stack().await;
    let owner = UserId::parse("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab").unwrap();
    let (id, key) = common::uploaded(&config, &owner, testkit::test_photo(PHOTO)).await;

    let runtime = RuntimeApi::start();
    let function = runtime.start_function(
        &mut common::lambda_bootstrap(&runtime, &moto, THUMBNAIL, arch, 1024),
        START,
    );
    let outcome = function.invoke(&common::s3_event(&[("ObjectCreated:Post", &key)]), INVOKE);
    let Outcome::Response(text) = outcome else {
        panic!(
            "the {arch} function reported an error: {outcome:?}; logs: {}",
            function.logs()
        );
    };
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer,
        json!({"records": [{"key": key, "outcome": "READY"}]}),
        "logs: {}",
        function.logs()
    );

    let photo = DynamoDbRepository::new(&config, TABLE)
        .get_photo(&owner, &id)
        .await
        .unwrap()
        .expect("the photo record");
    assert_eq!(photo.status, PhotoStatus::Ready);
    let dims = photo.dimensions.expect("dimensions");
    assert_eq!((dims.width, dims.height), (1200, 800));

    // Both derivatives decode as JPEGs of the expected sizes: the thumbnail a 400-pixel square,
    // the preview the photo's own size (never upscaled).
    for (derivative, size) in [
        (ObjectKey::thumbnail(&owner, &id), (400, 400)),
        (ObjectKey::preview(&owner, &id), (1200, 800)),
    ] {
        let key = derivative.as_str();
        let object = s3(&config)
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("reading `{key}`: {e:?}"));
        assert_eq!(object.content_type(), Some("image/jpeg"), "{key}");
        let bytes = object.body.collect().await.unwrap().into_bytes();
        let decoded = imaging::process(&bytes, &imaging::Settings::default())
            .unwrap_or_else(|e| panic!("`{key}` does not decode: {e}"));
        let meta = decoded.metadata;
        assert_eq!(meta.format, imaging::Format::Jpeg, "{key}");
        assert_eq!((meta.width, meta.height), size, "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_x86_64_api_function_serves_a_photo() {
    api_serves_a_photo(Architecture::X86_64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arm64_api_function_serves_a_photo() {
    api_serves_a_photo(Architecture::Arm64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_x86_64_thumbnail_function_makes_a_thumbnail() {
    thumbnail_makes_jpegs(Architecture::X86_64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arm64_thumbnail_function_makes_a_thumbnail() {
    thumbnail_makes_jpegs(Architecture::Arm64).await;
}
