//! The S3 object store against moto: a pre-signed POST form lands the object, a pre-signed GET
//! fetches it, and deleting removes it (missing keys included).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use photo_aws::S3ObjectStore;
use photo_domain::{
    Clock, ContentType, ObjectKey, ObjectStore, PhotoId, Sha256, SystemClock, UploadPolicy, UserId,
};
use sha2::Digest as _;
use testkit::MotoServer;

const BOUNDARY: &str = "----photo-aws-test-boundary-41c9";

/// One HTTP/1.1 exchange with a loopback server: `(status, body)`.
fn http(method: &str, url: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).expect("connecting to moto");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        if path.is_empty() { "/" } else { path },
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

/// A browser's `multipart/form-data` body: the form's fields, then the file last.
fn multipart<'a>(fields: impl Iterator<Item = (&'a String, &'a String)>, file: &[u8]) -> Vec<u8> {
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
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"IMG_1.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_by_form_downloads_by_link_and_deletes() {
    let moto = MotoServer::start();
    let config = common::sdk_config(&moto).await;
    common::create_bucket(&config).await;
    let store = S3ObjectStore::new(&config, common::BUCKET).unwrap();

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
        format!("{}/{}", moto.endpoint_url(), common::BUCKET),
        "path-style to the endpoint override"
    );
    assert_eq!(post.fields["key"], policy.key.as_str());
    assert_eq!(post.fields["Content-Type"], "image/jpeg");
    assert_eq!(
        post.fields["x-amz-security-token"], "testing-session-token",
        "session credentials come from the SDK's provider"
    );
    assert!(post.fields["x-amz-credential"].starts_with("AKIDTESTING/"));
    assert_eq!(
        post.expires_at,
        photo_domain::Timestamp::from_secs(now.plus_secs(600).secs()),
        "policies expire on a whole second"
    );

    let (status, body) = http(
        "POST",
        &post.url,
        &[(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )],
        &multipart(post.fields.iter(), &bytes),
    );
    assert!(
        (200..300).contains(&status),
        "upload refused with {status}: {}",
        String::from_utf8_lossy(&body)
    );

    let link = store
        .presign_download(&policy.key, now, now.plus_secs(300))
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
        .bucket(common::BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
}
