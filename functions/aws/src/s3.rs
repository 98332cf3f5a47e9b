//! The photo bucket on S3, behind both of the domain's object ports: [`ObjectStore`] (browser
//! uploads by pre-signed POST, downloads by pre-signed GET: the API function) and [`BlobStore`]
//! (reading originals, writing derivatives, deleting: the thumbnail function).
//!
//! Upload forms are signed by [`s3post::presign_post`] with credentials taken from the SDK's
//! credentials provider at signing time (on Lambda these are session credentials that rotate,
//! so they are never cached here). The form goes to the bucket's regional virtual-hosted
//! endpoint on AWS, or path-style to an endpoint override such as moto or the local stage.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::ProvideCredentials as _;
use aws_sdk_s3::config::SharedCredentialsProvider;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, StorageClass};

use photo_domain::{
    BlobError, BlobStore, Error, Grant, ObjectKey, ObjectStore, PresignedPost, Result, Timestamp,
    UploadPolicy,
};

/// S3's limit on the keys of one `DeleteObjects`.
const MAX_DELETE_KEYS: usize = 1000;

/// The stage's photo bucket (`PHOTO_BUCKET`).
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    credentials: SharedCredentialsProvider,
    region: String,
    bucket: String,
    endpoint: s3post::Endpoint,
}

fn at(t: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(t.millis().max(0).unsigned_abs())
}

impl S3ObjectStore {
    /// A store for `bucket`, with the region, credentials and endpoint of `config`. With an
    /// endpoint override (`AWS_ENDPOINT_URL`), requests and upload forms are path-style.
    pub fn new(config: &SdkConfig, bucket: impl Into<String>) -> Result<Self> {
        let region = config
            .region()
            .ok_or_else(|| Error::Backend("no AWS region is configured".into()))?
            .to_string();
        let credentials = config
            .credentials_provider()
            .ok_or_else(|| Error::Backend("no AWS credentials provider is configured".into()))?;
        let endpoint = match config.endpoint_url() {
            Some(url) => s3post::Endpoint::path_style(url)
                .map_err(|e| Error::Backend(format!("S3 endpoint: {e}")))?,
            None => s3post::Endpoint::Aws,
        };
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Ok(S3ObjectStore {
            client: Client::from_conf(s3_config),
            credentials,
            region,
            bucket: bucket.into(),
            endpoint,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

/// The storage class an object is written in. Originals are kept for years and mostly left
/// alone after the first days, so they go to Intelligent-Tiering from their first write (no
/// lifecycle transition, which S3 charges per object); derivatives are read with every gallery
/// and stay in Standard.
pub fn storage_class(key: &ObjectKey) -> Option<StorageClass> {
    ObjectKey::parse_original(key.as_str())
        .is_some()
        .then_some(StorageClass::IntelligentTiering)
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn presign_upload(&self, policy: &UploadPolicy, now: Timestamp) -> Result<PresignedPost> {
        let seconds = (policy.expires_at.secs() - now.secs())
            .max(0)
            .unsigned_abs();
        let lifetime = s3post::PolicyLifetime::new(Duration::from_secs(seconds))
            .map_err(|e| Error::Backend(format!("upload form: {e}")))?;
        let credentials = self.credentials.provide_credentials().await.map_err(|e| {
            Error::Backend(format!(
                "loading AWS credentials: {}",
                DisplayErrorContext(e)
            ))
        })?;
        let credentials = s3post::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            credentials.session_token().map(str::to_owned),
        );
        // The policy pins the key, the content type, the exact size and the SHA-256: S3
        // refuses any other bytes, so the form can carry nothing but the declared photo.
        let upload = s3post::PostUpload {
            bucket: self.bucket.clone(),
            key: policy.key.as_str().to_owned(),
            content_type: policy.content_type.as_str().to_owned(),
            size: policy.size,
            sha256: Some(*policy.sha256.as_bytes()),
            lifetime,
        };
        let post =
            s3post::presign_post(&upload, &self.region, &self.endpoint, &credentials, at(now))
                .map_err(|e| Error::Backend(format!("signing an upload form: {e}")))?;
        Ok(PresignedPost {
            url: post.url,
            fields: post.fields.into_iter().collect(),
            expires_at: Timestamp::from_secs(
                i64::try_from(post.expires_at).unwrap_or(i64::MAX / 1000),
            ),
        })
    }

    /// A pre-signed GET of S3 itself, for one key whatever the grant: what a stage without a
    /// media distribution (moto, say) hands out. Signed at `signed_at`, so one window's links
    /// are the same; the link cannot outlive the credentials that sign it (on Lambda, the
    /// function's session).
    async fn presign_download(
        &self,
        key: &ObjectKey,
        _grant: Grant,
        signed_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String> {
        let seconds = (expires_at.secs() - signed_at.secs()).max(1).unsigned_abs();
        let presigning = PresigningConfig::builder()
            .start_time(at(signed_at))
            .expires_in(Duration::from_secs(seconds))
            .build()
            .map_err(|e| Error::Backend(format!("download link: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(presigning)
            .await
            .map_err(|e| {
                Error::Backend(format!(
                    "signing a download link: {}",
                    DisplayErrorContext(e)
                ))
            })?;
        Ok(request.uri().to_owned())
    }

    async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
        BlobStore::delete(self, keys)
            .await
            .map_err(|e| Error::Backend(e.to_string()))
    }

    async fn object_exists(&self, key: &ObjectKey) -> Result<bool> {
        // A listing of exactly this key: the roles may list `uploads/` and nothing else, and a
        // listing says "not there" where a `HeadObject` without `s3:ListBucket` says 403.
        let listed = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(key.as_str())
            .max_keys(1)
            .send()
            .await
            .map_err(|e| {
                Error::Backend(format!(
                    "listing `{key}` in bucket `{}`: {}",
                    self.bucket,
                    DisplayErrorContext(&e)
                ))
            })?;
        Ok(listed
            .contents()
            .iter()
            .any(|o| o.key() == Some(key.as_str())))
    }
}

impl S3ObjectStore {
    async fn write(
        &self,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
        content_disposition: Option<&str>,
    ) -> std::result::Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .set_content_disposition(content_disposition.map(str::to_owned))
            .cache_control(photo_contract::keys::MEDIA_CACHE_CONTROL)
            .set_storage_class(storage_class(key))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| backend("writing", key.as_str(), e))?;
        Ok(())
    }
}

fn backend(what: &str, key: &str, e: impl std::error::Error) -> BlobError {
    BlobError::new(format!("{what} `{key}`: {}", DisplayErrorContext(e)))
}

#[async_trait]
impl BlobStore for S3ObjectStore {
    async fn get(
        &self,
        key: &ObjectKey,
        max_bytes: u64,
    ) -> std::result::Result<Option<Vec<u8>>, BlobError> {
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
    ) -> std::result::Result<(), BlobError> {
        self.write(key, body, content_type, None).await
    }

    /// Written from the bytes read, like any object, with its `Content-Disposition`.
    async fn put_original(
        &self,
        _source: &ObjectKey,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
        content_disposition: &str,
    ) -> std::result::Result<(), BlobError> {
        self.write(key, body, content_type, Some(content_disposition))
            .await
    }

    async fn delete(&self, keys: &[ObjectKey]) -> std::result::Result<(), BlobError> {
        for chunk in keys.chunks(MAX_DELETE_KEYS) {
            let first = chunk.first().map(ObjectKey::as_str).unwrap_or_default();
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k.as_str()).build())
                .collect::<std::result::Result<Vec<_>, _>>()
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
