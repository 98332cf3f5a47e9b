//! The Lambda functions' handlers against the moto server: the host's test build of each
//! (`api`, `thumbnail`), and the static Lambda builds of both architectures (`cross`).
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is what would otherwise be a test
//! file.

mod api;
mod common;
mod cross;
mod thumbnail;
