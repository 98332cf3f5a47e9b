//! Verifying a submitted POST form the way S3 does, for the local stage's upload endpoint.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use sha2::{Digest as _, Sha256};

use crate::policy::{ALGORITHM, CHECKSUM_ALGORITHM};
use crate::{S3PostError, clip, sigv4, time};

/// A form as the upload endpoint received it.
#[derive(Debug, Clone, Copy)]
pub struct PostSubmission<'a> {
    /// The bucket the form was posted to (from the URL).
    pub bucket: &'a str,
    /// The region the endpoint serves; the credential must be scoped to it.
    pub region: &'a str,
    /// Every form field except the file, in the order received.
    pub fields: &'a [(String, String)],
    /// The file's bytes.
    pub file: &'a [u8],
    /// The time to check the policy's expiration against.
    pub now: SystemTime,
}

/// What a verified form allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPost {
    /// The object key to store the file under.
    pub key: String,
    /// The object's content type, if the form set one.
    pub content_type: Option<String>,
    /// The access key that signed the form.
    pub access_key_id: String,
}

/// One policy condition.
#[derive(Debug)]
enum Condition {
    /// `{"name": "value"}` or `["eq", "$name", "value"]`.
    Eq(String, String),
    /// `["starts-with", "$name", "prefix"]`.
    StartsWith(String, String),
    /// `["content-length-range", min, max]`.
    LengthRange(u64, u64),
}

impl Condition {
    fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq(name, _) | Condition::StartsWith(name, _) => Some(name),
            Condition::LengthRange(..) => None,
        }
    }

    /// The condition as S3 prints it in "Policy Condition failed" messages.
    fn describe(&self) -> String {
        let quoted = |text: &str| Value::String(text.to_owned()).to_string();
        match self {
            Condition::Eq(name, value) => format!("[\"eq\", \"${name}\", {}]", quoted(value)),
            Condition::StartsWith(name, prefix) => {
                format!("[\"starts-with\", \"${name}\", {}]", quoted(prefix))
            }
            Condition::LengthRange(min, max) => format!("[\"content-length-range\", {min}, {max}]"),
        }
    }
}

fn bad_policy(what: impl Into<String>) -> S3PostError {
    S3PostError::InvalidPolicyDocument(what.into())
}

fn length_bound(value: &Value) -> Result<u64, S3PostError> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad_policy("content-length-range bounds must be non-negative integers"))
}

fn parse_condition(value: &Value) -> Result<Vec<Condition>, S3PostError> {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(name, value)| match value {
                Value::String(value) => Ok(Condition::Eq(name.clone(), value.clone())),
                _ => Err(bad_policy(format!(
                    "condition `{}` must have a string value",
                    clip(name)
                ))),
            })
            .collect(),
        Value::Array(items) => {
            let op = items
                .first()
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            match (op.as_deref(), items.len()) {
                (Some("content-length-range"), 3) => Ok(vec![Condition::LengthRange(
                    length_bound(&items[1])?,
                    length_bound(&items[2])?,
                )]),
                (Some(op @ ("eq" | "starts-with")), 3) => {
                    let name = items[1]
                        .as_str()
                        .and_then(|name| name.strip_prefix('$'))
                        .ok_or_else(|| {
                            bad_policy("condition field must be a string starting with `$`")
                        })?
                        .to_owned();
                    let value = items[2]
                        .as_str()
                        .ok_or_else(|| bad_policy("condition value must be a string"))?
                        .to_owned();
                    Ok(vec![if op == "eq" {
                        Condition::Eq(name, value)
                    } else {
                        Condition::StartsWith(name, value)
                    }])
                }
                _ => Err(bad_policy("unknown condition")),
            }
        }
        _ => Err(bad_policy("a condition must be an object or an array")),
    }
}

/// The decoded policy: expiration (epoch seconds, and as written) and conditions.
fn parse_policy(policy_base64: &str) -> Result<(u64, String, Vec<Condition>), S3PostError> {
    let bytes = STANDARD
        .decode(policy_base64.trim())
        .map_err(|_| bad_policy("policy is not base64"))?;
    let policy: Value =
        serde_json::from_slice(&bytes).map_err(|_| bad_policy("policy is not JSON"))?;
    let expiration_text = policy
        .get("expiration")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_policy("policy has no `expiration` string"))?;
    let expiration = time::parse_iso8601(expiration_text).ok_or_else(|| {
        bad_policy(format!(
            "expiration `{}` is not ISO 8601",
            clip(expiration_text)
        ))
    })?;
    let conditions = policy
        .get("conditions")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_policy("policy has no `conditions` array"))?;
    let mut parsed = Vec::new();
    for condition in conditions {
        parsed.extend(parse_condition(condition)?);
    }
    Ok((expiration, expiration_text.to_owned(), parsed))
}

/// Form fields by lowercase name (S3 matches field names without regard to case).
struct Fields<'a> {
    fields: &'a [(String, String)],
}

impl<'a> Fields<'a> {
    fn new(fields: &'a [(String, String)]) -> Result<Fields<'a>, S3PostError> {
        let mut seen = HashSet::new();
        for (name, _) in fields {
            if !seen.insert(name.to_ascii_lowercase()) {
                // Two `key` fields could make us check one and store under the other.
                return Err(S3PostError::InvalidRequest(format!(
                    "form field `{}` appears more than once",
                    clip(name)
                )));
            }
        }
        Ok(Fields { fields })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &'static str) -> Result<&'a str, S3PostError> {
        self.get(name).ok_or(S3PostError::MissingField(name))
    }
}

/// Checks a submitted form as S3 would: required fields, the credential's scope, the signature
/// (with the secret `secret_for` gives for the access key id), the expiration, every condition
/// (including `content-length-range` against the file's length), that no field goes
/// unmentioned, and the file's SHA-256 against `x-amz-checksum-sha256` when the form has one.
///
/// Session tokens are only matched against the policy; the caller's `secret_for` decides which
/// access keys exist.
pub fn verify_post<F>(
    submission: &PostSubmission<'_>,
    secret_for: F,
) -> Result<VerifiedPost, S3PostError>
where
    F: FnOnce(&str) -> Option<String>,
{
    let fields = Fields::new(submission.fields)?;
    let key = fields.require("key")?;
    let policy = fields.require("policy")?;
    let algorithm = fields.require("x-amz-algorithm")?;
    let credential = fields.require("x-amz-credential")?;
    let amz_date = fields.require("x-amz-date")?;
    let signature = fields.require("x-amz-signature")?;

    if algorithm != ALGORITHM {
        return Err(S3PostError::UnsupportedAlgorithm(clip(algorithm)));
    }
    let scope_error = |what: String| Err(S3PostError::CredentialScope(what));
    if time::parse_amz_date(amz_date).is_none() {
        return scope_error(format!(
            "x-amz-date `{}` is not `YYYYMMDDTHHMMSSZ`",
            clip(amz_date)
        ));
    }
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, day, region, service, terminator] = parts[..] else {
        return scope_error("x-amz-credential is not `key/day/region/s3/aws4_request`".to_owned());
    };
    if day != &amz_date[..8] {
        return scope_error(format!(
            "credential day `{}` is not the day of x-amz-date",
            clip(day)
        ));
    }
    if region != submission.region {
        return scope_error(format!(
            "the region `{}` is wrong; expecting `{}`",
            clip(region),
            submission.region
        ));
    }
    if service != "s3" || terminator != "aws4_request" {
        return scope_error("credential scope is not `s3/aws4_request`".to_owned());
    }
    let secret = secret_for(access_key_id)
        .ok_or_else(|| S3PostError::InvalidAccessKeyId(clip(access_key_id)))?;
    let expected = sigv4::sign_policy(&secret, day, region, policy);
    if !sigv4::same_signature(&expected, &signature.to_ascii_lowercase()) {
        return Err(S3PostError::SignatureDoesNotMatch);
    }

    // The policy is signed, so from here on it is the account owner's word.
    let (expiration, expiration_text, conditions) = parse_policy(policy)?;
    let now = submission
        .now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if now >= expiration {
        return Err(S3PostError::PolicyExpired(expiration_text));
    }
    for condition in &conditions {
        let holds = match condition {
            Condition::Eq(name, value) if name.eq_ignore_ascii_case("bucket") => {
                submission.bucket == value
            }
            Condition::StartsWith(name, prefix) if name.eq_ignore_ascii_case("bucket") => {
                submission.bucket.starts_with(prefix.as_str())
            }
            Condition::Eq(name, value) => fields.get(name).unwrap_or("") == value,
            Condition::StartsWith(name, prefix) => {
                fields.get(name).unwrap_or("").starts_with(prefix.as_str())
            }
            Condition::LengthRange(min, max) => {
                let size = submission.file.len() as u64;
                if size > *max {
                    return Err(S3PostError::EntityTooLarge { size, max: *max });
                }
                if size < *min {
                    return Err(S3PostError::EntityTooSmall { size, min: *min });
                }
                true
            }
        };
        if !holds {
            return Err(S3PostError::ConditionFailed(condition.describe()));
        }
    }
    let covered: HashSet<String> = conditions
        .iter()
        .filter_map(Condition::field)
        .map(str::to_ascii_lowercase)
        .collect();
    for (name, _) in submission.fields {
        let lower = name.to_ascii_lowercase();
        let exempt = matches!(lower.as_str(), "policy" | "x-amz-signature" | "file")
            || lower.starts_with("x-ignore-");
        if !exempt && !covered.contains(&lower) {
            return Err(S3PostError::ExtraField(clip(name)));
        }
    }
    check_checksum(&fields, submission.file)?;
    Ok(VerifiedPost {
        key: key.to_owned(),
        content_type: fields.get("content-type").map(str::to_owned),
        access_key_id: access_key_id.to_owned(),
    })
}

/// S3 computes the digest of what arrives and compares it with `x-amz-checksum-sha256`.
fn check_checksum(fields: &Fields<'_>, file: &[u8]) -> Result<(), S3PostError> {
    let algorithm = fields.get("x-amz-checksum-algorithm");
    let Some(declared) = fields.get("x-amz-checksum-sha256") else {
        return match algorithm {
            // S3 would compute a checksum of its own; nothing to check it against.
            None => Ok(()),
            Some(name) if name.eq_ignore_ascii_case(CHECKSUM_ALGORITHM) => Ok(()),
            Some(name) => Err(S3PostError::InvalidChecksum(format!(
                "algorithm `{}` is not `SHA256`",
                clip(name)
            ))),
        };
    };
    if let Some(name) = algorithm
        && !name.eq_ignore_ascii_case(CHECKSUM_ALGORITHM)
    {
        return Err(S3PostError::InvalidChecksum(format!(
            "algorithm `{}` does not match `x-amz-checksum-sha256`",
            clip(name)
        )));
    }
    let declared = STANDARD
        .decode(declared.trim())
        .ok()
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| {
            S3PostError::InvalidChecksum(
                "Value for x-amz-checksum-sha256 header is invalid.".to_owned(),
            )
        })?;
    let actual: [u8; 32] = Sha256::digest(file).into();
    if actual == declared {
        Ok(())
    } else {
        Err(S3PostError::BadDigest)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::{Credentials, Endpoint, PolicyLifetime, PostUpload, presign_post};

    /// 2026-11-24T20:30:45Z.
    const NOW: u64 = 1_795_552_245;
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn form() -> Vec<(String, String)> {
        let upload = PostUpload {
            bucket: "photos-dev".into(),
            key: "originals/user-1/photo-1".into(),
            content_type: "image/jpeg".into(),
            size: 1000,
            sha256: None,
            lifetime: PolicyLifetime::new(Duration::from_secs(600)).unwrap(),
        };
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, Some("token".into()));
        let at = UNIX_EPOCH + Duration::from_secs(NOW);
        presign_post(&upload, "eu-west-1", &Endpoint::Aws, &credentials, at)
            .unwrap()
            .fields
    }

    fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_owned(),
            None => fields.push((name.to_owned(), value.to_owned())),
        }
    }

    /// A submission of `fields` with a file of `len` bytes at `now`, to bucket `photos-dev` in
    /// `eu-west-1`, with `AKIDEXAMPLE` known; outcome as `Ok(key)` or `Err((code, message))`.
    fn submit(
        fields: &[(String, String)],
        len: u64,
        now: u64,
    ) -> Result<String, (&'static str, String)> {
        let file = vec![0; usize::try_from(len).unwrap()];
        let submission = PostSubmission {
            bucket: "photos-dev",
            region: "eu-west-1",
            fields,
            file: &file,
            now: UNIX_EPOCH + Duration::from_secs(now),
        };
        verify_post(&submission, |akid| {
            (akid == "AKIDEXAMPLE").then(|| SECRET.to_owned())
        })
        .map(|post| post.key)
        .map_err(|e| (e.s3_code(), e.s3_message()))
    }

    fn check(
        change: impl FnOnce(&mut Vec<(String, String)>),
        len: u64,
        now: u64,
        expected: Result<&str, (&str, &str)>,
    ) {
        let mut fields = form();
        change(&mut fields);
        let got = submit(&fields, len, now);
        let expected = expected
            .map(str::to_owned)
            .map_err(|(code, message)| (code, message.to_owned()));
        assert_eq!(
            got.as_ref().map_err(|(c, m)| (*c, m.clone())),
            expected.as_ref().map_err(|(c, m)| (*c, m.clone()))
        );
    }

    /// Replaces the policy with `policy` and signs it properly, as a form-maker with the secret could.
    fn resign(fields: &mut Vec<(String, String)>, policy: &Value) {
        let policy = STANDARD.encode(policy.to_string());
        let signature = sigv4::sign_policy(SECRET, "20261124", "eu-west-1", &policy);
        set(fields, "policy", &policy);
        set(fields, "x-amz-signature", &signature);
    }

    fn policy_of(fields: &[(String, String)]) -> Value {
        let policy = &fields.iter().find(|(n, _)| n == "policy").unwrap().1;
        serde_json::from_slice(&STANDARD.decode(policy).unwrap()).unwrap()
    }

    const DENIED_KEY: &str = r#"Invalid according to Policy: Policy Condition failed: ["eq", "$key", "originals/user-1/photo-1"]"#;
    const BAD_SIGNATURE: (&str, &str) = (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );

    #[test]
    fn accepts_a_good_form() {
        let fields = form();
        let submission = PostSubmission {
            bucket: "photos-dev",
            region: "eu-west-1",
            fields: &fields,
            file: &[0; 1000],
            now: UNIX_EPOCH + Duration::from_secs(NOW + 599),
        };
        let post = verify_post(&submission, |_| Some(SECRET.to_owned())).unwrap();
        assert_eq!(
            post,
            VerifiedPost {
                key: "originals/user-1/photo-1".into(),
                content_type: Some("image/jpeg".into()),
                access_key_id: "AKIDEXAMPLE".into(),
            }
        );
        check(|_| {}, 1000, NOW, Ok("originals/user-1/photo-1"));
        // Field names match without regard to case; x-ignore- fields need no condition.
        check(
            |f| {
                f[1].0 = "content-type".into();
                f.push(("x-ignore-tracking".into(), "1".into()));
            },
            1000,
            NOW,
            Ok("originals/user-1/photo-1"),
        );
    }

    #[test]
    fn refuses_tampering() {
        // Key, content type, extra field: the policy still verifies, the conditions do not.
        check(
            |f| set(f, "key", "originals/user-2/photo-1"),
            10,
            NOW,
            Err(("AccessDenied", DENIED_KEY)),
        );
        check(
            |f| set(f, "Content-Type", "text/html"),
            1000,
            NOW,
            Err((
                "AccessDenied",
                r#"Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]"#,
            )),
        );
        check(
            |f| set(f, "acl", "public-read"),
            1000,
            NOW,
            Err((
                "AccessDenied",
                "Invalid according to Policy: Extra input fields: acl",
            )),
        );
        // Size: exactly the declared one.
        check(
            |_| {},
            1001,
            NOW,
            Err((
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
            )),
        );
        check(
            |_| {},
            999,
            NOW,
            Err((
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )),
        );
        // The policy edited without the secret (a larger maximum) no longer matches its signature.
        check(
            |f| {
                let mut policy = policy_of(f);
                policy["conditions"][2] = json!(["content-length-range", 1, 1_000_000_000]);
                set(f, "policy", &STANDARD.encode(policy.to_string()));
            },
            5000,
            NOW,
            Err(BAD_SIGNATURE),
        );
        check(
            |f| set(f, "x-amz-signature", &"0".repeat(64)),
            10,
            NOW,
            Err(BAD_SIGNATURE),
        );
        // Expired, to the second.
        check(
            |_| {},
            10,
            NOW + 600,
            Err((
                "AccessDenied",
                "Invalid according to Policy: Policy expired.",
            )),
        );
    }

    #[test]
    fn refuses_wrong_secret_unknown_key_and_wrong_scope() {
        let fields = form();
        let submission = PostSubmission {
            bucket: "photos-dev",
            region: "eu-west-1",
            fields: &fields,
            file: &[0; 10],
            now: UNIX_EPOCH + Duration::from_secs(NOW),
        };
        let error = verify_post(&submission, |_| Some("another-secret".to_owned())).unwrap_err();
        assert_eq!(error, S3PostError::SignatureDoesNotMatch);
        assert_eq!(error.http_status(), 403);
        let error = verify_post(&submission, |_| None).unwrap_err();
        assert_eq!(error.s3_code(), "InvalidAccessKeyId");
        assert_eq!(error.to_string(), "access key id `AKIDEXAMPLE` is unknown");
        let error = verify_post(
            &PostSubmission {
                region: "us-east-1",
                ..submission
            },
            |_| Some(SECRET.to_owned()),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "credential scope refused: the region `eu-west-1` is wrong; expecting `us-east-1`"
        );
        let error = verify_post(
            &PostSubmission {
                bucket: "someone-elses",
                ..submission
            },
            |_| Some(SECRET.to_owned()),
        )
        .unwrap_err();
        assert_eq!(
            error.s3_message(),
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "photos-dev"]"#
        );
        check(
            |f| {
                set(
                    f,
                    "x-amz-credential",
                    "AKIDEXAMPLE/20261125/eu-west-1/s3/aws4_request",
                )
            },
            10,
            NOW,
            Err((
                "AuthorizationQueryParametersError",
                "credential scope refused: credential day `20261125` is not the day of x-amz-date",
            )),
        );
        check(
            |f| set(f, "x-amz-algorithm", "AWS4-HMAC-SHA1"),
            10,
            NOW,
            Err((
                "InvalidArgument",
                "signing algorithm `AWS4-HMAC-SHA1` is not `AWS4-HMAC-SHA256`",
            )),
        );
    }

    #[test]
    fn refuses_incomplete_or_ambiguous_forms() {
        for name in [
            "key",
            "policy",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-signature",
        ] {
            let message = format!("Bucket POST must contain a field named '{name}'.");
            check(
                |f| f.retain(|(n, _)| n != name),
                10,
                NOW,
                Err(("InvalidArgument", &message)),
            );
        }
        check(
            |f| f.push(("Key".into(), "originals/user-2/x".into())),
            10,
            NOW,
            Err((
                "InvalidArgument",
                "invalid upload request: form field `Key` appears more than once",
            )),
        );
    }

    #[test]
    fn evaluates_signed_policies_of_other_shapes() {
        let policy = |conditions: Value| json!({"expiration": "2026-11-24T20:40:45Z", "conditions": conditions});
        let base = json!([
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": "AKIDEXAMPLE/20261124/eu-west-1/s3/aws4_request"},
            {"x-amz-date": "20261124T203045Z"},
            {"x-amz-security-token": "token"},
            {"Content-Type": "image/jpeg"},
        ]);
        let with = |extra: Value| {
            let mut all = base.as_array().unwrap().clone();
            all.push(extra);
            policy(Value::Array(all))
        };
        check(
            |f| {
                resign(
                    f,
                    &with(json!(["starts-with", "$key", "originals/user-1/"])),
                )
            },
            10,
            NOW,
            Ok("originals/user-1/photo-1"),
        );
        check(
            |f| {
                resign(
                    f,
                    &with(json!(["starts-with", "$key", "originals/user-2/"])),
                )
            },
            10,
            NOW,
            Err((
                "AccessDenied",
                r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "originals/user-2/"]"#,
            )),
        );
        // No condition on the key at all: the key field is an extra input.
        check(
            |f| resign(f, &policy(base.clone())),
            10,
            NOW,
            Err((
                "AccessDenied",
                "Invalid according to Policy: Extra input fields: key",
            )),
        );
        for (bad, message) in [
            (
                json!({"conditions": []}),
                "invalid policy document: policy has no `expiration` string",
            ),
            (
                json!({"expiration": "tomorrow", "conditions": []}),
                "invalid policy document: expiration `tomorrow` is not ISO 8601",
            ),
            (
                json!({"expiration": "2026-11-24T20:40:45Z"}),
                "invalid policy document: policy has no `conditions` array",
            ),
            (
                policy(json!([["between", "$key", "a"]])),
                "invalid policy document: unknown condition",
            ),
            (
                policy(json!([["eq", "key", "a"]])),
                "invalid policy document: condition field must be a string starting with `$`",
            ),
            (
                policy(json!([["content-length-range", -1, 5]])),
                "invalid policy document: content-length-range bounds must be non-negative integers",
            ),
            (
                policy(json!([{"key": 5}])),
                "invalid policy document: condition `key` must have a string value",
            ),
        ] {
            check(
                |f| resign(f, &bad),
                10,
                NOW,
                Err(("InvalidPolicyDocument", message)),
            );
        }
    }

    #[test]
    fn a_form_with_a_checksum_takes_only_its_own_bytes() {
        let photo = b"the one photo this form is for".to_vec();
        let digest: [u8; 32] = Sha256::digest(&photo).into();
        let upload = PostUpload {
            bucket: "photos-dev".into(),
            key: "uploads/user-1/photo-1".into(),
            content_type: "image/jpeg".into(),
            size: photo.len() as u64,
            sha256: Some(digest),
            lifetime: PolicyLifetime::new(Duration::from_secs(600)).unwrap(),
        };
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, None);
        let at = UNIX_EPOCH + Duration::from_secs(NOW);
        let fields = presign_post(&upload, "eu-west-1", &Endpoint::Aws, &credentials, at)
            .unwrap()
            .fields;
        let post = |fields: &[(String, String)], file: &[u8]| {
            verify_post(
                &PostSubmission {
                    bucket: "photos-dev",
                    region: "eu-west-1",
                    fields,
                    file,
                    now: at,
                },
                |_| Some(SECRET.to_owned()),
            )
        };
        assert_eq!(post(&fields, &photo).unwrap().key, "uploads/user-1/photo-1");
        // Other bytes of the same length.
        let mut other = photo.clone();
        other[0] ^= 1;
        let error = post(&fields, &other).unwrap_err();
        assert_eq!(error, S3PostError::BadDigest);
        assert_eq!((error.s3_code(), error.http_status()), ("BadDigest", 400));
        // The checksum field is pinned by the policy: changing it to the other bytes' digest
        // breaks a condition rather than passing.
        let mut forged = fields.clone();
        let other_digest: [u8; 32] = Sha256::digest(&other).into();
        set(
            &mut forged,
            "x-amz-checksum-sha256",
            &STANDARD.encode(other_digest),
        );
        assert_eq!(post(&forged, &other).unwrap_err().s3_code(), "AccessDenied");
        // Dropping it fails the `eq` condition too.
        forged.retain(|(n, _)| n != "x-amz-checksum-sha256");
        assert_eq!(post(&forged, &other).unwrap_err().s3_code(), "AccessDenied");
    }

    #[test]
    fn checksum_fields_are_checked_even_without_a_condition() {
        // An `x-ignore-` free form whose policy allows any checksum field value.
        let mut fields = form();
        let mut policy = policy_of(&fields);
        policy["conditions"].as_array_mut().unwrap().extend([
            json!(["starts-with", "$x-amz-checksum-sha256", ""]),
            json!(["starts-with", "$x-amz-checksum-algorithm", ""]),
        ]);
        resign(&mut fields, &policy);
        let file = [0u8; 1000];
        let digest: [u8; 32] = Sha256::digest(file).into();
        let with = |algorithm: &str, checksum: &str| {
            let mut f = fields.clone();
            set(&mut f, "x-amz-checksum-algorithm", algorithm);
            set(&mut f, "x-amz-checksum-sha256", checksum);
            submit(&f, 1000, NOW)
        };
        assert!(with("SHA256", &STANDARD.encode(digest)).is_ok());
        assert_eq!(
            with("sha256", &STANDARD.encode([0; 32])).unwrap_err().0,
            "BadDigest"
        );
        assert_eq!(
            with("SHA256", "not base64!").unwrap_err().0,
            "InvalidRequest"
        );
        assert_eq!(
            with("SHA256", &STANDARD.encode([0; 31])).unwrap_err().0,
            "InvalidRequest"
        );
        assert_eq!(
            with("CRC32", &STANDARD.encode(digest)).unwrap_err().0,
            "InvalidRequest"
        );
    }
}
