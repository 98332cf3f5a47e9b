//! Uploads a photo to moto's S3 with a form from `presign_post`, as a browser would.
//!
//! moto accepts POST uploads but does not enforce policy conditions; the conditions are proven
//! by the unit tests (policy JSON, verifier) and the botocore cross-check. This test proves the
//! form is one S3 takes: the right URL, field names and order, and the file last.

use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials as SdkCredentials, Region};
use s3post::{
    Credentials, Endpoint, PolicyLifetime, PostSubmission, PostUpload, presign_post, verify_post,
};
use testkit::MotoServer;

const BOUNDARY: &str = "----photo-upload-boundary-7d3c2e";

/// A `multipart/form-data` body: the fields in order, then the file.
fn multipart(
    fields: &[(String, String)],
    file_name: &str,
    content_type: &str,
    file: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_style_upload_lands_in_moto() {
    let moto = MotoServer::start();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SdkCredentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(moto.endpoint_url())
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("photos-dev")
        .send()
        .await
        .expect("creating the bucket");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let photo = std::fs::read(testkit::test_photos().join("orientation-2.jpg")).unwrap();
    let upload = PostUpload {
        bucket: "photos-dev".into(),
        key: "originals/user-1/photo-1".into(),
        content_type: "image/jpeg".into(),
        max_bytes: 25_000_000,
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
        file_len: photo.len() as u64,
        now,
    };
    let verified = verify_post(&submission, |_| Some("testing".to_owned())).unwrap();
    assert_eq!(verified.key, "originals/user-1/photo-1");

    let response = http
        .post(&post.url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(
            &post.fields,
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
