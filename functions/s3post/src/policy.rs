//! Building a pre-signed POST: the policy document, its signature, and the form fields.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::{S3PostError, sigv4, time};

/// `x-amz-algorithm` of every SigV4 POST.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// `x-amz-checksum-algorithm` of a form that pins the file's SHA-256.
pub(crate) const CHECKSUM_ALGORITHM: &str = "SHA256";

/// S3's largest single POST upload, 5 GiB.
const MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// AWS credentials as plain values, from whatever provider the caller uses.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl Credentials {
    /// Credentials; `session_token` is `Some` for temporary ones (always, on Lambda).
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The session token, for temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl std::fmt::Debug for Credentials {
    // Secrets stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// How long a form stays usable: at least a second, at most 15 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyLifetime(Duration);

impl PolicyLifetime {
    /// The longest lifetime allowed: 15 minutes.
    pub const MAX: PolicyLifetime = PolicyLifetime(Duration::from_secs(15 * 60));

    /// A lifetime of `duration`, in whole seconds (fractions are dropped).
    pub fn new(duration: Duration) -> Result<PolicyLifetime, S3PostError> {
        let seconds = duration.as_secs();
        if seconds == 0 || seconds > Self::MAX.0.as_secs() {
            return Err(S3PostError::InvalidLifetime { seconds });
        }
        Ok(PolicyLifetime(Duration::from_secs(seconds)))
    }

    /// The lifetime.
    pub fn duration(self) -> Duration {
        self.0
    }
}

/// Where the browser sends the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The bucket's regional virtual-hosted endpoint, `https://{bucket}.s3.{region}.amazonaws.com/`.
    Aws,
    /// An S3-compatible endpoint (moto, the local stage) addressed path-style:
    /// `{base}/{bucket}`, with `base` such as `http://127.0.0.1:5000`.
    PathStyle(String),
}

impl Endpoint {
    /// A path-style endpoint; `base` must be an `http://` or `https://` URL with no query or
    /// fragment.
    pub fn path_style(base: &str) -> Result<Endpoint, S3PostError> {
        let base = base.trim_end_matches('/');
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => {
                Ok(Endpoint::PathStyle(base.to_owned()))
            }
            _ => Err(S3PostError::InvalidRequest(format!(
                "endpoint `{}` is not an http(s) URL",
                crate::clip(base)
            ))),
        }
    }

    fn url(&self, bucket: &str, region: &str) -> String {
        match self {
            Endpoint::Aws => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
            Endpoint::PathStyle(base) => format!("{base}/{bucket}"),
        }
    }
}

/// What one upload may be: the object key, its content type, its exact size and checksum, for
/// how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostUpload {
    /// The bucket (a valid S3 bucket name without dots, so the TLS certificate of the
    /// virtual-hosted endpoint matches).
    pub bucket: String,
    /// The exact object key (no prefix matching), 1 to 1024 bytes.
    pub key: String,
    /// The exact `Content-Type` the object gets.
    pub content_type: String,
    /// The file's exact size in bytes (1 to 5 GiB): `content-length-range` from it to it.
    pub size: u64,
    /// The file's SHA-256, when known: S3 then computes the digest of what arrives and refuses
    /// other bytes (`x-amz-checksum-sha256`, pinned by the policy), so the form can carry
    /// nothing but this one file.
    pub sha256: Option<[u8; 32]>,
    /// How long the form stays usable.
    pub lifetime: PolicyLifetime,
}

/// A signed upload form.
///
/// Send a `multipart/form-data` POST to [`PresignedPost::url`] with [`PresignedPost::fields`]
/// in the given order, then the file as a last field named `file`: S3 ignores every field after
/// `file`, so a file placed earlier would leave fields unread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPost {
    /// Where to POST the form.
    pub url: String,
    /// Form fields, in order: `key`, `Content-Type`, `x-amz-checksum-algorithm` and
    /// `x-amz-checksum-sha256` (with a checksum), `x-amz-algorithm`, `x-amz-credential`,
    /// `x-amz-date`, `x-amz-security-token` (with temporary credentials), `policy`,
    /// `x-amz-signature`.
    pub fields: Vec<(String, String)>,
    /// When the policy expires, in seconds since the Unix epoch.
    pub expires_at: u64,
}

fn validate(upload: &PostUpload, region: &str) -> Result<(), S3PostError> {
    let invalid = |what: String| Err(S3PostError::InvalidRequest(what));
    let bucket = upload.bucket.as_str();
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-');
    if !bucket_ok {
        return invalid(format!(
            "bucket name `{}` is not valid",
            crate::clip(bucket)
        ));
    }
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return invalid(format!("region `{}` is not valid", crate::clip(region)));
    }
    if upload.key.is_empty() || upload.key.len() > 1024 {
        return invalid(format!(
            "object key is {} bytes, not 1 to 1024",
            upload.key.len()
        ));
    }
    if upload.content_type.is_empty()
        || upload.content_type.len() > 255
        || upload.content_type.chars().any(char::is_control)
    {
        return invalid("content type is empty, too long, or has control characters".to_owned());
    }
    if !(1..=MAX_OBJECT_BYTES).contains(&upload.size) {
        return invalid(format!(
            "size `{}` is not 1 to {MAX_OBJECT_BYTES} bytes",
            upload.size
        ));
    }
    Ok(())
}

/// Signs a form allowing exactly `upload` to `region`'s S3 (through `endpoint`), valid from
/// `now` for the upload's lifetime.
///
/// The policy's conditions, in order: `{"bucket": ..}`, `["eq", "$key", key]`,
/// `["content-length-range", size, size]`, `["eq", "$Content-Type", content_type]`, with a
/// checksum `["eq", "$x-amz-checksum-algorithm", "SHA256"]` and
/// `["eq", "$x-amz-checksum-sha256", base64]`, then `{"x-amz-algorithm": "AWS4-HMAC-SHA256"}`,
/// `{"x-amz-credential": ..}`, `{"x-amz-date": ..}`, and `{"x-amz-security-token": ..}` with
/// temporary credentials.
pub fn presign_post(
    upload: &PostUpload,
    region: &str,
    endpoint: &Endpoint,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<PresignedPost, S3PostError> {
    validate(upload, region)?;
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let expires_at = now + upload.lifetime.duration().as_secs();
    let amz_date = time::amz_date(now);
    let day = &amz_date[..8];
    let credential = format!(
        "{}/{day}/{region}/s3/aws4_request",
        credentials.access_key_id
    );

    let checksum = upload.sha256.map(|digest| STANDARD.encode(digest));
    let mut conditions = vec![
        json!({ "bucket": upload.bucket }),
        json!(["eq", "$key", upload.key]),
        json!(["content-length-range", upload.size, upload.size]),
        json!(["eq", "$Content-Type", upload.content_type]),
    ];
    if let Some(checksum) = &checksum {
        conditions.push(json!([
            "eq",
            "$x-amz-checksum-algorithm",
            CHECKSUM_ALGORITHM
        ]));
        conditions.push(json!(["eq", "$x-amz-checksum-sha256", checksum]));
    }
    conditions.extend([
        json!({ "x-amz-algorithm": ALGORITHM }),
        json!({ "x-amz-credential": credential }),
        json!({ "x-amz-date": amz_date }),
    ]);
    if let Some(token) = &credentials.session_token {
        conditions.push(json!({ "x-amz-security-token": token }));
    }
    let policy = json!({
        "expiration": time::iso8601(expires_at),
        "conditions": Value::Array(conditions),
    });
    let policy = STANDARD.encode(policy.to_string());
    let signature = sigv4::sign_policy(&credentials.secret_access_key, day, region, &policy);

    let mut fields = vec![
        ("key".to_owned(), upload.key.clone()),
        ("Content-Type".to_owned(), upload.content_type.clone()),
    ];
    if let Some(checksum) = checksum {
        fields.push((
            "x-amz-checksum-algorithm".to_owned(),
            CHECKSUM_ALGORITHM.to_owned(),
        ));
        fields.push(("x-amz-checksum-sha256".to_owned(), checksum));
    }
    fields.extend([
        ("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()),
        ("x-amz-credential".to_owned(), credential),
        ("x-amz-date".to_owned(), amz_date),
    ]);
    if let Some(token) = &credentials.session_token {
        fields.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    fields.push(("policy".to_owned(), policy));
    fields.push(("x-amz-signature".to_owned(), signature));
    Ok(PresignedPost {
        url: endpoint.url(&upload.bucket, region),
        fields,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T20:30:45Z.
    pub(crate) const NOW: u64 = 1_795_552_245;

    pub(crate) fn upload() -> PostUpload {
        PostUpload {
            bucket: "photos-dev".into(),
            key: "originals/user-1/photo-1".into(),
            content_type: "image/jpeg".into(),
            size: 10_000_000,
            sha256: Some([7; 32]),
            lifetime: PolicyLifetime::new(Duration::from_secs(600)).unwrap(),
        }
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn field<'a>(post: &'a PresignedPost, name: &str) -> &'a str {
        &post.fields.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn policy_of(post: &PresignedPost) -> Value {
        serde_json::from_slice(&STANDARD.decode(field(post, "policy")).unwrap()).unwrap()
    }

    #[test]
    fn policy_has_exactly_the_documented_conditions() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("session/token+=".into()));
        let post = presign_post(
            &upload(),
            "eu-west-1",
            &Endpoint::Aws,
            &credentials,
            at(NOW),
        )
        .unwrap();
        assert_eq!(
            policy_of(&post),
            json!({
                "expiration": "2026-11-24T20:40:45.000Z",
                "conditions": [
                    {"bucket": "photos-dev"},
                    ["eq", "$key", "originals/user-1/photo-1"],
                    ["content-length-range", 10_000_000, 10_000_000],
                    ["eq", "$Content-Type", "image/jpeg"],
                    ["eq", "$x-amz-checksum-algorithm", "SHA256"],
                    ["eq", "$x-amz-checksum-sha256", STANDARD.encode([7; 32])],
                    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                    {"x-amz-credential": "AKIDEXAMPLE/20261124/eu-west-1/s3/aws4_request"},
                    {"x-amz-date": "20261124T203045Z"},
                    {"x-amz-security-token": "session/token+="},
                ]
            })
        );
        // The policy's JSON keeps this key order too (S3 does not care; reviewers do).
        let raw = String::from_utf8(STANDARD.decode(field(&post, "policy")).unwrap()).unwrap();
        assert!(
            raw.starts_with(r#"{"expiration":"2026-11-24T20:40:45.000Z","conditions":[{"bucket""#),
            "{raw}"
        );
        assert_eq!(post.url, "https://photos-dev.s3.eu-west-1.amazonaws.com/");
        assert_eq!(post.expires_at, NOW + 600);
        let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "x-amz-checksum-algorithm",
                "x-amz-checksum-sha256",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-security-token",
                "policy",
                "x-amz-signature"
            ]
        );
        assert_eq!(
            field(&post, "x-amz-signature"),
            sigv4::sign_policy("secret", "20261124", "eu-west-1", field(&post, "policy"))
        );
        assert_eq!(
            field(&post, "x-amz-checksum-sha256"),
            STANDARD.encode([7; 32])
        );
    }

    #[test]
    fn long_lived_credentials_have_no_token_field_or_condition() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None);
        let endpoint = Endpoint::path_style("http://127.0.0.1:5000/").unwrap();
        let post = presign_post(&upload(), "eu-west-1", &endpoint, &credentials, at(NOW)).unwrap();
        assert_eq!(post.url, "http://127.0.0.1:5000/photos-dev");
        assert!(post.fields.iter().all(|(n, _)| n != "x-amz-security-token"));
        let policy = policy_of(&post);
        assert_eq!(policy["conditions"].as_array().unwrap().len(), 9);
        // Without a checksum the form pins only the size.
        let mut unknown = upload();
        unknown.sha256 = None;
        let post = presign_post(&unknown, "eu-west-1", &endpoint, &credentials, at(NOW)).unwrap();
        assert!(
            post.fields
                .iter()
                .all(|(n, _)| !n.starts_with("x-amz-checksum"))
        );
        assert_eq!(policy_of(&post)["conditions"].as_array().unwrap().len(), 7);
    }

    #[test]
    fn lifetime_is_capped_at_fifteen_minutes() {
        assert_eq!(
            PolicyLifetime::new(Duration::from_secs(900)),
            Ok(PolicyLifetime::MAX)
        );
        assert_eq!(
            PolicyLifetime::new(Duration::from_secs(901))
                .unwrap_err()
                .to_string(),
            "policy lifetime of `901` s is outside 1 to 900 s"
        );
        assert_eq!(
            PolicyLifetime::new(Duration::from_millis(999)).unwrap_err(),
            S3PostError::InvalidLifetime { seconds: 0 }
        );
    }

    fn check_invalid(change: impl FnOnce(&mut PostUpload), region: &str, expected: &str) {
        let mut upload = upload();
        change(&mut upload);
        let credentials = Credentials::new("AKID", "secret", None);
        let error =
            presign_post(&upload, region, &Endpoint::Aws, &credentials, at(NOW)).unwrap_err();
        assert_eq!(error.to_string(), expected);
        assert_eq!(error.s3_code(), "InvalidArgument");
    }

    #[test]
    fn refuses_bad_requests() {
        check_invalid(
            |u| u.key.clear(),
            "eu-west-1",
            "invalid upload request: object key is 0 bytes, not 1 to 1024",
        );
        check_invalid(
            |u| u.key = "k".repeat(1025),
            "eu-west-1",
            "invalid upload request: object key is 1025 bytes, not 1 to 1024",
        );
        check_invalid(
            |u| u.size = 0,
            "eu-west-1",
            "invalid upload request: size `0` is not 1 to 5368709120 bytes",
        );
        check_invalid(
            |u| u.content_type = "image/jpeg\r\nx: y".into(),
            "eu-west-1",
            "invalid upload request: content type is empty, too long, or has control characters",
        );
        check_invalid(
            |u| u.bucket = "Photos".into(),
            "eu-west-1",
            "invalid upload request: bucket name `Photos` is not valid",
        );
        check_invalid(
            |u| u.bucket = "a.b.c".into(),
            "eu-west-1",
            "invalid upload request: bucket name `a.b.c` is not valid",
        );
        check_invalid(
            |_| {},
            "eu west",
            "invalid upload request: region `eu west` is not valid",
        );
        assert_eq!(
            Endpoint::path_style("ftp://x").unwrap_err().to_string(),
            "invalid upload request: endpoint `ftp://x` is not an http(s) URL"
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let credentials = Credentials::new("AKID", "very-secret", Some("token-value".into()));
        let debug = format!("{credentials:?}");
        assert!(
            !debug.contains("very-secret") && !debug.contains("token-value"),
            "{debug}"
        );
        assert!(debug.contains("AKID"));
    }
}
