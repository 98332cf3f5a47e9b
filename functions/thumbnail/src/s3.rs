//! [`BlobStore`] on the stage's S3 photo bucket, for the Lambda function.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use photo_domain::ObjectKey;

use crate::blob::{BlobError, BlobStore};

/// S3's limit on the keys of one `DeleteObjects`.
const MAX_DELETE_KEYS: usize = 1000;

/// The photo bucket (`PHOTO_BUCKET`).
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    /// A store for `bucket` with the region, credentials and endpoint of `config`. With an
    /// endpoint override (`AWS_ENDPOINT_URL`, e.g. moto) requests are path-style.
    pub fn new(config: &SdkConfig, bucket: impl Into<String>) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        S3BlobStore {
            client: Client::from_conf(s3),
            bucket: bucket.into(),
        }
    }
}

fn backend(what: &str, key: &str, e: impl std::error::Error) -> BlobError {
    BlobError::new(format!("{what} `{key}`: {}", DisplayErrorContext(e)))
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn get(&self, key: &ObjectKey, max_bytes: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(backend("reading", key.as_str(), e)),
        };
        // S3 announces the size; refuse before buffering anything.
        let announced = out.content_length().unwrap_or(0).max(0).unsigned_abs();
        if announced > max_bytes {
            return Err(BlobError::TooLarge {
                size: announced,
                limit: max_bytes,
            });
        }
        // Still count while reading: the body is what matters, not what the header said.
        let mut body = out.body;
        let mut bytes = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| backend("reading", key.as_str(), e))?;
            let size = bytes.len() as u64 + chunk.len() as u64;
            if size > max_bytes {
                return Err(BlobError::TooLarge {
                    size,
                    limit: max_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    async fn put(
        &self,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| backend("writing", key.as_str(), e))?;
        Ok(())
    }

    async fn delete(&self, keys: &[ObjectKey]) -> Result<(), BlobError> {
        for chunk in keys.chunks(MAX_DELETE_KEYS) {
            let first = chunk.first().map(ObjectKey::as_str).unwrap_or_default();
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k.as_str()).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| backend("deleting", first, e))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| backend("deleting", first, e))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| backend("deleting", first, e))?;
            // Keys that do not exist are not errors in S3; anything reported here is.
            if let Some(failed) = out.errors().first() {
                return Err(BlobError::new(format!(
                    "deleting `{}`: {}",
                    failed.key().unwrap_or(first),
                    failed.code().unwrap_or("unknown error")
                )));
            }
        }
        Ok(())
    }
}
