//! Awaited uploads on the table: the sparse `PENDING#{shard}` partitions of `gsi1` that list
//! photos from their upload's start until processing takes them up; and deleting a photo, which
//! removes an abandoned upload on the condition that it is still awaited.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};

use photo_domain::{
    AlbumId, Error, Photo, PhotoId, PhotoStatus, Repository as _, Result, ShareTarget, Timestamp,
    UserId,
};
use photo_domain::{abandoned, keys};

use super::DynamoDbRepository;
use super::calls::build;
use super::encoding::{EXISTS, delete_item, key, n, s};
use super::repository::decode_all;
use super::timeline::{month_count, stored_tlsk};
use crate::item::{decode, string};

impl DynamoDbRepository {
    /// [`Repository::awaited_uploads`]: the owner's shard by a key range, or every shard.
    pub(super) async fn awaited(
        &self,
        owner: Option<&UserId>,
        created_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Photo>> {
        let mut awaited: Vec<Photo> = Vec::new();
        match owner {
            Some(owner) => {
                // `{owner}#{created}#{photo}`: the owner's, oldest first, up to the cut-off.
                let from = format!("{owner}#");
                let to = format!("{owner}#{:013}", created_before.millis().max(0));
                let shard = keys::pending_gsi1pk(keys::pending_shard(owner));
                let items = self
                    .query_gsi1_range(&shard, Some((from, to)), limit)
                    .await?;
                awaited.extend(decode_all::<Photo>(&items)?);
            }
            None => {
                // The shards hold only uploads in flight: read them whole, keep the old ones.
                for shard in 0..keys::PENDING_SHARDS {
                    let pk = keys::pending_gsi1pk(shard);
                    let items = self.query_gsi1_range(&pk, None, usize::MAX).await?;
                    awaited.extend(decode_all::<Photo>(&items)?);
                }
            }
        }
        // An index read may be a moment behind: what processing took meanwhile is left out here,
        // and the removal's condition checks again.
        Ok(abandoned::awaited_before(awaited, created_before, limit))
    }

    /// Deletes the photo as [`Repository::delete_photo`] says; with `awaited_only`, only while
    /// it is PENDING with no processing attempt taken ([`Error::Conflict`] otherwise). A delete
    /// that lost a race with the timeline's backfill is read and tried again.
    pub(super) async fn delete_photo_where(
        &self,
        owner: &UserId,
        id: &PhotoId,
        awaited_only: bool,
    ) -> Result<Photo> {
        if awaited_only {
            match self.get_photo(owner, id).await? {
                None => return Err(Error::NotFound),
                Some(p) if !p.is_awaited() => {
                    return Err(Error::Conflict(format!(
                        "photo `{id}` is no longer an awaited upload"
                    )));
                }
                Some(_) => {}
            }
        }
        for _ in 0..5 {
            if let Some(photo) = self.delete_once(owner, id, awaited_only).await? {
                return Ok(photo);
            }
        }
        Err(Error::Conflict(format!(
            "photo `{id}` kept changing while it was deleted"
        )))
    }

    /// One attempt of [`Self::delete_photo_where`], one transaction: the photo, its checksum item,
    /// its usage and month, its memberships with each album as it is without the photo, and
    /// the share links pointing at it. `None` if the photo's timeline key or one of its albums
    /// changed since they were read.
    async fn delete_once(
        &self,
        owner: &UserId,
        id: &PhotoId,
        awaited_only: bool,
    ) -> Result<Option<Photo>> {
        let pk = keys::user_pk(owner);
        let photo_key = key(pk.clone(), keys::photo_sk(id));
        let Some(item) = self.get(photo_key.clone(), true).await? else {
            return Err(Error::NotFound);
        };
        let photo: Photo = decode(&item)?;
        let placed = stored_tlsk(&item);
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(photo_key));
        let mut condition = EXISTS.to_owned();
        if awaited_only {
            condition.push_str(
                " AND #status = :pending \
                 AND (attribute_not_exists(#attempts) OR #attempts = :zero)",
            );
            delete = delete
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#attempts", "processing_attempts")
                .expression_attribute_values(":pending", s(PhotoStatus::Pending.as_str()))
                .expression_attribute_values(":zero", n(0));
        }
        // Off its month, counted only once placed on the timeline.
        let mut month = None;
        match &placed {
            Some(tlsk) => {
                condition.push_str(" AND tlsk = :tlsk");
                delete = delete.expression_attribute_values(":tlsk", s(tlsk.clone()));
                // The month its place was written in, whoever changed the photo since.
                let counted = keys::month_of_timeline_sk(tlsk);
                let counted = counted.unwrap_or_else(|| photo.timeline_month());
                month = Some(month_count(&self.table, owner, &counted, -1)?);
            }
            None => condition.push_str(" AND attribute_not_exists(tlsk)"),
        }
        let photo_delete = TransactWriteItem::builder()
            .delete(build(
                "the photo delete",
                delete.condition_expression(condition).build(),
            )?)
            .build();
        let dependents = self
            .keys_pointing_at(owner, &ShareTarget::Photo(*id))
            .await?;
        // The checksum item always names this photo: inserting checks it is free, in the same
        // transaction that writes the photo.
        let sha_key = key(pk.clone(), keys::sha256_sk(&photo.sha256_declared));
        let usage = build(
            "the usage update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, keys::USAGE_SK.into())))
                .update_expression("ADD used_bytes :bytes, photo_count :count")
                .expression_attribute_values(":bytes", n(-i128::from(photo.size)))
                .expression_attribute_values(":count", n(-1))
                .build(),
        )?;
        let mut core = vec![
            photo_delete,
            delete_item("a delete", &self.table, sha_key, None)?,
            TransactWriteItem::builder().update(usage).build(),
        ];
        core.extend(month);
        // Each album it is in, as the album is without it, beside the membership's delete.
        for dependent in &dependents {
            let sk = string(dependent, "sk")?;
            let Some(member) = sk.strip_prefix(keys::MEMBER_PREFIX) else {
                continue;
            };
            let album = AlbumId::parse(member.split('#').next().unwrap_or_default())?;
            core.extend(self.album_without(owner, &album, &photo).await?);
        }
        match self.delete_with_dependents(core, dependents).await {
            Err(Error::Conflict(_)) => Ok(None),
            Err(Error::NotFound) => {
                let photo_key = key(keys::user_pk(owner), keys::photo_sk(id));
                match self.get(photo_key, true).await? {
                    None => Err(Error::NotFound),
                    Some(now) if stored_tlsk(&now) != placed => Ok(None),
                    Some(_) if awaited_only => Err(Error::Conflict(format!(
                        "photo `{id}` is no longer an awaited upload"
                    ))),
                    Some(_) => Err(Error::NotFound),
                }
            }
            Err(e) => Err(e),
            Ok(()) => Ok(Some(photo)),
        }
    }
}
