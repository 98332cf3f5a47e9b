//! Placing a stage's photos on the timeline, and counting its albums, once.
//!
//! The `timeline` index lists an owner's photos by date taken through each photo's `tlsk`, and
//! a month count item per month feeds the scrubber. Both are written with every photo since
//! they exist; photos stored before have neither. The template adds the index to a deployed
//! table in one update (CloudFormation adds one index per update; DynamoDB fills it from the
//! items that already have the key), and this step then gives every older photo its `tlsk` and
//! counts it ([`photo_aws::DynamoDbRepository::backfill_timeline`]): each photo is one conditional
//! transaction, so the step can stop anywhere and run again, and counts nothing twice.
//!
//! Albums likewise keep their count, cover and dates since they exist; this step counts the
//! albums from before ([`photo_aws::DynamoDbRepository::recount_older_albums`]), each on the
//! condition that nothing counted it meanwhile.

use anyhow::{Context as _, Result};

use crate::artifacts;
use crate::deploy::Deployer;
use crate::session::Session;

/// The artifact bucket's record that a stack's photos are all on the timeline.
pub fn done_key(stack: &str) -> String {
    format!("timeline/{stack}.json")
}

/// `up`'s step once the stack is deployed: the first time, places the stage's older photos on
/// the timeline and records it in the artifact bucket. A run that stops midway records nothing,
/// so the next `up` goes on with it.
pub(crate) async fn after_deploy(session: &Session, deployer: &Deployer) -> Result<Option<String>> {
    let s3 = session.s3();
    let artifacts = artifacts::bucket_name(&session.account_id, &session.region);
    let key = done_key(&deployer.stack);
    if artifacts::done_before(&s3, &artifacts, &key).await? {
        return Ok(None);
    }
    let resources = deployer.resources().await?;
    let Some((_, _, table)) = resources.iter().find(|(id, _, _)| id == "PhotoTable") else {
        return Ok(None);
    };
    let repo = photo_aws::DynamoDbRepository::from_client(
        crate::client!(aws_sdk_dynamodb, &session.sdk),
        table.clone(),
    );
    let done = repo.backfill_timeline().await.context(
        "placing the stage's photos on the timeline (the stack itself is deployed; the next \
         `deployer up` goes on from here)",
    )?;
    let albums = repo.recount_older_albums().await.context(
        "counting the stage's albums (the stack itself is deployed; the next `deployer up` goes \
         on from here)",
    )?;
    let record = serde_json::json!({
        "table": table,
        "found": done.found,
        "placed": done.placed,
        "albums_counted": albums,
    });
    artifacts::record_done(&s3, &artifacts, &key, &record).await?;
    Ok((done.found > 0 || albums > 0).then(|| {
        format!(
            "timeline: {} of {} photos stored before it placed by date taken, {albums} albums \
             counted (once per stage)",
            done.placed, done.found
        )
    }))
}
