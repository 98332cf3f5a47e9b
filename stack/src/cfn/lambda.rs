//! `AWS::Lambda::*`: functions and the permissions that let services invoke them.

use indexmap::IndexMap;
use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::Lambda::Function`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    /// What the function does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the deployment package is.
    pub code: Code,
    /// `bootstrap` for custom runtimes.
    pub handler: &'static str,
    /// Such as `provided.al2023`.
    pub runtime: &'static str,
    /// One of `x86_64` and `arm64`.
    pub architectures: Vec<&'static str>,
    /// MiB.
    pub memory_size: u32,
    /// Seconds.
    pub timeout: u32,
    /// The execution role's ARN.
    pub role: Expr,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// X-Ray tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
    /// Where and how the function logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<LoggingConfig>,
    /// Where failed asynchronous events go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// Concurrency reserved for (and capping) this function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
}

impl Resource for Function {
    const TYPE: &'static str = "AWS::Lambda::Function";
}

impl Res<Function> {
    /// `Arn`.
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }
}

/// `Code` from S3.
#[derive(Debug, Clone, Serialize)]
pub struct Code {
    /// The bucket holding the zip.
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Expr,
    /// The zip's key.
    #[serde(rename = "S3Key")]
    pub s3_key: Expr,
}

/// `Environment`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// Name to value, in insertion order.
    pub variables: IndexMap<String, Expr>,
}

/// `TracingConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `Active` or `PassThrough`.
    pub mode: &'static str,
}

/// `LoggingConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `JSON` or `Text`.
    pub log_format: &'static str,
    /// The log group's name.
    pub log_group: Expr,
}

/// `DeadLetterConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// An SQS queue or SNS topic ARN.
    pub target_arn: Expr,
}

/// `AWS::Lambda::Permission`: a resource policy statement on a function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    /// Usually `lambda:InvokeFunction`.
    pub action: &'static str,
    /// The function's name or ARN.
    pub function_name: Expr,
    /// The service principal, such as `s3.amazonaws.com`.
    pub principal: &'static str,
    /// The account that owns the source (guards against confused deputies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_account: Option<Expr>,
    /// The source's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<Expr>,
}

impl Resource for Permission {
    const TYPE: &'static str = "AWS::Lambda::Permission";
}
