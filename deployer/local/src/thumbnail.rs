//! The local stage's thumbnail step: the thumbnail function's own code, fed by the durable queue.
//!
//! On AWS an upload under `uploads/` invokes the thumbnail Lambda; here the upload endpoint
//! writes a queue job and the workers hand each key to the same [`Thumbnailer`], reading and
//! writing the bucket through [`LocalBlobs`], the object files of [`FileObjectStore`].
//!
//! Several photos are processed at once, within one [`MemoryBudget`]:
//! before starting, a job takes room for what it will hold, the original's bytes plus imaging's
//! estimate of decoding and deriving it (`imaging::memory_needed`, read from its headers), and
//! waits while the jobs in progress hold too much. A photo needing more than the whole budget
//! runs alone. At most `decoders` of them decode and derive at once (one per core by default):
//! the queue keeps more jobs than that in flight ([`jobs_in_flight`]), so that while those use
//! the cores, the others read their original, write their derivatives and update their records.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

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

    async fn put_original(
        &self,
        source: &ObjectKey,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<(), BlobError> {
        let (store, source, key) = (self.0.clone(), source.clone(), key.clone());
        let headers = (content_type.to_owned(), content_disposition.to_owned());
        tokio::task::spawn_blocking(move || {
            store.put_original(source.as_str(), key.as_str(), &body, &headers.0, &headers.1)
        })
        .await
        .map_err(blob_error)?
        .map_err(blob_error)
    }

    async fn delete(&self, keys: &[ObjectKey]) -> Result<(), BlobError> {
        use photo_domain::ObjectStore as _;
        self.0.delete_objects(keys).await.map_err(blob_error)
    }
}

const MIB: u64 = 1 << 20;

/// The jobs the queue keeps in flight for `decoders` photos decoded at once: twice as many, so a
/// decoder that finishes finds the next photo read and waiting.
pub fn jobs_in_flight(decoders: usize) -> usize {
    decoders.max(1).saturating_mul(2)
}

/// The memory the photos in progress may hold together, in whole mebibytes.
#[derive(Debug)]
pub struct MemoryBudget {
    room: Semaphore,
    total_mib: u32,
}

impl MemoryBudget {
    /// A budget of `bytes` (at least one mebibyte).
    pub fn new(bytes: u64) -> Self {
        let total_mib = u32::try_from(bytes.div_ceil(MIB))
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS as u32);
        MemoryBudget {
            room: Semaphore::new(total_mib as usize),
            total_mib,
        }
    }

    /// Waits for room for a job holding `bytes`; a job needing more than the whole budget waits
    /// for all of it. The room is given back when the permit drops.
    pub async fn take(&self, bytes: u64) -> SemaphorePermit<'_> {
        let mib = u32::try_from(bytes.div_ceil(MIB).max(1))
            .unwrap_or(u32::MAX)
            .min(self.total_mib);
        self.room
            .acquire_many(mib)
            .await
            .expect("the budget's semaphore is never closed")
    }

    /// The mebibytes free now.
    pub fn free_mib(&self) -> usize {
        self.room.available_permits()
    }
}

/// The queue's processor: one upload through the [`Thumbnailer`].
pub struct ThumbnailStep {
    thumbnailer: Thumbnailer,
    service: PhotoService,
    store: Arc<FileObjectStore>,
    settings: imaging::Settings,
    budget: Arc<MemoryBudget>,
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
        budget: Arc<MemoryBudget>,
        decoders: usize,
        delay: Duration,
    ) -> Self {
        ThumbnailStep {
            // The queue retries a job up to its own limit; the photo's attempts follow it.
            thumbnailer: Thumbnailer::new(
                service.processing(),
                Arc::new(LocalBlobs(store.clone())),
                settings.clone(),
            )
            .with_max_attempts(u32::try_from(crate::queue::MAX_ATTEMPTS).unwrap_or(u32::MAX))
            .with_decode_slots(Arc::new(Semaphore::new(decoders.max(1)))),
            service,
            store,
            settings,
            budget,
            delay,
        }
    }

    /// What processing `key` will hold at most: the original's bytes plus imaging's estimate
    /// from its headers. A photo imaging refuses from its headers (or that is missing, or too
    /// large to read) holds its bytes at most, then stops.
    async fn needs(&self, key: &ObjectKey) -> u64 {
        let (store, key, settings) = (self.store.clone(), key.clone(), self.settings.clone());
        tokio::task::spawn_blocking(move || {
            match store.get_bounded(key.as_str(), settings.max_file_bytes) {
                Ok(Bounded::Found(original)) => {
                    let estimate = imaging::memory_needed(&original.bytes, &settings).unwrap_or(0);
                    original.bytes.len() as u64 + estimate
                }
                Ok(Bounded::Missing | Bounded::TooLarge { .. }) | Err(_) => 0,
            }
        })
        .await
        .unwrap_or(settings_budget(&self.settings))
    }
}

/// The most one photo may hold: what is assumed when its estimate could not be made.
fn settings_budget(settings: &imaging::Settings) -> u64 {
    settings.max_alloc.saturating_add(settings.max_file_bytes)
}

#[async_trait]
impl Processor for ThumbnailStep {
    async fn process(&self, key: &ObjectKey) -> Result<(), String> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let needs = self.needs(key).await;
        let _room = self.budget.take(needs).await;
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
        let Some((owner, id, _)) = photo_thumbnail::source_of(key.as_str()) else {
            return;
        };
        let reason = format!("processing kept failing: {error}");
        if let Err(e) = self.service.fail_processing(&owner, &id, &reason).await {
            tracing::error!(key = %key, error = %e, "marking a photo FAILED");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_budget_lets_jobs_in_while_they_fit_and_a_large_one_alone() {
        let budget = MemoryBudget::new(256 * MIB);
        let a = budget.take(100 * MIB).await;
        let b = budget.take(100 * MIB).await;
        assert_eq!(budget.free_mib(), 56);
        // A third of 100 MiB waits until one of the others is done.
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.take(100 * MIB)).await;
        assert!(waiting.is_err(), "no room yet");
        drop(a);
        let c = budget.take(100 * MIB).await;
        drop((b, c));
        // More than the whole budget takes all of it, once the others are gone.
        let all = budget.take(10_000 * MIB).await;
        assert_eq!(budget.free_mib(), 0);
        drop(all);
        assert_eq!(budget.free_mib(), 256);
        // Even a tiny job takes a mebibyte.
        let tiny = budget.take(1).await;
        assert_eq!(budget.free_mib(), 255);
        drop(tiny);
    }
}
