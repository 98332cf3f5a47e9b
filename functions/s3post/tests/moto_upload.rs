//! Uploads a photo to moto's S3 with a form from `presign_post`, as a browser would.
//!
//! moto accepts POST uploads but does not enforce policy conditions; the conditions are proven
//! by the unit tests (policy JSON, verifier) and the botocore cross-check. This test proves the
//! form is one S3 takes: the right URL, field names and order, and the file last.

use std::time::{Duration, SystemTime};

use s3post::{
    Credentials, Endpoint, PolicyLifetime, PostSubmission, PostUpload, presign_post, verify_post,
};
use sha2::{Digest as _, Sha256};
use testkit::MotoServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_style_upload_lands_in_moto() {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config_in(&moto, "us-east-1").await;
    testkit::aws::create_bucket(&config, "photos-dev").await;
    let s3 = testkit::aws::s3_client(&config);
    let http = photo_auth::tls::http_client()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let photo = testkit::test_photo("orientation-2.jpg");
    let upload = PostUpload {
        bucket: "photos-dev".into(),
        key: "originals/user-1/photo-1".into(),
        content_type: "image/jpeg".into(),
        size: photo.len() as u64,
        sha256: Some(Sha256::digest(&photo).into()),
        lifetime: PolicyLifetime::new(Duration::from_secs(300)).unwrap(),
    };
    let credentials = Credentials::new("testing", "testing", Some("session-token".into()));
    let endpoint = Endpoint::path_style(&moto.endpoint_url()).unwrap();
    let now = SystemTime::now();
    let post = presign_post(&upload, "us-east-1", &endpoint, &credentials, now).unwrap();
    assert_eq!(post.url, format!("{}/photos-dev", moto.endpoint_url()));

    // The local stage would accept this very form too.
    let submission = PostSubmission {
        bucket: "photos-dev",
        region: "us-east-1",
        fields: &post.fields,
        file: &photo,
        now,
    };
    let verified = verify_post(&submission, |_| Some("testing".to_owned())).unwrap();
    assert_eq!(verified.key, "originals/user-1/photo-1");

    let response = http
        .post(&post.url)
        .header("content-type", testkit::http::multipart_content_type())
        .body(testkit::http::multipart(
            post.fields.iter().map(|(k, v)| (k, v)),
            "IMG_0001.jpg",
            "image/jpeg",
            &photo,
        ))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(
        status.as_u16(),
        204,
        "POST upload: {}",
        response.text().await.unwrap_or_default()
    );

    let object = s3
        .get_object()
        .bucket("photos-dev")
        .key("originals/user-1/photo-1")
        .send()
        .await
        .expect("reading the uploaded object");
    assert_eq!(object.content_type(), Some("image/jpeg"));
    let stored = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(stored.len(), photo.len());
    assert!(
        stored[..] == photo[..],
        "the stored object is the photo, byte for byte"
    );

    // Nothing landed under the browser's own file name.
    let listing = s3
        .list_objects_v2()
        .bucket("photos-dev")
        .send()
        .await
        .expect("listing the bucket");
    let keys: Vec<&str> = listing.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["originals/user-1/photo-1"]);
}
