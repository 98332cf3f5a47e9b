//! The service over the in-memory adapters on a manual clock, as the domain's unit tests use it.

use std::sync::Arc;

use crate::error::Result;
use crate::memory::{InMemoryObjectStore, InMemoryRepository, ManualClock};
use crate::model::{Photo, ProcessedInfo};
use crate::password::PasswordCost;
use crate::service::{Limits, NewUpload, PhotoService};
use crate::types::{ContentType, Dimensions, FileName, Sha256, Timestamp, UserId};

/// The service and the adapters behind it, for looking underneath.
pub(crate) struct Fixture {
    pub service: PhotoService,
    pub repo: Arc<InMemoryRepository>,
    pub store: Arc<InMemoryObjectStore>,
    pub clock: Arc<ManualClock>,
}

impl Fixture {
    /// Quota 150 bytes, uploads of at most 100, the cheapest password hashes.
    pub fn new() -> Self {
        let repo = Arc::new(InMemoryRepository::new());
        let store = Arc::new(InMemoryObjectStore::new("mem://b"));
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1_800_000_000)));
        let limits = Limits {
            max_upload_bytes: 100,
            quota_bytes: 150,
            password_cost: PasswordCost::Minimal,
            ..Limits::default()
        };
        let service = PhotoService::new(repo.clone(), store.clone(), clock.clone(), limits);
        Fixture {
            service,
            repo,
            store,
            clock,
        }
    }

    /// Starts `owner`'s upload of a JPEG of `size` bytes whose checksum is made of `n`.
    pub async fn start(&self, owner: &str, n: u8, size: u64) -> Result<Photo> {
        let upload = NewUpload {
            file_name: FileName::parse("IMG_0001.jpg").unwrap(),
            content_type: ContentType::Jpeg,
            size,
            sha256: Sha256::from_bytes([n; 32]),
        };
        let (photo, _form) = self.service.start_upload(&user(owner), upload).await?;
        Ok(photo)
    }

    /// An upload of `owner`'s, started and processed: READY.
    pub async fn ready(&self, owner: &str, n: u8, size: u64) -> Photo {
        let photo = self.start(owner, n, size).await.unwrap();
        let info = ProcessedInfo {
            dimensions: Dimensions {
                width: 2,
                height: 1,
            },
            taken_at: None,
            taken_offset_minutes: None,
            camera: None,
            gps: None,
            sha256_actual: photo.sha256_declared,
            size,
        };
        self.service
            .complete_processing(&photo.owner, &photo.id, info)
            .await
            .unwrap();
        photo
    }
}

pub(crate) fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}
