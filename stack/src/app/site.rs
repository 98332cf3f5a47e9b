//! The site: the private bucket the SPA is published to, the CloudFront distribution in front
//! of it with its security headers (Content-Security-Policy included) and cache policies, the
//! HTTP API under the same distribution's `/api/*`, and the bucket policy that lets only that
//! distribution read.

use serde_json::json;

use super::{Names, abort_incomplete_uploads, bucket_skips, deny_insecure_transport};
use crate::StackError;
use crate::cfn::apigw::Api;
use crate::cfn::cloudfront::{
    CacheBehavior, CacheKey, CachePolicy, CachePolicyConfig, ContentSecurityPolicy,
    ContentTypeOptions, CustomHeader, CustomHeadersConfig, CustomOriginConfig, Distribution,
    DistributionConfig, FrameOptions, Function, FunctionAssociation, FunctionConfig, Origin,
    OriginAccessControl, OriginAccessControlConfig, ReferrerPolicy, ResponseHeadersPolicy,
    ResponseHeadersPolicyConfig, S3OriginConfig, SecurityHeadersConfig, StrictTransportSecurity,
    ViewerCertificate,
};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::s3::{
    Bucket, BucketEncryption, BucketPolicy, LifecycleConfiguration, LifecycleRule,
    NoncurrentVersionExpiration, OwnershipControls, PublicAccessBlock, Versioning,
};
use crate::cfn::{Expr, Options, Res, Template};
use crate::config::StageConfig;

/// The AWS-managed cache policy `Managed-CachingOptimized` is not used: hashed assets get a
/// policy of their own so their TTLs are explicit here.
const ONE_YEAR: u32 = 31_536_000;

pub(super) fn site_bucket(t: &mut Template, names: &Names) -> Result<Res<Bucket>, StackError> {
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
                        expiration_in_days: None,
                        // Replaced files leave no marker behind once their old versions go.
                        expired_object_delete_marker: Some(true),
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

/// The AWS-managed cache policy `Managed-CachingDisabled`: the API's answers are per user.
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// The AWS-managed origin request policy `Managed-AllViewerExceptHostHeader`: the API gets
/// every header (`Authorization` with the user's token), query string and cookie, and the Host
/// its own endpoint expects.
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// The site's Content-Security-Policy: the wasm SPA and its API (the site itself), Cognito, the
/// photo bucket that uploads go to and the media distribution photos come from.
fn content_security_policy(names: &Names, media: Expr) -> Expr {
    Expr::sub_with(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob: https://${Media}; \
         connect-src 'self' https://cognito-idp.${AWS::Region}.${AWS::URLSuffix} \
         https://${PhotoBucket}.s3.${AWS::Region}.${AWS::URLSuffix}; font-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         upgrade-insecure-requests",
        [
            ("PhotoBucket", names.photo_bucket.clone()),
            ("Media", media),
        ],
    )
}

pub(super) fn response_headers_policy(
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

pub(super) fn cache_policy(
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

pub(super) fn distribution(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    site_bucket: &Res<Bucket>,
    api: &Res<Api>,
    media: &Res<Distribution>,
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
    let csp = content_security_policy(names, media.domain_name());
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

    // The SPA routes in the browser: a deep link such as /albums/42 is no object in the bucket,
    // so this function hands CloudFront `/index.html` for it on viewer request. A missing file
    // (a path with an extension) stays a 404: no distribution-wide error page turns it into
    // HTML. See `crate::routing`.
    let routing = t.add(
        "SiteRoutingFunction",
        Function {
            name: names.global("routing"),
            auto_publish: true,
            function_code: crate::routing::VIEWER_REQUEST_FUNCTION.to_owned(),
            function_config: FunctionConfig {
                comment: "Deep links of the single-page app get index.html".to_owned(),
                runtime: "cloudfront-js-2.0",
            },
        },
    )?;
    // The API under `/api/*`: see `crate::routing::API_PREFIX`.
    let api_routing = t.add(
        "SiteApiFunction",
        Function {
            name: names.global("api"),
            auto_publish: true,
            function_code: crate::routing::API_REQUEST_FUNCTION.to_owned(),
            function_config: FunctionConfig {
                comment: "The API's paths under /api lose the prefix".to_owned(),
                runtime: "cloudfront-js-2.0",
            },
        },
    )?;
    let api_behavior = CacheBehavior {
        path_pattern: Some("api/*"),
        target_origin_id: "Api",
        // A redirect would drop a POST's body: plain HTTP is refused instead.
        viewer_protocol_policy: "https-only",
        allowed_methods: vec!["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        cached_methods: vec!["GET", "HEAD"],
        // The cache policy keeps nothing, so there is nothing to compress at the edge.
        compress: false,
        cache_policy_id: Expr::from(CACHING_DISABLED),
        origin_request_policy_id: Some(Expr::from(ALL_VIEWER_EXCEPT_HOST_HEADER)),
        // The security headers, and `no-cache` for browsers.
        response_headers_policy_id: document_headers.reference(),
        function_associations: vec![FunctionAssociation {
            event_type: "viewer-request",
            function_arn: api_routing.arn(),
        }],
        trusted_key_groups: vec![],
    };
    let behavior = |path: Option<&'static str>,
                    cache: &Res<CachePolicy>,
                    headers: &Res<ResponseHeadersPolicy>,
                    functions: Vec<FunctionAssociation>| CacheBehavior {
        path_pattern: path,
        target_origin_id: "SiteBucket",
        viewer_protocol_policy: "redirect-to-https",
        allowed_methods: vec!["GET", "HEAD"],
        cached_methods: vec!["GET", "HEAD"],
        compress: true,
        cache_policy_id: cache.reference(),
        origin_request_policy_id: None,
        response_headers_policy_id: headers.reference(),
        function_associations: functions,
        trusted_key_groups: vec![],
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
                default_root_object: Some("index.html"),
                http_version: "http2and3",
                ipv6_enabled: true,
                price_class: "PriceClass_100",
                aliases,
                viewer_certificate,
                origins: vec![
                    Origin {
                        id: "SiteBucket",
                        domain_name: site_bucket.regional_domain_name(),
                        origin_access_control_id: Some(oac.reference()),
                        s3_origin_config: Some(S3OriginConfig {
                            origin_access_identity: "",
                        }),
                        custom_origin_config: None,
                    },
                    Origin {
                        id: "Api",
                        domain_name: Expr::sub_with(
                            "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
                            [("Api", api.reference())],
                        ),
                        origin_access_control_id: None,
                        s3_origin_config: None,
                        custom_origin_config: Some(CustomOriginConfig::https_only()),
                    },
                ],
                default_cache_behavior: behavior(
                    None,
                    &document_cache,
                    &document_headers,
                    vec![FunctionAssociation {
                        event_type: "viewer-request",
                        function_arn: routing.arn(),
                    }],
                ),
                cache_behaviors: vec![
                    // Hashed assets are files, every one: no routing.
                    behavior(Some("assets/*"), &assets_cache, &assets_headers, vec![]),
                    api_behavior,
                ],
            },
        },
        options,
    )
}

pub(super) fn site_bucket_policy(
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
                // Only this distribution may read objects.
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
                // ListBucket makes S3 answer a missing file 404 rather than 403, so viewers get a
                // real "not found". No listing reaches a viewer: CloudFront forwards no query
                // string, and `/` is served as index.html.
                Statement::allow(
                    "AllowCloudFrontNotFound",
                    &["s3:ListBucket"],
                    vec![names.site_bucket_arn.clone()],
                )
                .principal(Principal::Service("cloudfront.amazonaws.com".to_owned()))
                .when(json!({ "StringEquals": { "AWS:SourceArn": distribution_arn.to_value() } })),
                deny_insecure_transport(&names.site_bucket_arn),
            ]),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::{Region, StageName};

    #[test]
    fn deep_links_are_routed_at_the_edge_and_missing_files_stay_404() {
        for stage in ["dev", "prod"] {
            let config = crate::StageConfig::with_defaults(
                stage.parse::<StageName>().unwrap(),
                "eu-west-1".parse::<Region>().unwrap(),
            );
            let v = super::super::photo_app(&config).unwrap().to_value();
            let r = &v["Resources"];
            let dist = &r["SiteDistribution"]["Properties"]["DistributionConfig"];
            // No distribution-wide error page turns an expired link or a missing file into HTML.
            assert!(dist.get("CustomErrorResponses").is_none(), "{stage}");
            assert_eq!(
                dist["DefaultCacheBehavior"]["FunctionAssociations"],
                json!([{
                    "EventType": "viewer-request",
                    "FunctionARN": {"Fn::GetAtt": ["SiteRoutingFunction", "FunctionARN"]}
                }])
            );
            // Assets are files; the API's paths only lose their prefix.
            for behavior in dist["CacheBehaviors"].as_array().unwrap() {
                let functions = behavior.get("FunctionAssociations");
                if behavior["PathPattern"] == "api/*" {
                    assert_eq!(functions.unwrap().as_array().unwrap().len(), 1);
                } else {
                    assert!(functions.is_none());
                }
            }
            let function = &r["SiteRoutingFunction"];
            assert_eq!(function["Type"], "AWS::CloudFront::Function");
            assert_eq!(function["Properties"]["AutoPublish"], true);
            assert_eq!(
                function["Properties"]["FunctionCode"],
                crate::routing::VIEWER_REQUEST_FUNCTION
            );
            assert_eq!(
                function["Properties"]["FunctionConfig"]["Runtime"],
                "cloudfront-js-2.0"
            );
            // ListBucket, for this distribution only, so that S3 answers a missing file 404.
            let statements = &r["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"];
            let list = statements
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Action"] == json!(["s3:ListBucket"]) || s["Action"] == "s3:ListBucket")
                .expect("a ListBucket statement");
            assert_eq!(list["Effect"], "Allow");
            assert_eq!(
                list["Principal"],
                json!({"Service": "cloudfront.amazonaws.com"})
            );
            assert!(list["Condition"]["StringEquals"]["AWS:SourceArn"].is_object());
            assert!(!list["Resource"].to_string().contains("/*"));
        }
    }
}
