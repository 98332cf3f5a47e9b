//! The photo bucket's bytes, as the thumbnail step needs them: read an original, write
//! derivatives, delete.
//!
//! A port of its own beside [`ObjectStore`](crate::ObjectStore), which only signs links: the API
//! never touches object bytes, the thumbnail step does nothing else. `photo-aws`'s S3 adapter
//! implements both; the local stage implements both over files.

use std::fmt;

use crate::ports::ObjectKey;
use async_trait::async_trait;

/// Why the object store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// The object is bigger than the caller is willing to read; nothing was buffered beyond it.
    #[error("object is larger than `{limit}` bytes: at least `{size}` bytes")]
    TooLarge {
        /// The object's size, or how much was read before giving up.
        size: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// The store failed (network, permissions, throttling); worth retrying.
    #[error("object store failure: {0}")]
    Backend(String),
}

impl BlobError {
    /// A backend failure, described for the logs.
    pub fn new(message: impl Into<String>) -> Self {
        BlobError::Backend(message.into())
    }
}

/// The photo bucket, as far as the thumbnailer uses it.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// The object's bytes, `Ok(None)` when it does not exist; more than `max_bytes` is an error.
    async fn get(&self, key: &ObjectKey, max_bytes: u64) -> Result<Option<Vec<u8>>, BlobError>;
    /// Writes the object, replacing any previous one.
    async fn put(
        &self,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError>;
    /// Writes a photo's original under `key`: the bytes `body` just read from `source`,
    /// unchanged, served with `content_type` and `content_disposition` (so a download is saved
    /// under the photo's file name). A store that can share the source's bytes instead of writing
    /// them again (a hard link on disk) does, when the source still holds those bytes.
    async fn put_original(
        &self,
        source: &ObjectKey,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<(), BlobError>;
    /// Missing keys are not an error.
    async fn delete(&self, keys: &[ObjectKey]) -> Result<(), BlobError>;
}
