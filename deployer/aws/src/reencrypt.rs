//! Re-encrypting a stage's photos under SSE-S3.
//!
//! The photo bucket's default encryption was SSE-KMS under the AWS-managed `aws/s3` key, whose
//! key policy cannot let CloudFront decrypt: photos served through CloudFront's origin access
//! control must be SSE-S3 (or under a customer-managed key). The template now asks for SSE-S3,
//! which applies to new objects only; this step copies every object still under `aws:kms` onto
//! itself with SSE-S3.
//!
//! Each copy keeps the object's bytes, content type, `Content-Disposition`, other metadata and
//! storage class (originals live in Intelligent-Tiering), and is made only if the object is still
//! the one examined (`x-amz-copy-source-if-match` with its ETag): an object rewritten meanwhile
//! is examined again. Objects already under SSE-S3 are left alone, so the step can be stopped and
//! run again at any point, and a second run copies nothing. The replaced `aws:kms` versions become
//! noncurrent and expire with the bucket's lifecycle rules.

use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::types::{MetadataDirective, ServerSideEncryption};
use tokio::task::JoinSet;

use crate::artifacts;
use crate::deploy::Deployer;
use crate::session::Session;

/// The artifact bucket's record that a stack's photos are all under SSE-S3.
pub fn done_key(stack: &str) -> String {
    format!("encryption/{stack}.json")
}

/// `up`'s step once the stack is deployed: the first time, re-encrypts the stage's photos and
/// records it in the artifact bucket (a stage created under SSE-S3 has an empty bucket to look
/// through, once). A run that stops midway records nothing, so the next `up` goes on with it.
pub(crate) async fn after_deploy(session: &Session, deployer: &Deployer) -> Result<Option<String>> {
    let s3 = session.s3();
    let artifacts = artifacts::bucket_name(&session.account_id, &session.region);
    let key = done_key(&deployer.stack);
    if artifacts::done_before(&s3, &artifacts, &key).await? {
        return Ok(None);
    }
    let resources = deployer.resources().await?;
    let Some((_, _, photos)) = resources.iter().find(|(id, _, _)| id == "PhotoBucket") else {
        return Ok(None);
    };
    let done = photos_to_sse_s3(&s3, photos).await.context(
        "re-encrypting the photos under SSE-S3 (the stack itself is deployed; the next \
         `deployer up` goes on from here)",
    )?;
    let record = serde_json::json!({
        "bucket": photos,
        "encryption": "AES256",
        "checked": done.checked,
        "copied": done.copied,
    });
    artifacts::record_done(&s3, &artifacts, &key, &record).await?;
    Ok((done.copied > 0).then(|| {
        format!(
            "photos: {} of {} objects re-encrypted under SSE-S3 (once per stage), so that \
             CloudFront can serve them",
            done.copied, done.checked
        )
    }))
}

/// Copies made at once.
const IN_FLIGHT: usize = 16;
/// Times one object is examined again after it changed under a copy.
const ATTEMPTS: usize = 3;

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reencrypted {
    /// Objects examined.
    pub checked: u64,
    /// Objects copied onto themselves under SSE-S3.
    pub copied: u64,
}

/// Re-encrypts every object of `bucket` that is still under SSE-KMS with SSE-S3.
pub async fn photos_to_sse_s3(s3: &Client, bucket: &str) -> Result<Reencrypted> {
    let mut done = Reencrypted::default();
    let mut token = None;
    let mut copies: JoinSet<Result<bool>> = JoinSet::new();
    // Bounded: 100,000 pages of 1,000 keys.
    for _ in 0..100_000 {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token.take())
            .send()
            .await
            .with_context(|| format!("listing the objects of `{bucket}`"))?;
        for key in page.contents().iter().filter_map(|o| o.key()) {
            while copies.len() >= IN_FLIGHT {
                done.copied += u64::from(joined(copies.join_next().await)?);
            }
            let (s3, bucket, key) = (s3.clone(), bucket.to_owned(), key.to_owned());
            copies.spawn(async move { reencrypt(&s3, &bucket, &key).await });
            done.checked += 1;
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    while let Some(copy) = copies.join_next().await {
        done.copied += u64::from(joined(Some(copy))?);
    }
    Ok(done)
}

fn joined(copy: Option<Result<Result<bool>, tokio::task::JoinError>>) -> Result<bool> {
    match copy {
        Some(copy) => copy.context("a re-encryption task failed")?,
        None => Ok(false),
    }
}

/// Copies one object onto itself under SSE-S3 if it is under SSE-KMS: whether it was copied.
async fn reencrypt(s3: &Client, bucket: &str, key: &str) -> Result<bool> {
    for _ in 0..ATTEMPTS {
        let head = match s3.head_object().bucket(bucket).key(key).send().await {
            Ok(head) => head,
            // Deleted since it was listed: nothing to do.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => return Ok(false),
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("reading the encryption of `{key}` in `{bucket}`"));
            }
        };
        if head.server_side_encryption() != Some(&ServerSideEncryption::AwsKms) {
            return Ok(false);
        }
        let etag = head.e_tag().unwrap_or_default();
        let copied = s3
            .copy_object()
            .bucket(bucket)
            .key(key)
            .copy_source(copy_source(bucket, key))
            .copy_source_if_match(etag)
            .metadata_directive(MetadataDirective::Copy)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .set_storage_class(head.storage_class().cloned())
            .send()
            .await;
        match copied {
            Ok(_) => return Ok(true),
            // Rewritten (or deleted) between the look and the copy: look again.
            Err(e) if matches!(e.code(), Some("PreconditionFailed" | "NoSuchKey")) => continue,
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("re-encrypting `{key}` in `{bucket}`"));
            }
        }
    }
    anyhow::bail!("`{key}` in `{bucket}` kept changing while it was re-encrypted: run again")
}

/// `bucket/key` as `x-amz-copy-source` wants it: the key percent-encoded, `/` kept.
fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = format!("{bucket}/");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_sources_encode_the_key_but_its_slashes() {
        assert_eq!(
            super::copy_source("photos", "originals/u-1/01J ä+"),
            "photos/originals/u-1/01J%20%C3%A4%2B"
        );
    }
}
