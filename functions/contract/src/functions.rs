//! The Lambda functions: what the deployer builds and uploads, and what the stack deploys.
//!
//! Adding a function is one entry in [`FUNCTIONS`] (and its resources in `stack`, its `main` in
//! `photo-lambda`): the deployer builds, zips, uploads and parameterises every entry, and
//! `deployer logs` knows its log group.

/// One Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The short name used in commands, artifact keys and zip names (`api`, `thumbnail`).
    pub name: &'static str,
    /// The cargo package holding its binary.
    pub package: &'static str,
    /// The binary that is zipped as `bootstrap`: named after the function, because two workspace
    /// binaries with one name overwrite each other in the target directory.
    pub binary: &'static str,
    /// The function's logical id in the template.
    pub logical_id: &'static str,
    /// The template parameter carrying the S3 key of its zip.
    pub code_parameter: &'static str,
    /// The logical id of its log group.
    pub log_group: &'static str,
    /// The logical id of its execution role.
    pub role: &'static str,
    /// The environment variables the stack sets on it ([`crate::env`]).
    pub env: &'static [&'static str],
}

/// The cargo package holding every function's `main`.
pub const LAMBDA_PACKAGE: &str = "photo-lambda";

/// The HTTP API, behind API Gateway.
pub const API: Function = Function {
    name: "api",
    package: LAMBDA_PACKAGE,
    binary: "photo-api",
    logical_id: "ApiFunction",
    code_parameter: "ApiCodeKey",
    log_group: "ApiFunctionLogGroup",
    role: "ApiFunctionRole",
    env: crate::env::API,
};

/// The thumbnail maker, invoked by the photo bucket for each new original.
pub const THUMBNAIL: Function = Function {
    name: "thumbnail",
    package: LAMBDA_PACKAGE,
    binary: "photo-thumbnail",
    logical_id: "ThumbnailFunction",
    code_parameter: "ThumbnailCodeKey",
    log_group: "ThumbnailFunctionLogGroup",
    role: "ThumbnailFunctionRole",
    env: crate::env::THUMBNAIL,
};

/// What the schedule sends the thumbnail function to make it sweep abandoned uploads, instead of
/// an S3 notification: `{"sweep": "abandoned-uploads"}`.
pub const SWEEP_FIELD: &str = "sweep";
pub const SWEEP_ABANDONED_UPLOADS: &str = "abandoned-uploads";

/// How often the schedule sends it.
pub const SWEEP_SCHEDULE: &str = "rate(1 hour)";

/// Every function the stack deploys.
pub const FUNCTIONS: &[Function] = &[API, THUMBNAIL];

/// The function called `name`, if there is one.
pub fn by_name(name: &str) -> Option<Function> {
    FUNCTIONS.iter().copied().find(|f| f.name == name)
}
