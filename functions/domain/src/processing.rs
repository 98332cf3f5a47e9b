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

/// What [`Processing::start`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// An attempt is taken: process the photo (as stored, attempt counted).
    Go(Photo),
    /// The photo is READY or FAILED already.
    Finished(Photo),
    /// The photo is PENDING but its attempts are used up.
    Spent(Photo),
    /// The photo does not exist.
    Gone,
}

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

    /// Takes one of the photo's `max_attempts` processing attempts, before anything is read or
    /// decoded. The answer says whether to go on: a photo that is no longer PENDING, or whose
    /// attempts are spent (by crashes, or by events of the same upload arriving together), is
    /// not processed again.
    pub async fn start(&self, owner: &UserId, id: &PhotoId, max_attempts: u32) -> Result<Start> {
        match self.repo.start_processing(owner, id, max_attempts).await {
            Ok(photo) => Ok(Start::Go(photo)),
            Err(Error::NotFound) => Ok(Start::Gone),
            Err(Error::Conflict(_)) => match self.photo(owner, id).await? {
                None => Ok(Start::Gone),
                Some(photo) if photo.status == PhotoStatus::Pending => Ok(Start::Spent(photo)),
                Some(photo) => Ok(Start::Finished(photo)),
            },
            Err(e) => Err(e),
        }
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
        self.complete_read(owner, photo, info).await
    }

    /// [`Processing::complete`] for a caller that holds the photo's record already (the one
    /// [`Processing::start`] answered): no read before the write. The write is conditional on
    /// the photo being PENDING, so a record that changed since is judged as it is now.
    pub async fn complete_read(
        &self,
        owner: &UserId,
        photo: Photo,
        info: ProcessedInfo,
    ) -> Result<Photo> {
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
