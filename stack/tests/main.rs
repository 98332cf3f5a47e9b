//! The template: its shape, its routes, and the oracles that lint it.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod common;
mod kept_data;
mod oracles;
mod routes;
mod template;
