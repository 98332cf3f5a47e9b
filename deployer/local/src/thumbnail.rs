//! The local stage's thumbnail step: the thumbnail function's own code, fed by the durable queue.
//!
//! On AWS an upload under `originals/` invokes the thumbnail Lambda; here the upload endpoint
//! writes a queue job and the worker hands each key to the same [`Thumbnailer`], reading and
//! writing the bucket through [`LocalBlobs`], the object files of [`FileObjectStore`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use photo_domain::{ObjectKey, PhotoService};
use photo_thumbnail::{BlobError, BlobStore, Outcome, Thumbnailer};

use crate::objects::{Bounded, FileObjectStore};
use crate::queue::Processor;

/// The bucket's object files as the thumbnailer's blob store. File work runs on the blocking
/// pool, so a large original never stalls the threads that answer requests.
#[derive(Debug, Clone)]
pub struct LocalBlobs(pub Arc<FileObjectStore>);

fn blob_error(e: impl std::fmt::Display) -> BlobError {
    BlobError::new(e.to_string())
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn get(&self, key: &ObjectKey, max_bytes: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let (store, key) = (self.0.clone(), key.clone());
        let object =
            tokio::task::spawn_blocking(move || store.get_bounded(key.as_str(), max_bytes))
                .await
                .map_err(blob_error)?;
        match object.map_err(blob_error)? {
            Bounded::Found(object) => Ok(Some(object.bytes)),
            Bounded::Missing => Ok(None),
            Bounded::TooLarge { size } => Err(BlobError::TooLarge {
                size,
                limit: max_bytes,
            }),
        }
    }

    async fn put(
        &self,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        let (store, key, content_type) = (self.0.clone(), key.clone(), content_type.to_owned());
        tokio::task::spawn_blocking(move || store.put(key.as_str(), &body, &content_type))
            .await
            .map_err(blob_error)?
            .map_err(blob_error)
    }

    async fn delete(&self, keys: &[ObjectKey]) -> Result<(), BlobError> {
        use photo_domain::ObjectStore as _;
        self.0.delete_objects(keys).await.map_err(blob_error)
    }
}

/// The queue's processor: one upload through the [`Thumbnailer`].
pub struct ThumbnailStep {
    thumbnailer: Thumbnailer,
    service: PhotoService,
    /// A pause before each job, for tests that stop the stage in the middle of one.
    delay: Duration,
}

impl std::fmt::Debug for ThumbnailStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThumbnailStep")
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

impl ThumbnailStep {
    pub fn new(
        service: PhotoService,
        store: Arc<FileObjectStore>,
        settings: imaging::Settings,
        delay: Duration,
    ) -> Self {
        ThumbnailStep {
            thumbnailer: Thumbnailer::new(
                service.processing(),
                Arc::new(LocalBlobs(store)),
                settings,
            ),
            service,
            delay,
        }
    }
}

#[async_trait]
impl Processor for ThumbnailStep {
    async fn process(&self, key: &ObjectKey) -> Result<(), String> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        match self.thumbnailer.process(key.as_str()).await {
            Ok(Outcome::Ready) => {
                tracing::info!(key = %key, "thumbnails ready");
                Ok(())
            }
            // Final: the photo is FAILED with the reason, and trying again would not change it.
            Ok(Outcome::Failed { reason }) => {
                tracing::warn!(key = %key, reason = %reason, "photo failed processing");
                Ok(())
            }
            Ok(Outcome::Skipped { reason }) => {
                tracing::info!(key = %key, reason = %reason, "nothing to process");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn gave_up(&self, key: &ObjectKey, error: &str) {
        let Some((owner, id)) = ObjectKey::parse_original(key.as_str()) else {
            return;
        };
        let reason = format!("processing kept failing: {error}");
        if let Err(e) = self.service.fail_processing(&owner, &id, &reason).await {
            tracing::error!(key = %key, error = %e, "marking a photo FAILED");
        }
    }
}
