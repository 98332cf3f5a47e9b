//! Decoding real and hostile images.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod common;
mod formats;
mod heic;
mod hostile;
mod photos;
