//! The photo app's infrastructure as typed Rust: a CloudFormation model and the stack built from it.
//!
//! This crate is pure: stage configuration in, template out. It does no I/O, holds no SDK and
//! reads no files; the deployer does all of that.

pub mod app;
pub mod cfn;
pub mod config;
pub mod routing;

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
    /// Two parameters, resources, conditions or outputs with one logical id.
    #[error("duplicate logical id `{0}`")]
    DuplicateLogicalId(String),
    /// A logical id that is not 1 to 255 ASCII letters and digits.
    #[error("invalid logical id `{0}`: must be 1 to 255 ASCII letters and digits")]
    InvalidLogicalId(String),
    /// A `Ref`, `Fn::GetAtt`, `Fn::Sub` variable or `DependsOn` naming nothing in the template.
    #[error("reference to `{0}`, which is not in the template")]
    UnknownReference(String),
    /// Resource properties that did not serialize.
    #[error("cannot serialize the properties of `{id}`: {why}")]
    Serialize {
        /// The resource's logical id.
        id: String,
        /// The serializer's message.
        why: String,
    },
}
