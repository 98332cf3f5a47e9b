//! The photo app's infrastructure as typed Rust: a CloudFormation model and the stack built from it.
//!
//! This crate is pure: stage configuration in, template out. It does no I/O, holds no SDK and
//! reads no files; the deployer does all of that.

pub mod config;

pub use config::StageConfig;

/// Everything that can go wrong while building a template.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A configuration value that the type it is parsed into does not accept.
    #[error("invalid {what} `{value}`: {why}")]
    InvalidValue {
        /// What was being parsed, such as `stage name`.
        what: &'static str,
        /// The rejected input.
        value: String,
        /// Why it was rejected.
        why: &'static str,
    },
}
