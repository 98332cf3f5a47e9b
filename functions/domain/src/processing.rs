//! The processing side of the domain: what the thumbnail step may do to a photo.
//!
//! [`Processing`] reads a photo's record and records the outcome of processing it. It holds
//! only the table: it cannot sign links, so the thumbnail function never needs media-signing
//! keys, and whatever it does to a photo goes through the same rules as [`PhotoService`].
//!
//! [`PhotoService`]: crate::PhotoService

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::{Photo, PhotoStatus, ProcessedInfo, ProcessingOutcome};
use crate::ports::Repository;
use crate::types::{PhotoId, UserId};

/// Reads photos and records processing outcomes; see the module documentation.
#[derive(Debug, Clone)]
pub struct Processing {
    repo: Arc<dyn Repository>,
}

impl Processing {
    /// Processing over `repo`.
    pub fn new(repo: Arc<dyn Repository>) -> Self {
        Processing { repo }
    }

    /// The photo's record as the table holds it (status, declared size and checksum), with no
    /// links; `Ok(None)` when it does not exist.
    pub async fn photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>> {
        self.repo.get_photo(owner, id).await
    }

    async fn existing(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.photo(owner, id).await?.ok_or(Error::NotFound)
    }

    /// Records what the thumbnail function measured: READY if the checksum and size match the
    /// declaration, FAILED otherwise. Calling it again with the same facts is a no-op.
    pub async fn complete(
        &self,
        owner: &UserId,
        id: &PhotoId,
        info: ProcessedInfo,
    ) -> Result<Photo> {
        let photo = self.existing(owner, id).await?;
        let outcome = if info.sha256_actual != photo.sha256_declared {
            ProcessingOutcome::Failed {
                reason: "checksum mismatch".into(),
                actual: Some(info.sha256_actual),
            }
        } else if info.size != photo.size {
            ProcessingOutcome::Failed {
                reason: "size mismatch".into(),
                actual: Some(info.sha256_actual),
            }
        } else {
            ProcessingOutcome::Ready(info)
        };
        self.finish(owner, photo, outcome).await
    }

    /// Marks the photo FAILED with `reason` (e.g. the bytes do not decode). Idempotent.
    pub async fn fail(&self, owner: &UserId, id: &PhotoId, reason: &str) -> Result<Photo> {
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect();
        if reason.is_empty() {
            return Err(Error::invalid("reason", "a failure needs a reason"));
        }
        let photo = self.existing(owner, id).await?;
        self.finish(
            owner,
            photo,
            ProcessingOutcome::Failed {
                reason,
                actual: None,
            },
        )
        .await
    }

    async fn finish(
        &self,
        owner: &UserId,
        photo: Photo,
        outcome: ProcessingOutcome,
    ) -> Result<Photo> {
        let current = if photo.status == PhotoStatus::Pending {
            match self
                .repo
                .finish_processing(owner, &photo.id, &outcome)
                .await
            {
                Ok(done) => return Ok(done),
                // Someone else finished it between our read and write: judge their result.
                Err(Error::Conflict(_)) => self.existing(owner, &photo.id).await?,
                Err(e) => return Err(e),
            }
        } else {
            photo
        };
        let same = match (&current.status, &outcome) {
            (PhotoStatus::Ready, ProcessingOutcome::Ready(info)) => {
                current.sha256_actual == Some(info.sha256_actual)
            }
            (PhotoStatus::Failed { reason }, ProcessingOutcome::Failed { reason: wanted, .. }) => {
                reason == wanted
            }
            _ => false,
        };
        if same {
            Ok(current)
        } else {
            Err(Error::Conflict(format!(
                "photo `{}` is already {}",
                current.id,
                current.status.as_str()
            )))
        }
    }
}
