//! The AWS adapters against the moto server.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod media_links;
mod moto_dynamodb;
mod moto_s3;
mod moto_s3_blobs;
mod oracle_cloudfront;
