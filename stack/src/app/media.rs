//! The media edge: a CloudFront distribution of its own in front of the private photo bucket,
//! through origin access control, serving `derivatives/*` and `originals/*` only to URLs signed
//! with a key of the stage's key group.
//!
//! A distribution of its own, not `/media/*` of the site's: what users upload is served from
//! another origin than the app, so no file a browser might render can ever run in the app's
//! origin (Google Photos serves from googleusercontent.com for the same reason); its paths are
//! the bucket's keys, so no edge function rewrites them and nothing runs on a media request
//! before CloudFront checks its signature; and it costs nothing more at rest.
//!
//! The deployer owns the signing keys: two slots, `a` and `b`, each a public key passed as a
//! parameter (with the fingerprint that names it), so that a rotation adds the new key beside
//! the old one, switches signing to it (`MediaKeyActive`), and drops the old one later without
//! any link breaking. The private halves live in Secrets Manager, one secret per slot, named
//! [`key_secret_name`]; the API function reads the active one.

use crate::StackError;
use crate::cfn::cloudfront::{
    CacheBehavior, Distribution, DistributionConfig, KeyGroup, KeyGroupConfig, Origin,
    OriginAccessControl, OriginAccessControlConfig, PublicKey, PublicKeyConfig, S3OriginConfig,
    ViewerCertificate,
};
use crate::cfn::{ConditionExpr, Expr, Options, Parameter, Res, Template};
use photo_contract::stack::parameters::media;

use super::Names;
use super::site::{cache_policy, response_headers_policy};

/// What the rest of the stack needs of the media edge.
pub(super) struct MediaEdge {
    pub distribution: Res<Distribution>,
    /// The CloudFront id of the key links are signed with now.
    pub active_key_id: Expr,
    /// The secret holding that key's private half.
    pub active_key_secret: Expr,
}

/// The secret of slot `slot`'s private key for the stack `prefix`: `{prefix}/media-key-{slot}`.
pub fn key_secret_name(prefix: &str, slot: &str) -> String {
    format!("{prefix}/media-key-{slot}")
}

pub(super) fn media_edge(t: &mut Template, names: &Names) -> Result<MediaEdge, StackError> {
    let active = t.add_parameter(media::ACTIVE, {
        let mut p = Parameter::string("The key slot media links are signed with: a or b");
        p.allowed_values = vec!["a", "b"];
        p.default = Some("a");
        p
    })?;
    let a_is_active = t.add_condition(
        "MediaKeyAIsActive",
        ConditionExpr::equals(active.reference(), Expr::from("a")),
    )?;
    // A slot holds a key when it is the active one or when it is given one (during a rotation):
    // written so that "active" implies "present", which cfn-lint can see.
    let mut slots = Vec::new();
    for (slot, id_param, pem_param) in [
        ("A", media::A_ID, media::A_PUBLIC),
        ("B", media::B_ID, media::B_PUBLIC),
    ] {
        let fingerprint = t.add_parameter(id_param, {
            let mut p = Parameter::optional(format!(
                "Fingerprint of the media signing key in slot {slot} (filled in by the deployer)"
            ));
            p.allowed_pattern = Some("^([0-9a-f]{16})?$".to_owned());
            p
        })?;
        let pem = t.add_parameter(
            pem_param,
            Parameter::optional(format!(
                "PEM public key of the media signing key in slot {slot} (filled in by the deployer)"
            )),
        )?;
        let is_active = match slot {
            "A" => ConditionExpr::holds(&a_is_active),
            _ => ConditionExpr::negate(ConditionExpr::holds(&a_is_active)),
        };
        let present = t.add_condition(
            &format!("HasMediaKey{slot}"),
            ConditionExpr::or(
                is_active,
                ConditionExpr::negate(ConditionExpr::equals(
                    fingerprint.reference(),
                    Expr::from(""),
                )),
            ),
        )?;
        // Named after its fingerprint: a new key in the slot is a new resource, created
        // before the old one is deleted, so the names must differ.
        let name = Expr::sub_with(
            format!("{}-media-${{AWS::Region}}-${{Fingerprint}}", names.prefix),
            [("Fingerprint", fingerprint.reference())],
        );
        let key = t.add_with(
            &format!("MediaPublicKey{slot}"),
            PublicKey {
                public_key_config: PublicKeyConfig {
                    caller_reference: name.clone(),
                    name,
                    encoded_key: pem.reference(),
                    comment: format!("Media signing key, slot {slot}"),
                },
            },
            Options::new().condition(&present),
        )?;
        slots.push((present, key));
    }
    let key_group = t.add(
        "MediaKeyGroup",
        KeyGroup {
            key_group_config: KeyGroupConfig {
                name: names.global("media"),
                items: slots
                    .iter()
                    .map(|(present, key)| Expr::if_(present, key.reference(), Expr::no_value()))
                    .collect(),
                comment: "Keys whose signatures open photos".to_owned(),
            },
        },
    )?;
    let active_key_id = Expr::if_(&a_is_active, slots[0].1.reference(), slots[1].1.reference());
    let active_key_secret = Expr::sub_with(
        key_secret_name(&names.prefix, "${Slot}"),
        [("Slot", active.reference())],
    );

    let oac = t.add(
        "MediaOriginAccessControl",
        OriginAccessControl {
            origin_access_control_config: OriginAccessControlConfig {
                name: names.global("media"),
                description: "CloudFront signs its requests to the private photo bucket".to_owned(),
                origin_access_control_origin_type: "s3",
                signing_behavior: "always",
                signing_protocol: "sigv4",
            },
        },
    )?;
    // The signature's query string is no part of the cache key: every signed URL of an object
    // is served from one cached copy.
    let cache = cache_policy(
        t,
        "MediaCachePolicy",
        names.global("media"),
        "Photos and their derivatives never change under one key",
        (0, 86_400, 31_536_000),
    )?;
    let headers = response_headers_policy(
        t,
        "MediaHeadersPolicy",
        names.global("media"),
        "Security headers; a photo under one key never changes",
        // Images only, and never anything that could run: not a page of the app's origin.
        Expr::from("default-src 'none'; img-src 'self'; sandbox"),
        photo_contract::keys::MEDIA_VIEWER_CACHE_CONTROL,
    )?;
    let behavior = |path: Option<&'static str>| CacheBehavior {
        path_pattern: path,
        target_origin_id: "PhotoBucket",
        viewer_protocol_policy: "https-only",
        allowed_methods: vec!["GET", "HEAD"],
        cached_methods: vec!["GET", "HEAD"],
        // JPEG and HEIC are compressed already.
        compress: false,
        cache_policy_id: cache.reference(),
        origin_request_policy_id: None,
        response_headers_policy_id: headers.reference(),
        function_associations: vec![],
        trusted_key_groups: vec![key_group.reference()],
    };
    let distribution = t.add_with(
        "MediaDistribution",
        Distribution {
            distribution_config: DistributionConfig {
                enabled: true,
                comment: format!("{} photos", names.prefix),
                default_root_object: None,
                http_version: "http2and3",
                ipv6_enabled: true,
                price_class: "PriceClass_100",
                aliases: vec![],
                viewer_certificate: ViewerCertificate {
                    cloud_front_default_certificate: Some(true),
                    acm_certificate_arn: None,
                    minimum_protocol_version: None,
                    ssl_support_method: None,
                },
                origins: vec![Origin {
                    id: "PhotoBucket",
                    domain_name: names.photo_bucket_domain.clone(),
                    origin_access_control_id: Some(oac.reference()),
                    s3_origin_config: Some(S3OriginConfig {
                        origin_access_identity: "",
                    }),
                    custom_origin_config: None,
                }],
                // Every path needs a signature; the bucket policy lets CloudFront read
                // `derivatives/` and `originals/` alone, so `uploads/` is never served.
                default_cache_behavior: behavior(None),
                cache_behaviors: vec![],
            },
        },
        Options::new()
            .checkov_skip(
                "CKV_AWS_68",
                "every request carries a signature checked at the edge; WAF's fixed monthly \
                 cost is not justified for signed media",
            )
            .checkov_skip(
                "CKV_AWS_86",
                "standard logging needs a bucket with ACLs enabled; the API logs who was given \
                 which link",
            )
            .checkov_skip(
                "CKV_AWS_174",
                "media is served from the distribution's own *.cloudfront.net name, whose \
                 certificate's minimum TLS version cannot be set",
            ),
    )?;
    Ok(MediaEdge {
        distribution,
        active_key_id,
        active_key_secret,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::config::{Region, StageName};

    fn template(stage: &str) -> Value {
        let config = crate::StageConfig::with_defaults(
            stage.parse::<StageName>().unwrap(),
            "eu-west-1".parse::<Region>().unwrap(),
        );
        super::super::photo_app(&config).unwrap().to_value()
    }

    #[test]
    fn media_needs_a_signature_of_the_key_group_and_reaches_the_bucket_through_oac() {
        let v = template("prod");
        let r = &v["Resources"];
        let dist = &r["MediaDistribution"]["Properties"]["DistributionConfig"];
        let behavior = &dist["DefaultCacheBehavior"];
        assert_eq!(
            behavior["TrustedKeyGroups"],
            json!([{"Ref": "MediaKeyGroup"}])
        );
        assert!(dist.get("CacheBehaviors").is_none(), "one behavior, signed");
        assert!(dist.get("CustomErrorResponses").is_none());
        assert!(dist.get("DefaultRootObject").is_none());
        assert_eq!(behavior["ViewerProtocolPolicy"], "https-only");
        assert_eq!(behavior["AllowedMethods"], json!(["GET", "HEAD"]));
        assert!(behavior.get("FunctionAssociations").is_none());
        let origin = &dist["Origins"][0];
        assert_eq!(
            origin["OriginAccessControlId"],
            json!({"Ref": "MediaOriginAccessControl"})
        );
        // The cache key is the path: a signature's query string never splits the cache.
        let key = &r["MediaCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"];
        assert_eq!(key["QueryStringsConfig"]["QueryStringBehavior"], "none");

        // Both key slots are in the group when present; the active one always is.
        let items = &r["MediaKeyGroup"]["Properties"]["KeyGroupConfig"]["Items"];
        assert_eq!(
            items,
            &json!([
                {"Fn::If": ["HasMediaKeyA", {"Ref": "MediaPublicKeyA"}, {"Ref": "AWS::NoValue"}]},
                {"Fn::If": ["HasMediaKeyB", {"Ref": "MediaPublicKeyB"}, {"Ref": "AWS::NoValue"}]},
            ])
        );
        assert_eq!(
            v["Conditions"]["HasMediaKeyA"],
            json!({"Fn::Or": [
                {"Condition": "MediaKeyAIsActive"},
                {"Fn::Not": [{"Fn::Equals": [{"Ref": "MediaKeyAId"}, ""]}]}
            ]})
        );
        assert_eq!(r["MediaPublicKeyB"]["Condition"], "HasMediaKeyB");
        assert_eq!(
            r["MediaPublicKeyA"]["Properties"]["PublicKeyConfig"]["EncodedKey"],
            json!({"Ref": "MediaKeyAPublic"})
        );
        // No private key anywhere in the template.
        assert!(!v.to_string().contains("PRIVATE KEY"));

        // The bucket lets this distribution alone read originals and derivatives, not uploads.
        let statements = &r["PhotoBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"];
        let read = statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "AllowMediaDistributionRead")
            .expect("a read statement for CloudFront");
        assert_eq!(
            read["Principal"],
            json!({"Service": "cloudfront.amazonaws.com"})
        );
        let source = read["Condition"]["StringEquals"]["AWS:SourceArn"].to_string();
        assert!(source.contains("MediaDistribution"), "{source}");
        let resources = read["Resource"].to_string();
        assert!(resources.contains("/originals/*") && resources.contains("/derivatives/*"));
        assert!(!resources.contains("uploads"));

        // The API signs with the active key, read from its secret, and may read no other.
        let api =
            &r[photo_contract::functions::API.logical_id]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            api["MEDIA_KEY_ID"],
            json!({"Fn::If": ["MediaKeyAIsActive", {"Ref": "MediaPublicKeyA"}, {"Ref": "MediaPublicKeyB"}]})
        );
        assert_eq!(
            api["MEDIA_KEY_SECRET"],
            json!({"Fn::Sub": ["photo-app-prod/media-key-${Slot}", {"Slot": {"Ref": "MediaKeyActive"}}]})
        );
        // The site shows images from the media distribution.
        let csp = r["SiteDocumentHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
            ["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
            .to_string();
        assert!(
            csp.contains("img-src 'self' data: blob: https://${Media};"),
            "{csp}"
        );
    }
}
