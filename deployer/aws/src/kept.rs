//! What `down` keeps of a stage: the record of its retained resources.
//!
//! Before `down` deletes a stack whose photo bucket, table and user pool are kept, it writes their
//! physical ids to the artifact bucket, as `kept/photo-app-STAGE.json`; `down --delete-data`
//! removes them and the record. A later `up` that creates the stage again reads the record and
//! adopts those of the resources that still exist into the new stack (`crate::adopt`), rather
//! than making a new, empty table and user pool beside them (and failing on the photo bucket's
//! fixed name); once the stack holds them, the record goes. A stage taken down before records
//! existed is found by its photo bucket's name.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::artifacts;
use crate::down::{Resource, still_there};
use crate::session::Session;

/// The record's key in the artifact bucket.
pub fn record_key(stack: &str) -> String {
    format!("kept/{stack}.json")
}

/// One kept resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// Its logical id in the stack (`PhotoBucket`, `PhotoTable`, `UserPool`).
    pub logical_id: String,
    /// Its CloudFormation type.
    pub resource_type: String,
    /// Its name or id.
    pub physical_id: String,
}

/// What a stack kept when it was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The deleted stack.
    pub stack: String,
    /// When, in seconds since the epoch.
    pub deleted_at: i64,
    /// What it kept.
    pub resources: Vec<Kept>,
}

impl Record {
    /// The record of `stack` keeping `resources` (logical id, type, physical id).
    pub fn new(stack: &str, resources: &[Resource], deleted_at: i64) -> Self {
        Record {
            stack: stack.to_owned(),
            deleted_at,
            resources: resources
                .iter()
                .map(|(id, kind, physical)| Kept {
                    logical_id: id.clone(),
                    resource_type: kind.clone(),
                    physical_id: physical.clone(),
                })
                .collect(),
        }
    }
}

/// Writes `record` to the artifact bucket; `down` does it before deleting the stack, and stops
/// when it cannot.
pub async fn write(session: &Session, record: &Record) -> Result<()> {
    let bucket = artifacts::bucket_name(&session.account_id, &session.region);
    let key = record_key(&record.stack);
    let body = serde_json::to_vec_pretty(record).context("encoding the record of kept data")?;
    session
        .s3()
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .content_type("application/json")
        .body(body.into())
        .send()
        .await
        .with_context(|| format!("writing `{key}` to `{bucket}` (the stack is not deleted)"))?;
    Ok(())
}

/// The record of `stack`, if there is one.
pub async fn read(session: &Session, stack: &str) -> Result<Option<Record>> {
    let bucket = artifacts::bucket_name(&session.account_id, &session.region);
    let key = record_key(stack);
    let object = match session
        .s3()
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
    {
        Ok(object) => object,
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
        // No artifact bucket: nothing was ever deployed (or recorded) here.
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::new(e))
                .with_context(|| format!("reading `{key}` from `{bucket}`"));
        }
    };
    let bytes = object
        .body
        .collect()
        .await
        .with_context(|| format!("reading `{key}` from `{bucket}`"))?
        .into_bytes();
    let record = serde_json::from_slice(&bytes)
        .with_context(|| format!("`s3://{bucket}/{key}` is not a record of kept data"))?;
    Ok(Some(record))
}

/// Removes the record of `stack` (after `down --delete-data`).
pub async fn forget(session: &Session, stack: &str) -> Result<()> {
    let bucket = artifacts::bucket_name(&session.account_id, &session.region);
    let key = record_key(stack);
    session
        .s3()
        .delete_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .with_context(|| format!("deleting `{key}` from `{bucket}`"))?;
    Ok(())
}

/// The kept resources of `stack` that still exist: those of its record, or, without one, its
/// photo bucket `photo_bucket` (whose name is fixed) if it exists.
pub async fn remaining(session: &Session, stack: &str, photo_bucket: &str) -> Result<Vec<Kept>> {
    let Some(record) = read(session, stack).await? else {
        // No record: only the bucket's fixed name to go by. A bucket this identity may not look
        // at (another account's, under that name) is not this stage's kept data.
        let bucket = "AWS::S3::Bucket";
        return Ok(match still_there(session, bucket, photo_bucket).await {
            Ok(true) => vec![Kept {
                logical_id: "PhotoBucket".to_owned(),
                resource_type: bucket.to_owned(),
                physical_id: photo_bucket.to_owned(),
            }],
            Ok(false) | Err(_) => Vec::new(),
        });
    };
    let candidates = record.resources;
    let mut left = Vec::new();
    for k in candidates {
        if still_there(session, &k.resource_type, &k.physical_id).await? {
            left.push(k);
        }
    }
    Ok(left)
}

/// `kept` as a list for a message: ``AWS::S3::Bucket `name` ``, comma-separated.
pub fn listed(kept: &[Kept]) -> String {
    kept.iter()
        .map(|k| format!("{} `{}`", k.resource_type, k.physical_id))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_and_lists_its_resources() {
        let resources = [
            (
                "PhotoBucket".to_owned(),
                "AWS::S3::Bucket".to_owned(),
                "photo-app-dev-photos-123456789012-eu-west-1".to_owned(),
            ),
            (
                "PhotoTable".to_owned(),
                "AWS::DynamoDB::Table".to_owned(),
                "photo-app-dev-PhotoTable-1A2B3C".to_owned(),
            ),
        ];
        let record = Record::new("photo-app-dev", &resources, 1_796_000_000);
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
        assert_eq!(record_key("photo-app-dev"), "kept/photo-app-dev.json");
        assert_eq!(
            listed(&record.resources),
            "AWS::S3::Bucket `photo-app-dev-photos-123456789012-eu-west-1`, AWS::DynamoDB::Table `photo-app-dev-PhotoTable-1A2B3C`"
        );
    }
}
