//! The local stage over HTTP, its store and its upgrades.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod abandoned;
mod conformance;
mod data_dir;
mod hostile;
mod links;
mod over_http;
mod pool_rules;
mod upgrade;
