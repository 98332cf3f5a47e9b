//! The functions: the HTTP API's and the thumbnail maker's Lambda functions, each with its own
//! least-privilege role and log group, and the thumbnail function's dead-letter queue.

use indexmap::IndexMap;
use serde_json::json;

use super::{DERIVATIVES_PREFIX, Names, ORIGINALS_PREFIX, UPLOADS_PREFIX, log_group_skips};
use crate::StackError;
use crate::cfn::dynamodb::Table;
use crate::cfn::events::{Rule, Target};
use crate::cfn::iam::{InlinePolicy, PolicyDocument, Principal, Role, Statement};
use crate::cfn::lambda::{
    Code, DeadLetterConfig, Environment, Function, LoggingConfig, Permission, TracingConfig,
};
use crate::cfn::logs::LogGroup;
use crate::cfn::sqs::Queue;
use crate::cfn::{Expr, Options, Policy, Res, Template};
use crate::config::{FunctionSettings, StageConfig};

/// Where the thumbnail function's failed events end up after all retries.
pub(super) fn dead_letter_queue(t: &mut Template) -> Result<Res<Queue>, StackError> {
    t.add_with(
        "ThumbnailDeadLetterQueue",
        Queue {
            // The AWS-managed key: no key policy to maintain, and the function's role may use
            // it through SQS without a KMS grant of its own.
            kms_master_key_id: Some(Expr::from("alias/aws/sqs")),
            // The longest SQS allows: time to look at a failure after a long weekend.
            message_retention_period: Some(1_209_600),
            ..Queue::default()
        },
        // Dead letters name uploads of this stage; they go with it.
        Options::new().policy(Policy::Delete),
    )
}

/// A function's log group and execution role, under the logical ids the contract gives it.
pub(super) fn logs_and_role(
    t: &mut Template,
    config: &StageConfig,
    function: photo_contract::functions::Function,
    description: &str,
    statements: Vec<Statement>,
) -> Result<(Res<LogGroup>, Res<Role>), StackError> {
    let logs = function_log_group(t, config, function.log_group)?;
    let role = function_role(t, function.role, description, &logs, statements)?;
    Ok((logs, role))
}

pub(super) fn function_log_group(
    t: &mut Template,
    config: &StageConfig,
    id: &str,
) -> Result<Res<LogGroup>, StackError> {
    t.add_with(
        id,
        LogGroup {
            log_group_name: None,
            retention_in_days: config.log_retention.get(),
        },
        log_group_skips(),
    )
}

/// A role the Lambda service assumes for one function, with its inline policy.
pub(super) fn function_role(
    t: &mut Template,
    id: &str,
    description: &str,
    logs: &Res<LogGroup>,
    mut statements: Vec<Statement>,
) -> Result<Res<Role>, StackError> {
    statements.push(Statement::allow(
        "WriteOwnLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![logs.arn()],
    ));
    t.add(
        id,
        Role {
            assume_role_policy_document: PolicyDocument::new(vec![
                Statement::allow("LambdaAssumesRole", &["sts:AssumeRole"], vec![])
                    .principal(Principal::Service("lambda.amazonaws.com".to_owned()))
                    .when(json!({ "StringEquals": { "aws:SourceAccount": Expr::account_id().to_value() } })),
            ]),
            description: Some(description.to_owned()),
            // X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level
            // permissions, so they need `Resource: *`; the AWS-managed policy grants exactly
            // those and keeps the wildcard out of our own policies.
            managed_policy_arns: vec![Expr::sub(
                "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess",
            )],
            policies: vec![InlinePolicy {
                policy_name: "least-privilege".to_owned(),
                policy_document: PolicyDocument::new(statements),
            }],
        },
    )
}

/// The table and its indexes.
fn table_arns(table: &Res<Table>) -> Vec<Expr> {
    vec![
        table.arn(),
        Expr::sub_with("${Table}/index/*", [("Table", table.arn())]),
    ]
}

pub(super) fn api_statements(names: &Names, table: &Res<Table>) -> Vec<Statement> {
    let uploads = names.photo_objects(UPLOADS_PREFIX);
    let originals = names.photo_objects(ORIGINALS_PREFIX);
    let derivatives = names.photo_objects(DERIVATIVES_PREFIX);
    vec![
        Statement::allow(
            "PhotoTable",
            &[
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
            ],
            table_arns(table),
        ),
        // Pre-signed POSTs for uploads are signed with this role, so it needs PutObject on the
        // upload prefix; it never writes originals or derivatives.
        Statement::allow("UploadForms", &["s3:PutObject"], vec![uploads.clone()]),
        // No `s3:GetObject`: photos are linked through the media distribution, which reads
        // them itself, with links signed by the media key, read here.
        Statement::allow(
            "MediaSigningKey",
            &["secretsmanager:GetSecretValue"],
            vec![Expr::sub(format!(
                "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{}",
                // A slot's letter, then the six characters Secrets Manager appends.
                super::media::key_secret_name(&names.prefix, "?-??????")
            ))],
        ),
        // Deleting a photo deletes every object it may have.
        Statement::allow(
            "DeletePhotos",
            &["s3:DeleteObject"],
            vec![uploads, originals, derivatives],
        ),
        list_arrivals(names),
    ]
}

/// Listing where uploads arrive, and nothing else: whether an old PENDING upload's bytes came
/// (a `HeadObject` without list rights answers 403 for a missing key, which says nothing).
fn list_arrivals(names: &Names) -> Statement {
    Statement::allow(
        "ListArrivals",
        &["s3:ListBucket"],
        vec![names.photo_bucket_arn.clone()],
    )
    .when(json!({
        "StringLike": {
            "s3:prefix": [format!("{UPLOADS_PREFIX}*"), format!("{ORIGINALS_PREFIX}*")]
        }
    }))
}

pub(super) fn thumbnail_statements(
    names: &Names,
    table: &Res<Table>,
    dlq: &Res<Queue>,
) -> Vec<Statement> {
    let uploads = names.photo_objects(UPLOADS_PREFIX);
    let originals = names.photo_objects(ORIGINALS_PREFIX);
    let derivatives = names.photo_objects(DERIVATIVES_PREFIX);
    vec![
        Statement::allow(
            "PhotoRecords",
            &["dynamodb:GetItem", "dynamodb:UpdateItem"],
            vec![table.arn()],
        ),
        // The hourly sweep of abandoned uploads: the awaited ones from the index (which also
        // names what points at a photo), then each removed with its dependents in one
        // transaction, the dependents beyond a transaction's size in batches.
        Statement::allow(
            "AwaitedUploads",
            &["dynamodb:Query"],
            vec![Expr::sub_with(
                "${Table}/index/gsi1",
                [("Table", table.arn())],
            )],
        ),
        Statement::allow(
            "RemoveAbandonedUploads",
            &[
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:BatchWriteItem",
            ],
            vec![table.arn()],
        ),
        // An album keeps its count, cover and dates: a removed upload that was an album's cover
        // or one end of its dates, or an album from before it kept them (which a date learned
        // by processing widens), is counted from its members, a query of the owner's album
        // memberships and a batch read of their photos.
        Statement::allow(
            "AlbumContents",
            &["dynamodb:Query", "dynamodb:BatchGetItem"],
            vec![table.arn()],
        ),
        list_arrivals(names),
        // Uploads; and originals, which events for uploads made before staging (retried by
        // Lambda for up to 6 hours, or redriven from the dead-letter queue) still name.
        Statement::allow(
            "ReadUploads",
            &["s3:GetObject"],
            vec![uploads.clone(), originals.clone()],
        ),
        // A checked upload becomes the original; the derivatives go beside it. Neither prefix
        // notifies the function, so its own writes never trigger it again.
        Statement::allow(
            "WriteOriginalsAndDerivatives",
            &["s3:PutObject"],
            vec![originals.clone(), derivatives.clone()],
        ),
        // A processed upload is deleted; a refused one keeps no objects at all (the original
        // and any derivative written before a checksum mismatch or a concurrent delete showed
        // up are removed too).
        Statement::allow(
            "DeleteUploadsAndRefusedObjects",
            &["s3:DeleteObject"],
            vec![uploads, originals, derivatives],
        ),
        Statement::allow("DeadLetters", &["sqs:SendMessage"], vec![dlq.arn()]),
    ]
}

/// Checkov skips that apply to both functions.
pub(super) fn lambda_skips() -> Options {
    Options::new()
        .checkov_skip(
            "CKV_AWS_117",
            "the functions reach only AWS APIs over TLS with IAM auth; a VPC would add NAT \
             gateways or endpoints and cold-start latency without narrowing access",
        )
        .checkov_skip(
            "CKV_AWS_173",
            "the environment holds resource names and limits, no secrets; Lambda encrypts it \
             at rest with an AWS-managed key",
        )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn function(
    config: &StageConfig,
    description: &str,
    settings: FunctionSettings,
    code: Code,
    role: &Res<Role>,
    logs: &Res<LogGroup>,
    env: &[(&str, Expr)],
    dlq: Option<&Res<Queue>>,
    reserved_concurrency: u32,
) -> Function {
    Function {
        description: Some(description.to_owned()),
        code,
        handler: "bootstrap",
        runtime: "provided.al2023",
        architectures: vec![config.architecture.lambda_name()],
        memory_size: settings.memory.get(),
        timeout: settings.timeout.get(),
        role: role.arn(),
        environment: Some(Environment {
            variables: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<IndexMap<_, _>>(),
        }),
        tracing_config: Some(TracingConfig { mode: "Active" }),
        logging_config: Some(LoggingConfig {
            log_format: "JSON",
            log_group: logs.reference(),
        }),
        dead_letter_config: dlq.map(|q| DeadLetterConfig {
            target_arn: q.arn(),
        }),
        reserved_concurrent_executions: Some(reserved_concurrency),
    }
}

/// The hourly schedule that makes the thumbnail function sweep abandoned uploads, and its right
/// to invoke the function (for this rule only).
pub(super) fn sweep_schedule(
    t: &mut Template,
    thumbnail: &Res<Function>,
) -> Result<(), StackError> {
    use photo_contract::functions::{SWEEP_ABANDONED_UPLOADS, SWEEP_FIELD, SWEEP_SCHEDULE};
    let rule = t.add(
        "AbandonedUploadSweep",
        Rule {
            description: "Removes PENDING photos whose upload never arrived, returning their quota"
                .to_owned(),
            schedule_expression: SWEEP_SCHEDULE.to_owned(),
            state: "ENABLED",
            targets: vec![Target {
                arn: thumbnail.arn(),
                id: "thumbnail".to_owned(),
                input: Some(json!({ SWEEP_FIELD: SWEEP_ABANDONED_UPLOADS }).to_string()),
            }],
        },
    )?;
    t.add(
        "AbandonedUploadSweepPermission",
        Permission {
            action: "lambda:InvokeFunction",
            function_name: thumbnail.reference(),
            principal: "events.amazonaws.com",
            source_account: None,
            source_arn: Some(rule.arn()),
        },
    )?;
    Ok(())
}
