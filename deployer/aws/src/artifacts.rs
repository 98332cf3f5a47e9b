//! The artifact bucket of an account and region: created on first use (private, encrypted,
//! TLS-only, old artifacts expired), and filled only with what it does not hold yet.

use anyhow::{Context, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart,
    CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::deploy::{INLINE_TEMPLATE_LIMIT, TemplateSource};
use super::error::AwsError;
use super::ui::Ui;

/// The tag the deployer puts on an artifact bucket once it has configured it: a bucket of the
/// account without it was made by an earlier version (adopted, configured and tagged) or left
/// half-configured by an interrupted run (configured again).
pub const MARK_KEY: &str = "deployer:artifact-bucket";

/// Function zips are kept this long after their upload (or renewal). Lambda copies the code
/// when a function is created or updated, so an old zip is only needed by a rollback to it; the
/// zips a stage runs are renewed by `up` (see [`REFRESH_AFTER_DAYS`]).
pub const FUNCTION_EXPIRY_DAYS: i32 = 365;

/// Templates are only read while a change set is created.
pub const TEMPLATE_EXPIRY_DAYS: i32 = 30;

/// An artifact still in use is renewed once it is this old, long before the lifecycle rule
/// would expire it: every `up` looks at the artifacts it deploys, so a stage deployed at least
/// once in this many days never loses the zips a rollback needs.
pub const REFRESH_AFTER_DAYS: i64 = 180;

/// Whether an object `age_secs` old is due for renewal.
pub fn needs_refresh(age_secs: i64) -> bool {
    age_secs > REFRESH_AFTER_DAYS * 86_400
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Uploads larger than this go in parts of this size, so progress moves while they run.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// The artifact bucket's name for an account and region: S3 names are global, so both are in it.
pub fn bucket_name(account_id: &str, region: &str) -> String {
    format!("deployer-artifacts-{account_id}-{region}")
}

/// The key a function zip is stored under: its content hash, so equal bytes mean equal key.
/// Whether the artifact bucket records a once-per-stage step of `up` as done (`key`).
pub(crate) async fn done_before(s3: &Client, bucket: &str, key: &str) -> Result<bool> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
        Err(e) => {
            Err(anyhow::Error::new(e)).with_context(|| format!("reading `{key}` from `{bucket}`"))
        }
    }
}

/// Records a once-per-stage step of `up` as done (`key`), with what it did.
pub(crate) async fn record_done(
    s3: &Client,
    bucket: &str,
    key: &str,
    record: &serde_json::Value,
) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(record.to_string().into_bytes().into())
        .send()
        .await
        .with_context(|| format!("writing `{key}` to `{bucket}`"))?;
    Ok(())
}

pub fn function_key(function: &str, sha256: &str) -> String {
    format!("functions/{function}/{sha256}.zip")
}

/// The key a template is stored under, by content hash.
pub fn template_key(stack: &str, template: &str) -> String {
    let sha = Sha256::digest(template.as_bytes());
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    format!("templates/{stack}/{hex}.json")
}

/// The bucket policy: every request without TLS is denied.
pub fn tls_only_policy(bucket: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    })
    .to_string()
}

/// The artifact bucket of the session's account and region.
#[derive(Debug, Clone)]
pub struct ArtifactBucket {
    s3: Client,
    /// The bucket's name.
    pub name: String,
    region: String,
    /// Whether to deny requests without TLS. Only an emulator on plain `http://` is spared: it
    /// would lock the deployer out of its own bucket.
    tls_only: bool,
}

/// What [`ArtifactBucket::put_if_missing`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The object was already there.
    Present,
    /// It was uploaded now.
    Uploaded,
}

impl ArtifactBucket {
    /// The bucket `name` in `region`, through `s3`; `tls_only` unless the endpoint is plain HTTP.
    pub fn new(s3: Client, name: String, region: String, tls_only: bool) -> Self {
        ArtifactBucket {
            s3,
            name,
            region,
            tls_only,
        }
    }

    /// The artifact bucket of `session`'s account and region.
    pub fn of(session: &crate::Session) -> Self {
        ArtifactBucket::new(
            session.s3(),
            bucket_name(&session.account_id, &session.region),
            session.region.clone(),
            !session.is_plain_http(),
        )
    }

    /// Where CloudFormation reads `template` of `stack` from: inline when it is small enough,
    /// else this bucket (uploaded if missing; the key and what was done are returned too).
    pub async fn template_source(
        &self,
        session: &crate::Session,
        ui: &Ui,
        stack: &str,
        template: &str,
    ) -> Result<(TemplateSource, Option<(String, Put)>)> {
        if template.len() <= INLINE_TEMPLATE_LIMIT {
            return Ok((TemplateSource::Body(template.to_owned()), None));
        }
        let key = template_key(stack, template);
        let put = self
            .put_if_missing(ui, &key, template.as_bytes(), "application/json")
            .await?;
        let url = session.object_url(&self.name, &key);
        Ok((TemplateSource::Url(url), Some((key, put))))
    }

    /// Makes sure the bucket exists, belongs to this account, and is configured.
    ///
    /// Every request carries the expected owner ([`crate::owner`]), so S3 answers 403 for a
    /// bucket of another account: that is refused, never used. A bucket of this account without
    /// the deployer's mark is configured again and marked; the mark is set last, so a bucket that
    /// has it was configured completely.
    pub async fn ensure(&self, ui: &Ui) -> Result<()> {
        match self.s3.head_bucket().bucket(&self.name).send().await {
            Ok(_) => match self.mark().await? {
                Some(_) => return Ok(()),
                None => ui.line(&format!(
                    "adopting the artifact bucket `{}`: this account owns it but it carries no mark of the deployer",
                    self.name
                )),
            },
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                match status {
                    Some(404) => self.create().await?,
                    Some(403) => {
                        return Err(AwsError::ForeignBucket {
                            bucket: self.name.clone(),
                        }
                        .into());
                    }
                    _ => {
                        return Err(anyhow::Error::new(err))
                            .with_context(|| format!("looking for bucket `{}`", self.name));
                    }
                }
                ui.line(&format!("created the artifact bucket `{}`", self.name));
            }
        }
        self.configure().await
    }

    /// The value of the deployer's mark on the bucket, if it has one.
    async fn mark(&self) -> Result<Option<String>> {
        match self.s3.get_bucket_tagging().bucket(&self.name).send().await {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .find(|t| t.key() == MARK_KEY)
                .map(|t| t.value().to_owned())),
            Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(404) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err))
                .with_context(|| format!("reading the tags of bucket `{}`", self.name)),
        }
    }

    async fn create(&self) -> Result<()> {
        let mut request = self.s3.create_bucket().bucket(&self.name);
        // us-east-1 is the one region that refuses an explicit location constraint.
        if self.region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // Another deploy created it a moment ago.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
            {
                Ok(())
            }
            Err(err) => Err(anyhow::Error::new(err))
                .with_context(|| format!("creating the artifact bucket `{}`", self.name)),
        }
    }

    async fn configure(&self) -> Result<()> {
        let name = &self.name;
        self.s3
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .with_context(|| format!("blocking public access to `{name}`"))?;
        let sse = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .context("describing the bucket's encryption")?;
        self.s3
            .put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(sse)
                            .build(),
                    )
                    .build()
                    .context("describing the bucket's encryption")?,
            )
            .send()
            .await
            .with_context(|| format!("turning on encryption of `{name}`"))?;
        if self.tls_only {
            self.s3
                .put_bucket_policy()
                .bucket(name)
                .policy(tls_only_policy(name))
                .send()
                .await
                .with_context(|| format!("setting the TLS-only policy of `{name}`"))?;
        }
        let rule = |id: &str, prefix: &str, days: i32| {
            LifecycleRule::builder()
                .id(id)
                .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
                .status(ExpirationStatus::Enabled)
                .expiration(LifecycleExpiration::builder().days(days).build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(1)
                        .build(),
                )
                .build()
                .context("describing the lifecycle rules")
        };
        self.s3
            .put_bucket_lifecycle_configuration()
            .bucket(name)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(rule(
                        "expire-old-functions",
                        "functions/",
                        FUNCTION_EXPIRY_DAYS,
                    )?)
                    .rules(rule(
                        "expire-old-templates",
                        "templates/",
                        TEMPLATE_EXPIRY_DAYS,
                    )?)
                    .build()
                    .context("describing the lifecycle rules")?,
            )
            .send()
            .await
            .with_context(|| format!("setting the lifecycle rules of `{name}`"))?;
        let mark = Tag::builder()
            .key(MARK_KEY)
            .value("configured")
            .build()
            .context("describing the bucket's mark")?;
        self.s3
            .put_bucket_tagging()
            .bucket(name)
            .tagging(
                Tagging::builder()
                    .tag_set(mark)
                    .build()
                    .context("describing the bucket's mark")?,
            )
            .send()
            .await
            .with_context(|| format!("marking `{name}` as the deployer's"))?;
        Ok(())
    }

    /// Uploads `bytes` under `key` unless an object with these very bytes is already there.
    ///
    /// Keys are content hashes, but a key proves nothing about what is stored under it: an
    /// object found there is trusted only when the SHA-256 checksum S3 computed when it was
    /// written matches `bytes`. One that does not (or that carries none, from an earlier
    /// version of the deployer) is uploaded again.
    pub async fn put_if_missing(
        &self,
        ui: &Ui,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<Put> {
        match self
            .s3
            .head_object()
            .bucket(&self.name)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
        {
            Ok(head) if checksum_matches(head.checksum_sha256(), bytes) => {
                let age = head.last_modified().map(|t| now_secs() - t.secs());
                if age.is_some_and(needs_refresh) {
                    self.refresh(key, content_type).await?;
                }
                return Ok(Put::Present);
            }
            Ok(_) => ui.line(&format!(
                "`s3://{}/{key}` does not hold what its name says (its checksum differs or is missing): uploading it again",
                self.name
            )),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {}
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                return Err(anyhow::Error::new(err)).with_context(|| {
                    format!(
                        "looking for `s3://{}/{key}` (HTTP status {})",
                        self.name,
                        status.map_or("none".to_owned(), |s| s.to_string())
                    )
                });
            }
        }
        let progress = ui.upload(key, bytes.len() as u64);
        if bytes.len() <= PART_BYTES {
            self.s3
                .put_object()
                .bucket(&self.name)
                .key(key)
                .content_type(content_type)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(sha256_base64(bytes))
                .body(ByteStream::from(bytes.to_vec()))
                .send()
                .await
                .with_context(|| format!("uploading `s3://{}/{key}`", self.name))?;
            progress.advance(bytes.len() as u64);
        } else {
            self.put_in_parts(key, bytes, content_type, &progress)
                .await
                .with_context(|| format!("uploading `s3://{}/{key}`", self.name))?;
        }
        progress.finish();
        Ok(Put::Uploaded)
    }

    /// Copies an object onto itself so that its age starts again: an artifact in use must not
    /// expire, because a rollback to it reads it again.
    async fn refresh(&self, key: &str, content_type: &str) -> Result<()> {
        self.s3
            .copy_object()
            .bucket(&self.name)
            .key(key)
            .copy_source(format!("{}/{key}", self.name))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .content_type(content_type)
            // The copy gets a checksum of its whole content, which `put_if_missing` checks.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .send()
            .await
            .with_context(|| format!("renewing `s3://{}/{key}`", self.name))?;
        Ok(())
    }

    async fn put_in_parts(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        progress: &super::ui::Transfer,
    ) -> Result<()> {
        let upload = self
            .s3
            .create_multipart_upload()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .send()
            .await?;
        let id = upload.upload_id().context("S3 gave no upload id")?;
        let mut parts = Vec::new();
        for (n, chunk) in bytes.chunks(PART_BYTES).enumerate() {
            let number = i32::try_from(n + 1).context("too many parts")?;
            let sent = self
                .s3
                .upload_part()
                .bucket(&self.name)
                .key(key)
                .upload_id(id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(sha256_base64(chunk))
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await;
            let part = match sent {
                Ok(part) => part,
                Err(err) => {
                    // Do not leave the parts billed until the lifecycle rule aborts them.
                    let _ = self
                        .s3
                        .abort_multipart_upload()
                        .bucket(&self.name)
                        .key(key)
                        .upload_id(id)
                        .send()
                        .await;
                    return Err(err.into());
                }
            };
            parts.push(
                CompletedPart::builder()
                    .set_e_tag(part.e_tag().map(ToOwned::to_owned))
                    .checksum_sha256(sha256_base64(chunk))
                    .part_number(number)
                    .build(),
            );
            progress.advance(chunk.len() as u64);
        }
        self.s3
            .complete_multipart_upload()
            .bucket(&self.name)
            .key(key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }
}

/// SHA-256 of `bytes` in base64, as S3 writes checksums.
fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Whether a checksum S3 reported is that of `bytes`: of the whole object (a single upload, or a
/// copy), or of its parts as [`ArtifactBucket::put_if_missing`] uploads them (the SHA-256 of the
/// parts' SHA-256s, then `-` and the number of parts).
pub fn checksum_matches(reported: Option<&str>, bytes: &[u8]) -> bool {
    let Some(reported) = reported else {
        return false;
    };
    if reported == sha256_base64(bytes) {
        return true;
    }
    let mut parts = Sha256::new();
    let mut count = 0;
    for chunk in bytes.chunks(PART_BYTES) {
        parts.update(Sha256::digest(chunk));
        count += 1;
    }
    let composite = base64::engine::general_purpose::STANDARD.encode(parts.finalize());
    reported == format!("{composite}-{count}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        assert_eq!(
            bucket_name("123456789012", "eu-west-1"),
            "deployer-artifacts-123456789012-eu-west-1"
        );
        // The longest region name still fits S3's 63 characters.
        assert!(bucket_name("123456789012", "ap-southeast-4").len() <= 63);
        assert_eq!(function_key("api", "ab12"), "functions/api/ab12.zip");
        let a = template_key("photo-app-dev", "{}");
        assert!(a.starts_with("templates/photo-app-dev/"));
        assert_eq!(a, template_key("photo-app-dev", "{}"));
        assert_ne!(a, template_key("photo-app-dev", "{ }"));
    }

    #[test]
    fn artifacts_in_use_are_renewed_well_before_they_expire() {
        let day = 86_400;
        assert!(!needs_refresh(0));
        assert!(!needs_refresh(REFRESH_AFTER_DAYS * day));
        assert!(needs_refresh(REFRESH_AFTER_DAYS * day + 1));
        assert!(REFRESH_AFTER_DAYS * 2 <= i64::from(FUNCTION_EXPIRY_DAYS));
    }

    #[test]
    fn a_checksum_is_trusted_only_for_these_bytes_whole_or_in_parts() {
        let small = b"function zip".as_slice();
        assert!(checksum_matches(Some(&sha256_base64(small)), small));
        assert!(!checksum_matches(Some(&sha256_base64(b"other")), small));
        assert!(!checksum_matches(None, small));
        // Two parts: the checksum of the parts' checksums, then their count.
        let big = vec![7u8; PART_BYTES + 1];
        let mut parts = Vec::new();
        parts.extend_from_slice(&Sha256::digest(&big[..PART_BYTES]));
        parts.extend_from_slice(&Sha256::digest(&big[PART_BYTES..]));
        let composite = format!("{}-2", sha256_base64(&parts));
        assert!(checksum_matches(Some(&composite), &big));
        assert!(!checksum_matches(
            Some(&format!("{}-3", sha256_base64(&parts))),
            &big
        ));
        // A copy of it (a renewal) reports the checksum of the whole object.
        assert!(checksum_matches(Some(&sha256_base64(&big)), &big));
    }

    #[test]
    fn the_policy_denies_plain_http() {
        let policy: serde_json::Value = serde_json::from_str(&tls_only_policy("b")).unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(
            statement["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(statement["Resource"][1], "arn:aws:s3:::b/*");
    }
}
