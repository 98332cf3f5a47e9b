//! The photo repository on one DynamoDB table, laid out as in [`photo_domain::keys`].
//!
//! Listings are key-range `Query`s on one partition (never a `Scan`), descending, resuming with
//! `ExclusiveStartKey` built from the domain's [`SortKey`]. Every state change is a conditional
//! write; where the in-memory model changes several items at once this is one
//! `TransactWriteItems`, and a failed condition maps onto the same domain error the in-memory
//! adapter returns, read from the transaction's cancellation reasons.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, KeysAndAttributes, Put, ReturnValue,
    TransactWriteItem, Update, WriteRequest,
};

use photo_domain::keys;
use photo_domain::{
    Album, AlbumId, AlbumName, Error, Page, Photo, PhotoId, PhotoPatch, PhotoStatus,
    ProcessingOutcome, Repository, Result, Sha256, Share, ShareTarget, ShareToken, SortKey, Usage,
    UserId,
};

use crate::item::{Attributes, decode, encode, string, value_of};

/// The name of the one global secondary index: "what points at this photo or album".
pub const GSI1: &str = "gsi1";

/// DynamoDB's limit on the items of one `TransactWriteItems`.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// DynamoDB's limit on the keys of one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// DynamoDB's limit on the requests of one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;
/// How often unprocessed batch items are retried before giving up.
const BATCH_ATTEMPTS: u32 = 8;
/// Share items are cleared by TTL this long after they expire; the API never relies on it.
const SHARE_TTL_GRACE_SECS: i64 = 7 * 86_400;

/// The photo repository on the stage's table (`PHOTO_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoDbRepository {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: String, sk: String) -> Attributes {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// `pk`, `sk` and `type` added to a record's attributes.
fn with_layout(mut item: Attributes, pk: String, sk: String, kind: &str) -> Attributes {
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("type".into(), s(kind));
    item
}

fn backend<E>(what: &str, error: SdkError<E>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    Error::Backend(format!("{what}: {}", DisplayErrorContext(error)))
}

fn build<T>(
    what: &str,
    built: std::result::Result<T, aws_sdk_dynamodb::error::BuildError>,
) -> Result<T> {
    built.map_err(|e| Error::Backend(format!("building {what}: {e}")))
}

/// Which items of a cancelled transaction failed their condition, or `None` if it failed for
/// another reason (throttling, a conflicting transaction, a bad request).
fn failed_conditions(error: &SdkError<TransactWriteItemsError>) -> Option<Vec<bool>> {
    match error.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            let failed: Vec<bool> = e
                .cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect();
            failed.iter().any(|f| *f).then_some(failed)
        }
        _ => None,
    }
}

fn is_conditional<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error
        .as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

/// A transaction item that deletes `key` unconditionally.
fn delete_item(table: &str, key: Attributes) -> Result<TransactWriteItem> {
    let delete = build(
        "a delete",
        Delete::builder()
            .table_name(table)
            .set_key(Some(key))
            .build(),
    )?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A transaction item that checks that `key` exists.
fn check_exists(table: &str, key: Attributes) -> Result<TransactWriteItem> {
    let check = build(
        "a condition check",
        ConditionCheck::builder()
            .table_name(table)
            .set_key(Some(key))
            .condition_expression("attribute_exists(pk)")
            .build(),
    )?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

fn put_new(table: &str, item: Attributes) -> Result<TransactWriteItem> {
    let put = build(
        "a put",
        Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build(),
    )?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The keys of both items of a share link.
fn share_keys(share: &Share) -> [Attributes; 2] {
    [
        key(keys::share_pk(&share.token), keys::SHARE_SK.into()),
        key(
            keys::user_pk(&share.owner),
            keys::share_link_sk(share.created_at, &share.token),
        ),
    ]
}

impl DynamoDbRepository {
    /// A repository on `table`, with a client built from `config` (on Lambda, the default
    /// chain; in tests, an endpoint override pointing at moto).
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::from_client(Client::new(config), table)
    }

    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        DynamoDbRepository {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get(&self, key: Attributes, consistent: bool) -> Result<Option<Attributes>> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(consistent)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| backend("reading an item", e))
    }

    async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        key: Attributes,
        consistent: bool,
    ) -> Result<Option<T>> {
        self.get(key, consistent)
            .await?
            .map(|item| decode(&item))
            .transpose()
    }

    /// One page of `pk`'s items whose `sk` starts with `prefix`, descending, strictly below
    /// `after`. Asks for one item more than the page so that `next` is `None` exactly when the
    /// listing is done, as in the in-memory model (DynamoDB's own `LastEvaluatedKey` is set
    /// whenever `Limit` was reached).
    async fn query_page(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<(Vec<Attributes>, Option<SortKey>)> {
        let want = limit.saturating_add(1);
        let mut items = Vec::new();
        let mut start = after.map(|a| key(pk.to_owned(), a.0.clone()));
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(false)
                .limit(i32::try_from(want - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("querying a partition", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) if items.len() < want => start = Some(last),
                _ => break,
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            match items.last() {
                Some(last) => Some(SortKey(string(last, "sk")?.to_owned())),
                None => None,
            }
        } else {
            None
        };
        Ok((items, next))
    }

    /// Every item of `pk` whose `sk` starts with `prefix` (all pages).
    async fn query_all(&self, pk: &str, prefix: &str) -> Result<Vec<Attributes>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| backend("querying a partition", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(items),
            }
        }
    }

    /// Every item whose `gsi1pk` is `gsi1pk`: what points at a photo or an album.
    ///
    /// Index reads are eventually consistent; an item written a moment ago may be missed.
    pub async fn query_gsi1(&self, gsi1pk: &str) -> Result<Vec<Attributes>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :g")
                .expression_attribute_values(":g", s(gsi1pk))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| backend("querying gsi1", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(items),
            }
        }
    }

    /// The items at `keys`, in the order of `keys`, leaving out those that do not exist.
    async fn batch_get(&self, keys: Vec<Attributes>, consistent: bool) -> Result<Vec<Attributes>> {
        let mut found: Vec<Attributes> = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            for attempt in 0.. {
                if pending.is_empty() {
                    break;
                }
                if attempt == BATCH_ATTEMPTS {
                    return Err(Error::Backend("batch read left keys unprocessed".into()));
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
                let request = build(
                    "a batch read",
                    KeysAndAttributes::builder()
                        .set_keys(Some(std::mem::take(&mut pending)))
                        .consistent_read(consistent)
                        .build(),
                )?;
                let mut out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| backend("reading items", e))?;
                found.extend(
                    out.responses
                        .as_mut()
                        .and_then(|r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
        // BatchGetItem answers in any order.
        let position = |item: &Attributes| {
            keys.iter()
                .position(|k| k.get("pk") == item.get("pk") && k.get("sk") == item.get("sk"))
        };
        found.sort_by_key(position);
        Ok(found)
    }

    /// Deletes `keys` outside a transaction, for the dependents that do not fit in one.
    async fn batch_delete(&self, keys: Vec<Attributes>) -> Result<()> {
        for chunk in keys.chunks(MAX_BATCH_WRITE) {
            let mut pending = chunk
                .iter()
                .map(|k| {
                    let delete = build(
                        "a batch delete",
                        DeleteRequest::builder().set_key(Some(k.clone())).build(),
                    )?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>>>()?;
            for attempt in 0.. {
                if pending.is_empty() {
                    break;
                }
                if attempt == BATCH_ATTEMPTS {
                    return Err(Error::Backend("batch delete left items unprocessed".into()));
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| backend("deleting items", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Runs `core` (whose first item carries the condition that decides `NotFound`) together
    /// with deletes of `dependents` in one transaction. Dependents beyond the transaction
    /// limit are deleted first, in batches: they point at the item being removed, so removing
    /// them early only hides what is about to go anyway.
    async fn delete_with_dependents(
        &self,
        core: Vec<TransactWriteItem>,
        mut dependents: Vec<Attributes>,
    ) -> Result<()> {
        let room = MAX_TRANSACTION_ITEMS - core.len();
        if dependents.len() > room {
            let overflow = dependents.split_off(room);
            self.batch_delete(overflow).await?;
        }
        let mut items = core;
        for k in dependents {
            items.push(delete_item(&self.table, k)?);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match failed_conditions(&e) {
                Some(failed) if failed.first() == Some(&true) => Err(Error::NotFound),
                _ => Err(backend("deleting items", e)),
            },
        }
    }

    /// The keys of both items of every share link pointing at `target`.
    async fn share_keys_of(&self, owner: &UserId, target: &ShareTarget) -> Result<Vec<Attributes>> {
        let mut out = Vec::new();
        for item in self.query_gsi1(&keys::target_gsi1pk(owner, target)).await? {
            if string(&item, "sk")? == keys::SHARE_SK {
                let share: Share = decode(&item)?;
                out.extend(share_keys(&share));
            }
        }
        Ok(out)
    }

    async fn update_returning<T: serde::de::DeserializeOwned>(
        &self,
        update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<std::result::Result<T, ()>> {
        match update.return_values(ReturnValue::AllNew).send().await {
            Ok(out) => decode(&out.attributes.unwrap_or_default()).map(Ok),
            Err(e) if is_conditional(&e) => Ok(Err(())),
            Err(e) => Err(backend("updating an item", e)),
        }
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

        let photo_item = with_layout(
            encode(photo)?,
            pk.clone(),
            keys::photo_sk(&photo.id),
            "PHOTO",
        );
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
            put_new(&self.table, photo_item)?,
            put_new(&self.table, sha_item)?,
            TransactWriteItem::builder().update(usage).build(),
        ];
        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let Some(failed) = failed_conditions(&error) else {
            return Err(backend("inserting a photo", error));
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
        let (items, next) = self
            .query_page(&keys::user_pk(owner), keys::PHOTO_PREFIX, after, limit)
            .await?;
        let items = items.iter().map(decode).collect::<Result<_>>()?;
        Ok(Page { items, next })
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
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user_pk(owner), keys::photo_sk(id))))
            .condition_expression("attribute_exists(pk)");
        match &patch.title {
            Some(Some(title)) => {
                set.push("#title = :title");
                update = update
                    .expression_attribute_names("#title", "title")
                    .expression_attribute_values(":title", s(title.as_str()));
            }
            Some(None) => {
                remove.push("#title");
                update = update.expression_attribute_names("#title", "title");
            }
            None => {}
        }
        if let Some(favourite) = patch.favourite {
            set.push("#favourite = :favourite");
            update = update
                .expression_attribute_names("#favourite", "favourite")
                .expression_attribute_values(":favourite", AttributeValue::Bool(favourite));
        }
        if set.is_empty() && remove.is_empty() {
            // Nothing to change: an update expression cannot be empty, so read instead.
            return self.get_photo(owner, id).await?.ok_or(Error::NotFound);
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        self.update_returning(update.update_expression(expression))
            .await?
            .map_err(|()| Error::NotFound)
    }

    async fn finish_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Photo> {
        let mut names = HashMap::from([("#status".to_owned(), "status".to_owned())]);
        let mut values = HashMap::from([(":pending".to_owned(), s(PhotoStatus::Pending.as_str()))]);
        let mut set = vec!["#status = :status".to_owned()];
        let mut remove = Vec::new();
        // Each field is set when present and removed when absent, as the in-memory model
        // overwrites it.
        let mut field = |name: &str, value: Option<AttributeValue>| {
            names.insert(format!("#{name}"), name.to_owned());
            match value {
                Some(v) => {
                    set.push(format!("#{name} = :{name}"));
                    values.insert(format!(":{name}"), v);
                }
                None => remove.push(format!("#{name}")),
            }
        };
        let status = match outcome {
            ProcessingOutcome::Ready(info) => {
                field("reason", None);
                field("sha256_actual", Some(value_of(&info.sha256_actual)?));
                field("dimensions", Some(value_of(&info.dimensions)?));
                field(
                    "taken_at",
                    info.taken_at.as_ref().map(value_of).transpose()?,
                );
                field("camera", info.camera.as_ref().map(value_of).transpose()?);
                field("gps", info.gps.as_ref().map(value_of).transpose()?);
                PhotoStatus::Ready
            }
            ProcessingOutcome::Failed { reason, actual } => {
                field("reason", Some(s(reason.as_str())));
                field("sha256_actual", actual.as_ref().map(value_of).transpose()?);
                PhotoStatus::Failed {
                    reason: reason.clone(),
                }
            }
        };
        values.insert(":status".to_owned(), s(status.as_str()));
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user_pk(owner), keys::photo_sk(id))))
            .condition_expression("attribute_exists(pk) AND #status = :pending")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        match self
            .update_returning(update.update_expression(expression))
            .await?
        {
            Ok(photo) => Ok(photo),
            Err(()) => match self.get_photo(owner, id).await? {
                None => Err(Error::NotFound),
                Some(_) => Err(Error::Conflict(format!("photo `{id}` is not PENDING"))),
            },
        }
    }

    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        let pk = keys::user_pk(owner);
        let Some(photo) = self.get_photo(owner, id).await? else {
            return Err(Error::NotFound);
        };
        let target = ShareTarget::Photo(*id);
        let mut dependents = Vec::new();
        for item in self
            .query_gsi1(&keys::target_gsi1pk(owner, &target))
            .await?
        {
            let sk = string(&item, "sk")?;
            if sk == keys::SHARE_SK {
                let share: Share = decode(&item)?;
                dependents.extend(share_keys(&share));
            } else {
                dependents.push(key(string(&item, "pk")?.to_owned(), sk.to_owned()));
            }
        }
        let photo_delete = build(
            "the photo delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), keys::photo_sk(id))))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
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
        let core = vec![
            TransactWriteItem::builder().delete(photo_delete).build(),
            delete_item(&self.table, sha_key)?,
            TransactWriteItem::builder().update(usage).build(),
        ];
        self.delete_with_dependents(core, dependents).await?;
        Ok(photo)
    }

    async fn get_usage(&self, owner: &UserId) -> Result<Usage> {
        Ok(self
            .get_record(key(keys::user_pk(owner), keys::USAGE_SK.into()), true)
            .await?
            .unwrap_or_default())
    }

    async fn insert_album(&self, album: &Album) -> Result<()> {
        let item = with_layout(
            encode(album)?,
            keys::user_pk(&album.owner),
            keys::album_sk(&album.id),
            "ALBUM",
        );
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_conditional(&e) => Err(Error::AlreadyExists),
            Err(e) => Err(backend("inserting an album", e)),
        }
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
        let (items, next) = self
            .query_page(&keys::user_pk(owner), keys::ALBUM_PREFIX, after, limit)
            .await?;
        let items = items.iter().map(decode).collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    async fn rename_album(&self, owner: &UserId, id: &AlbumId, name: &AlbumName) -> Result<Album> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::user_pk(owner), keys::album_sk(id))))
            .condition_expression("attribute_exists(pk)")
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
        dependents.extend(self.share_keys_of(owner, &ShareTarget::Album(*id)).await?);
        let album_delete = build(
            "the album delete",
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, keys::album_sk(id))))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        self.delete_with_dependents(
            vec![TransactWriteItem::builder().delete(album_delete).build()],
            dependents,
        )
        .await
    }

    async fn add_to_album(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
        let pk = keys::user_pk(owner);
        let member = HashMap::from([
            ("owner".to_owned(), s(owner.as_str())),
            ("album".to_owned(), s(album.to_string())),
            ("photo".to_owned(), s(photo.to_string())),
            (
                "gsi1pk".to_owned(),
                s(keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo))),
            ),
            ("gsi1sk".to_owned(), s(keys::member_gsi1sk(album))),
        ]);
        let member = with_layout(member, pk.clone(), keys::member_sk(album, photo), "MEMBER");
        let put = build(
            "the membership put",
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(member))
                .build(),
        )?;
        let items = vec![
            check_exists(&self.table, key(pk.clone(), keys::album_sk(album)))?,
            check_exists(&self.table, key(pk, keys::photo_sk(photo)))?,
            TransactWriteItem::builder().put(put).build(),
        ];
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if failed_conditions(&e).is_some() => Err(Error::NotFound),
            Err(e) => Err(backend("adding to an album", e)),
        }
    }

    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::user_pk(owner),
                keys::member_sk(album, photo),
            )))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_conditional(&e) => Err(Error::NotFound),
            Err(e) => Err(backend("removing from an album", e)),
        }
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
        let (members, next) = self
            .query_page(&pk, &keys::member_prefix(album), after, limit)
            .await?;
        let photo_keys = members
            .iter()
            .map(|m| {
                let photo = PhotoId::parse(string(m, "photo")?)?;
                Ok(key(pk.clone(), keys::photo_sk(&photo)))
            })
            .collect::<Result<Vec<_>>>()?;
        let items = self
            .batch_get(photo_keys, false)
            .await?
            .iter()
            .map(decode)
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
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
            put_new(&self.table, item)?,
            put_new(&self.table, link)?,
        ];
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match failed_conditions(&e) {
                Some(failed) if failed.first() == Some(&true) => Err(Error::NotFound),
                Some(_) => Err(Error::AlreadyExists),
                None => Err(backend("inserting a share link", e)),
            },
        }
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
        let (links, next) = self
            .query_page(&keys::user_pk(owner), keys::SHARE_LINK_PREFIX, after, limit)
            .await?;
        let share_keys = links
            .iter()
            .map(|l| {
                let token = ShareToken::parse(string(l, "token")?)?;
                Ok(key(keys::share_pk(&token), keys::SHARE_SK.into()))
            })
            .collect::<Result<Vec<_>>>()?;
        let items = self
            .batch_get(share_keys, true)
            .await?
            .iter()
            .map(decode)
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::share_pk(token), keys::SHARE_SK.into())))
            .condition_expression("attribute_exists(pk) AND #owner = :owner")
            .update_expression("SET revoked = :revoked")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner.as_str()))
            .expression_attribute_values(":revoked", AttributeValue::Bool(true));
        self.update_returning(update)
            .await?
            .map_err(|()| Error::NotFound)
    }
}
