//! The timeline on the table: the `timeline` index (partition `pk`, sort `tlsk`) that lists an
//! owner's photos by date taken, the month count items every write keeps, and the backfill that
//! gives photos stored before the index their place on it.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use futures_util::{StreamExt as _, stream};

use photo_domain::keys;
use photo_domain::{Error, MonthCount, Page, Photo, Result, SortKey, UserId};

use super::calls::build;
use super::encoding::{key, n, s};
use super::repository::decode_all;
use super::{DynamoDbRepository, TIMELINE_INDEX};
use crate::item::{Attributes, string};

/// The attribute holding a photo's [`keys::timeline_sk`].
pub(super) const TLSK: &str = "tlsk";

/// How many months the backfill writes at once (the photos of one month one after another).
const BACKFILL_AT_ONCE: usize = 16;

/// How often the backfill reads the table again for photos that changed while it wrote them.
const BACKFILL_PASSES: u32 = 3;

/// What [`DynamoDbRepository::backfill_timeline`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfill {
    /// Photos found without a place on the timeline.
    pub found: u64,
    /// Photos given their place (and counted in their month) by this run.
    pub placed: u64,
}

/// The `tlsk` stored on `item`, if it has one (photos stored before the timeline have none).
pub(super) fn stored_tlsk(item: &Attributes) -> Option<String> {
    item.get(TLSK).and_then(|v| v.as_s().ok()).cloned()
}

/// A transaction item adding `by` to `owner`'s count of photos in `month`.
pub(super) fn month_count(
    table: &str,
    owner: &UserId,
    month: &str,
    by: i64,
) -> Result<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(keys::user_pk(owner), keys::month_sk(month))))
        .update_expression("ADD photos :by SET #type = :type")
        .expression_attribute_names("#type", "type")
        .expression_attribute_values(":by", n(by))
        .expression_attribute_values(":type", s("MONTH"))
        .build();
    Ok(TransactWriteItem::builder()
        .update(build("a month count update", update)?)
        .build())
}

/// The transaction items moving one photo from `from`'s month to `to`'s: none when the month
/// stays the same.
pub(super) fn month_moves(
    table: &str,
    owner: &UserId,
    from: &str,
    to: &str,
) -> Result<Vec<TransactWriteItem>> {
    if from == to {
        return Ok(Vec::new());
    }
    Ok(vec![
        month_count(table, owner, from, -1)?,
        month_count(table, owner, to, 1)?,
    ])
}

impl DynamoDbRepository {
    /// [`photo_domain::Repository::list_timeline`]: a descending query of the index, one item
    /// more than the page so that `next` is `None` exactly when the listing is done.
    pub(super) async fn timeline_page(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        let pk = keys::user_pk(owner);
        // The index's start key is the item's table key and its index key.
        let start = match after {
            Some(after) => {
                let photo = keys::photo_of_timeline_sk(&after.0).ok_or(Error::InvalidCursor)?;
                let mut start = key(pk.clone(), keys::photo_sk(&photo));
                start.insert(TLSK.to_owned(), s(after.0.clone()));
                Some(start)
            }
            None => None,
        };
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(TIMELINE_INDEX)
            .key_condition_expression("pk = :pk AND begins_with(tlsk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(keys::TIMELINE_PREFIX));
        let (items, next) = self.descending_page(query, start, limit, TLSK).await?;
        Ok(Page {
            items: decode_all(&items)?,
            next,
        })
    }

    /// [`photo_domain::Repository::timeline_months`]: the owner's month count items.
    pub(super) async fn months(&self, owner: &UserId) -> Result<Vec<MonthCount>> {
        let items = self
            .query_all(&keys::user_pk(owner), keys::MONTH_PREFIX)
            .await?;
        let mut months = Vec::with_capacity(items.len());
        // Ascending by key, so newest last.
        for item in items.iter().rev() {
            let sk = string(item, "sk")?;
            let month = sk.strip_prefix(keys::MONTH_PREFIX).unwrap_or(sk);
            let photos = item
                .get("photos")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            if let Ok(photos @ 1..) = u64::try_from(photos) {
                months.push(MonthCount {
                    month: month.to_owned(),
                    photos,
                });
            }
        }
        Ok(months)
    }

    /// Gives every photo stored before the timeline existed its `tlsk` and counts it in its
    /// month, each photo in one transaction conditioned on it still having no `tlsk` and the
    /// status it was read with: the photos of one month one after another, up to
    /// [`BACKFILL_AT_ONCE`] months side by side. Run as often as wanted: a photo placed once is
    /// never counted again, so a run that stopped midway (a failed call, a transaction that met
    /// a user's upload on the same month item) is finished by the next one. A photo that changed
    /// while it was being placed is read again, up to [`BACKFILL_PASSES`] times.
    ///
    /// This is a `Scan`, the one the table ever sees: the deployer runs it once per stage.
    pub async fn backfill_timeline(&self) -> Result<Backfill> {
        let mut done = Backfill::default();
        for _ in 0..BACKFILL_PASSES {
            let mut skipped = 0_u64;
            let mut start = None;
            loop {
                let (items, last) = self
                    .scan_page(keys::PHOTO_PREFIX, TLSK, start.take())
                    .await?;
                let photos = decode_all::<Photo>(&items)?;
                done.found += photos.len() as u64;
                // Photos counted in one month item go one after another: transactions on one
                // item at once would conflict. Different months go side by side.
                let mut by_month: BTreeMap<(String, String), Vec<&Photo>> = BTreeMap::new();
                for photo in &photos {
                    let month = (photo.owner.to_string(), photo.timeline_month());
                    by_month.entry(month).or_default().push(photo);
                }
                let placed: Vec<Result<(u64, u64)>> = stream::iter(by_month.into_values())
                    .map(|group| async move {
                        let (mut placed, mut skipped) = (0, 0);
                        for photo in group {
                            if self.place_on_timeline(photo).await? {
                                placed += 1;
                            } else {
                                skipped += 1;
                            }
                        }
                        Ok((placed, skipped))
                    })
                    .buffer_unordered(BACKFILL_AT_ONCE)
                    .collect()
                    .await;
                for result in placed {
                    let (placed, changed) = result?;
                    done.placed += placed;
                    skipped += changed;
                }
                match last {
                    Some(last) => start = Some(last),
                    None => break,
                }
            }
            if skipped == 0 {
                break;
            }
        }
        Ok(done)
    }

    /// Gives one photo its `tlsk` and counts it, unless it changed since it was read (`false`).
    async fn place_on_timeline(&self, photo: &Photo) -> Result<bool> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::user_pk(&photo.owner),
                keys::photo_sk(&photo.id),
            )))
            .update_expression("SET tlsk = :tlsk")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(tlsk) AND #status = :status",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":tlsk", s(keys::timeline_sk(photo)))
            .expression_attribute_values(":status", s(photo.status.as_str()))
            .build();
        let items = vec![
            TransactWriteItem::builder()
                .update(build("placing a photo", update)?)
                .build(),
            month_count(&self.table, &photo.owner, &photo.timeline_month(), 1)?,
        ];
        let changed = |failed: Vec<bool>| (failed.first() == Some(&true)).then_some(());
        Ok(self
            .transact("placing a photo on the timeline", items, changed)
            .await?
            .is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_that_stays_moves_nothing() {
        let owner = UserId::parse("alice").unwrap();
        assert!(
            month_moves("t", &owner, "2024-06", "2024-06")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            month_moves("t", &owner, "2026-09", "2024-06")
                .unwrap()
                .len(),
            2
        );
    }
}
