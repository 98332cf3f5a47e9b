//! The photo app's stack: builds the whole CloudFormation template for one stage.
//!
//! Resources are added in dependency order, because [`Template::add`] only accepts references
//! to what is already there. Two choices keep CloudFormation free of cycles:
//!
//! - Bucket names are fixed from the stage, account and region, so IAM policies and Lambda
//!   permissions spell out the photo bucket's ARN with `Fn::Sub` instead of asking the bucket
//!   for it: bucket -> notification -> function -> role never points back at the bucket.
//! - The site origin that CORS allows is the custom domain when there is one, otherwise the
//!   distribution's domain; the distribution depends only on the site bucket and its policies.

use indexmap::IndexMap;
use serde_json::json;

use crate::StackError;
use crate::cfn::apigw::{
    AccessLogSettings, Api, Authorizer, Cors, Integration, JwtConfiguration, Route, RouteSettings,
    Stage,
};
use crate::cfn::cloudfront::{
    CacheBehavior, CacheKey, CachePolicy, CachePolicyConfig, ContentSecurityPolicy,
    ContentTypeOptions, CustomErrorResponse, CustomHeader, CustomHeadersConfig, Distribution,
    DistributionConfig, FrameOptions, Origin, OriginAccessControl, OriginAccessControlConfig,
    ReferrerPolicy, ResponseHeadersPolicy, ResponseHeadersPolicyConfig, S3OriginConfig,
    SecurityHeadersConfig, StrictTransportSecurity, ViewerCertificate,
};
use crate::cfn::cloudwatch::{Alarm, Dashboard, Dimension};
use crate::cfn::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, PasswordPolicy, Policies, RecoveryOption,
    TokenValidityUnits, UserAttributeUpdateSettings, UserPool, UserPoolClient,
    UsernameConfiguration,
};
use crate::cfn::dynamodb::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, PointInTimeRecovery, Projection,
    SseSpecification, Table, TimeToLive,
};
use crate::cfn::iam::{InlinePolicy, PolicyDocument, Principal, Role, Statement};
use crate::cfn::lambda::{
    Code, DeadLetterConfig, Environment, Function, LoggingConfig, Permission, TracingConfig,
};
use crate::cfn::logs::LogGroup;
use crate::cfn::s3::{
    AbortIncompleteMultipartUpload, Bucket, BucketEncryption, BucketPolicy, CorsConfiguration,
    CorsRule, LambdaConfiguration, LifecycleConfiguration, LifecycleRule,
    NoncurrentVersionExpiration, NotificationConfiguration, NotificationFilter, OwnershipControls,
    PublicAccessBlock, Transition, Versioning,
};
use crate::cfn::sns::{Subscription, Topic};
use crate::cfn::sqs::Queue;
use crate::cfn::{Expr, Options, Param, Parameter, Policy, Res, Template};
use crate::config::{FunctionSettings, StageConfig};

/// The prefix the thumbnail function is triggered by; derivatives live elsewhere, so writing
/// them can never trigger it again.
pub const ORIGINALS_PREFIX: &str = "originals/";
/// Where the thumbnail function writes.
pub const DERIVATIVES_PREFIX: &str = "derivatives/";

/// The HTTP API's routes and whether each needs a signed-in user.
pub const ROUTES: &[(&str, bool)] = &[
    ("POST /photos/uploads", true),
    ("GET /photos", true),
    ("GET /photos/{id}", true),
    ("PATCH /photos/{id}", true),
    ("DELETE /photos/{id}", true),
    ("POST /albums", true),
    ("GET /albums", true),
    ("GET /albums/{id}", true),
    ("PATCH /albums/{id}", true),
    ("DELETE /albums/{id}", true),
    ("GET /albums/{id}/photos", true),
    ("PUT /albums/{id}/photos/{photo_id}", true),
    ("DELETE /albums/{id}/photos/{photo_id}", true),
    ("POST /shares", true),
    ("GET /shares", true),
    ("DELETE /shares/{token}", true),
    ("GET /me", true),
    ("GET /public/shares/{token}", false),
    ("POST /public/shares/{token}", false),
    ("GET /openapi.json", false),
];

/// The AWS-managed cache policy `Managed-CachingOptimized` is not used: hashed assets get a
/// policy of their own so their TTLs are explicit here.
const ONE_YEAR: u32 = 31_536_000;

/// Builds the photo app's template for `config`'s stage.
pub fn photo_app(config: &StageConfig) -> Result<Template, StackError> {
    let mut t = Template::new(format!(
        "Photo sharing app, stage `{}`: site, auth, API, functions, data and alarms",
        config.name
    ));
    let names = Names::new(config);

    let code = CodeParams {
        bucket: t.add_parameter(
            "ArtifactBucket",
            Parameter::string("S3 bucket holding the function zips (filled in by the deployer)"),
        )?,
        api_key: t.add_parameter(
            "ApiCodeKey",
            Parameter::string("S3 key of the HTTP API function's zip"),
        )?,
        thumbnail_key: t.add_parameter(
            "ThumbnailCodeKey",
            Parameter::string("S3 key of the thumbnail function's zip"),
        )?,
    };

    let site_bucket = site_bucket(&mut t, &names)?;
    let pool = user_pool(&mut t, config, &names)?;
    let client = t.add(
        "UserPoolClient",
        UserPoolClient {
            user_pool_id: pool.reference(),
            client_name: Expr::from(format!("{}-spa", names.prefix)),
            // A browser cannot keep a secret.
            generate_secret: false,
            // The SPA signs in with InitiateAuth USER_PASSWORD_AUTH (over TLS, to Cognito only)
            // and renews with REFRESH_TOKEN_AUTH; nothing else is allowed.
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors: "ENABLED",
            supported_identity_providers: vec!["COGNITO"],
            access_token_validity: 60,
            id_token_validity: 60,
            refresh_token_validity: 30,
            token_validity_units: TokenValidityUnits {
                access_token: "minutes",
                id_token: "minutes",
                refresh_token: "days",
            },
            enable_token_revocation: true,
            auth_session_validity: 3,
        },
    )?;

    // With a custom domain the site origin is a constant, so the CSP may name the API exactly;
    // without one, the API's CORS needs the distribution, which needs the CSP, so the CSP
    // allows any API Gateway host in the region instead of this API's.
    let (site_origin, api, distribution) = match &config.domain {
        Some(domain) => {
            let origin = Expr::from(format!("https://{}", domain.name));
            let api = http_api(&mut t, &names, origin.clone())?;
            let csp_api = Expr::sub_with("${Endpoint}", [("Endpoint", api.api_endpoint())]);
            let dist = distribution(&mut t, config, &names, &site_bucket, csp_api)?;
            (origin, api, dist)
        }
        None => {
            let csp_api = Expr::sub("https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}");
            let dist = distribution(&mut t, config, &names, &site_bucket, csp_api)?;
            let origin = Expr::sub_with("https://${Domain}", [("Domain", dist.domain_name())]);
            let api = http_api(&mut t, &names, origin.clone())?;
            (origin, api, dist)
        }
    };
    site_bucket_policy(&mut t, &names, &site_bucket, &distribution)?;

    let table = table(&mut t, config)?;
    let dlq = t.add(
        "ThumbnailDeadLetterQueue",
        Queue {
            // The AWS-managed key: no key policy to maintain, and the function's role may use
            // it through SQS without a KMS grant of its own.
            kms_master_key_id: Some(Expr::from("alias/aws/sqs")),
            // The longest SQS allows: time to look at a failure after a long weekend.
            message_retention_period: Some(1_209_600),
            ..Queue::default()
        },
    )?;

    // The HTTP API function.
    let api_logs = function_log_group(&mut t, config, "ApiFunctionLogGroup")?;
    let api_role = function_role(
        &mut t,
        "ApiFunctionRole",
        "Runs the photo HTTP API: photo metadata in the table, originals and derivatives in the bucket",
        &api_logs,
        api_statements(&names, &table),
    )?;
    let api_env = [
        ("PHOTO_TABLE", table.reference()),
        ("PHOTO_BUCKET", names.photo_bucket.clone()),
        ("USER_POOL_ID", pool.reference()),
        ("USER_POOL_CLIENT_ID", client.reference()),
        (
            "MAX_UPLOAD_BYTES",
            Expr::from(config.limits.max_upload_bytes.to_string()),
        ),
        (
            "QUOTA_BYTES",
            Expr::from(config.limits.quota_bytes.to_string()),
        ),
        (
            "MAX_SHARE_DAYS",
            Expr::from(config.limits.max_share_days.to_string()),
        ),
        ("SITE_ORIGIN", site_origin.clone()),
    ];
    let api_fn = t.add_with(
        "ApiFunction",
        function(
            config,
            "The photo HTTP API",
            config.api,
            Code {
                s3_bucket: code.bucket.reference(),
                s3_key: code.api_key.reference(),
            },
            &api_role,
            &api_logs,
            &api_env,
            None,
            config.reserved_concurrency.api,
        ),
        lambda_skips().checkov_skip(
            "CKV_AWS_116",
            "API Gateway invokes this function synchronously and returns its errors to the \
             caller; a dead-letter queue only applies to asynchronous invocations",
        ),
    )?;

    // The thumbnail function.
    let thumb_logs = function_log_group(&mut t, config, "ThumbnailFunctionLogGroup")?;
    let thumb_role = function_role(
        &mut t,
        "ThumbnailFunctionRole",
        "Makes thumbnails: reads originals, writes derivatives, updates photo records",
        &thumb_logs,
        thumbnail_statements(&names, &table, &dlq),
    )?;
    let thumb_fn = t.add_with(
        "ThumbnailFunction",
        function(
            config,
            "Makes the thumbnail and preview of each uploaded original",
            config.thumbnail,
            Code {
                s3_bucket: code.bucket.reference(),
                s3_key: code.thumbnail_key.reference(),
            },
            &thumb_role,
            &thumb_logs,
            &[
                ("PHOTO_TABLE", table.reference()),
                ("PHOTO_BUCKET", names.photo_bucket.clone()),
            ],
            Some(&dlq),
            config.reserved_concurrency.thumbnail,
        ),
        lambda_skips(),
    )?;
    let s3_invoke = t.add(
        "ThumbnailInvokePermission",
        Permission {
            action: "lambda:InvokeFunction",
            function_name: thumb_fn.reference(),
            principal: "s3.amazonaws.com",
            // Both: the ARN alone does not pin the account (bucket names are global).
            source_account: Some(Expr::account_id()),
            source_arn: Some(names.photo_bucket_arn.clone()),
        },
    )?;

    let photo_bucket = photo_bucket(&mut t, config, &names, site_origin, &thumb_fn, &s3_invoke)?;
    t.add(
        "PhotoBucketPolicy",
        BucketPolicy {
            bucket: photo_bucket.reference(),
            policy_document: PolicyDocument::new(vec![deny_insecure_transport(
                &names.photo_bucket_arn,
            )]),
        },
    )?;

    api_routes(&mut t, config, &api, &pool, &client, &api_fn)?;
    operations(&mut t, config, &names, &api, &api_fn, &thumb_fn, &dlq)?;

    // Outputs: what the deployer publishes the SPA with and writes into its runtime config.
    let site_url = match &config.domain {
        Some(domain) => Expr::from(format!("https://{}", domain.name)),
        None => Expr::sub_with(
            "https://${Domain}",
            [("Domain", distribution.domain_name())],
        ),
    };
    t.output("SiteUrl", "The site's URL", site_url)?;
    t.output("ApiUrl", "The HTTP API's base URL", api.api_endpoint())?;
    t.output("UserPoolId", "The Cognito user pool's id", pool.reference())?;
    t.output(
        "UserPoolClientId",
        "The SPA's Cognito app client id",
        client.reference(),
    )?;
    t.output("Region", "The stack's region", Expr::region())?;
    t.output(
        "PhotoBucketName",
        "The bucket holding originals and derivatives",
        photo_bucket.reference(),
    )?;
    t.output("TableName", "The photo table's name", table.reference())?;
    t.output(
        "SiteBucketName",
        "The bucket the SPA is published to",
        site_bucket.reference(),
    )?;
    t.output(
        "DistributionId",
        "The CloudFront distribution to invalidate after publishing",
        distribution.reference(),
    )?;
    Ok(t)
}

/// Names and ARNs fixed from the stage, so nothing needs to ask a resource for them.
struct Names {
    /// `photo-app-{stage}`.
    prefix: String,
    photo_bucket: Expr,
    photo_bucket_arn: Expr,
    site_bucket: Expr,
    site_bucket_arn: Expr,
}

impl Names {
    fn new(config: &StageConfig) -> Self {
        let prefix = format!("photo-app-{}", config.name);
        // At most 10 + 16 + 8 + 12 + 15 characters: within S3's 63.
        let photo = format!("{prefix}-photos-${{AWS::AccountId}}-${{AWS::Region}}");
        let site = format!("{prefix}-site-${{AWS::AccountId}}-${{AWS::Region}}");
        Names {
            photo_bucket: Expr::sub(photo.clone()),
            photo_bucket_arn: Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{photo}")),
            site_bucket: Expr::sub(site.clone()),
            site_bucket_arn: Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{site}")),
            prefix,
        }
    }

    /// The ARN of objects under `prefix` in the photo bucket.
    fn photo_objects(&self, prefix: &str) -> Expr {
        Expr::sub_with(
            "${Bucket}/".to_owned() + prefix + "*",
            [("Bucket", self.photo_bucket_arn.clone())],
        )
    }

    /// A name unique in the account for global (CloudFront, CloudWatch) resources.
    fn global(&self, suffix: &str) -> Expr {
        Expr::sub(format!("{}-{suffix}-${{AWS::Region}}", self.prefix))
    }
}

struct CodeParams {
    bucket: Param,
    api_key: Param,
    thumbnail_key: Param,
}

/// Keeps or deletes data with the stack, in every stage, as `retain_data` says.
fn data_policy(config: &StageConfig) -> Policy {
    if config.retain_data {
        Policy::Retain
    } else {
        Policy::Delete
    }
}

/// Denies any request to the bucket that does not use TLS.
fn deny_insecure_transport(bucket_arn: &Expr) -> Statement {
    Statement::deny(
        "DenyInsecureTransport",
        &["s3:*"],
        vec![
            bucket_arn.clone(),
            Expr::sub_with("${Bucket}/*", [("Bucket", bucket_arn.clone())]),
        ],
    )
    .principal(Principal::Aws("*".to_owned()))
    .when(json!({ "Bool": { "aws:SecureTransport": "false" } }))
}

/// Checkov skips common to both buckets.
fn bucket_skips() -> Options {
    Options::new().checkov_skip(
        "CKV_AWS_18",
        "server access logs would need a log bucket of their own; API and function logs \
             record who asked for which object",
    )
}

fn site_bucket(t: &mut Template, names: &Names) -> Result<Res<Bucket>, StackError> {
    t.add_with(
        "SiteBucket",
        Bucket {
            bucket_name: Some(names.site_bucket.clone()),
            bucket_encryption: Some(BucketEncryption::s3_managed()),
            public_access_block_configuration: Some(PublicAccessBlock::all()),
            ownership_controls: Some(OwnershipControls::bucket_owner_enforced()),
            versioning_configuration: Some(Versioning { status: "Enabled" }),
            lifecycle_configuration: Some(LifecycleConfiguration {
                rules: vec![
                    abort_incomplete_uploads(),
                    LifecycleRule {
                        id: "ExpireOldSiteVersions".to_owned(),
                        status: "Enabled",
                        prefix: None,
                        abort_incomplete_multipart_upload: None,
                        transitions: vec![],
                        noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                            noncurrent_days: 30,
                        }),
                    },
                ],
            }),
            ..Bucket::default()
        },
        // SSE-S3, not KMS: CloudFront's origin access control cannot decrypt objects under
        // the AWS-managed aws/s3 key, and the site holds only public web assets.
        bucket_skips(),
    )
}

fn abort_incomplete_uploads() -> LifecycleRule {
    LifecycleRule {
        id: "AbortIncompleteUploads".to_owned(),
        status: "Enabled",
        prefix: None,
        abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
            days_after_initiation: 1,
        }),
        transitions: vec![],
        noncurrent_version_expiration: None,
    }
}

fn user_pool(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
) -> Result<Res<UserPool>, StackError> {
    t.add_with(
        "UserPool",
        UserPool {
            user_pool_name: Some(Expr::from(format!("{}-users", names.prefix))),
            username_attributes: vec!["email"],
            auto_verified_attributes: vec!["email"],
            username_configuration: UsernameConfiguration {
                case_sensitive: false,
            },
            policies: Policies {
                password_policy: PasswordPolicy {
                    minimum_length: 12,
                    require_lowercase: true,
                    require_numbers: true,
                    require_symbols: true,
                    require_uppercase: true,
                    temporary_password_validity_days: 3,
                },
            },
            account_recovery_setting: AccountRecoverySetting {
                recovery_mechanisms: vec![RecoveryOption {
                    name: "verified_email",
                    priority: 1,
                }],
            },
            admin_create_user_config: AdminCreateUserConfig {
                allow_admin_create_user_only: false,
            },
            // A changed e-mail address (the username) is used only once verified.
            user_attribute_update_settings: Some(UserAttributeUpdateSettings {
                attributes_require_verification_before_update: vec!["email"],
            }),
            mfa_configuration: Some("OFF"),
            deletion_protection: Some(if config.retain_data {
                "ACTIVE"
            } else {
                "INACTIVE"
            }),
        },
        Options::new().policy(data_policy(config)),
    )
}

fn http_api(t: &mut Template, names: &Names, site_origin: Expr) -> Result<Res<Api>, StackError> {
    t.add(
        "HttpApi",
        Api {
            name: Expr::from(format!("{}-api", names.prefix)),
            protocol_type: "HTTP",
            description: Some("The photo API".to_owned()),
            cors_configuration: Some(Cors {
                allow_origins: vec![site_origin],
                allow_methods: vec!["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers: vec!["authorization", "content-type"],
                expose_headers: vec![],
                max_age: 600,
            }),
        },
    )
}

/// The site's Content-Security-Policy: the wasm SPA, its API, Cognito and the photo bucket.
fn content_security_policy(names: &Names, api: Expr) -> Expr {
    Expr::sub_with(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob: https://${PhotoBucket}.s3.${AWS::Region}.${AWS::URLSuffix}; \
         connect-src 'self' ${Api} https://cognito-idp.${AWS::Region}.${AWS::URLSuffix} \
         https://${PhotoBucket}.s3.${AWS::Region}.${AWS::URLSuffix}; font-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         upgrade-insecure-requests",
        [("PhotoBucket", names.photo_bucket.clone()), ("Api", api)],
    )
}

fn response_headers_policy(
    t: &mut Template,
    id: &str,
    name: Expr,
    comment: &str,
    csp: Expr,
    cache_control: &'static str,
) -> Result<Res<ResponseHeadersPolicy>, StackError> {
    t.add(
        id,
        ResponseHeadersPolicy {
            response_headers_policy_config: ResponseHeadersPolicyConfig {
                name,
                comment: comment.to_owned(),
                security_headers_config: SecurityHeadersConfig {
                    strict_transport_security: StrictTransportSecurity {
                        access_control_max_age_sec: 63_072_000,
                        include_subdomains: true,
                        // Preloading commits the whole domain, which is the owner's decision.
                        preload: false,
                        override_: true,
                    },
                    content_security_policy: ContentSecurityPolicy {
                        content_security_policy: csp,
                        override_: true,
                    },
                    content_type_options: ContentTypeOptions { override_: true },
                    frame_options: FrameOptions {
                        frame_option: "DENY",
                        override_: true,
                    },
                    // Share links carry their token in the path: never send it anywhere.
                    referrer_policy: ReferrerPolicy {
                        referrer_policy: "no-referrer",
                        override_: true,
                    },
                },
                custom_headers_config: Some(CustomHeadersConfig {
                    items: vec![CustomHeader {
                        header: "Cache-Control",
                        value: cache_control,
                        override_: true,
                    }],
                }),
            },
        },
    )
}

fn cache_policy(
    t: &mut Template,
    id: &str,
    name: Expr,
    comment: &str,
    (min_ttl, default_ttl, max_ttl): (u32, u32, u32),
) -> Result<Res<CachePolicy>, StackError> {
    t.add(
        id,
        CachePolicy {
            cache_policy_config: CachePolicyConfig {
                name,
                comment: comment.to_owned(),
                default_ttl,
                max_ttl,
                min_ttl,
                parameters_in_cache_key_and_forwarded_to_origin: CacheKey::path_only(),
            },
        },
    )
}

fn distribution(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    site_bucket: &Res<Bucket>,
    csp_api: Expr,
) -> Result<Res<Distribution>, StackError> {
    let oac = t.add(
        "SiteOriginAccessControl",
        OriginAccessControl {
            origin_access_control_config: OriginAccessControlConfig {
                name: names.global("site"),
                description: "CloudFront signs its requests to the private site bucket".to_owned(),
                origin_access_control_origin_type: "s3",
                signing_behavior: "always",
                signing_protocol: "sigv4",
            },
        },
    )?;
    let csp = content_security_policy(names, csp_api);
    // Hashed file names change with their content, so a cached copy is never stale.
    let assets_headers = response_headers_policy(
        t,
        "SiteAssetsHeadersPolicy",
        names.global("assets"),
        "Security headers; hashed assets are immutable",
        csp.clone(),
        "public, max-age=31536000, immutable",
    )?;
    // index.html and config.json name everything else, so browsers must revalidate them.
    let document_headers = response_headers_policy(
        t,
        "SiteDocumentHeadersPolicy",
        names.global("documents"),
        "Security headers; documents and runtime config are revalidated",
        csp,
        "no-cache",
    )?;
    let assets_cache = cache_policy(
        t,
        "SiteAssetsCachePolicy",
        names.global("assets"),
        "Hashed assets: cache for a year",
        (86_400, ONE_YEAR, ONE_YEAR),
    )?;
    // A zero default TTL with a non-zero maximum makes CloudFront revalidate with S3 on every
    // request (a cheap conditional GET) while keeping compression available.
    let document_cache = cache_policy(
        t,
        "SiteDocumentCachePolicy",
        names.global("documents"),
        "index.html and config.json: revalidate every time",
        (0, 0, ONE_YEAR),
    )?;

    let behavior = |path: Option<&'static str>,
                    cache: &Res<CachePolicy>,
                    headers: &Res<ResponseHeadersPolicy>| CacheBehavior {
        path_pattern: path,
        target_origin_id: "SiteBucket",
        viewer_protocol_policy: "redirect-to-https",
        allowed_methods: vec!["GET", "HEAD"],
        cached_methods: vec!["GET", "HEAD"],
        compress: true,
        cache_policy_id: cache.reference(),
        response_headers_policy_id: headers.reference(),
    };
    // The SPA routes in the browser: a deep link such as /albums/42 is no object in the bucket
    // (S3 answers 403 without ListBucket, 404 with it), so both serve index.html.
    let deep_link = |code| CustomErrorResponse {
        error_code: code,
        response_code: 200,
        response_page_path: "/index.html",
        error_caching_min_ttl: 0,
    };
    let (aliases, viewer_certificate) = match &config.domain {
        Some(domain) => (
            vec![domain.name.to_string()],
            ViewerCertificate {
                cloud_front_default_certificate: None,
                acm_certificate_arn: Some(domain.certificate_arn.to_string()),
                minimum_protocol_version: Some("TLSv1.2_2021"),
                ssl_support_method: Some("sni-only"),
            },
        ),
        None => (
            vec![],
            ViewerCertificate {
                cloud_front_default_certificate: Some(true),
                acm_certificate_arn: None,
                minimum_protocol_version: None,
                ssl_support_method: None,
            },
        ),
    };
    let mut options = Options::new()
        .checkov_skip(
            "CKV_AWS_68",
            "the site is static files behind a private bucket; the API has its own throttling \
             and WAF's fixed monthly cost is not justified here",
        )
        .checkov_skip(
            "CKV_AWS_86",
            "standard logging needs a bucket with ACLs enabled; CloudFront metrics cover the \
             static site",
        );
    if config.domain.is_none() {
        options = options.checkov_skip(
            "CKV_AWS_174",
            "without a custom domain the distribution uses the *.cloudfront.net certificate, \
             whose minimum TLS version cannot be set; stages with a domain use TLSv1.2_2021",
        );
    }
    t.add_with(
        "SiteDistribution",
        Distribution {
            distribution_config: DistributionConfig {
                enabled: true,
                comment: format!("{} site", names.prefix),
                default_root_object: "index.html",
                http_version: "http2and3",
                ipv6_enabled: true,
                price_class: "PriceClass_100",
                aliases,
                viewer_certificate,
                origins: vec![Origin {
                    id: "SiteBucket",
                    domain_name: site_bucket.regional_domain_name(),
                    origin_access_control_id: Some(oac.reference()),
                    s3_origin_config: Some(S3OriginConfig {
                        origin_access_identity: "",
                    }),
                }],
                default_cache_behavior: behavior(None, &document_cache, &document_headers),
                cache_behaviors: vec![behavior(Some("assets/*"), &assets_cache, &assets_headers)],
                custom_error_responses: vec![deep_link(403), deep_link(404)],
            },
        },
        options,
    )
}

fn site_bucket_policy(
    t: &mut Template,
    names: &Names,
    site_bucket: &Res<Bucket>,
    distribution: &Res<Distribution>,
) -> Result<(), StackError> {
    let distribution_arn = Expr::sub_with(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}",
        [("Distribution", distribution.reference())],
    );
    t.add(
        "SiteBucketPolicy",
        BucketPolicy {
            bucket: site_bucket.reference(),
            policy_document: PolicyDocument::new(vec![
                // Only this distribution may read, and only objects (no listing).
                Statement::allow(
                    "AllowCloudFrontRead",
                    &["s3:GetObject"],
                    vec![Expr::sub_with(
                        "${Bucket}/*",
                        [("Bucket", names.site_bucket_arn.clone())],
                    )],
                )
                .principal(Principal::Service("cloudfront.amazonaws.com".to_owned()))
                .when(json!({ "StringEquals": { "AWS:SourceArn": distribution_arn.to_value() } })),
                deny_insecure_transport(&names.site_bucket_arn),
            ]),
        },
    )?;
    Ok(())
}

fn table(t: &mut Template, config: &StageConfig) -> Result<Res<Table>, StackError> {
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
            ],
            key_schema: vec![key("pk", "HASH"), key("sk", "RANGE")],
            global_secondary_indexes: vec![GlobalSecondaryIndex {
                index_name: "gsi1",
                key_schema: vec![key("gsi1pk", "HASH"), key("gsi1sk", "RANGE")],
                projection: Projection {
                    projection_type: "ALL",
                },
            }],
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
            deletion_protection_enabled: Some(config.retain_data),
        },
        Options::new().policy(data_policy(config)).checkov_skip(
            "CKV_AWS_119",
            "encrypted with KMS under the AWS-managed aws/dynamodb key (SSEType KMS); a \
             customer-managed key would add a monthly cost and a key policy to maintain without \
             narrowing who can read the table, which IAM already does",
        ),
    )
}

fn function_log_group(
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

fn log_group_skips() -> Options {
    Options::new().checkov_skip(
        "CKV_AWS_158",
        "log groups are encrypted by CloudWatch Logs; a customer-managed key adds cost and a \
         key policy without protecting anything the functions log",
    )
}

/// A role the Lambda service assumes for one function, with its inline policy.
fn function_role(
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

fn api_statements(names: &Names, table: &Res<Table>) -> Vec<Statement> {
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
        // Pre-signed POSTs for uploads are signed with this role, so it needs PutObject on
        // originals; it never writes derivatives.
        Statement::allow(
            "UploadOriginals",
            &["s3:PutObject"],
            vec![originals.clone()],
        ),
        // Pre-signed GETs, upload checks (HEAD) and deleting a photo's objects.
        Statement::allow(
            "ReadAndDeletePhotos",
            &["s3:GetObject", "s3:DeleteObject"],
            vec![originals, derivatives],
        ),
        // S3 answers HEAD on a missing key with 404 only to a caller that may list the bucket
        // (403 otherwise), and the API tells "not uploaded yet" from "forbidden" that way. A
        // `s3:prefix` condition would not help: HEAD carries no prefix, so it would never match.
        Statement::allow(
            "ListPhotoBucket",
            &["s3:ListBucket"],
            vec![names.photo_bucket_arn.clone()],
        ),
    ]
}

fn thumbnail_statements(names: &Names, table: &Res<Table>, dlq: &Res<Queue>) -> Vec<Statement> {
    vec![
        Statement::allow(
            "PhotoRecords",
            &["dynamodb:GetItem", "dynamodb:UpdateItem"],
            vec![table.arn()],
        ),
        Statement::allow(
            "ReadOriginals",
            &["s3:GetObject"],
            vec![names.photo_objects(ORIGINALS_PREFIX)],
        ),
        Statement::allow(
            "WriteDerivatives",
            &["s3:PutObject"],
            vec![names.photo_objects(DERIVATIVES_PREFIX)],
        ),
        // A refused upload keeps no objects: the original (and any derivative written before a
        // checksum mismatch or a concurrent delete showed up) is removed.
        Statement::allow(
            "DeleteRefusedObjects",
            &["s3:DeleteObject"],
            vec![
                names.photo_objects(ORIGINALS_PREFIX),
                names.photo_objects(DERIVATIVES_PREFIX),
            ],
        ),
        Statement::allow("DeadLetters", &["sqs:SendMessage"], vec![dlq.arn()]),
    ]
}

/// Checkov skips that apply to both functions.
fn lambda_skips() -> Options {
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
fn function(
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

fn photo_bucket(
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
            bucket_encryption: Some(BucketEncryption::kms(None)),
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
                    LifecycleRule {
                        id: "OriginalsIntelligentTiering".to_owned(),
                        status: "Enabled",
                        prefix: Some(ORIGINALS_PREFIX.to_owned()),
                        abort_incomplete_multipart_upload: None,
                        transitions: vec![Transition {
                            storage_class: "INTELLIGENT_TIERING",
                            transition_in_days: 0,
                        }],
                        noncurrent_version_expiration: None,
                    },
                    // A deleted photo is really gone after a week: versioning only guards
                    // against mistakes, not against the user's wish.
                    LifecycleRule {
                        id: "ExpireDeletedPhotos".to_owned(),
                        status: "Enabled",
                        prefix: None,
                        abort_incomplete_multipart_upload: None,
                        transitions: vec![],
                        noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                            noncurrent_days: 7,
                        }),
                    },
                ],
            }),
            notification_configuration: Some(NotificationConfiguration {
                lambda_configurations: vec![LambdaConfiguration {
                    event: "s3:ObjectCreated:*",
                    filter: Some(NotificationFilter::prefix(ORIGINALS_PREFIX)),
                    function: thumbnail.arn(),
                }],
            }),
        },
        // S3 checks that it may invoke the function when the notification is created.
        bucket_skips()
            .depends_on(invoke)
            .policy(data_policy(config)),
    )
}

/// A logical id for a route key: `GET /albums/{id}/photos` gives `RouteGetAlbumsIdPhotos`.
pub fn route_logical_id(route_key: &str) -> String {
    let mut id = String::from("Route");
    let mut upper = true;
    for c in route_key.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                id.push(c.to_ascii_uppercase());
            } else {
                id.push(c.to_ascii_lowercase());
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    id
}

fn api_routes(
    t: &mut Template,
    config: &StageConfig,
    api: &Res<Api>,
    pool: &Res<UserPool>,
    client: &Res<UserPoolClient>,
    api_fn: &Res<Function>,
) -> Result<(), StackError> {
    let authorizer = t.add(
        "HttpApiAuthorizer",
        Authorizer {
            api_id: api.reference(),
            authorizer_type: "JWT",
            identity_source: vec!["$request.header.Authorization"],
            name: "cognito".to_owned(),
            jwt_configuration: JwtConfiguration {
                audience: vec![client.reference()],
                issuer: Expr::sub_with(
                    "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${Pool}",
                    [("Pool", pool.reference())],
                ),
            },
        },
    )?;
    let integration = t.add(
        "HttpApiIntegration",
        Integration {
            api_id: api.reference(),
            integration_type: "AWS_PROXY",
            integration_uri: api_fn.arn(),
            payload_format_version: "2.0",
            // HTTP APIs wait at most 30 s; the function's own timeout is usually shorter.
            timeout_in_millis: Some((config.api.timeout.get() * 1000).min(30_000)),
        },
    )?;
    t.add(
        "ApiInvokePermission",
        Permission {
            action: "lambda:InvokeFunction",
            function_name: api_fn.reference(),
            principal: "apigateway.amazonaws.com",
            source_account: None,
            source_arn: Some(Expr::sub_with(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*",
                [("Api", api.reference())],
            )),
        },
    )?;
    let target = Expr::sub_with(
        "integrations/${Integration}",
        [("Integration", integration.reference())],
    );
    for (route_key, protected) in ROUTES {
        let route = Route {
            api_id: api.reference(),
            route_key: (*route_key).to_owned(),
            target: target.clone(),
            authorization_type: if *protected { "JWT" } else { "NONE" },
            authorizer_id: protected.then(|| authorizer.reference()),
        };
        t.add(&route_logical_id(route_key), route)?;
    }
    let access_logs = t.add_with(
        "HttpApiAccessLogGroup",
        LogGroup {
            log_group_name: None,
            retention_in_days: config.log_retention.get(),
        },
        log_group_skips(),
    )?;
    let format = json!({
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error"
    })
    .to_string();
    t.add(
        "HttpApiStage",
        Stage {
            api_id: api.reference(),
            stage_name: "$default",
            auto_deploy: true,
            access_log_settings: AccessLogSettings {
                destination_arn: access_logs.arn(),
                format,
            },
            default_route_settings: RouteSettings {
                detailed_metrics_enabled: true,
                throttling_burst_limit: config.throttling.burst_limit,
                throttling_rate_limit: f64::from(config.throttling.rate_limit),
            },
        },
    )?;
    Ok(())
}

fn operations(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    api: &Res<Api>,
    api_fn: &Res<Function>,
    thumb_fn: &Res<Function>,
    dlq: &Res<Queue>,
) -> Result<(), StackError> {
    let actions = match &config.alarm_email {
        Some(email) => {
            let topic = t.add_with(
                "AlarmTopic",
                Topic {
                    display_name: Some(format!("{} alarms", names.prefix)),
                    kms_master_key_id: None,
                },
                Options::new().checkov_skip(
                    "CKV_AWS_26",
                    "CloudWatch alarms cannot publish to a topic encrypted with the \
                     AWS-managed aws/sns key; alarm messages hold metric names, no data",
                ),
            )?;
            t.add(
                "AlarmEmailSubscription",
                Subscription {
                    protocol: "email",
                    endpoint: Expr::from(email.to_string()),
                    topic_arn: topic.reference(),
                },
            )?;
            vec![topic.reference()]
        }
        None => vec![],
    };
    let alarm = |description: String,
                 namespace: &'static str,
                 metric: &'static str,
                 dimensions: Vec<Dimension>,
                 statistic: &'static str| Alarm {
        alarm_description: description,
        namespace,
        metric_name: metric,
        dimensions,
        statistic,
        period: 300,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        threshold: 1.0,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        treat_missing_data: "notBreaching",
        alarm_actions: actions.clone(),
        ok_actions: actions.clone(),
    };
    for (prefix, function) in [("Api", api_fn), ("Thumbnail", thumb_fn)] {
        let dims = vec![Dimension {
            name: "FunctionName",
            value: function.reference(),
        }];
        t.add(
            &format!("{prefix}FunctionErrorsAlarm"),
            alarm(
                format!(
                    "The {prefix} function failed at least once in 5 minutes: see its log group"
                ),
                "AWS/Lambda",
                "Errors",
                dims.clone(),
                "Sum",
            ),
        )?;
        t.add(
            &format!("{prefix}FunctionThrottlesAlarm"),
            alarm(
                format!(
                    "The {prefix} function was throttled: its reserved concurrency is too low for the load"
                ),
                "AWS/Lambda",
                "Throttles",
                dims,
                "Sum",
            ),
        )?;
    }
    t.add(
        "Api5xxAlarm",
        alarm(
            "The HTTP API answered 5xx at least once in 5 minutes: see the API function's log group".to_owned(),
            "AWS/ApiGateway",
            "5xx",
            vec![
                Dimension {
                    name: "ApiId",
                    value: api.reference(),
                },
                Dimension {
                    name: "Stage",
                    value: Expr::from("$default"),
                },
            ],
            "Sum",
        ),
    )?;
    t.add(
        "ThumbnailDeadLetterAlarm",
        alarm(
            "An upload failed thumbnailing after all retries: its event is in the dead-letter queue".to_owned(),
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            vec![Dimension {
                name: "QueueName",
                value: dlq.queue_name(),
            }],
            "Maximum",
        ),
    )?;

    let widget = |x: u32, y: u32, title: &str, metrics: serde_json::Value| {
        json!({
            "type": "metric", "x": x, "y": y, "width": 12, "height": 6,
            "properties": {
                "title": title, "region": "${AWS::Region}", "stat": "Sum", "period": 300,
                "view": "timeSeries", "metrics": metrics
            }
        })
    };
    let body = json!({
        "widgets": [
            widget(0, 0, "API requests and errors", json!([
                ["AWS/ApiGateway", "Count", "ApiId", "${Api}", "Stage", "$default"],
                [".", "4xx", ".", ".", ".", "."],
                [".", "5xx", ".", ".", ".", "."]
            ])),
            widget(12, 0, "API latency (p90)", json!([
                ["AWS/ApiGateway", "Latency", "ApiId", "${Api}", "Stage", "$default", {"stat": "p90"}]
            ])),
            widget(0, 6, "Functions: invocations, errors, throttles", json!([
                ["AWS/Lambda", "Invocations", "FunctionName", "${ApiFunction}"],
                [".", "Errors", ".", "."],
                [".", "Throttles", ".", "."],
                [".", "Invocations", ".", "${ThumbnailFunction}"],
                [".", "Errors", ".", "."],
                [".", "Throttles", ".", "."]
            ])),
            widget(12, 6, "Thumbnail dead letters", json!([
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${DeadLetterQueue}", {"stat": "Maximum"}]
            ]))
        ]
    })
    .to_string();
    t.add(
        "Dashboard",
        Dashboard {
            dashboard_name: Some(names.global("dashboard")),
            dashboard_body: Expr::sub_with(
                body,
                [
                    ("Api", api.reference()),
                    ("ApiFunction", api_fn.reference()),
                    ("ThumbnailFunction", thumb_fn.reference()),
                    ("DeadLetterQueue", dlq.queue_name()),
                ],
            ),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Region, StageName};

    fn dev() -> StageConfig {
        StageConfig::with_defaults(
            "dev".parse::<StageName>().unwrap(),
            "eu-west-1".parse::<Region>().unwrap(),
        )
    }

    #[test]
    fn route_ids() {
        let check = |key: &str, expected: &str| assert_eq!(route_logical_id(key), expected);
        check("GET /photos", "RouteGetPhotos");
        check("GET /albums/{id}/photos", "RouteGetAlbumsIdPhotos");
        check(
            "DELETE /albums/{id}/photos/{photo_id}",
            "RouteDeleteAlbumsIdPhotosPhotoId",
        );
        check("GET /openapi.json", "RouteGetOpenapiJson");
    }

    #[test]
    fn retention_follows_retain_data() {
        let mut config = dev();
        let v = photo_app(&config).unwrap().to_value();
        for id in ["PhotoBucket", "PhotoTable", "UserPool"] {
            assert_eq!(v["Resources"][id]["DeletionPolicy"], "Retain", "{id}");
            assert_eq!(v["Resources"][id]["UpdateReplacePolicy"], "Retain", "{id}");
        }
        config.retain_data = false;
        let v = photo_app(&config).unwrap().to_value();
        for id in ["PhotoBucket", "PhotoTable", "UserPool"] {
            assert_eq!(v["Resources"][id]["DeletionPolicy"], "Delete", "{id}");
        }
    }

    #[test]
    fn site_origin_and_csp_follow_the_domain() {
        let v = photo_app(&dev()).unwrap().to_value();
        let r = &v["Resources"];
        let origin = json!({"Fn::Sub": ["https://${Domain}", {"Domain": {"Fn::GetAtt": ["SiteDistribution", "DomainName"]}}]});
        assert_eq!(
            r["HttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"],
            json!([origin])
        );
        assert_eq!(
            r["ApiFunction"]["Properties"]["Environment"]["Variables"]["SITE_ORIGIN"],
            origin
        );
        let csp = r["SiteDocumentHeadersPolicy"].to_string();
        assert!(csp.contains("https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}"));
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));

        let mut config = dev();
        config.domain = Some(crate::config::CustomDomain {
            name: "photos.example.com".parse().unwrap(),
            certificate_arn:
                "arn:aws:acm:us-east-1:123456789012:certificate/0b1f2a3c-aaaa-bbbb-cccc-111122223333"
                    .parse()
                    .unwrap(),
        });
        let v = photo_app(&config).unwrap().to_value();
        let r = &v["Resources"];
        assert_eq!(
            r["PhotoBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"],
            json!(["https://photos.example.com"])
        );
        let dist = &r["SiteDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(dist["Aliases"], json!(["photos.example.com"]));
        assert_eq!(
            dist["ViewerCertificate"]["MinimumProtocolVersion"],
            "TLSv1.2_2021"
        );
        // With a fixed origin the CSP names this API exactly, not any API in the region.
        let csp = r["SiteDocumentHeadersPolicy"].to_string();
        assert!(!csp.contains("*.execute-api"));
        assert!(csp.contains("HttpApi"));
    }

    #[test]
    fn alarm_topic_only_with_an_email() {
        let mut config = dev();
        let v = photo_app(&config).unwrap().to_value();
        assert!(v["Resources"].get("AlarmTopic").is_none());
        assert!(
            v["Resources"]["Api5xxAlarm"]["Properties"]
                .get("AlarmActions")
                .is_none()
        );
        config.alarm_email = Some("ops@example.com".parse().unwrap());
        let v = photo_app(&config).unwrap().to_value();
        assert_eq!(
            v["Resources"]["AlarmEmailSubscription"]["Properties"]["Endpoint"],
            "ops@example.com"
        );
        assert_eq!(
            v["Resources"]["Api5xxAlarm"]["Properties"]["AlarmActions"],
            json!([{"Ref": "AlarmTopic"}])
        );
    }

    #[test]
    fn notification_only_on_originals_and_routes_are_authorized() {
        let v = photo_app(&dev()).unwrap().to_value();
        let r = &v["Resources"];
        let lambda =
            &r["PhotoBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"];
        assert_eq!(
            lambda[0]["Filter"]["S3Key"]["Rules"],
            json!([{"Name": "prefix", "Value": "originals/"}])
        );
        for (key, protected) in ROUTES {
            let route = &r[route_logical_id(key)]["Properties"];
            assert_eq!(route["RouteKey"], *key);
            assert_eq!(
                route["AuthorizationType"],
                if *protected { "JWT" } else { "NONE" }
            );
        }
        // The thumbnail role may write only derivatives, so it cannot retrigger itself.
        let statements =
            &r["ThumbnailFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        let writes: Vec<String> = statements
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Action"].to_string().contains("s3:PutObject"))
            .map(|s| s["Resource"].to_string())
            .collect();
        assert_eq!(writes.len(), 1);
        assert!(writes[0].contains("/derivatives/*"), "{}", writes[0]);
        assert!(!writes[0].contains("originals"), "{}", writes[0]);
        // It deletes the objects of a refused upload, and nothing outside the two prefixes.
        let deletes: Vec<String> = statements
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Action"].to_string().contains("s3:DeleteObject"))
            .flat_map(|s| s["Resource"].as_array().unwrap().clone())
            .map(|r| r.to_string())
            .collect();
        assert_eq!(deletes.len(), 2, "{deletes:?}");
        assert!(deletes[0].contains("/originals/*"), "{}", deletes[0]);
        assert!(deletes[1].contains("/derivatives/*"), "{}", deletes[1]);
    }
}
