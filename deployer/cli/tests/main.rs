//! The deployer's command line.
//!
//! One test binary per crate: every integration test links the crate's dependencies once, which
//! keeps a cold build's target directory small. Each module is one former test file.

mod aws_credentials;
mod aws_drift;
mod aws_media_keys;
mod aws_moto;
mod aws_ops;
mod aws_replay;
mod completions;
mod local_stage;
mod synth;
mod watch;
