//! The [`Repository`] on the table: every operation as the conditional writes and key-range
//! reads laid out in [`photo_domain::keys`], failing with the errors the in-memory model returns.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::de::DeserializeOwned;

use photo_domain::keys;
use photo_domain::{
    Album, AlbumId, AlbumName, DisplayName, Error, MonthCount, Page, Photo, PhotoId, PhotoPatch,
    PhotoStatus, ProcessingOutcome, Repository, Result, Sha256, Share, ShareAttempts, ShareTarget,
    ShareToken, SortKey, Timestamp, Usage, UserId,
};

use super::DynamoDbRepository;
use super::calls::{build, conditional};
use super::encoding::{
    ABSENT, EXISTS, check_exists, delete_item, key, n, put_item, s, share_keys, with_layout,
};
use super::timeline::{TLSK, month_count};
use crate::item::{Attributes, decode, encode, string, value_of};

/// Share items are cleared by TTL this long after they expire; the API never relies on it.
const SHARE_TTL_GRACE_SECS: i64 = 7 * 86_400;

/// The records stored in `items`.
pub(super) fn decode_all<T: DeserializeOwned>(items: &[Attributes]) -> Result<Vec<T>> {
    items.iter().map(decode).collect()
}

/// An update expression setting the `set` clauses and removing the `remove` attributes.
pub(super) fn set_and_remove(set: &[String], remove: &[String]) -> String {
    let mut expression = String::new();
    if !set.is_empty() {
        expression.push_str(&format!("SET {}", set.join(", ")));
    }
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    expression
}

/// One attribute of an update: set to `value` when there is one, removed when there is none
/// (as the in-memory model overwrites it).
pub(super) fn set_or_remove(
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
    set: &mut Vec<String>,
    remove: &mut Vec<String>,
    name: &str,
    value: Option<AttributeValue>,
) {
    names.insert(format!("#{name}"), name.to_owned());
    match value {
        Some(v) => {
            set.push(format!("#{name} = :{name}"));
            values.insert(format!(":{name}"), v);
        }
        None => remove.push(format!("#{name}")),
    }
}

impl DynamoDbRepository {
    /// One page of the owner's records whose `sk` starts with `prefix`, newest first.
    async fn list_records<T: DeserializeOwned>(
        &self,
        owner: &UserId,
        prefix: &str,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<T>> {
        let (items, next) = self
            .query_page(&keys::user_pk(owner), prefix, after, limit)
            .await?;
        let items = decode_all(&items)?;
        Ok(Page { items, next })
    }

    /// One page of `pk`'s items whose `sk` starts with `prefix`, each naming another item
    /// (`target` reads its key), as the records of those items, read in batches.
    async fn list_targets<T: DeserializeOwned>(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<&SortKey>,
        limit: usize,
        consistent: bool,
        target: impl Fn(&Attributes) -> Result<Attributes>,
    ) -> Result<Page<T>> {
        let (links, next) = self.query_page(pk, prefix, after, limit).await?;
        let keys = links.iter().map(target).collect::<Result<Vec<_>>>()?;
        let items = decode_all(&self.batch_get(keys, consistent).await?)?;
        Ok(Page { items, next })
    }

    /// The keys of every item pointing at `target` through `gsi1`: its memberships, and both
    /// items of each share link.
    pub(super) async fn keys_pointing_at(
        &self,
        owner: &UserId,
        target: &ShareTarget,
    ) -> Result<Vec<Attributes>> {
        let mut out = Vec::new();
        for item in self.query_gsi1(&keys::target_gsi1pk(owner, target)).await? {
            let sk = string(&item, "sk")?;
            if sk == keys::SHARE_SK {
                let share: Share = decode(&item)?;
                out.extend(share_keys(&share));
            } else {
                out.push(key(string(&item, "pk")?.to_owned(), sk.to_owned()));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Repository for DynamoDbRepository {
    async fn insert_photo(&self, photo: &Photo, quota_bytes: u64) -> Result<()> {
        let pk = keys::user_pk(&photo.owner);
        let photo_key = key(pk.clone(), keys::photo_sk(&photo.id));
        let usage_key = key(pk.clone(), keys::USAGE_SK.into());
        let quota_error = |used: u64| Error::QuotaExceeded {
            used,
            quota: quota_bytes,
            requested: photo.size,
        };
        let Some(room) = quota_bytes.checked_sub(photo.size) else {
            // It can never fit; no write is needed to say so, only the same error precedence.
            if self.get(photo_key, true).await?.is_some() {
                return Err(Error::AlreadyExists);
            }
            if let Some(existing) = self
                .find_photo_by_sha256(&photo.owner, &photo.sha256_declared)
                .await?
            {
                return Err(Error::Duplicate { existing });
            }
            return Err(quota_error(self.get_usage(&photo.owner).await?.used_bytes));
        };

        let mut photo_item = with_layout(
            encode(photo)?,
            pk.clone(),
            keys::photo_sk(&photo.id),
            "PHOTO",
        );
        // Listed among the awaited uploads until processing takes it up.
        photo_item.insert(
            "gsi1pk".to_owned(),
            s(keys::pending_gsi1pk(keys::pending_shard(&photo.owner))),
        );
        photo_item.insert(
            "gsi1sk".to_owned(),
            s(keys::pending_gsi1sk(
                &photo.owner,
                photo.created_at,
                &photo.id,
            )),
        );
        // On the timeline at its upload until processing reads when it was taken.
        photo_item.insert(TLSK.to_owned(), s(keys::timeline_sk(photo)));
        let sha_item = with_layout(
            HashMap::from([("photo".to_owned(), s(photo.id.to_string()))]),
            pk.clone(),
            keys::sha256_sk(&photo.sha256_declared),
            "SHA256",
        );
        let usage = build(
            "the usage update",
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(usage_key))
                .update_expression(
                    "SET used_bytes = if_not_exists(used_bytes, :zero) + :size, \
                     photo_count = if_not_exists(photo_count, :zero) + :one, #type = :type",
                )
                .condition_expression("attribute_not_exists(used_bytes) OR used_bytes <= :room")
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":size", n(photo.size))
                .expression_attribute_values(":room", n(room))
                .expression_attribute_values(":type", s("USAGE"))
                .build(),
        )?;
        let items = vec![
            put_item("a put", &self.table, photo_item, Some(ABSENT))?,
            put_item("a put", &self.table, sha_item, Some(ABSENT))?,
            TransactWriteItem::builder().update(usage).build(),
            month_count(&self.table, &photo.owner, &photo.timeline_month(), 1)?,
        ];
        let Err(failed) = self.transact("inserting a photo", items, Some).await? else {
            return Ok(());
        };
        // Same precedence as the in-memory model: the id, then the checksum, then the quota.
        if failed.first() == Some(&true) {
            return Err(Error::AlreadyExists);
        }
        if failed.get(1) == Some(&true) {
            return match self
                .find_photo_by_sha256(&photo.owner, &photo.sha256_declared)
                .await?
            {
                Some(existing) => Err(Error::Duplicate { existing }),
                None => Err(Error::Conflict(
                    "the checksum item changed during the upload; try again".into(),
                )),
            };
        }
        Err(quota_error(self.get_usage(&photo.owner).await?.used_bytes))
    }

    async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>> {
        self.get_record(key(keys::user_pk(owner), keys::photo_sk(id)), true)
            .await
    }

    async fn find_photo_by_sha256(
        &self,
        owner: &UserId,
        sha256: &Sha256,
    ) -> Result<Option<PhotoId>> {
        let item = self
            .get(key(keys::user_pk(owner), keys::sha256_sk(sha256)), true)
            .await?;
        item.map(|i| PhotoId::parse(string(&i, "photo")?))
            .transpose()
    }

    async fn list_photos(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.list_records(owner, keys::PHOTO_PREFIX, after, limit)
            .await
    }

    async fn list_timeline(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.timeline_page(owner, after, limit).await
    }

    async fn timeline_months(&self, owner: &UserId) -> Result<Vec<MonthCount>> {
        self.months(owner).await
    }

    async fn update_photo(
        &self,
        owner: &UserId,
        id: &PhotoId,
        patch: &PhotoPatch,
    ) -> Result<Photo> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut update = self
            .update(key(keys::user_pk(owner), keys::photo_sk(id)))
            .condition_expression(EXISTS);
        match &patch.title {
            Some(Some(title)) => {
                set.push("#title = :title".to_owned());
                update = update
                    .expression_attribute_names("#title", "title")
                    .expression_attribute_values(":title", s(title.as_str()));
            }
            Some(None) => {
                remove.push("#title".to_owned());
                update = update.expression_attribute_names("#title", "title");
            }
            None => {}
        }
        if let Some(favourite) = patch.favourite {
            set.push("#favourite = :favourite".to_owned());
            update = update
                .expression_attribute_names("#favourite", "favourite")
                .expression_attribute_values(":favourite", AttributeValue::Bool(favourite));
        }
        if set.is_empty() && remove.is_empty() {
            // Nothing to change: an update expression cannot be empty, so read instead.
            return self.get_photo(owner, id).await?.ok_or(Error::NotFound);
        }
        self.update_returning(update.update_expression(set_and_remove(&set, &remove)))
            .await?
            .map_err(|()| Error::NotFound)
    }

    async fn start_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        max_attempts: u32,
    ) -> Result<Photo> {
        // Photos written before attempts were counted have no attribute: `if_not_exists`
        // starts them at zero.
        let update = self
            .update(key(keys::user_pk(owner), keys::photo_sk(id)))
            .condition_expression(
                "attribute_exists(pk) AND #status = :pending \
                 AND (attribute_not_exists(#attempts) OR #attempts < :max)",
            )
            // Taken up: no longer an awaited upload.
            .update_expression(
                "SET #attempts = if_not_exists(#attempts, :zero) + :one REMOVE gsi1pk, gsi1sk",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#attempts", "processing_attempts")
            .expression_attribute_values(":pending", s(PhotoStatus::Pending.as_str()))
            .expression_attribute_values(":max", n(max_attempts))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        match self.update_returning(update).await? {
            Ok(photo) => Ok(photo),
            Err(()) => match self.get_photo(owner, id).await? {
                None => Err(Error::NotFound),
                Some(_) => Err(Error::Conflict(format!(
                    "photo `{id}` is not PENDING or has no attempt left"
                ))),
            },
        }
    }

    async fn finish_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Photo> {
        // A write that lost a race with the timeline's backfill (which places a photo stored
        // before the timeline) is read and tried again; any other refusal is final.
        for _ in 0..3 {
            if let Some(done) = self.finish_once(owner, id, outcome).await? {
                // A date learned widens the albums the photo is in.
                self.widen_albums(&done).await?;
                return Ok(done);
            }
        }
        Err(Error::Conflict(format!(
            "photo `{id}` kept changing while its processing was stored"
        )))
    }

    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.delete_photo_where(owner, id, false).await
    }

    async fn awaited_uploads(
        &self,
        owner: Option<&UserId>,
        created_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Photo>> {
        self.awaited(owner, created_before, limit).await
    }

    async fn remove_abandoned(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.delete_photo_where(owner, id, true).await
    }

    async fn get_usage(&self, owner: &UserId) -> Result<Usage> {
        Ok(self
            .get_record(key(keys::user_pk(owner), keys::USAGE_SK.into()), true)
            .await?
            .unwrap_or_default())
    }

    async fn get_display_name(&self, owner: &UserId) -> Result<Option<DisplayName>> {
        let profile = key(keys::user_pk(owner), keys::PROFILE_SK.into());
        match self.get(profile, true).await? {
            Some(item) => Ok(Some(DisplayName::parse(string(&item, "display_name")?)?)),
            None => Ok(None),
        }
    }

    async fn set_display_name(&self, owner: &UserId, name: Option<&DisplayName>) -> Result<()> {
        let pk = keys::user_pk(owner);
        let failed = |e: &dyn std::fmt::Display| Error::Backend(format!("writing a profile: {e}"));
        match name {
            Some(name) => {
                let item = HashMap::from([("display_name".to_owned(), s(name.as_str()))]);
                let item = with_layout(item, pk, keys::PROFILE_SK.into(), "PROFILE");
                let put = self.client.put_item().table_name(&self.table);
                let sent = put.set_item(Some(item)).send().await;
                sent.map(drop).map_err(|e| failed(&DisplayErrorContext(e)))
            }
            None => {
                let delete = self.client.delete_item().table_name(&self.table);
                let profile = key(pk, keys::PROFILE_SK.into());
                let sent = delete.set_key(Some(profile)).send().await;
                sent.map(drop).map_err(|e| failed(&DisplayErrorContext(e)))
            }
        }
    }

    async fn insert_album(&self, album: &Album) -> Result<()> {
        let item = with_layout(
            encode(album)?,
            keys::user_pk(&album.owner),
            keys::album_sk(&album.id),
            "ALBUM",
        );
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(ABSENT)
            .send()
            .await;
        conditional("inserting an album", sent, Error::AlreadyExists).map(drop)
    }

    async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Option<Album>> {
        self.get_record(key(keys::user_pk(owner), keys::album_sk(id)), true)
            .await
    }

    async fn list_albums(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Album>> {
        self.list_records(owner, keys::ALBUM_PREFIX, after, limit)
            .await
    }

    async fn rename_album(&self, owner: &UserId, id: &AlbumId, name: &AlbumName) -> Result<Album> {
        let update = self
            .update(key(keys::user_pk(owner), keys::album_sk(id)))
            .condition_expression(EXISTS)
            .update_expression("SET #name = :name")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":name", s(name.as_str()));
        self.update_returning(update)
            .await?
            .map_err(|()| Error::NotFound)
    }

    async fn delete_album(&self, owner: &UserId, id: &AlbumId) -> Result<()> {
        let pk = keys::user_pk(owner);
        let mut dependents: Vec<Attributes> = Vec::new();
        for item in self.query_all(&pk, &keys::member_prefix(id)).await? {
            dependents.push(key(pk.clone(), string(&item, "sk")?.to_owned()));
        }
        // Only share links point at an album.
        dependents.extend(
            self.keys_pointing_at(owner, &ShareTarget::Album(*id))
                .await?,
        );
        let album_key = key(pk, keys::album_sk(id));
        let core = vec![delete_item(
            "the album delete",
            &self.table,
            album_key,
            Some(EXISTS),
        )?];
        self.delete_with_dependents(core, dependents).await
    }

    async fn add_to_album(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
        self.add_member(owner, album, photo).await
    }

    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        self.remove_member(owner, album, photo).await
    }

    async fn set_album_cover(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album> {
        self.choose_cover(owner, album, photo).await
    }

    async fn list_album_photos(
        &self,
        owner: &UserId,
        album: &AlbumId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        if self.get_album(owner, album).await?.is_none() {
            return Err(Error::NotFound);
        }
        let pk = keys::user_pk(owner);
        let photo_key = |member: &Attributes| {
            let photo = PhotoId::parse(string(member, "photo")?)?;
            Ok(key(pk.clone(), keys::photo_sk(&photo)))
        };
        let prefix = keys::member_prefix(album);
        self.list_targets(&pk, &prefix, after, limit, false, photo_key)
            .await
    }

    async fn insert_share(&self, share: &Share) -> Result<()> {
        let owner_pk = keys::user_pk(&share.owner);
        let target_key = match &share.target {
            ShareTarget::Photo(p) => key(owner_pk.clone(), keys::photo_sk(p)),
            ShareTarget::Album(a) => key(owner_pk.clone(), keys::album_sk(a)),
        };
        let mut item = with_layout(
            encode(share)?,
            keys::share_pk(&share.token),
            keys::SHARE_SK.into(),
            "SHARE",
        );
        item.insert(
            "gsi1pk".into(),
            s(keys::target_gsi1pk(&share.owner, &share.target)),
        );
        item.insert("gsi1sk".into(), s(keys::share_gsi1sk(&share.token)));
        item.insert(
            "ttl".into(),
            n(share.expires_at.secs().saturating_add(SHARE_TTL_GRACE_SECS)),
        );
        let link = with_layout(
            HashMap::from([("token".to_owned(), s(share.token.as_str()))]),
            owner_pk,
            keys::share_link_sk(share.created_at, &share.token),
            "SHARELINK",
        );
        let items = vec![
            check_exists(&self.table, target_key)?,
            put_item("a put", &self.table, item, Some(ABSENT))?,
            put_item("a put", &self.table, link, Some(ABSENT))?,
        ];
        let refused = |failed: Vec<bool>| {
            Some(if failed.first() == Some(&true) {
                Error::NotFound
            } else {
                Error::AlreadyExists
            })
        };
        self.transact("inserting a share link", items, refused)
            .await?
    }

    async fn shares_of(&self, owner: &UserId, target: &ShareTarget) -> Result<Vec<Share>> {
        let items = self.query_gsi1(&keys::target_gsi1pk(owner, target)).await?;
        items
            .iter()
            .filter(|i| string(i, "sk").is_ok_and(|sk| sk == keys::SHARE_SK))
            .map(decode)
            .collect()
    }

    async fn get_share(&self, token: &ShareToken) -> Result<Option<Share>> {
        // Strongly consistent: a revocation must take effect at once.
        self.get_record(key(keys::share_pk(token), keys::SHARE_SK.into()), true)
            .await
    }

    async fn list_shares(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Share>> {
        let share_key = |link: &Attributes| {
            let token = ShareToken::parse(string(link, "token")?)?;
            Ok(key(keys::share_pk(&token), keys::SHARE_SK.into()))
        };
        let pk = keys::user_pk(owner);
        self.list_targets(&pk, keys::SHARE_LINK_PREFIX, after, limit, true, share_key)
            .await
    }

    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        let update = self
            .update(key(keys::share_pk(token), keys::SHARE_SK.into()))
            .condition_expression("attribute_exists(pk) AND #owner = :owner")
            .update_expression("SET revoked = :revoked")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner.as_str()))
            .expression_attribute_values(":revoked", AttributeValue::Bool(true));
        self.update_returning(update)
            .await?
            .map_err(|()| Error::NotFound)
    }

    async fn set_share_attempts(
        &self,
        token: &ShareToken,
        seen: u32,
        attempts: ShareAttempts,
    ) -> Result<()> {
        // Links stored before attempts were counted have no `attempts` and count none.
        let counted = if seen == 0 {
            "(attribute_not_exists(#attempts) OR #attempts.#failed = :seen)"
        } else {
            "#attempts.#failed = :seen"
        };
        let update = self
            .update(key(keys::share_pk(token), keys::SHARE_SK.into()))
            .condition_expression(format!("{EXISTS} AND {counted}"))
            .update_expression("SET #attempts = :attempts")
            .expression_attribute_names("#attempts", "attempts")
            .expression_attribute_names("#failed", "failed")
            .expression_attribute_values(":seen", n(seen))
            .expression_attribute_values(":attempts", value_of(&attempts)?);
        match self.update_returning::<Share>(update).await? {
            Ok(_) => Ok(()),
            Err(()) => match self.get_share(token).await? {
                Some(_) => Err(Error::Conflict("another attempt was counted".into())),
                None => Err(Error::NotFound),
            },
        }
    }
}
