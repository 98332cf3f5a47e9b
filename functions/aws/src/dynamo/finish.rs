//! Storing what processing found: the photo's new fields and, when it learned when the photo
//! was taken, its move on the timeline with the month counts, in one write.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use photo_domain::keys;
use photo_domain::{
    Error, Photo, PhotoId, PhotoStatus, ProcessingOutcome, Repository as _, Result, UserId,
};

use super::DynamoDbRepository;
use super::calls::build;
use super::encoding::{key, s};
use super::repository::{set_and_remove, set_or_remove};
use super::timeline::{month_moves, stored_tlsk};
use crate::item::{decode, value_of};

impl DynamoDbRepository {
    /// [`Repository::finish_processing`] once: the photo as read, with its outcome applied, in
    /// one write conditioned on it being PENDING with the timeline key it was read with. When
    /// processing moves it on the timeline (it learned when the photo was taken), the month
    /// counts move in the same transaction. `None` if the timeline key changed meanwhile.
    pub(super) async fn finish_once(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Option<Photo>> {
        let photo_key = key(keys::user_pk(owner), keys::photo_sk(id));
        let Some(item) = self.get(photo_key.clone(), true).await? else {
            return Err(Error::NotFound);
        };
        let before: Photo = decode(&item)?;
        if before.status != PhotoStatus::Pending {
            return Err(Error::Conflict(format!("photo `{id}` is not PENDING")));
        }
        let mut after = before.clone();
        after.finish(outcome);
        let was_placed = stored_tlsk(&item);

        let mut names = HashMap::from([("#status".to_owned(), "status".to_owned())]);
        let mut values = HashMap::from([(":pending".to_owned(), s(PhotoStatus::Pending.as_str()))]);
        let mut set = vec!["#status = :status".to_owned()];
        let mut remove = Vec::new();
        // Each field is set when present and removed when absent, as the in-memory model
        // overwrites it.
        let mut field = |name: &str, value: Option<AttributeValue>| {
            set_or_remove(&mut names, &mut values, &mut set, &mut remove, name, value)
        };
        match outcome {
            ProcessingOutcome::Ready(info) => {
                field("reason", None);
                field("sha256_actual", Some(value_of(&info.sha256_actual)?));
                field("dimensions", Some(value_of(&info.dimensions)?));
                field(
                    "taken_at",
                    info.taken_at.as_ref().map(value_of).transpose()?,
                );
                field(
                    "taken_offset_minutes",
                    info.taken_offset_minutes
                        .as_ref()
                        .map(value_of)
                        .transpose()?,
                );
                field("camera", info.camera.as_ref().map(value_of).transpose()?);
                field("gps", info.gps.as_ref().map(value_of).transpose()?);
            }
            ProcessingOutcome::Failed { reason, actual } => {
                field("reason", Some(s(reason.as_str())));
                field("sha256_actual", actual.as_ref().map(value_of).transpose()?);
            }
        }
        values.insert(":status".to_owned(), s(after.status.as_str()));
        // Processing took an attempt first, which left the awaited uploads; a photo finished
        // without one (an older item) leaves them here.
        remove.extend(["gsi1pk".to_owned(), "gsi1sk".to_owned()]);
        let mut condition = "attribute_exists(pk) AND #status = :pending".to_owned();
        let mut moves = Vec::new();
        match &was_placed {
            Some(old) => {
                condition.push_str(" AND tlsk = :old_tlsk");
                values.insert(":old_tlsk".to_owned(), s(old.clone()));
                let new = keys::timeline_sk(&after);
                if &new != old {
                    set.push("tlsk = :tlsk".to_owned());
                    values.insert(":tlsk".to_owned(), s(new));
                    // Out of the month its place was written in.
                    let from = keys::month_of_timeline_sk(old);
                    let from = from.unwrap_or_else(|| before.timeline_month());
                    moves = month_moves(&self.table, owner, &from, &after.timeline_month())?;
                }
            }
            // Not on the timeline yet: the backfill places it as it is then.
            None => condition.push_str(" AND attribute_not_exists(tlsk)"),
        }
        let expression = set_and_remove(&set, &remove);
        // Either way, success returns; a refused condition is looked into below.
        if moves.is_empty() {
            let update = self
                .update(photo_key)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .update_expression(expression);
            if let Ok(photo) = self.update_returning(update).await? {
                return Ok(Some(photo));
            }
        } else {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(photo_key))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .update_expression(expression)
                .build();
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(build("finishing processing", update)?)
                    .build(),
            ];
            items.extend(moves);
            let first = |failed: Vec<bool>| (failed.first() == Some(&true)).then_some(());
            if self
                .transact("finishing processing", items, first)
                .await?
                .is_ok()
            {
                return self
                    .get_photo(owner, id)
                    .await?
                    .ok_or(Error::NotFound)
                    .map(Some);
            }
        }
        match self
            .get(key(keys::user_pk(owner), keys::photo_sk(id)), true)
            .await?
        {
            None => Err(Error::NotFound),
            Some(now) if stored_tlsk(&now) != was_placed => Ok(None),
            Some(_) => Err(Error::Conflict(format!("photo `{id}` is not PENDING"))),
        }
    }
}
