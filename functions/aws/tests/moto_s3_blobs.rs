//! The S3 photo bucket as a [`BlobStore`] against moto's S3: what the thumbnailer relies on,
//! missing keys and the size limit included.

use photo_aws::S3ObjectStore;
use photo_domain::ObjectKey;
use photo_domain::{BlobError, BlobStore as _};
use testkit::MotoServer;
use testkit::aws::BUCKET;

fn key(name: &str) -> ObjectKey {
    ObjectKey::from_trusted(format!(
        "derivatives/alice/01JDQ4Z1XK8V7R3M5N2P6W9Y0A/{name}"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_blob_store_reads_writes_and_deletes_within_limits() {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    testkit::aws::create_bucket(&config, BUCKET).await;
    let client = testkit::aws::s3_client(&config);
    let store = S3ObjectStore::new(&config, BUCKET).unwrap();
    let thumb = key("thumb.jpg");

    assert_eq!(
        store.get(&thumb, 100).await,
        Ok(None),
        "missing is not an error"
    );
    store
        .put(&thumb, b"0123456789".to_vec(), "image/jpeg")
        .await
        .unwrap();
    let head = client
        .head_object()
        .bucket(BUCKET)
        .key(thumb.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/jpeg"));
    // A derivative never changes under its key: the edge may keep it.
    assert_eq!(head.cache_control(), Some("max-age=31536000, immutable"));
    // Derivatives stay in Standard (S3 reports no class for it); originals go to
    // Intelligent-Tiering from their first write.
    assert_eq!(head.storage_class(), None);
    let original = ObjectKey::from_trusted(
        "originals/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab/01JDQ4Z1XK8V7R3M5N2P6W9Y0A".to_owned(),
    );
    let upload = ObjectKey::from_trusted(
        "uploads/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab/01JDQ4Z1XK8V7R3M5N2P6W9Y0A".to_owned(),
    );
    let disposition = "attachment; filename=\"_t_.heic\"; filename*=UTF-8''%C3%89t%C3%A9.heic";
    store
        .put_original(
            &upload,
            &original,
            b"heic".to_vec(),
            "image/heic",
            disposition,
        )
        .await
        .unwrap();
    let head = client
        .head_object()
        .bucket(BUCKET)
        .key(original.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.storage_class(),
        Some(&aws_sdk_s3::types::StorageClass::IntelligentTiering)
    );
    // A download of the original is saved under the photo's name.
    assert_eq!(head.content_type(), Some("image/heic"));
    assert_eq!(head.content_disposition(), Some(disposition));
    assert_eq!(head.cache_control(), Some("max-age=31536000, immutable"));
    store.delete(&[original]).await.unwrap();
    assert_eq!(
        store.get(&thumb, 10).await,
        Ok(Some(b"0123456789".to_vec())),
        "exactly the limit is fine"
    );
    assert_eq!(
        store.get(&thumb, 9).await,
        Err(BlobError::TooLarge { size: 10, limit: 9 })
    );

    // Deleting a missing key alongside a present one is fine; both are gone after.
    store
        .delete(&[thumb.clone(), key("preview.jpg")])
        .await
        .unwrap();
    assert_eq!(store.get(&thumb, 100).await, Ok(None));
    store.delete(&[]).await.unwrap();

    // A bucket that does not exist is a backend failure, never "not found".
    let elsewhere = S3ObjectStore::new(&config, "no-such-bucket").unwrap();
    let err = elsewhere.get(&thumb, 100).await.unwrap_err();
    assert!(matches!(err, BlobError::Backend(_)), "{err}");
    assert!(err.to_string().contains(thumb.as_str()), "{err}");
}
