//! What both sides of the deployer share, with no AWS SDK: finding the workspace the deployer
//! runs from (the SPA build and the function builds both start there), building the function
//! binaries for Lambda, proving them static and zipping them reproducibly.
//!
//! `deployer-aws` uploads what this builds; `local-stage` only needs [`workspace`].

pub mod elf;
pub mod function;
pub mod package;
pub mod workspace;

/// The stage name reserved for the local stage (`deployer up --stage local`): never an AWS stage.
pub const LOCAL_STAGE: &str = "local";
