//! The DynamoDB calls the repository is made of: reads, paged queries, batches retried until
//! done, transactions and conditional updates, with the SDK's errors mapped onto the domain's.

use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    DeleteRequest, KeysAndAttributes, ReturnValue, TransactWriteItem, WriteRequest,
};
use serde::de::DeserializeOwned;

use photo_domain::{Error, Result, SortKey};

use super::encoding::{delete_item, key, s};
use super::{DynamoDbRepository, GSI1};
use crate::item::{Attributes, decode, string};

/// DynamoDB's limit on the items of one `TransactWriteItems`.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// DynamoDB's limit on the keys of one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// DynamoDB's limit on the requests of one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;
/// How often unprocessed batch items are retried before giving up.
const BATCH_ATTEMPTS: u32 = 8;
/// How often a transaction is sent when DynamoDB cancels it only because another transaction
/// held one of its items at that moment (two uploads of one user both raise the usage item).
const CONFLICT_ATTEMPTS: u32 = 4;

fn backend<E>(what: &str, error: SdkError<E>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    Error::Backend(format!("{what}: {}", DisplayErrorContext(error)))
}

pub(super) fn build<T>(what: &str, built: std::result::Result<T, BuildError>) -> Result<T> {
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

/// Whether a transaction was cancelled only because another one was writing one of its items
/// (`TransactionConflict`, with no condition failed): the same transaction may succeed a moment
/// later. The SDK's retries do not cover it.
fn conflicted(error: &SdkError<TransactWriteItemsError>) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            let codes: Vec<_> = e.cancellation_reasons().iter().map(|r| r.code()).collect();
            codes.contains(&Some("TransactionConflict"))
                && !codes.contains(&Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

fn is_conditional<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error
        .as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

/// What one conditional write answered: `refused` if its condition did not hold.
pub(super) fn conditional<O, E>(
    what: &str,
    sent: std::result::Result<O, SdkError<E>>,
    refused: Error,
) -> Result<O>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(out) => Ok(out),
        Err(e) if is_conditional(&e) => Err(refused),
        Err(e) => Err(backend(what, e)),
    }
}

/// Whether a batch call should go (again) at `attempt`: not once nothing is `pending`, an error
/// saying `exhausted` once every attempt is spent, and otherwise after a pause that grows.
async fn another_attempt(attempt: u32, pending: bool, exhausted: &str) -> Result<bool> {
    if !pending {
        return Ok(false);
    }
    if attempt == BATCH_ATTEMPTS {
        return Err(Error::Backend(exhausted.into()));
    }
    if attempt > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
    }
    Ok(true)
}

/// Every item `query` finds, page after page.
async fn all_pages(what: &str, query: QueryFluentBuilder) -> Result<Vec<Attributes>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| backend(what, e))?;
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(last) => start = Some(last),
            None => return Ok(items),
        }
    }
}

impl DynamoDbRepository {
    pub(super) async fn get(
        &self,
        key: Attributes,
        consistent: bool,
    ) -> Result<Option<Attributes>> {
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

    pub(super) async fn get_record<T: DeserializeOwned>(
        &self,
        key: Attributes,
        consistent: bool,
    ) -> Result<Option<T>> {
        self.get(key, consistent)
            .await?
            .map(|item| decode(&item))
            .transpose()
    }

    /// A query of `pk`'s items whose `sk` starts with `prefix`.
    fn partition_query(&self, pk: &str, prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// One page of `pk`'s items whose `sk` starts with `prefix`, descending, strictly below
    /// `after` ([`Self::descending_page`]).
    pub(super) async fn query_page(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<(Vec<Attributes>, Option<SortKey>)> {
        let query = self.partition_query(pk, prefix);
        let start = after.map(|a| key(pk.to_owned(), a.0.clone()));
        self.descending_page(query, start, limit, "sk").await
    }

    /// One page of what `query` finds, descending from `start`, its cursor read from the
    /// attribute `cursor` of its last item. Asks for one item more than the page so that `next`
    /// is `None` exactly when the listing is done, as in the in-memory model (DynamoDB's own
    /// `LastEvaluatedKey` is set whenever `Limit` was reached).
    pub(super) async fn descending_page(
        &self,
        query: QueryFluentBuilder,
        mut start: Option<Attributes>,
        limit: usize,
        cursor: &str,
    ) -> Result<(Vec<Attributes>, Option<SortKey>)> {
        let want = limit.saturating_add(1);
        let mut items = Vec::new();
        loop {
            let out = query
                .clone()
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
                Some(last) => Some(SortKey(string(last, cursor)?.to_owned())),
                None => None,
            }
        } else {
            None
        };
        Ok((items, next))
    }

    /// One page of a strongly consistent `Scan` keeping the items whose `sk` starts with
    /// `prefix` and that have no `unset` attribute, from `start`; with the key to go on from.
    /// Only the deployer's once-per-stage backfills scan.
    pub(super) async fn scan_page(
        &self,
        prefix: &str,
        unset: &str,
        start: Option<Attributes>,
    ) -> Result<(Vec<Attributes>, Option<Attributes>)> {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(sk, :prefix) AND attribute_not_exists(#unset)")
            .expression_attribute_names("#unset", unset)
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| backend("reading the table", e))?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// Every item of `pk` whose `sk` starts with `prefix` (all pages).
    pub(super) async fn query_all(&self, pk: &str, prefix: &str) -> Result<Vec<Attributes>> {
        let query = self.partition_query(pk, prefix).consistent_read(true);
        all_pages("querying a partition", query).await
    }

    /// Every item whose `gsi1pk` is `gsi1pk`: what points at a photo or an album.
    ///
    /// Index reads are eventually consistent; an item written a moment ago may be missed.
    pub async fn query_gsi1(&self, gsi1pk: &str) -> Result<Vec<Attributes>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :g")
            .expression_attribute_values(":g", s(gsi1pk));
        all_pages("querying gsi1", query).await
    }

    /// Up to `limit` items of `gsi1pk`, ascending, whose `gsi1sk` is within `between` (both
    /// ends included) when given. Eventually consistent, as every index read.
    pub(super) async fn query_gsi1_range(
        &self,
        gsi1pk: &str,
        between: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<Attributes>> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_values(":g", s(gsi1pk));
        query = match between {
            Some((from, to)) => query
                .key_condition_expression("gsi1pk = :g AND gsi1sk BETWEEN :from AND :to")
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
            None => query.key_condition_expression("gsi1pk = :g"),
        };
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let out = query
                .clone()
                .limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| backend("querying gsi1", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        Ok(items)
    }

    /// The items at `keys`, in the order of `keys`, leaving out those that do not exist.
    pub(super) async fn batch_get(
        &self,
        keys: Vec<Attributes>,
        consistent: bool,
    ) -> Result<Vec<Attributes>> {
        let mut found: Vec<Attributes> = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            for attempt in 0.. {
                let exhausted = "batch read left keys unprocessed";
                if !another_attempt(attempt, !pending.is_empty(), exhausted).await? {
                    break;
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
                let exhausted = "batch delete left items unprocessed";
                if !another_attempt(attempt, !pending.is_empty(), exhausted).await? {
                    break;
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

    /// Runs `items` as one `TransactWriteItems`, sent again (up to [`CONFLICT_ATTEMPTS`] times,
    /// after a pause that grows) while DynamoDB cancels it for a conflict with another
    /// transaction only. If it was cancelled because conditions failed,
    /// `refused` turns which items failed into the caller's answer (`Ok(Err(_))`); if `refused`
    /// has none, or the transaction failed for another reason, it is a backend error (`what`).
    pub(super) async fn transact<T>(
        &self,
        what: &str,
        items: Vec<TransactWriteItem>,
        refused: impl FnOnce(Vec<bool>) -> Option<T>,
    ) -> Result<std::result::Result<(), T>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            return match sent {
                Ok(_) => Ok(Ok(())),
                Err(e) if conflicted(&e) && attempt < CONFLICT_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                    continue;
                }
                Err(e) => match failed_conditions(&e).and_then(refused) {
                    Some(answer) => Ok(Err(answer)),
                    None => Err(backend(what, e)),
                },
            };
        }
    }

    /// Runs `core` (whose first item carries the condition that decides `NotFound`) together
    /// with deletes of `dependents` in one transaction. Dependents beyond the transaction
    /// limit are deleted first, in batches: they point at the item being removed, so removing
    /// them early only hides what is about to go anyway. A failed condition of another item of
    /// `core` (an album changed since it was read) is [`Error::Conflict`]: read again.
    pub(super) async fn delete_with_dependents(
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
            items.push(delete_item("a delete", &self.table, k, None)?);
        }
        let refused = |failed: Vec<bool>| {
            Some(if failed.first() == Some(&true) {
                Error::NotFound
            } else {
                Error::Conflict("an item the delete changes changed meanwhile".into())
            })
        };
        self.transact("deleting items", items, refused).await?
    }

    /// An update of the item at `key`.
    pub(super) fn update(&self, key: Attributes) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
    }

    /// Sends `update`, returning the updated record, or `Err(())` if its condition failed.
    pub(super) async fn update_returning<T: DeserializeOwned>(
        &self,
        update: UpdateItemFluentBuilder,
    ) -> Result<std::result::Result<T, ()>> {
        match update.return_values(ReturnValue::AllNew).send().await {
            Ok(out) => decode(&out.attributes.unwrap_or_default()).map(Ok),
            Err(e) if is_conditional(&e) => Ok(Err(())),
            Err(e) => Err(backend("updating an item", e)),
        }
    }
}

/// A transaction conflict cannot be made on moto, which runs one request at a time: these tests
/// replay DynamoDB-shaped answers through the SDK's own replay client.
#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;
    use photo_domain::{
        ContentType, FileName, Photo, PhotoId, Repository as _, Sha256, Timestamp, UserId,
    };

    use super::*;

    /// TransactWriteItems' answer: success, or a cancellation with these reason codes.
    fn answer(reasons: Option<&[&str]>) -> ReplayEvent {
        let request = http::Request::builder()
            .uri("https://dynamodb.eu-west-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap();
        let response = match reasons {
            None => http::Response::builder()
                .status(200)
                .body(SdkBody::from("{}")),
            Some(codes) => {
                let reasons: Vec<_> = codes
                    .iter()
                    .map(|c| serde_json::json!({"Code": c, "Message": c}))
                    .collect();
                let body = serde_json::json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "Message": "Transaction cancelled",
                    "CancellationReasons": reasons,
                });
                http::Response::builder()
                    .status(400)
                    .header("content-type", "application/x-amz-json-1.0")
                    .body(SdkBody::from(body.to_string()))
            }
        };
        ReplayEvent::new(request, response.unwrap())
    }

    fn repository(answers: Vec<ReplayEvent>) -> (DynamoDbRepository, StaticReplayClient) {
        let http = StaticReplayClient::new(answers);
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "replay",
            ))
            .http_client(http.clone())
            .build();
        let client = aws_sdk_dynamodb::Client::from_conf(config);
        (DynamoDbRepository::from_client(client, "photos"), http)
    }

    fn photo() -> Photo {
        Photo::pending(
            PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
            UserId::parse("alice").unwrap(),
            FileName::parse("a.jpg").unwrap(),
            ContentType::Jpeg,
            1,
            Sha256::from_bytes([1; 32]),
            Timestamp::from_secs(1_790_000_000),
        )
    }

    const CONFLICT: Option<&[&str]> = Some(&["None", "None", "TransactionConflict", "None"]);

    #[tokio::test]
    async fn a_transaction_that_met_another_is_sent_again() {
        let (repo, http) = repository(vec![answer(CONFLICT), answer(CONFLICT), answer(None)]);
        repo.insert_photo(&photo(), 100)
            .await
            .expect("the third attempt");
        assert_eq!(http.actual_requests().count(), 3);
    }

    #[tokio::test]
    async fn conflicts_that_do_not_end_are_an_error_and_conditions_are_never_retried() {
        let (repo, http) = repository((0..CONFLICT_ATTEMPTS).map(|_| answer(CONFLICT)).collect());
        let err = repo.insert_photo(&photo(), 100).await.unwrap_err();
        assert!(err.to_string().contains("inserting a photo"), "{err}");
        assert_eq!(http.actual_requests().count(), CONFLICT_ATTEMPTS as usize);

        // The id is taken: a refusal, at once, even beside a conflict on another item.
        let taken = Some(
            &[
                "ConditionalCheckFailed",
                "None",
                "TransactionConflict",
                "None",
            ][..],
        );
        let (repo, http) = repository(vec![answer(taken)]);
        let err = repo.insert_photo(&photo(), 100).await.unwrap_err();
        assert!(matches!(err, Error::AlreadyExists), "{err}");
        assert_eq!(http.actual_requests().count(), 1);
    }
}
