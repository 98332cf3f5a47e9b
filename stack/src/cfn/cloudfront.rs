//! `AWS::CloudFront::*`: the distribution and the policies it uses. `Ref` gives the id.

use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::CloudFront::Distribution`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Distribution {
    /// The whole configuration.
    pub distribution_config: DistributionConfig,
}

impl Resource for Distribution {
    const TYPE: &'static str = "AWS::CloudFront::Distribution";
}

impl Res<Distribution> {
    /// `DomainName`: `d111111abcdef8.cloudfront.net`.
    pub fn domain_name(&self) -> Expr {
        self.get_att("DomainName")
    }
}

/// `DistributionConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfig {
    /// Serve traffic.
    pub enabled: bool,
    /// Shown in the console.
    pub comment: String,
    /// Served for `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_root_object: Option<&'static str>,
    /// `http2and3` offers HTTP/2 and HTTP/3.
    pub http_version: &'static str,
    /// Also serve over IPv6.
    #[serde(rename = "IPV6Enabled")]
    pub ipv6_enabled: bool,
    /// Which edge locations serve.
    pub price_class: &'static str,
    /// Custom host names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// TLS certificate and minimum protocol.
    pub viewer_certificate: ViewerCertificate,
    /// The origins.
    pub origins: Vec<Origin>,
    /// For paths no other behavior matches.
    pub default_cache_behavior: CacheBehavior,
    /// Path-specific behaviors, first match wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_behaviors: Vec<CacheBehavior>,
}

/// `ViewerCertificate`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerCertificate {
    /// Use `*.cloudfront.net`'s certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_front_default_certificate: Option<bool>,
    /// An ACM certificate in `us-east-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acm_certificate_arn: Option<String>,
    /// Such as `TLSv1.2_2021`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_protocol_version: Option<&'static str>,
    /// `sni-only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_support_method: Option<&'static str>,
}

/// `Origin`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    /// Unique within the distribution; behaviors point at it.
    pub id: &'static str,
    /// The origin's host name.
    pub domain_name: Expr,
    /// Signs origin requests (for private S3 buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_access_control_id: Option<Expr>,
    /// Present for S3 origins.
    #[serde(rename = "S3OriginConfig", skip_serializing_if = "Option::is_none")]
    pub s3_origin_config: Option<S3OriginConfig>,
    /// Present for other origins (an API Gateway endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_origin_config: Option<CustomOriginConfig>,
}

/// `CustomOriginConfig`: an origin reached over HTTPS only.
#[derive(Debug, Clone, Serialize)]
pub struct CustomOriginConfig {
    #[serde(rename = "OriginProtocolPolicy")]
    pub origin_protocol_policy: &'static str,
    #[serde(rename = "OriginSSLProtocols")]
    pub origin_ssl_protocols: Vec<&'static str>,
    #[serde(rename = "HTTPSPort")]
    pub https_port: u16,
}

impl CustomOriginConfig {
    /// HTTPS on port 443 with TLS 1.2, nothing else.
    pub fn https_only() -> Self {
        CustomOriginConfig {
            origin_protocol_policy: "https-only",
            origin_ssl_protocols: vec!["TLSv1.2"],
            https_port: 443,
        }
    }
}

/// `S3OriginConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3OriginConfig {
    /// Empty with an origin access control (the legacy identity is not used).
    pub origin_access_identity: &'static str,
}

/// `DefaultCacheBehavior` and `CacheBehavior`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehavior {
    /// Such as `assets/*`; absent on the default behavior.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_pattern: Option<&'static str>,
    /// The origin's id.
    pub target_origin_id: &'static str,
    /// `redirect-to-https` or `https-only`.
    pub viewer_protocol_policy: &'static str,
    /// Methods passed to the origin.
    pub allowed_methods: Vec<&'static str>,
    /// Methods whose answers are cached.
    pub cached_methods: Vec<&'static str>,
    /// Gzip/Brotli for viewers that accept it.
    pub compress: bool,
    /// The cache policy's id.
    pub cache_policy_id: Expr,
    /// What reaches the origin beyond the cache key (headers, cookies, query strings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_request_policy_id: Option<Expr>,
    /// The response headers policy's id.
    pub response_headers_policy_id: Expr,
    /// Key groups whose keys sign the URLs this behavior requires; empty, no signature is asked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_key_groups: Vec<Expr>,
    /// CloudFront Functions run on this behavior's requests or responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub function_associations: Vec<FunctionAssociation>,
}

/// `FunctionAssociation`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionAssociation {
    /// `viewer-request` or `viewer-response`.
    pub event_type: &'static str,
    /// The function's ARN.
    #[serde(rename = "FunctionARN")]
    pub function_arn: Expr,
}

/// `AWS::CloudFront::Function`: a CloudFront Function (JavaScript run at the edge).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    /// Unique in the account.
    pub name: Expr,
    /// Publish each change to the live stage, so the distribution runs it.
    pub auto_publish: bool,
    /// The source.
    pub function_code: String,
    /// Runtime and comment.
    pub function_config: FunctionConfig,
}

impl Resource for Function {
    const TYPE: &'static str = "AWS::CloudFront::Function";
}

impl Res<Function> {
    /// `FunctionARN`, as a cache behavior's association names it.
    pub fn arn(&self) -> Expr {
        self.get_att("FunctionARN")
    }
}

/// `FunctionConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfig {
    /// Shown in the console.
    pub comment: String,
    /// `cloudfront-js-2.0`.
    pub runtime: &'static str,
}

/// `AWS::CloudFront::PublicKey`: a key that signed URLs may be checked with. `Ref` gives its
/// id (the `Key-Pair-Id` of the URLs it signs).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKey {
    /// The configuration.
    pub public_key_config: PublicKeyConfig,
}

impl Resource for PublicKey {
    const TYPE: &'static str = "AWS::CloudFront::PublicKey";
}

/// `PublicKeyConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyConfig {
    /// Unique per key: a new key is a new resource.
    pub caller_reference: Expr,
    /// Unique in the account.
    pub name: Expr,
    /// The PEM-encoded RSA 2048 public key.
    pub encoded_key: Expr,
    /// Shown in the console.
    pub comment: String,
}

/// `AWS::CloudFront::KeyGroup`: the keys a behavior trusts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroup {
    /// The configuration.
    pub key_group_config: KeyGroupConfig,
}

impl Resource for KeyGroup {
    const TYPE: &'static str = "AWS::CloudFront::KeyGroup";
}

/// `KeyGroupConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupConfig {
    /// Unique in the account.
    pub name: Expr,
    /// The public keys' ids.
    pub items: Vec<Expr>,
    /// Shown in the console.
    pub comment: String,
}

/// `AWS::CloudFront::OriginAccessControl`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControl {
    /// The configuration.
    pub origin_access_control_config: OriginAccessControlConfig,
}

impl Resource for OriginAccessControl {
    const TYPE: &'static str = "AWS::CloudFront::OriginAccessControl";
}

/// `OriginAccessControlConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControlConfig {
    /// Unique in the account.
    pub name: Expr,
    /// Shown in the console.
    pub description: String,
    /// `s3`.
    pub origin_access_control_origin_type: &'static str,
    /// `always`: sign every origin request.
    pub signing_behavior: &'static str,
    /// `sigv4`.
    pub signing_protocol: &'static str,
}

/// `AWS::CloudFront::CachePolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CachePolicy {
    /// The configuration.
    pub cache_policy_config: CachePolicyConfig,
}

impl Resource for CachePolicy {
    const TYPE: &'static str = "AWS::CloudFront::CachePolicy";
}

/// `CachePolicyConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CachePolicyConfig {
    /// Unique in the account.
    pub name: Expr,
    /// Shown in the console.
    pub comment: String,
    /// Seconds, when the origin sends no `Cache-Control`.
    #[serde(rename = "DefaultTTL")]
    pub default_ttl: u32,
    /// Upper bound on what the origin may ask for.
    #[serde(rename = "MaxTTL")]
    pub max_ttl: u32,
    /// Lower bound.
    #[serde(rename = "MinTTL")]
    pub min_ttl: u32,
    /// The cache key.
    pub parameters_in_cache_key_and_forwarded_to_origin: CacheKey,
}

/// `ParametersInCacheKeyAndForwardedToOrigin`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheKey {
    /// Cookies in the key.
    pub cookies_config: CookiesConfig,
    /// Headers in the key.
    pub headers_config: HeadersConfig,
    /// Query strings in the key.
    pub query_strings_config: QueryStringsConfig,
    /// Cache gzip variants separately.
    pub enable_accept_encoding_gzip: bool,
    /// Cache Brotli variants separately.
    pub enable_accept_encoding_brotli: bool,
}

impl CacheKey {
    /// The path alone, with compressed variants: right for static files.
    pub fn path_only() -> Self {
        CacheKey {
            cookies_config: CookiesConfig {
                cookie_behavior: "none",
            },
            headers_config: HeadersConfig {
                header_behavior: "none",
            },
            query_strings_config: QueryStringsConfig {
                query_string_behavior: "none",
            },
            enable_accept_encoding_gzip: true,
            enable_accept_encoding_brotli: true,
        }
    }
}

/// `CookiesConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CookiesConfig {
    /// `none`, `whitelist`, `allExcept` or `all`.
    pub cookie_behavior: &'static str,
}

/// `HeadersConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HeadersConfig {
    /// `none` or `whitelist`.
    pub header_behavior: &'static str,
}

/// `QueryStringsConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryStringsConfig {
    /// `none`, `whitelist`, `allExcept` or `all`.
    pub query_string_behavior: &'static str,
}

/// `AWS::CloudFront::ResponseHeadersPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseHeadersPolicy {
    /// The configuration.
    pub response_headers_policy_config: ResponseHeadersPolicyConfig,
}

impl Resource for ResponseHeadersPolicy {
    const TYPE: &'static str = "AWS::CloudFront::ResponseHeadersPolicy";
}

/// `ResponseHeadersPolicyConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseHeadersPolicyConfig {
    /// Unique in the account.
    pub name: Expr,
    /// Shown in the console.
    pub comment: String,
    /// The security headers.
    pub security_headers_config: SecurityHeadersConfig,
    /// Any other headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_headers_config: Option<CustomHeadersConfig>,
}

/// `SecurityHeadersConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityHeadersConfig {
    /// `Strict-Transport-Security`.
    pub strict_transport_security: StrictTransportSecurity,
    /// `Content-Security-Policy`.
    pub content_security_policy: ContentSecurityPolicy,
    /// `X-Content-Type-Options: nosniff`.
    pub content_type_options: ContentTypeOptions,
    /// `X-Frame-Options`.
    pub frame_options: FrameOptions,
    /// `Referrer-Policy`.
    pub referrer_policy: ReferrerPolicy,
}

/// `StrictTransportSecurity`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StrictTransportSecurity {
    /// `max-age`.
    pub access_control_max_age_sec: u32,
    /// `includeSubDomains`.
    pub include_subdomains: bool,
    /// `preload`.
    pub preload: bool,
    /// Replace the origin's header.
    #[serde(rename = "Override")]
    pub override_: bool,
}

/// `ContentSecurityPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentSecurityPolicy {
    /// The policy text.
    pub content_security_policy: Expr,
    /// Replace the origin's header.
    #[serde(rename = "Override")]
    pub override_: bool,
}

/// `ContentTypeOptions`.
#[derive(Debug, Clone, Serialize)]
pub struct ContentTypeOptions {
    /// Replace the origin's header.
    #[serde(rename = "Override")]
    pub override_: bool,
}

/// `FrameOptions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FrameOptions {
    /// `DENY` or `SAMEORIGIN`.
    pub frame_option: &'static str,
    /// Replace the origin's header.
    #[serde(rename = "Override")]
    pub override_: bool,
}

/// `ReferrerPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReferrerPolicy {
    /// Such as `strict-origin-when-cross-origin`.
    pub referrer_policy: &'static str,
    /// Replace the origin's header.
    #[serde(rename = "Override")]
    pub override_: bool,
}

/// `CustomHeadersConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomHeadersConfig {
    /// The headers.
    pub items: Vec<CustomHeader>,
}

/// `CustomHeader`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomHeader {
    /// The header's name.
    pub header: &'static str,
    /// The header's value.
    pub value: &'static str,
    /// Replace the origin's header.
    #[serde(rename = "Override")]
    pub override_: bool,
}
