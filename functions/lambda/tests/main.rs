//! The Lambda functions' handlers against the moto server.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod api;
mod common;
mod thumbnail;
