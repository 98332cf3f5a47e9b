//! The thumbnail function's logic: for each uploaded original, check and decode it with
//! [`imaging`], write the grid thumbnail and the preview next to it, and record the photo READY
//! (or FAILED with a reason its owner can read) through the domain's [`PhotoService`].
//!
//! The object bytes go through [`BlobStore`], so the same [`Thumbnailer`] runs on S3 in Lambda
//! and over files in the local stage. The Lambda entry point (`bootstrap`) decodes S3 event keys
//! and reports any record that failed transiently back to Lambda, which retries the event.
//!
//! [`PhotoService`]: photo_domain::PhotoService

mod blob;
pub mod event;
pub mod s3;
mod thumbnailer;

pub use blob::{BlobError, BlobStore};
pub use event::{Report, decode_key};
pub use s3::S3BlobStore;
pub use thumbnailer::{Outcome, ThumbnailError, Thumbnailer};
