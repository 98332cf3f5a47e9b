//! What `down` keeps of a stage: the record of its retained resources.
//!
//! Before `down` deletes a stack whose photo bucket, table and user pool are kept, it writes their
//! physical ids to the artifact bucket, as `kept/photo-app-STAGE.json`; `down --delete-data`
//! removes them and the record. A later `up` that creates the stage again reads the record and
//! adopts those of the resources that still exist into the new stack (`crate::adopt`), rather
//! than making a new, empty table and user pool beside them (and failing on the photo bucket's
//! fixed name); once the stack holds them, the record goes. A stage taken down before records
//! existed is found by its photo bucket's name and CloudFormation's stack-name tag.

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
        return by_name_and_tag(session, stack, photo_bucket).await;
    };
    still_existing(session, record).await
}

/// The resources of `record` that still exist.
pub async fn still_existing(session: &Session, record: Record) -> Result<Vec<Kept>> {
    let mut left = Vec::new();
    for k in record.resources {
        if still_there(session, &k.resource_type, &k.physical_id).await? {
            left.push(k);
        }
    }
    Ok(left)
}

/// The tag CloudFormation puts on the resources of a stack, naming it.
const STACK_TAG: &str = "aws:cloudformation:stack-name";
/// Pages of a listing looked through, at most.
const PAGES: usize = 50;

/// A stage's kept data without a record (taken down before records existed): its photo bucket
/// by its fixed name, its table and user pool by their names' stack prefix and CloudFormation's
/// stack-name tag. A bucket this identity may not look at (another account's, under that name)
/// is not this stage's.
async fn by_name_and_tag(session: &Session, stack: &str, photo_bucket: &str) -> Result<Vec<Kept>> {
    let mut found = Vec::new();
    let bucket = "AWS::S3::Bucket";
    if let Ok(true) = still_there(session, bucket, photo_bucket).await {
        found.push(entry("PhotoBucket", bucket, photo_bucket));
    }
    let db = crate::client!(aws_sdk_dynamodb, &session.sdk);
    // Generated names start with the stack's name and the logical id.
    let prefix = format!("{stack}-PhotoTable-");
    let mut start: Option<String> = None;
    for _ in 0..PAGES {
        let page = db
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .context("listing the tables, to find the stage's kept table")?;
        for name in page.table_names().iter().filter(|n| n.starts_with(&prefix)) {
            let table = db
                .describe_table()
                .table_name(name)
                .send()
                .await
                .with_context(|| format!("looking at table `{name}`"))?;
            let Some(arn) = table.table().and_then(|t| t.table_arn()) else {
                continue;
            };
            let tags = db
                .list_tags_of_resource()
                .resource_arn(arn)
                .send()
                .await
                .with_context(|| format!("reading the tags of table `{name}`"))?;
            if tags
                .tags()
                .iter()
                .any(|t| t.key() == STACK_TAG && t.value() == stack)
            {
                found.push(entry("PhotoTable", "AWS::DynamoDB::Table", name));
            }
        }
        match page.last_evaluated_table_name() {
            Some(last) => start = Some(last.to_owned()),
            None => break,
        }
    }
    let idp = crate::client!(aws_sdk_cognitoidentityprovider, &session.sdk);
    if let Some(id) = pool_by_tag(&idp, stack).await? {
        found.push(entry("UserPool", "AWS::Cognito::UserPool", &id));
    }
    Ok(found)
}

/// The id of `stack`'s user pool: named `{stack}-users` and tagged with the stack's name.
pub async fn pool_by_tag(
    idp: &aws_sdk_cognitoidentityprovider::Client,
    stack: &str,
) -> Result<Option<String>> {
    let pool_name = format!("{stack}-users");
    let mut token: Option<String> = None;
    for _ in 0..PAGES {
        let page = idp
            .list_user_pools()
            .max_results(60)
            .set_next_token(token.take())
            .send()
            .await
            .context("listing the user pools, to find the stage's kept pool")?;
        for pool in page.user_pools() {
            let (Some(id), Some(name)) = (pool.id(), pool.name()) else {
                continue;
            };
            if name != pool_name {
                continue;
            }
            let described = idp
                .describe_user_pool()
                .user_pool_id(id)
                .send()
                .await
                .with_context(|| format!("looking at user pool `{id}`"))?;
            let tagged = described
                .user_pool()
                .and_then(|p| p.user_pool_tags())
                .is_some_and(|tags| tags.get(STACK_TAG).is_some_and(|v| v == stack));
            if tagged {
                return Ok(Some(id.to_owned()));
            }
        }
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(None)
}

fn entry(logical_id: &str, resource_type: &str, physical_id: &str) -> Kept {
    Kept {
        logical_id: logical_id.to_owned(),
        resource_type: resource_type.to_owned(),
        physical_id: physical_id.to_owned(),
    }
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
