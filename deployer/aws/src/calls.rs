//! Every AWS call the deployer makes, with the IAM actions it needs, and the actions
//! CloudFormation needs for every resource type of the stack: the one registry the deploying
//! identity's policy is made from (`docs/iam/`).
//!
//! Every SDK client the deployer builds goes through [`client!`], which adds [`Declared`]: in a
//! debug build (every test), a call missing from [`CALLS`] fails at once, naming itself, so the
//! test suite's runs against moto and the replayed paths catch a call added without its
//! permission. Release builds only log it: an operator's deploy never stops over the registry.

use aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use serde_json::{Value, json};

mod resource_types;
pub use resource_types::RESOURCE_TYPES;

/// One SDK operation and the IAM actions it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The SDK's service name, as its operation metadata gives it (`CloudFormation`, `S3`).
    pub service: &'static str,
    /// The operation, as its metadata gives it (`CreateChangeSet`).
    pub operation: &'static str,
    /// The IAM actions the caller needs (none for `GetCallerIdentity`, which IAM cannot deny).
    pub actions: &'static [&'static str],
}

const fn call(
    service: &'static str,
    operation: &'static str,
    actions: &'static [&'static str],
) -> Call {
    Call {
        service,
        operation,
        actions,
    }
}

/// Every operation the deployer calls: `up`, `diff`, `status` (with `--drift`), `outputs`,
/// `logs`, `publish`, `smoke` and `down` (with `--delete-data`). Credential providers (SSO,
/// assumed roles of a profile) are the SDK's and need no permission of the deploying identity;
/// an MFA profile's `AssumeRole` is made here and is listed.
pub const CALLS: &[Call] = &[
    // Who is calling: the account check before anything else.
    call("STS", "GetCallerIdentity", &[]),
    call("STS", "AssumeRole", &["sts:AssumeRole"]),
    // The stack.
    call(
        "CloudFormation",
        "DescribeStacks",
        &["cloudformation:DescribeStacks"],
    ),
    call(
        "CloudFormation",
        "GetTemplate",
        &["cloudformation:GetTemplate"],
    ),
    call(
        "CloudFormation",
        "CreateChangeSet",
        &["cloudformation:CreateChangeSet"],
    ),
    call(
        "CloudFormation",
        "DescribeChangeSet",
        &["cloudformation:DescribeChangeSet"],
    ),
    call(
        "CloudFormation",
        "ExecuteChangeSet",
        &["cloudformation:ExecuteChangeSet"],
    ),
    call(
        "CloudFormation",
        "DeleteChangeSet",
        &["cloudformation:DeleteChangeSet"],
    ),
    call(
        "CloudFormation",
        "DescribeStackEvents",
        &["cloudformation:DescribeStackEvents"],
    ),
    call(
        "CloudFormation",
        "DescribeStackResource",
        &["cloudformation:DescribeStackResource"],
    ),
    call(
        "CloudFormation",
        "DescribeStackResources",
        &["cloudformation:DescribeStackResources"],
    ),
    call(
        "CloudFormation",
        "DeleteStack",
        &["cloudformation:DeleteStack"],
    ),
    call(
        "CloudFormation",
        "DetectStackDrift",
        &["cloudformation:DetectStackDrift"],
    ),
    call(
        "CloudFormation",
        "DescribeStackDriftDetectionStatus",
        &["cloudformation:DescribeStackDriftDetectionStatus"],
    ),
    call(
        "CloudFormation",
        "DescribeStackResourceDrifts",
        &["cloudformation:DescribeStackResourceDrifts"],
    ),
    // The artifact bucket and the site bucket.
    call("S3", "HeadBucket", &["s3:ListBucket"]),
    call("S3", "CreateBucket", &["s3:CreateBucket"]),
    call("S3", "GetBucketTagging", &["s3:GetBucketTagging"]),
    call("S3", "PutBucketTagging", &["s3:PutBucketTagging"]),
    call(
        "S3",
        "PutBucketEncryption",
        &["s3:PutEncryptionConfiguration"],
    ),
    call(
        "S3",
        "PutPublicAccessBlock",
        &["s3:PutBucketPublicAccessBlock"],
    ),
    call("S3", "PutBucketPolicy", &["s3:PutBucketPolicy"]),
    call(
        "S3",
        "PutBucketLifecycleConfiguration",
        &["s3:PutLifecycleConfiguration"],
    ),
    call("S3", "HeadObject", &["s3:GetObject"]),
    // The record of `deployer watch`'s hot updates, read by `up` and `status`.
    call("S3", "GetObject", &["s3:GetObject"]),
    call("S3", "PutObject", &["s3:PutObject"]),
    call("S3", "CreateMultipartUpload", &["s3:PutObject"]),
    call("S3", "UploadPart", &["s3:PutObject"]),
    call("S3", "CompleteMultipartUpload", &["s3:PutObject"]),
    call("S3", "AbortMultipartUpload", &["s3:AbortMultipartUpload"]),
    call("S3", "CopyObject", &["s3:GetObject", "s3:PutObject"]),
    call("S3", "ListObjectsV2", &["s3:ListBucket"]),
    call("S3", "ListObjectVersions", &["s3:ListBucketVersions"]),
    call(
        "S3",
        "DeleteObjects",
        &["s3:DeleteObject", "s3:DeleteObjectVersion"],
    ),
    call("S3", "DeleteObject", &["s3:DeleteObject"]),
    call("S3", "DeleteBucket", &["s3:DeleteBucket"]),
    // Publishing the site.
    call(
        "CloudFront",
        "CreateInvalidation",
        &["cloudfront:CreateInvalidation"],
    ),
    call(
        "CloudFront",
        "GetInvalidation",
        &["cloudfront:GetInvalidation"],
    ),
    // The media signing keys: created and rotated by `up` and `rotate-media-key`, locked to
    // the API function's role, deleted by `down`. The deployer writes them and never reads
    // one; a rotation waits for the media distribution to deploy the new key.
    call(
        "Secrets Manager",
        "CreateSecret",
        &["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
    ),
    call(
        "Secrets Manager",
        "PutSecretValue",
        &["secretsmanager:PutSecretValue"],
    ),
    call(
        "Secrets Manager",
        "PutResourcePolicy",
        &["secretsmanager:PutResourcePolicy"],
    ),
    call(
        "Secrets Manager",
        "DeleteSecret",
        &["secretsmanager:DeleteSecret"],
    ),
    call(
        "CloudFront",
        "GetDistribution",
        &["cloudfront:GetDistribution"],
    ),
    // `logs`.
    call(
        "CloudWatch Logs",
        "FilterLogEvents",
        &["logs:FilterLogEvents"],
    ),
    // `up` on a new stage: the account's concurrency.
    call(
        "Lambda",
        "GetAccountSettings",
        &["lambda:GetAccountSettings"],
    ),
    // `watch`: a function's code, without a change set.
    call(
        "Lambda",
        "UpdateFunctionCode",
        &["lambda:UpdateFunctionCode"],
    ),
    call(
        "Lambda",
        "GetFunctionConfiguration",
        &["lambda:GetFunctionConfiguration"],
    ),
    // `smoke`: a throwaway user; `down --delete-data`: the retained pool.
    call(
        "Cognito Identity Provider",
        "AdminCreateUser",
        &["cognito-idp:AdminCreateUser"],
    ),
    call(
        "Cognito Identity Provider",
        "AdminSetUserPassword",
        &["cognito-idp:AdminSetUserPassword"],
    ),
    call(
        "Cognito Identity Provider",
        "AdminDeleteUser",
        &["cognito-idp:AdminDeleteUser"],
    ),
    call("Cognito Identity Provider", "InitiateAuth", &[]),
    call(
        "Cognito Identity Provider",
        "UpdateUserPool",
        &["cognito-idp:UpdateUserPool"],
    ),
    call(
        "Cognito Identity Provider",
        "DescribeUserPool",
        &["cognito-idp:DescribeUserPool"],
    ),
    call(
        "Cognito Identity Provider",
        "DeleteUserPool",
        &["cognito-idp:DeleteUserPool"],
    ),
    // `down --delete-data`: the retained table.
    call("DynamoDB", "DescribeTable", &["dynamodb:DescribeTable"]),
    // `up` of a stage taken down before its kept data was recorded: found by tag.
    call("DynamoDB", "ListTables", &["dynamodb:ListTables"]),
    call(
        "DynamoDB",
        "ListTagsOfResource",
        &["dynamodb:ListTagsOfResource"],
    ),
    call(
        "Cognito Identity Provider",
        "ListUserPools",
        &["cognito-idp:ListUserPools"],
    ),
    call("DynamoDB", "UpdateTable", &["dynamodb:UpdateTable"]),
    call("DynamoDB", "DeleteTable", &["dynamodb:DeleteTable"]),
    // `up`, once per stage: the photos stored before the timeline, each placed and counted in
    // one transaction of two updates; the albums stored before their counts, each counted from
    // its members (a query and a batch read) in one conditional update.
    call("DynamoDB", "Scan", &["dynamodb:Scan"]),
    call("DynamoDB", "Query", &["dynamodb:Query"]),
    call("DynamoDB", "BatchGetItem", &["dynamodb:BatchGetItem"]),
    call("DynamoDB", "TransactWriteItems", &["dynamodb:UpdateItem"]),
];

/// The IAM actions `service`'s `operation` needs; `None` for a call the registry lacks.
pub fn actions_for(service: &str, operation: &str) -> Option<&'static [&'static str]> {
    CALLS
        .iter()
        .find(|c| c.service == service && c.operation == operation)
        .map(|c| c.actions)
}

fn sorted(actions: impl IntoIterator<Item = &'static str>) -> Vec<&'static str> {
    let mut all: Vec<&str> = actions.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The deploying identity's policy. With a CloudFormation service role (`role_arn`), it holds
/// the deployer's own calls and `iam:PassRole` on that role only; without one, CloudFormation
/// works with the identity's own credentials, which then also need every resource type's
/// actions.
pub fn deployer_policy(service_role: bool) -> Value {
    let own = sorted(CALLS.iter().flat_map(|c| c.actions.iter().copied()));
    let mut statements = vec![json!({
        "Sid": "DeployerCalls",
        "Effect": "Allow",
        "Action": own,
        "Resource": "*",
    })];
    if service_role {
        statements.push(json!({
            "Sid": "HandTheServiceRoleToCloudFormation",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": "arn:aws:iam::*:role/deployer-cloudformation",
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        }));
    } else {
        statements.push(json!({
            "Sid": "StackResources",
            "Effect": "Allow",
            "Action": resource_actions(),
            "Resource": "*",
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Every resource type's actions, once each.
pub fn resource_actions() -> Vec<&'static str> {
    sorted(RESOURCE_TYPES.iter().flat_map(|(_, a)| a.iter().copied()))
}

/// A CloudFormation template of its own for the service role CloudFormation assumes to create
/// the stage's resources (`cloudformation_role_arn`), named `deployer-cloudformation`.
pub fn service_role_template() -> Value {
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "The role CloudFormation assumes to deploy photo-app stages (deployer's `cloudformation_role_arn`)",
        "Resources": {
            "DeployerCloudFormationRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "deployer-cloudformation",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudformation.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                        }]
                    },
                    "Policies": [{
                        "PolicyName": "photo-app-stack-resources",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Effect": "Allow",
                                "Action": resource_actions(),
                                "Resource": "*"
                            }]
                        }
                    }]
                }
            }
        },
        "Outputs": {
            "RoleArn": {"Value": {"Fn::GetAtt": ["DeployerCloudFormationRole", "Arn"]}}
        }
    })
}

/// Fails (debug builds) or warns about (release builds) any call missing from [`CALLS`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Declared;

impl Intercept for Declared {
    fn name(&self) -> &'static str {
        "DeclaredCalls"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        if actions_for(metadata.service(), metadata.name()).is_some() {
            return Ok(());
        }
        let message = format!(
            "the deployer called `{}:{}`, which `deployer_aws::calls::CALLS` does not declare: add it with its IAM actions, and regenerate `docs/iam/`",
            metadata.service(),
            metadata.name()
        );
        if cfg!(debug_assertions) {
            Err(message.into())
        } else {
            eprintln!("warning: {message}");
            Ok(())
        }
    }
}

/// An SDK client of `$sdk` (a crate such as `aws_sdk_s3`) from an `SdkConfig`, with
/// [`Declared`] checking its calls. Further interceptors follow as `$interceptor`s.
#[macro_export]
macro_rules! client {
    ($sdk:ident, $config:expr $(, $interceptor:expr)* $(,)?) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($config)
                .interceptor($crate::calls::Declared)
                $(.interceptor($interceptor))*
                .build(),
        )
    };
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    fn iam_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/iam")
    }

    /// The policy files in `docs/iam/` are exactly what the registry makes; `UPDATE_EXPECT=1`
    /// writes them again.
    #[test]
    fn the_policy_files_are_made_from_the_registry() {
        let files = [
            ("deployer-policy.json", deployer_policy(false)),
            (
                "deployer-policy-with-service-role.json",
                deployer_policy(true),
            ),
            ("cloudformation-service-role.json", service_role_template()),
        ];
        for (name, value) in files {
            let path = iam_dir().join(name);
            let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
            if std::env::var_os("UPDATE_EXPECT").is_some() {
                std::fs::create_dir_all(iam_dir()).unwrap();
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                on_disk == text,
                "`docs/iam/{name}` is not what the registry makes: rerun with UPDATE_EXPECT=1"
            );
        }
    }

    #[test]
    fn every_resource_type_of_the_templates_has_its_actions() {
        let mut in_templates = BTreeSet::new();
        for stage in ["dev", "prod"] {
            let mut config = stack::StageConfig::with_defaults(
                stage.parse().unwrap(),
                "eu-west-1".parse().unwrap(),
            );
            // Every optional part on: the alarm topic, the custom domain, SES mail.
            config.alarm_email = Some("ops@example.com".parse().unwrap());
            config.domain = Some(stack::config::CustomDomain {
                name: "photos.example.com".parse().unwrap(),
                certificate_arn:
                    "arn:aws:acm:us-east-1:123456789012:certificate/0b1f2a3c-aaaa-bbbb-cccc-111122223333"
                        .parse()
                        .unwrap(),
            });
            let template = stack::app::photo_app(&config).unwrap().to_value();
            for resource in template["Resources"].as_object().unwrap().values() {
                in_templates.insert(resource["Type"].as_str().unwrap().to_owned());
            }
        }
        let declared: BTreeSet<String> = RESOURCE_TYPES
            .iter()
            .map(|(t, _)| (*t).to_owned())
            .collect();
        assert_eq!(
            declared, in_templates,
            "RESOURCE_TYPES and the templates' types"
        );
        for (kind, actions) in RESOURCE_TYPES {
            assert!(!actions.is_empty(), "{kind}");
            for action in *actions {
                assert!(action.contains(':'), "{kind}: {action}");
            }
        }
    }

    #[test]
    fn each_call_is_declared_once() {
        let mut seen = BTreeSet::new();
        for c in CALLS {
            assert!(seen.insert((c.service, c.operation)), "{c:?} twice");
        }
        assert_eq!(
            actions_for("CloudFormation", "CreateChangeSet"),
            Some(&["cloudformation:CreateChangeSet"][..])
        );
        assert_eq!(actions_for("S3", "GetBucketVersioning"), None);
        // With a service role, the identity needs no resource type's actions.
        let with_role = deployer_policy(true).to_string();
        assert!(!with_role.contains("iam:CreateRole"), "{with_role}");
        assert!(
            deployer_policy(false)
                .to_string()
                .contains("iam:CreateRole")
        );
    }

    /// A call missing from the registry fails before it is sent (tests run debug builds);
    /// a declared one goes out.
    #[tokio::test]
    async fn an_undeclared_call_fails_before_it_is_sent() {
        use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
        use aws_smithy_types::body::SdkBody;
        let http = StaticReplayClient::new(vec![ReplayEvent::new(
            http::Request::builder()
                .uri("https://bucket.s3.eu-west-1.amazonaws.com/")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(200)
                .body(SdkBody::empty())
                .unwrap(),
        )]);
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "replay",
            ))
            .http_client(http.clone())
            .interceptor(Declared)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(config);
        let err = s3
            .get_bucket_versioning()
            .bucket("bucket")
            .send()
            .await
            .unwrap_err();
        let message = format!("{}", aws_sdk_s3::error::DisplayErrorContext(&err));
        assert!(
            message.contains(
                "`S3:GetBucketVersioning`, which `deployer_aws::calls::CALLS` does not declare"
            ),
            "{message}"
        );
        assert_eq!(http.actual_requests().count(), 0, "nothing was sent");
        s3.head_bucket().bucket("bucket").send().await.unwrap();
        assert_eq!(http.actual_requests().count(), 1);
    }
}
