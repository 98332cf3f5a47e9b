//! Upload forms, checked against botocore and the moto server.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod botocore_oracle;
mod moto_upload;
