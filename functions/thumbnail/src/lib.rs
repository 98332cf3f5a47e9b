//! The thumbnail function's logic: for each uploaded original, check and decode it with
//! [`imaging`], write the grid thumbnail and the preview next to it, and record the photo READY
//! (or FAILED with a reason its owner can read) through the domain's [`Processing`], which
//! holds the same rules as [`PhotoService`] but cannot sign links.
//!
//! [`Processing`]: photo_domain::Processing
//!
//! The object bytes go through [`BlobStore`], so the same [`Thumbnailer`] runs on S3 in Lambda
//! and over files in the local stage. The Lambda entry point (`photo-thumbnail` in
//! `photo-lambda`) hands it the records of each S3 event; any record that failed transiently
//! fails the invocation, so Lambda retries the event.
//!
//! [`PhotoService`]: photo_domain::PhotoService

pub mod event;
mod thumbnailer;

pub use event::{Report, S3Record, decode_key};
pub use photo_domain::{BlobError, BlobStore};
pub use thumbnailer::{DEFAULT_MAX_ATTEMPTS, Outcome, ThumbnailError, Thumbnailer, source_of};
