//! The S3 object store against moto: a pre-signed POST form lands the object, a pre-signed GET
//! fetches it, and deleting removes it (missing keys included).

use photo_aws::S3ObjectStore;
use photo_domain::{
    Clock, ContentType, ObjectKey, ObjectStore, PhotoId, Sha256, SystemClock, UploadPolicy, UserId,
};
use sha2::Digest as _;
use testkit::MotoServer;
use testkit::aws::{ACCESS_KEY_ID, BUCKET, SESSION_TOKEN};

/// A plain HTTP exchange with moto, as a browser makes it: `(status, body)`.
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let answer = testkit::http::request(method, url, headers, body)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    (answer.status, answer.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_by_form_downloads_by_link_and_deletes() {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    testkit::aws::create_bucket(&config, BUCKET).await;
    let store = S3ObjectStore::new(&config, BUCKET).unwrap();

    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let owner = UserId::parse("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab").unwrap();
    let photo = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
    let now = SystemClock.now();
    let policy = UploadPolicy {
        key: ObjectKey::original(&owner, &photo),
        content_type: ContentType::Jpeg,
        size: bytes.len() as u64,
        sha256: Sha256::from_bytes(digest),
        expires_at: now.plus_secs(600),
    };
    let post = store.presign_upload(&policy, now).await.unwrap();
    assert_eq!(
        post.url,
        format!("{}/{}", moto.endpoint_url(), BUCKET),
        "path-style to the endpoint override"
    );
    assert_eq!(post.fields["key"], policy.key.as_str());
    assert_eq!(post.fields["Content-Type"], "image/jpeg");
    assert_eq!(
        post.fields["x-amz-security-token"], SESSION_TOKEN,
        "session credentials come from the SDK's provider"
    );
    assert!(post.fields["x-amz-credential"].starts_with(&format!("{ACCESS_KEY_ID}/")));
    assert_eq!(
        post.expires_at,
        photo_domain::Timestamp::from_secs(now.plus_secs(600).secs()),
        "policies expire on a whole second"
    );

    let (status, body) = http(
        "POST",
        &post.url,
        &[("Content-Type", &testkit::http::multipart_content_type())],
        &testkit::http::multipart(&post.fields, "IMG_1.jpg", "image/jpeg", &bytes),
    );
    assert!(
        (200..300).contains(&status),
        "upload refused with {status}: {}",
        String::from_utf8_lossy(&body)
    );

    let link = store
        .presign_download(
            &policy.key,
            photo_domain::Grant::Owner,
            now,
            now.plus_secs(300),
        )
        .await
        .unwrap();
    assert!(link.contains("X-Amz-Signature="), "{link}");
    assert!(link.contains("X-Amz-Expires=300"), "{link}");
    let (status, fetched) = http("GET", &link, &[], b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&fetched));
    assert_eq!(fetched, bytes);

    // More than one DeleteObjects batch, mostly keys that never existed.
    let mut keys: Vec<ObjectKey> = (0..1500)
        .map(|i| ObjectKey::from_trusted(format!("originals/nobody/{i}")))
        .collect();
    keys.extend(ObjectKey::all_for(&owner, &photo));
    store.delete_objects(&keys).await.unwrap();
    let (status, _) = http("GET", &link, &[], b"");
    assert_eq!(status, 404, "the object is gone");
    let listed = store
        .client()
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_has_arrived_only_when_its_exact_key_is_in_the_bucket() {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    testkit::aws::create_bucket(&config, BUCKET).await;
    let store = S3ObjectStore::new(&config, BUCKET).unwrap();
    let owner = UserId::parse("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab").unwrap();
    let arrived = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
    let awaited = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAW").unwrap();
    let put = async |key: &str| {
        store
            .client()
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(b"bytes".to_vec().into())
            .send()
            .await
            .unwrap();
    };
    put(ObjectKey::upload(&owner, &arrived).as_str()).await;
    // Keys that only look like the awaited upload's: its original, and a longer key.
    put(ObjectKey::original(&owner, &awaited).as_str()).await;
    put(&format!("{}/x", ObjectKey::upload(&owner, &awaited))).await;

    let upload = |id| ObjectKey::upload(&owner, id);
    assert!(store.object_exists(&upload(&arrived)).await.unwrap());
    assert!(!store.object_exists(&upload(&awaited)).await.unwrap());

    // A failure to ask is an error, never "not there": nothing is removed on a guess.
    let elsewhere = S3ObjectStore::new(&config, "no-such-bucket").unwrap();
    let refused = elsewhere
        .object_exists(&upload(&arrived))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("no-such-bucket"), "{refused}");
}
