//! `deployer down`: deletes a stage's stack. Data resources (photo bucket, table, user pool) are
//! retained by their `DeletionPolicy` unless `--delete-data` is confirmed; what remains is
//! recorded (`crate::kept`) and printed with the commands that remove it. `--delete-data` on a
//! stage already down deletes what its record names.

use anyhow::{Context, Result};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use stack::config::StageConfig;

use super::deploy::Deployer;
use super::error::AwsError;
use super::session::Session;
use crate::args::DownArgs;

/// A resource of the stack: logical id, type, physical id.
pub type Resource = (String, String, String);

/// The logical ids whose `DeletionPolicy` keeps them when the stack is deleted (`Retain`, or
/// `RetainExceptOnCreate`, which deletes them only when a first creation rolls back).
pub fn retained_ids(template: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(template) else {
        return Vec::new();
    };
    value["Resources"]
        .as_object()
        .map(|resources| {
            resources
                .iter()
                .filter(|(_, r)| {
                    matches!(
                        r["DeletionPolicy"].as_str(),
                        Some("Retain" | "RetainExceptOnCreate")
                    )
                })
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The command that removes a retained resource by hand.
pub fn removal_command(resource_type: &str, physical_id: &str, region: &str) -> String {
    match resource_type {
        "AWS::S3::Bucket" => format!(
            "aws s3api delete-bucket --bucket {physical_id} --region {region} (after emptying every object version, e.g. in the S3 console: Empty)"
        ),
        "AWS::DynamoDB::Table" => format!(
            "aws dynamodb update-table --table-name {physical_id} --no-deletion-protection-enabled --region {region} && aws dynamodb delete-table --table-name {physical_id} --region {region}"
        ),
        "AWS::Cognito::UserPool" => format!(
            "aws cognito-idp update-user-pool --user-pool-id {physical_id} --deletion-protection INACTIVE --region {region} && aws cognito-idp delete-user-pool --user-pool-id {physical_id} --region {region}"
        ),
        other => format!("delete the {other} `{physical_id}` in the console ({region})"),
    }
}

/// Deletes the stack of `stage` as `args` say.
pub async fn run(
    session: &Session,
    deployer: &Deployer,
    stage: &StageConfig,
    args: &DownArgs,
) -> Result<()> {
    let Some(info) = deployer.describe(&deployer.stack).await? else {
        return without_stack(session, deployer, stage, args).await;
    };
    if info.status.ends_with("_IN_PROGRESS") && info.status != "REVIEW_IN_PROGRESS" {
        return Err(AwsError::Blocked {
            stack: deployer.stack.clone(),
            status: info.status,
            next_step: format!(
                "another operation on the stack is running; wait until `deployer status --stage {}` shows it finished, then run `deployer down` again",
                stage.name
            ),
        }
        .into());
    }
    let ui = &deployer.ui;
    if stage.protected && !args.yes {
        ui.ask(
            stage.name.as_str(),
            &format!(
                "delete stack `{}` of stage `{}`?",
                deployer.stack, stage.name
            ),
        )
        .await?;
    }
    if args.delete_data && !args.yes {
        ui.ask(
            stage.name.as_str(),
            &format!(
                "delete every photo, album, share and user of stage `{}` for good?",
                stage.name
            ),
        )
        .await?;
    }
    let deployed = deployer.deployed(&info).await?;
    let retained = retained_ids(&deployed.template);
    let resources = deployer.resources().await?;
    let (kept, gone): (Vec<Resource>, Vec<Resource>) = resources
        .into_iter()
        .partition(|(id, _, _)| retained.contains(id));
    // CloudFormation cannot delete a bucket that holds objects: empty the ones it deletes.
    let s3 = session.s3();
    for (_, kind, bucket) in gone
        .iter()
        .chain(if args.delete_data { &kept[..] } else { &[] })
    {
        if kind == "AWS::S3::Bucket" && !bucket.is_empty() {
            ui.line(&format!("emptying bucket `{bucket}`"));
            empty_bucket(&s3, bucket).await?;
        }
    }
    // What stays is recorded first: a later `up` finds it there (see `crate::kept`). No record,
    // no deletion.
    if !args.delete_data && !kept.is_empty() {
        let record = crate::kept::Record::new(&deployer.stack, &kept, now_secs());
        crate::kept::write(session, &record).await?;
    }
    deployer.delete(&info.id).await?;
    println!("stack `{}` deleted", deployer.stack);
    // The media signing keys open nothing without the distribution.
    let keys = crate::media_key::KeyStore::new(session, &deployer.stack)
        .delete_all()
        .await?;
    if keys {
        println!("deleted the media signing keys");
    }
    if args.delete_data {
        delete_all(session, &deployer.stack, &kept).await?;
    } else if !kept.is_empty() {
        println!(
            "kept (data outlives the stack; remove by hand, or next time use `--delete-data`):"
        );
        for (_, kind, id) in &kept {
            println!(
                "  {kind} `{id}`: {}",
                removal_command(kind, id, &session.region)
            );
        }
    }
    println!(
        "the artifact bucket `{}` is shared by every stage of this account and region and stays; its lifecycle rule expires old artifacts",
        super::artifacts::bucket_name(&session.account_id, &session.region)
    );
    Ok(())
}

/// Deletes every object version and delete marker in `bucket` (a missing bucket is empty).
pub async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let mut key_marker = None;
    let mut version_marker = None;
    // Bounded: 10,000 pages of 1,000 versions.
    for _ in 0..10_000 {
        let page = match s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
        {
            Ok(page) => page,
            Err(err)
                if err
                    .as_service_error()
                    .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                    == Some("NoSuchBucket") =>
            {
                return Ok(());
            }
            Err(err) => {
                return Err(anyhow::Error::new(err))
                    .with_context(|| format!("listing the objects of `{bucket}`"));
            }
        };
        let mut objects = Vec::new();
        for v in page.versions() {
            objects.push((v.key(), v.version_id()));
        }
        for m in page.delete_markers() {
            objects.push((m.key(), m.version_id()));
        }
        let identifiers: Vec<ObjectIdentifier> = objects
            .into_iter()
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(ToOwned::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if !identifiers.is_empty() {
            s3.delete_objects()
                .bucket(bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(identifiers))
                        .quiet(true)
                        .build()
                        .context("describing the objects to delete")?,
                )
                .send()
                .await
                .with_context(|| format!("deleting the objects of `{bucket}`"))?;
        }
        if page.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = page.next_key_marker().map(ToOwned::to_owned);
        version_marker = page.next_version_id_marker().map(ToOwned::to_owned);
    }
    anyhow::bail!("bucket `{bucket}` still holds objects after 10,000 pages")
}

/// Deletes every kept resource of `stack` and the record of them.
async fn delete_all(session: &Session, stack: &str, kept: &[Resource]) -> Result<()> {
    for (_, kind, id) in kept {
        if delete_retained(session, kind, id).await? {
            println!("deleted {kind} `{id}`");
        } else {
            println!("{kind} `{id}` was already gone");
        }
    }
    crate::kept::forget(session, stack).await
}

/// `down` of a stage without a stack: nothing to delete, unless the stack was taken down with
/// its data kept; `--delete-data` (confirmed) then deletes that data.
async fn without_stack(
    session: &Session,
    deployer: &Deployer,
    stage: &StageConfig,
    args: &DownArgs,
) -> Result<()> {
    let stack = &deployer.stack;
    let left = match crate::kept::read(session, stack).await? {
        Some(record) => crate::kept::still_existing(session, record).await?,
        None => Vec::new(),
    };
    if left.is_empty() {
        println!("stack `{stack}` does not exist: nothing to delete");
        return Ok(());
    }
    let kept: Vec<Resource> = left
        .iter()
        .map(|k| {
            (
                k.logical_id.clone(),
                k.resource_type.clone(),
                k.physical_id.clone(),
            )
        })
        .collect();
    if !args.delete_data {
        println!(
            "stack `{stack}` does not exist; its data was kept when it was deleted: {} (`--delete-data` deletes it)",
            crate::kept::listed(&left)
        );
        return Ok(());
    }
    if !args.yes {
        deployer
            .ui
            .ask(
                stage.name.as_str(),
                &format!(
                    "delete every photo, album, share and user of stage `{}` for good?",
                    stage.name
                ),
            )
            .await?;
    }
    delete_all(session, stack, &kept).await
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Whether a retained resource still exists: someone may have removed it by hand (and an
/// emulator may delete `RetainExceptOnCreate` resources with the stack).
pub(crate) async fn still_there(session: &Session, kind: &str, id: &str) -> Result<bool> {
    use aws_sdk_s3::error::ProvideErrorMetadata as _;
    let missing = |code: Option<&str>| {
        matches!(
            code,
            Some("NotFound" | "NoSuchBucket" | "ResourceNotFoundException")
        )
    };
    let found = match kind {
        "AWS::S3::Bucket" => match session.s3().head_bucket().bucket(id).send().await {
            Ok(_) => true,
            Err(e)
                if missing(e.code())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                false
            }
            Err(e) => return Err(e).with_context(|| format!("looking for bucket `{id}`")),
        },
        "AWS::DynamoDB::Table" => {
            let db = crate::client!(aws_sdk_dynamodb, &session.sdk);
            match db.describe_table().table_name(id).send().await {
                Ok(_) => true,
                Err(e) if missing(e.code()) => false,
                Err(e) => return Err(e).with_context(|| format!("looking for table `{id}`")),
            }
        }
        "AWS::Cognito::UserPool" => {
            let idp = crate::client!(aws_sdk_cognitoidentityprovider, &session.sdk);
            match idp.describe_user_pool().user_pool_id(id).send().await {
                Ok(_) => true,
                Err(e) if missing(e.code()) => false,
                Err(e) => return Err(e).with_context(|| format!("looking for user pool `{id}`")),
            }
        }
        _ => true,
    };
    Ok(found)
}

/// Deletes a resource the stack retained (`--delete-data`), turning off its deletion protection
/// first; `false` when it was already gone.
async fn delete_retained(session: &Session, kind: &str, id: &str) -> Result<bool> {
    if !still_there(session, kind, id).await? {
        return Ok(false);
    }
    match kind {
        "AWS::S3::Bucket" => {
            let s3 = session.s3();
            empty_bucket(&s3, id).await?;
            s3.delete_bucket()
                .bucket(id)
                .send()
                .await
                .with_context(|| format!("deleting bucket `{id}`"))?;
        }
        "AWS::DynamoDB::Table" => {
            let db = crate::client!(aws_sdk_dynamodb, &session.sdk);
            db.update_table()
                .table_name(id)
                .deletion_protection_enabled(false)
                .send()
                .await
                .with_context(|| format!("turning off deletion protection of table `{id}`"))?;
            db.delete_table()
                .table_name(id)
                .send()
                .await
                .with_context(|| format!("deleting table `{id}`"))?;
        }
        "AWS::Cognito::UserPool" => {
            let idp = crate::client!(aws_sdk_cognitoidentityprovider, &session.sdk);
            // The pool is deleted right after, so the settings this update resets do not matter.
            idp.update_user_pool()
                .user_pool_id(id)
                .deletion_protection(
                    aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Inactive,
                )
                .send()
                .await
                .with_context(|| format!("turning off deletion protection of user pool `{id}`"))?;
            idp.delete_user_pool()
                .user_pool_id(id)
                .send()
                .await
                .with_context(|| format!("deleting user pool `{id}`"))?;
        }
        other => anyhow::bail!(
            "the deployer does not delete retained {other} `{id}`: {}",
            removal_command(other, id, &session.region)
        ),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retained_resources_come_from_the_deletion_policy() {
        let template = r#"{"Resources": {
            "PhotoTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "UserPool": {"Type": "AWS::Cognito::UserPool", "DeletionPolicy": "RetainExceptOnCreate"},
            "SiteBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"},
            "Queue": {"Type": "AWS::SQS::Queue"}
        }}"#;
        assert_eq!(retained_ids(template), ["PhotoTable", "UserPool"]);
        assert!(retained_ids("not json").is_empty());
    }

    #[test]
    fn each_kept_resource_has_a_command() {
        assert_eq!(
            removal_command("AWS::DynamoDB::Table", "t", "eu-west-1"),
            "aws dynamodb update-table --table-name t --no-deletion-protection-enabled --region eu-west-1 && aws dynamodb delete-table --table-name t --region eu-west-1"
        );
        assert!(
            removal_command("AWS::S3::Bucket", "b", "eu-west-1")
                .starts_with("aws s3api delete-bucket --bucket b")
        );
    }
}
