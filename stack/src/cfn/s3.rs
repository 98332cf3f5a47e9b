//! `AWS::S3::*`: buckets and bucket policies.

use serde::Serialize;

use super::iam::PolicyDocument;
use super::{Expr, Res, Resource};

/// `AWS::S3::Bucket`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    /// The bucket's name; chosen by CloudFormation when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_name: Option<Expr>,
    /// Default encryption at rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_encryption: Option<BucketEncryption>,
    /// Block Public Access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_access_block_configuration: Option<PublicAccessBlock>,
    /// Object ownership (ACLs off with `BucketOwnerEnforced`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership_controls: Option<OwnershipControls>,
    /// Object versioning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versioning_configuration: Option<Versioning>,
    /// Cross-origin rules for browsers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<CorsConfiguration>,
    /// Lifecycle rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_configuration: Option<LifecycleConfiguration>,
    /// Event notifications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_configuration: Option<NotificationConfiguration>,
}

impl Resource for Bucket {
    const TYPE: &'static str = "AWS::S3::Bucket";
}

impl Res<Bucket> {
    /// `Arn`.
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }

    /// `RegionalDomainName`: `{bucket}.s3.{region}.amazonaws.com`.
    pub fn regional_domain_name(&self) -> Expr {
        self.get_att("RegionalDomainName")
    }
}

/// `BucketEncryption`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    /// The default-encryption rules (one in practice).
    pub server_side_encryption_configuration: Vec<EncryptionRule>,
}

impl BucketEncryption {
    /// SSE-S3 (`AES256`).
    pub fn s3_managed() -> Self {
        BucketEncryption {
            server_side_encryption_configuration: vec![EncryptionRule {
                server_side_encryption_by_default: EncryptionByDefault {
                    sse_algorithm: "AES256",
                    kms_master_key_id: None,
                },
                bucket_key_enabled: None,
            }],
        }
    }
}

/// `ServerSideEncryptionRule`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    /// The default algorithm and key.
    pub server_side_encryption_by_default: EncryptionByDefault,
    /// Whether to use an S3 Bucket Key (SSE-KMS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_key_enabled: Option<bool>,
}

/// `ServerSideEncryptionByDefault`.
#[derive(Debug, Clone, Serialize)]
pub struct EncryptionByDefault {
    /// `AES256` or `aws:kms`.
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: &'static str,
    /// The KMS key for `aws:kms`.
    #[serde(rename = "KMSMasterKeyID", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
}

/// `PublicAccessBlockConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    /// Reject public ACLs.
    pub block_public_acls: bool,
    /// Reject public bucket policies.
    pub block_public_policy: bool,
    /// Ignore existing public ACLs.
    pub ignore_public_acls: bool,
    /// Restrict access granted by public policies.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four switches on: nothing in the bucket can ever be public.
    pub fn all() -> Self {
        PublicAccessBlock {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        }
    }
}

/// `OwnershipControls`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    /// The rules (one in practice).
    pub rules: Vec<OwnershipRule>,
}

impl OwnershipControls {
    /// `BucketOwnerEnforced`: ACLs disabled, the bucket owner owns every object.
    pub fn bucket_owner_enforced() -> Self {
        OwnershipControls {
            rules: vec![OwnershipRule {
                object_ownership: "BucketOwnerEnforced",
            }],
        }
    }
}

/// `OwnershipControlsRule`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    pub object_ownership: &'static str,
}

/// `VersioningConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Versioning {
    /// `Enabled` or `Suspended`.
    pub status: &'static str,
}

/// `CorsConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsConfiguration {
    /// The rules.
    pub cors_rules: Vec<CorsRule>,
}

/// `CorsRule`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    /// Request headers a preflight may ask for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    /// HTTP methods allowed.
    pub allowed_methods: Vec<&'static str>,
    /// Origins allowed.
    pub allowed_origins: Vec<Expr>,
    /// Response headers the browser may read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposed_headers: Vec<String>,
    /// How long a preflight answer may be cached, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
}

/// `LifecycleConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    /// The rules.
    pub rules: Vec<LifecycleRule>,
}

/// `Rule` of a lifecycle configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    /// A unique name.
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: &'static str,
    /// Applies only to keys starting with this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Abort multipart uploads left incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
    /// Storage-class transitions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    /// Delete noncurrent versions after a while.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    /// Expire current objects this many days after they were written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_in_days: Option<u32>,
    /// Remove delete markers left with no version behind them (not with `expiration_in_days`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
}

/// `AbortIncompleteMultipartUpload`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    /// Days after the upload started.
    pub days_after_initiation: u32,
}

/// `Transition`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Transition {
    /// The target storage class, such as `INTELLIGENT_TIERING`.
    pub storage_class: &'static str,
    /// Days after creation.
    pub transition_in_days: u32,
}

/// `NoncurrentVersionExpiration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    /// Days after a version became noncurrent.
    pub noncurrent_days: u32,
}

/// `NotificationConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfiguration {
    /// Lambda targets.
    pub lambda_configurations: Vec<LambdaConfiguration>,
}

/// `LambdaConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaConfiguration {
    /// The event type, such as `s3:ObjectCreated:*`.
    pub event: &'static str,
    /// Which keys trigger it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<NotificationFilter>,
    /// The function's ARN.
    pub function: Expr,
}

/// `NotificationFilter`.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationFilter {
    /// Key-name rules.
    #[serde(rename = "S3Key")]
    pub s3_key: S3KeyFilter,
}

impl NotificationFilter {
    /// Keys starting with `prefix`.
    pub fn prefix(prefix: &str) -> Self {
        NotificationFilter {
            s3_key: S3KeyFilter {
                rules: vec![FilterRule {
                    name: "prefix",
                    value: prefix.to_owned(),
                }],
            },
        }
    }
}

/// `S3KeyFilter`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3KeyFilter {
    /// Prefix and suffix rules.
    pub rules: Vec<FilterRule>,
}

/// `FilterRule`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterRule {
    /// `prefix` or `suffix`.
    pub name: &'static str,
    /// The value to match.
    pub value: String,
}

/// `AWS::S3::BucketPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    /// The bucket's name.
    pub bucket: Expr,
    /// The policy.
    pub policy_document: PolicyDocument,
}

impl Resource for BucketPolicy {
    const TYPE: &'static str = "AWS::S3::BucketPolicy";
}
