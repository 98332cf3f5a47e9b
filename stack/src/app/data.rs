//! The data: the photo table, the photo bucket holding uploads, originals and derivatives
//! (whose uploads trigger the thumbnail function), its bucket policy, and whether the stack
//! keeps them when it is deleted.

use photo_contract::stack::parameters;
use serde_json::json;

use super::{
    DERIVATIVES_PREFIX, Names, ORIGINALS_PREFIX, UPLOADS_PREFIX, abort_incomplete_uploads,
    bucket_skips, deny_insecure_transport,
};
use crate::StackError;
use crate::cfn::cloudfront::Distribution;
use crate::cfn::dynamodb::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, PointInTimeRecovery, Projection,
    SseSpecification, Table, TimeToLive,
};
use crate::cfn::iam::PolicyDocument;
use crate::cfn::iam::{Principal, Statement};
use crate::cfn::lambda::{Function, Permission};
use crate::cfn::s3::{
    Bucket, BucketEncryption, BucketPolicy, CorsConfiguration, CorsRule, LambdaConfiguration,
    LifecycleConfiguration, LifecycleRule, NoncurrentVersionExpiration, NotificationConfiguration,
    NotificationFilter, OwnershipControls, PublicAccessBlock, Versioning,
};
use crate::cfn::{Cond, ConditionExpr, Expr, Options, Parameter, Policy, Res, Template};
use crate::config::StageConfig;

/// Keeps or deletes data with the stack, in every stage, as `retain_data` says. Kept data is
/// `RetainExceptOnCreate`: a failed first creation rolls back without leaving a bucket, a table
/// or a user pool behind (whose fixed names would then make the retry fail); a replacement
/// always keeps the old resource.
pub(super) fn keep_data(config: &StageConfig, options: Options) -> Options {
    if config.retain_data {
        options
            .deletion_policy(Policy::RetainExceptOnCreate)
            .update_replace_policy(Policy::Retain)
    } else {
        options.policy(Policy::Delete)
    }
}

/// Whether the table and the user pool are protected from deletion: in stages that keep their
/// data, as the deployer's [`parameters::DATA_PROTECTION`] says (off during a stage's first
/// creation, since a rollback cannot delete a protected resource; on from the update that
/// follows it). `None`: never.
pub(super) fn data_protection(
    t: &mut Template,
    config: &StageConfig,
) -> Result<Option<Cond>, StackError> {
    if !config.retain_data {
        return Ok(None);
    }
    let param = t.add_parameter(parameters::DATA_PROTECTION, {
        let mut p = Parameter::string(
            "Deletion protection of the table and the user pool: off while the stage is first \
             created, then on (filled in by the deployer)",
        );
        p.allowed_values = vec!["true", "false"];
        p.default = Some("true");
        p
    })?;
    let cond = t.add_condition(
        "DataProtected",
        ConditionExpr::equals(param.reference(), Expr::from("true")),
    )?;
    Ok(Some(cond))
}

pub(super) fn table(
    t: &mut Template,
    config: &StageConfig,
    protection: Option<&Cond>,
) -> Result<Res<Table>, StackError> {
    let key = |name, kind| KeySchemaElement {
        attribute_name: name,
        key_type: kind,
    };
    let string_attr = |name| AttributeDefinition {
        attribute_name: name,
        attribute_type: "S",
    };
    t.add_with(
        "PhotoTable",
        Table {
            billing_mode: "PAY_PER_REQUEST",
            attribute_definitions: vec![
                string_attr("pk"),
                string_attr("sk"),
                string_attr("gsi1pk"),
                string_attr("gsi1sk"),
                string_attr("tlsk"),
            ],
            key_schema: vec![key("pk", "HASH"), key("sk", "RANGE")],
            global_secondary_indexes: vec![
                GlobalSecondaryIndex {
                    index_name: "gsi1",
                    key_schema: vec![key("gsi1pk", "HASH"), key("gsi1sk", "RANGE")],
                    projection: Projection {
                        projection_type: "ALL",
                    },
                },
                // Added to a deployed table by one update (CloudFormation adds one index per
                // update); the deployer's backfill then places the photos stored before it.
                GlobalSecondaryIndex {
                    index_name: "timeline",
                    key_schema: vec![key("pk", "HASH"), key("tlsk", "RANGE")],
                    projection: Projection {
                        projection_type: "ALL",
                    },
                },
            ],
            point_in_time_recovery_specification: Some(PointInTimeRecovery {
                point_in_time_recovery_enabled: true,
            }),
            sse_specification: Some(SseSpecification {
                sse_enabled: true,
                sse_type: Some("KMS"),
                kms_master_key_id: None,
            }),
            time_to_live_specification: Some(TimeToLive {
                attribute_name: "ttl",
                enabled: true,
            }),
            deletion_protection_enabled: Some(match protection {
                Some(on) => Expr::if_(on, true.into(), false.into()),
                None => false.into(),
            }),
        },
        keep_data(config, Options::new()).checkov_skip(
            "CKV_AWS_119",
            "encrypted with KMS under the AWS-managed aws/dynamodb key (SSEType KMS); a \
             customer-managed key would add a monthly cost and a key policy to maintain without \
             narrowing who can read the table, which IAM already does",
        ),
    )
}

pub(super) fn photo_bucket(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    site_origin: Expr,
    thumbnail: &Res<Function>,
    invoke: &Res<Permission>,
) -> Result<Res<Bucket>, StackError> {
    t.add_with(
        "PhotoBucket",
        Bucket {
            bucket_name: Some(names.photo_bucket.clone()),
            // SSE-S3: CloudFront's origin access control cannot decrypt objects under the
            // AWS-managed aws/s3 key, and a customer-managed key would add a monthly cost and a
            // retained key without narrowing who can read (the bucket policy and IAM decide
            // that). `deployer up` re-encrypts what an older stage stored under aws:kms, once.
            bucket_encryption: Some(BucketEncryption::s3_managed()),
            public_access_block_configuration: Some(PublicAccessBlock::all()),
            ownership_controls: Some(OwnershipControls::bucket_owner_enforced()),
            versioning_configuration: Some(Versioning { status: "Enabled" }),
            cors_configuration: Some(CorsConfiguration {
                cors_rules: vec![CorsRule {
                    // Pre-signed POST form uploads and pre-signed GETs; nothing else.
                    allowed_headers: vec!["content-type".to_owned()],
                    allowed_methods: vec!["GET", "HEAD", "POST"],
                    allowed_origins: vec![site_origin],
                    exposed_headers: vec!["ETag".to_owned()],
                    max_age: Some(3000),
                }],
            }),
            lifecycle_configuration: Some(LifecycleConfiguration {
                rules: vec![
                    abort_incomplete_uploads(),
                    // Processing moves every upload to its original and deletes it; what stays
                    // under `uploads/` is a form posted for a photo that never finished, or
                    // posted again. Upload forms write nowhere else, so nothing a user posts
                    // outlives its quota-counted original by more than a day, old versions
                    // included.
                    LifecycleRule {
                        id: "ExpireUploads".to_owned(),
                        status: "Enabled",
                        prefix: Some(UPLOADS_PREFIX.to_owned()),
                        abort_incomplete_multipart_upload: None,
                        transitions: vec![],
                        noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                            noncurrent_days: 1,
                        }),
                        expiration_in_days: Some(1),
                        expired_object_delete_marker: None,
                    },
                    // A deleted photo is really gone after a week: versioning only guards
                    // against mistakes, not against the user's wish. Its delete marker goes
                    // with its last version (S3 keeps and lists markers until then).
                    // Originals are written in Intelligent-Tiering by the thumbnail function,
                    // so no transition rule is needed.
                    LifecycleRule {
                        id: "ExpireDeletedPhotos".to_owned(),
                        status: "Enabled",
                        prefix: None,
                        abort_incomplete_multipart_upload: None,
                        transitions: vec![],
                        noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                            noncurrent_days: 7,
                        }),
                        expiration_in_days: None,
                        expired_object_delete_marker: Some(true),
                    },
                ],
            }),
            notification_configuration: Some(NotificationConfiguration {
                lambda_configurations: vec![LambdaConfiguration {
                    event: "s3:ObjectCreated:*",
                    filter: Some(NotificationFilter::prefix(UPLOADS_PREFIX)),
                    function: thumbnail.arn(),
                }],
            }),
        },
        // S3 checks that it may invoke the function when the notification is created.
        keep_data(config, bucket_skips().depends_on(invoke)),
    )
}

/// The photo bucket takes requests over TLS only, and lets the media distribution (and no
/// other) read originals and derivatives: never uploads, which nothing has checked yet.
pub(super) fn photo_bucket_policy(
    t: &mut Template,
    names: &Names,
    photo_bucket: &Res<Bucket>,
    media: &Res<Distribution>,
) -> Result<(), StackError> {
    let distribution_arn = Expr::sub_with(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}",
        [("Distribution", media.reference())],
    );
    t.add(
        "PhotoBucketPolicy",
        BucketPolicy {
            bucket: photo_bucket.reference(),
            policy_document: PolicyDocument::new(vec![
                Statement::allow(
                    "AllowMediaDistributionRead",
                    &["s3:GetObject"],
                    vec![
                        names.photo_objects(ORIGINALS_PREFIX),
                        names.photo_objects(DERIVATIVES_PREFIX),
                    ],
                )
                .principal(Principal::Service("cloudfront.amazonaws.com".to_owned()))
                .when(json!({ "StringEquals": { "AWS:SourceArn": distribution_arn.to_value() } })),
                deny_insecure_transport(&names.photo_bucket_arn),
            ]),
        },
    )?;
    Ok(())
}
