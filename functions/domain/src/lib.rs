//! The photo-sharing domain: photos, albums, share links and quotas, with no AWS in it.
//!
//! Storage, the object store, identity and time are the traits in [`ports`]; AWS and the local
//! stage implement them, [`memory`] implements them in memory. [`PhotoService`] holds the rules.

pub mod abandoned;
pub mod blobs;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod cursor;
pub mod error;
pub mod keys;
pub mod memory;
pub mod model;
pub mod password;
pub mod ports;
pub mod processing;
pub mod service;
#[cfg(test)]
mod testing;
pub mod types;

pub use abandoned::{Abandoned, Sweep};
pub use blobs::{BlobError, BlobStore};
pub use error::{AuthFailure, Error, Result};
pub use model::{
    Album, MonthCount, Page, PasswordHash, Photo, PhotoStatus, ProcessedInfo, ProcessingOutcome,
    Share, ShareAttempts, ShareTarget, SortKey, Usage,
};
pub use password::{Password, PasswordCost};
pub use ports::{
    Claims, Clock, Grant, IdentityVerifier, ObjectKey, ObjectStore, PhotoPatch, PresignedPost,
    Repository, SystemClock, UploadPolicy,
};
pub use processing::{Processing, Start};
pub use service::{
    BatchAction, Limits, LinkTerms, Listing, NewShare, NewUpload, PhotoService, PhotoUrls,
    PhotoView, SharedPhoto, SharedView, UsageReport,
};
pub use types::{
    AlbumId, AlbumName, Camera, ContentType, Dimensions, DisplayName, FileName, Gps, PhotoId,
    Sha256, ShareToken, Timestamp, Title, Ulid, UserId,
};
