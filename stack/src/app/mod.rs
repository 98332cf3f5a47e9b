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
//!
//! Each part of the architecture has a module of its own: `site` (bucket, CloudFront, security
//! headers), `auth` (Cognito), `api` (HTTP API and routes), `functions` (Lambda functions, their
//! roles and logs), `data` (table and photo bucket) and `operations` (alarms and dashboard). This
//! one wires them together in that order and holds what more than one of them shares.

mod api;
mod auth;
mod data;
mod functions;
mod media;
mod operations;
mod site;

use serde_json::json;

use crate::StackError;
use crate::cfn::iam::{Principal, Statement};
use crate::cfn::lambda::{Code, Permission};
use crate::cfn::s3::{AbortIncompleteMultipartUpload, LifecycleRule};
use crate::cfn::{Expr, Options, Param, Parameter, Policy, Template};
use crate::config::StageConfig;

pub use api::route_logical_id;
pub use media::key_secret_name as media_key_secret_name;
use photo_contract::keys::{DERIVATIVES_PREFIX, ORIGINALS_PREFIX, UPLOADS_PREFIX};

use api::{api_routes, http_api};
use auth::{user_pool, user_pool_client};
use data::{data_protection, photo_bucket, photo_bucket_policy, table};
use functions::{
    api_statements, dead_letter_queue, function, lambda_skips, logs_and_role, sweep_schedule,
    thumbnail_statements,
};
use operations::operations;
use photo_contract::stack::{outputs, parameters, stack_name};
use photo_contract::{self as contract, env};
use site::{distribution, site_bucket, site_bucket_policy};

/// Builds the photo app's template for `config`'s stage.
pub fn photo_app(config: &StageConfig) -> Result<Template, StackError> {
    let mut t = Template::new(format!(
        "Photo sharing app, stage `{}`: site, auth, API, functions, data and alarms",
        config.name
    ));
    let names = Names::new(config);

    let code = CodeParams {
        bucket: t.add_parameter(
            parameters::ARTIFACT_BUCKET,
            Parameter::string("S3 bucket holding the function zips (filled in by the deployer)"),
        )?,
        api_key: t.add_parameter(
            contract::functions::API.code_parameter,
            Parameter::string("S3 key of the HTTP API function's zip"),
        )?,
        thumbnail_key: t.add_parameter(
            contract::functions::THUMBNAIL.code_parameter,
            Parameter::string("S3 key of the thumbnail function's zip"),
        )?,
    };

    let site_bucket = site_bucket(&mut t, &names)?;
    let media = media::media_edge(&mut t, &names)?;
    let protection = data_protection(&mut t, config)?;
    let pool = user_pool(&mut t, config, &names, protection.as_ref())?;
    let client = user_pool_client(&mut t, &names, &pool)?;

    // The SPA calls its API on its own origin (the distribution's `/api/*`): the API needs no
    // CORS, and the CSP's `connect-src` names the site itself.
    let api = http_api(&mut t, &names)?;
    let distribution = distribution(
        &mut t,
        config,
        &names,
        &site_bucket,
        &api,
        &media.distribution,
    )?;
    let site_origin = match &config.domain {
        Some(domain) => Expr::from(format!("https://{}", domain.name)),
        None => Expr::sub_with(
            "https://${Domain}",
            [("Domain", distribution.domain_name())],
        ),
    };
    site_bucket_policy(&mut t, &names, &site_bucket, &distribution)?;

    let table = table(&mut t, config, protection.as_ref())?;
    let dlq = dead_letter_queue(&mut t)?;

    // The HTTP API function.
    let (api_logs, api_role) = logs_and_role(
        &mut t,
        config,
        contract::functions::API,
        "Runs the photo HTTP API: photo metadata in the table, originals and derivatives in the bucket",
        api_statements(&names, &table),
    )?;
    let api_env = [
        (env::PHOTO_TABLE, table.reference()),
        (env::PHOTO_BUCKET, names.photo_bucket.clone()),
        (env::USER_POOL_ID, pool.reference()),
        (env::USER_POOL_CLIENT_ID, client.reference()),
        (
            env::MAX_UPLOAD_BYTES,
            Expr::from(config.limits.max_upload_bytes.to_string()),
        ),
        (
            env::QUOTA_BYTES,
            Expr::from(config.limits.quota_bytes.to_string()),
        ),
        (
            env::MAX_SHARE_DAYS,
            Expr::from(config.limits.max_share_days.to_string()),
        ),
        (env::MEDIA_DOMAIN, media.distribution.domain_name()),
        (env::MEDIA_KEY_ID, media.active_key_id.clone()),
        (env::MEDIA_KEY_SECRET, media.active_key_secret.clone()),
    ];
    let api_fn = t.add_with(
        contract::functions::API.logical_id,
        function(
            config,
            "The photo HTTP API",
            config.api,
            code.zip(&code.api_key),
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
    let (thumb_logs, thumb_role) = logs_and_role(
        &mut t,
        config,
        contract::functions::THUMBNAIL,
        "Makes thumbnails: reads originals, writes derivatives, updates photo records",
        thumbnail_statements(&names, &table, &dlq),
    )?;
    let thumb_fn = t.add_with(
        contract::functions::THUMBNAIL.logical_id,
        function(
            config,
            "Makes the thumbnail and preview of each uploaded original",
            config.thumbnail,
            code.zip(&code.thumbnail_key),
            &thumb_role,
            &thumb_logs,
            &[
                (env::PHOTO_TABLE, table.reference()),
                (env::PHOTO_BUCKET, names.photo_bucket.clone()),
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

    sweep_schedule(&mut t, &thumb_fn)?;

    let photo_bucket = photo_bucket(&mut t, config, &names, site_origin, &thumb_fn, &s3_invoke)?;
    photo_bucket_policy(&mut t, &names, &photo_bucket, &media.distribution)?;

    api_routes(&mut t, config, &names, &api, &pool, &client, &api_fn)?;
    operations(&mut t, config, &names, &api, &api_fn, &thumb_fn, &dlq)?;

    // Outputs: what the deployer publishes the SPA with and writes into its runtime config.
    let site_url = match &config.domain {
        Some(domain) => Expr::from(format!("https://{}", domain.name)),
        None => Expr::sub_with(
            "https://${Domain}",
            [("Domain", distribution.domain_name())],
        ),
    };
    t.output(outputs::SITE_URL, "The site's URL", site_url)?;
    t.output(
        outputs::API_URL,
        "The HTTP API's base URL",
        api.api_endpoint(),
    )?;
    t.output(
        outputs::USER_POOL_ID,
        "The Cognito user pool's id",
        pool.reference(),
    )?;
    t.output(
        outputs::USER_POOL_CLIENT_ID,
        "The SPA's Cognito app client id",
        client.reference(),
    )?;
    t.output(outputs::REGION, "The stack's region", Expr::region())?;
    t.output(
        outputs::PHOTO_BUCKET,
        "The bucket holding originals and derivatives",
        photo_bucket.reference(),
    )?;
    t.output(outputs::TABLE, "The photo table's name", table.reference())?;
    t.output(
        outputs::SITE_BUCKET,
        "The bucket the SPA is published to",
        site_bucket.reference(),
    )?;
    t.output(
        outputs::DISTRIBUTION,
        "The CloudFront distribution to invalidate after publishing",
        distribution.reference(),
    )?;
    t.output(
        outputs::MEDIA_DISTRIBUTION,
        "The CloudFront distribution photos are served through",
        media.distribution.reference(),
    )?;
    t.output(
        outputs::MEDIA_DOMAIN,
        "The media distribution's host name",
        media.distribution.domain_name(),
    )?;
    Ok(t)
}

/// Names and ARNs fixed from the stage, so nothing needs to ask a resource for them.
struct Names {
    /// `photo-app-{stage}`.
    prefix: String,
    photo_bucket: Expr,
    photo_bucket_arn: Expr,
    /// The photo bucket's regional host name, as CloudFront reaches it.
    photo_bucket_domain: Expr,
    site_bucket: Expr,
    site_bucket_arn: Expr,
}

impl Names {
    fn new(config: &StageConfig) -> Self {
        let prefix = stack_name(config.name.as_str());
        // At most 10 + 16 + 8 + 12 + 15 characters: within S3's 63.
        let photo =
            photo_contract::stack::photo_bucket(&prefix, "${AWS::AccountId}", "${AWS::Region}");
        let site = format!("{prefix}-site-${{AWS::AccountId}}-${{AWS::Region}}");
        Names {
            photo_bucket: Expr::sub(photo.clone()),
            photo_bucket_arn: Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{photo}")),
            photo_bucket_domain: Expr::sub(format!(
                "{photo}.s3.${{AWS::Region}}.${{AWS::URLSuffix}}"
            )),
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

impl CodeParams {
    /// A function's code: the zip at the key parameter `key`, in the artifact bucket.
    fn zip(&self, key: &Param) -> Code {
        Code {
            s3_bucket: self.bucket.reference(),
            s3_key: key.reference(),
        }
    }
}

// Shared by more than one part.

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
        expiration_in_days: None,
        expired_object_delete_marker: None,
    }
}

/// A log group's options: its logs go with the stage (`down` says so), and the checkov skip.
fn log_group_skips() -> Options {
    Options::new().policy(Policy::Delete).checkov_skip(
        "CKV_AWS_158",
        "log groups are encrypted by CloudWatch Logs; a customer-managed key adds cost and a \
         key policy without protecting anything the functions log",
    )
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
        let r = &v["Resources"];
        // Kept, except when the first creation rolls back: then nothing is left behind.
        for id in ["PhotoBucket", "PhotoTable", "UserPool"] {
            assert_eq!(r[id]["DeletionPolicy"], "RetainExceptOnCreate", "{id}");
            assert_eq!(r[id]["UpdateReplacePolicy"], "Retain", "{id}");
        }
        // Deletion protection as the deployer says: off during the first creation.
        let p = &v["Parameters"][parameters::DATA_PROTECTION];
        assert_eq!(p["AllowedValues"], json!(["true", "false"]));
        assert_eq!(p["Default"], "true");
        assert_eq!(
            v["Conditions"]["DataProtected"],
            json!({"Fn::Equals": [{"Ref": parameters::DATA_PROTECTION}, "true"]})
        );
        assert_eq!(
            r["PhotoTable"]["Properties"]["DeletionProtectionEnabled"],
            json!({"Fn::If": ["DataProtected", true, false]})
        );
        assert_eq!(
            r["UserPool"]["Properties"]["DeletionProtection"],
            json!({"Fn::If": ["DataProtected", "ACTIVE", "INACTIVE"]})
        );

        config.retain_data = false;
        let v = photo_app(&config).unwrap().to_value();
        let r = &v["Resources"];
        for id in ["PhotoBucket", "PhotoTable", "UserPool"] {
            assert_eq!(r[id]["DeletionPolicy"], "Delete", "{id}");
            assert_eq!(r[id]["UpdateReplacePolicy"], "Delete", "{id}");
        }
        assert!(v["Parameters"].get(parameters::DATA_PROTECTION).is_none());
        assert_eq!(
            r["PhotoTable"]["Properties"]["DeletionProtectionEnabled"],
            false
        );
        assert_eq!(
            r["UserPool"]["Properties"]["DeletionProtection"],
            "INACTIVE"
        );
    }

    #[test]
    fn the_api_is_on_the_site_origin() {
        let v = photo_app(&dev()).unwrap().to_value();
        let r = &v["Resources"];
        // Same origin: the API has no CORS, and the CSP connects to the site itself.
        assert!(
            r["HttpApi"]["Properties"]
                .get("CorsConfiguration")
                .is_none()
        );
        let csp = r["SiteDocumentHeadersPolicy"].to_string();
        assert!(
            csp.contains("connect-src 'self' https://cognito-idp."),
            "{csp}"
        );
        assert!(!csp.contains("execute-api"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
        // `/api/*` goes to this API, uncached, with the caller's headers but not its Host.
        let dist = &r["SiteDistribution"]["Properties"]["DistributionConfig"];
        let origin = dist["Origins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["Id"] == "Api")
            .expect("an API origin");
        assert_eq!(
            origin["DomainName"],
            json!({"Fn::Sub": ["${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}", {"Api": {"Ref": "HttpApi"}}]})
        );
        assert_eq!(
            origin["CustomOriginConfig"]["OriginProtocolPolicy"],
            "https-only"
        );
        let api = dist["CacheBehaviors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["PathPattern"] == "api/*")
            .expect("an api/* behavior");
        assert_eq!(api["TargetOriginId"], "Api");
        assert_eq!(api["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad");
        assert_eq!(
            api["OriginRequestPolicyId"],
            "b689b0a8-53d0-40ab-baf2-68738e2966ac"
        );
        assert_eq!(api["AllowedMethods"].as_array().unwrap().len(), 7);
        assert_eq!(
            api["FunctionAssociations"][0]["FunctionARN"],
            json!({"Fn::GetAtt": ["SiteApiFunction", "FunctionARN"]})
        );
        assert_eq!(
            r["SiteApiFunction"]["Properties"]["FunctionCode"],
            crate::routing::API_REQUEST_FUNCTION
        );
        // Uploads go straight to the bucket, from the site's origin.
        let origin = json!({"Fn::Sub": ["https://${Domain}", {"Domain": {"Fn::GetAtt": ["SiteDistribution", "DomainName"]}}]});
        assert_eq!(
            r["PhotoBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"],
            json!([origin])
        );

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
        assert!(
            !r["SiteDocumentHeadersPolicy"]
                .to_string()
                .contains("execute-api")
        );
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
    fn notification_only_on_uploads_and_routes_are_authorized() {
        let v = photo_app(&dev()).unwrap().to_value();
        let r = &v["Resources"];
        let lambda =
            &r["PhotoBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"];
        assert_eq!(
            lambda[0]["Filter"]["S3Key"]["Rules"],
            json!([{"Name": "prefix", "Value": "uploads/"}])
        );
        for endpoint in photo_contract::api::Endpoint::ALL {
            let key = endpoint.route().key();
            let route = &r[route_logical_id(&key)]["Properties"];
            assert_eq!(route["RouteKey"], key.as_str());
            let signed_in = endpoint.route().access == photo_contract::api::Access::SignedIn;
            assert_eq!(
                route["AuthorizationType"],
                if signed_in { "JWT" } else { "NONE" }
            );
        }
        // Each function gets exactly the environment the contract gives it.
        for f in contract::functions::FUNCTIONS {
            let vars = r[f.logical_id]["Properties"]["Environment"]["Variables"]
                .as_object()
                .unwrap();
            let names: Vec<&str> = vars.keys().map(String::as_str).collect();
            assert_eq!(names, f.env, "{}", f.name);
        }
    }

    /// The objects each S3 action of `role` reaches, as their prefixes in the photo bucket.
    fn prefixes(v: &serde_json::Value, role: &str, action: &str) -> Vec<String> {
        s3_grants(v, role)
            .into_iter()
            .filter(|(a, _)| a == action)
            .flat_map(|(_, resources)| resources)
            .map(|r| {
                let r = r.split("}/").nth(1).unwrap_or(&r).to_owned();
                r.trim_end_matches(['*', '"', ']', '}']).to_owned()
            })
            .collect()
    }

    #[test]
    fn forms_write_only_uploads_and_only_processing_writes_originals() {
        let v = photo_app(&dev()).unwrap().to_value();
        let api = contract::functions::API.role;
        let thumbnail = contract::functions::THUMBNAIL.role;
        // The API signs upload forms: they can write under `uploads/` and nowhere else.
        assert_eq!(prefixes(&v, api, "s3:PutObject"), ["uploads/"]);
        // It reads no photo: the media distribution does, for the links it signs.
        assert!(prefixes(&v, api, "s3:GetObject").is_empty());
        // Processing reads uploads, writes originals and derivatives (neither notifies it, so
        // it cannot trigger itself), and deletes what it refuses.
        assert_eq!(
            prefixes(&v, thumbnail, "s3:GetObject"),
            ["uploads/", "originals/"]
        );
        assert_eq!(
            prefixes(&v, thumbnail, "s3:PutObject"),
            ["originals/", "derivatives/"]
        );
        for role in [api, thumbnail] {
            assert_eq!(
                prefixes(&v, role, "s3:DeleteObject"),
                ["uploads/", "originals/", "derivatives/"],
                "{role}"
            );
        }
        // Whatever a form leaves under `uploads/` expires within a day, old versions too.
        let rules = &v["Resources"]["PhotoBucket"]["Properties"]["LifecycleConfiguration"]["Rules"];
        let uploads = rules
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Prefix"] == "uploads/")
            .expect("a rule for uploads");
        assert_eq!(uploads["ExpirationInDays"], 1);
        assert_eq!(uploads["NoncurrentVersionExpiration"]["NoncurrentDays"], 1);
    }

    /// Every S3 action of a function role, with its resources.
    fn s3_grants(v: &serde_json::Value, role: &str) -> Vec<(String, Vec<String>)> {
        let statements =
            &v["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        let mut grants = Vec::new();
        for s in statements.as_array().unwrap() {
            let actions: Vec<String> = match &s["Action"] {
                serde_json::Value::Array(a) => {
                    a.iter().map(|a| a.as_str().unwrap().to_owned()).collect()
                }
                one => vec![one.as_str().unwrap().to_owned()],
            };
            let resources: Vec<String> = match &s["Resource"] {
                serde_json::Value::Array(r) => r.iter().map(|r| r.to_string()).collect(),
                one => vec![one.to_string()],
            };
            for action in actions.into_iter().filter(|a| a.starts_with("s3:")) {
                grants.push((action, resources.clone()));
            }
        }
        grants
    }

    #[test]
    fn the_function_roles_reach_objects_and_list_only_where_uploads_arrive() {
        let v = photo_app(&dev()).unwrap().to_value();
        for f in contract::functions::FUNCTIONS {
            let grants = s3_grants(&v, f.role);
            assert!(!grants.is_empty());
            for (action, resources) in grants {
                if action == "s3:ListBucket" {
                    continue;
                }
                for resource in resources {
                    assert!(resource.contains("/*"), "{action} on {resource}");
                }
            }
            // Listing, to tell an abandoned upload from one that arrived: under the two
            // prefixes uploads arrive at, nothing else.
            let statements = v["Resources"][f.role]["Properties"]["Policies"][0]["PolicyDocument"]
                ["Statement"]
                .as_array()
                .unwrap();
            let lists: Vec<&serde_json::Value> = statements
                .iter()
                .filter(|s| s["Action"].to_string().contains("s3:ListBucket"))
                .collect();
            assert_eq!(lists.len(), 1, "{}", f.name);
            assert_eq!(
                lists[0]["Condition"],
                json!({"StringLike": {"s3:prefix": ["uploads/*", "originals/*"]}}),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn an_hourly_schedule_makes_the_thumbnail_function_sweep_abandoned_uploads() {
        let v = photo_app(&dev()).unwrap().to_value();
        let r = &v["Resources"];
        let rule = &r["AbandonedUploadSweep"]["Properties"];
        assert_eq!(rule["ScheduleExpression"], "rate(1 hour)");
        let target = &rule["Targets"][0];
        assert_eq!(
            target["Arn"],
            json!({"Fn::GetAtt": [contract::functions::THUMBNAIL.logical_id, "Arn"]})
        );
        let input: serde_json::Value =
            serde_json::from_str(target["Input"].as_str().unwrap()).unwrap();
        assert_eq!(input, json!({"sweep": "abandoned-uploads"}));
        let permission = &r["AbandonedUploadSweepPermission"]["Properties"];
        assert_eq!(permission["Principal"], "events.amazonaws.com");
        assert_eq!(
            permission["SourceArn"],
            json!({"Fn::GetAtt": ["AbandonedUploadSweep", "Arn"]}),
            "this rule only"
        );
        // The sweep reads the index and removes items; nothing is ever scanned.
        let role = &r[contract::functions::THUMBNAIL.role]["Properties"]["Policies"][0];
        let text = role.to_string();
        assert!(text.contains("/index/gsi1"), "{text}");
        assert!(!text.contains("dynamodb:Scan"), "{text}");
    }

    #[test]
    fn public_routes_have_their_own_lower_limits() {
        let config = dev();
        let v = photo_app(&config).unwrap().to_value();
        let stage = &v["Resources"]["HttpApiStage"];
        let defaults = &stage["Properties"]["DefaultRouteSettings"];
        assert_eq!(defaults["ThrottlingRateLimit"], 50.0);
        let settings = stage["Properties"]["RouteSettings"].as_object().unwrap();
        let public: Vec<String> = photo_contract::api::Endpoint::ALL
            .iter()
            .filter(|e| e.route().access == photo_contract::api::Access::Public)
            .map(|e| e.route().key())
            .collect();
        assert_eq!(public.len(), 4, "{public:?}");
        assert_eq!(settings.keys().cloned().collect::<Vec<_>>(), public);
        for key in &public {
            let route = &settings[key];
            assert_eq!(route["ThrottlingRateLimit"], 10.0, "{key}");
            assert_eq!(route["ThrottlingBurstLimit"], 20, "{key}");
        }
        // Settings for a route that does not exist yet are refused: the stage waits for them.
        let depends: Vec<&str> = stage["DependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        let expected: Vec<String> = public.iter().map(|k| route_logical_id(k)).collect();
        assert_eq!(depends, expected);
    }

    #[test]
    fn the_pool_sends_mail_through_ses_only_when_configured() {
        let mut config = dev();
        let v = photo_app(&config).unwrap().to_value();
        assert!(
            v["Resources"]["UserPool"]["Properties"]
                .get("EmailConfiguration")
                .is_none()
        );
        let identity = "arn:aws:ses:eu-west-1:123456789012:identity/example.com";
        config.mail = Some(
            crate::config::MailSender::new(
                "photos@example.com".parse().unwrap(),
                identity.parse().unwrap(),
                &config.region,
            )
            .unwrap(),
        );
        let v = photo_app(&config).unwrap().to_value();
        assert_eq!(
            v["Resources"]["UserPool"]["Properties"]["EmailConfiguration"],
            json!({
                "EmailSendingAccount": "DEVELOPER",
                "SourceArn": identity,
                "From": "photos@example.com"
            })
        );
    }

    #[test]
    fn dead_letters_alarm_without_trusting_missing_data() {
        let v = photo_app(&dev()).unwrap().to_value();
        let r = &v["Resources"];
        let dlq = &r["ThumbnailDeadLetterAlarm"]["Properties"];
        assert_eq!(dlq["MetricName"], "ApproximateNumberOfMessagesVisible");
        assert_eq!(dlq["Statistic"], "Maximum");
        assert_eq!(dlq["TreatMissingData"], "ignore");
        let lost = &r["ThumbnailDeadLetterErrorsAlarm"]["Properties"];
        assert_eq!(lost["Namespace"], "AWS/Lambda");
        assert_eq!(lost["MetricName"], "DeadLetterErrors");
        assert_eq!(
            lost["Dimensions"],
            json!([{"Name": "FunctionName", "Value": {"Ref": "ThumbnailFunction"}}])
        );
        assert_eq!(lost["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
        assert_eq!(lost["Threshold"], 1.0);
    }

    #[test]
    fn nothing_paid_that_nothing_uses() {
        let mut config = dev();
        let v = photo_app(&config).unwrap().to_value();
        let r = &v["Resources"];
        let stage = &r["HttpApiStage"]["Properties"];
        assert_eq!(
            stage["DefaultRouteSettings"]["DetailedMetricsEnabled"],
            false
        );
        for (_, route) in stage["RouteSettings"].as_object().unwrap() {
            assert_eq!(route["DetailedMetricsEnabled"], false);
        }
        assert_eq!(r["UserPool"]["Properties"]["UserPoolTier"], "LITE");
        // No lifecycle transition: originals are written in Intelligent-Tiering.
        for bucket in ["PhotoBucket", "SiteBucket"] {
            let rules = r[bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
                .as_array()
                .unwrap();
            assert!(
                rules.iter().all(|rule| rule.get("Transitions").is_none()),
                "{bucket}"
            );
            assert!(
                rules
                    .iter()
                    .any(|rule| rule["ExpiredObjectDeleteMarker"] == true),
                "{bucket} removes expired delete markers"
            );
            // S3 refuses the marker cleanup beside an expiration in days.
            for rule in rules {
                assert!(
                    rule.get("ExpiredObjectDeleteMarker").is_none()
                        || rule.get("ExpirationInDays").is_none(),
                    "{rule}"
                );
            }
        }
        config.detailed_metrics = true;
        let v = photo_app(&config).unwrap().to_value();
        assert_eq!(
            v["Resources"]["HttpApiStage"]["Properties"]["DefaultRouteSettings"]["DetailedMetricsEnabled"],
            true
        );
    }
}
