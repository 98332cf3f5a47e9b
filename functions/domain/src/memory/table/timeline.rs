//! The timeline in memory: its index and month counts built on the fly from the photos, which
//! a test double holds few of.

use std::collections::BTreeMap;

use super::{Item, Items, prefix_range};
use crate::keys;
use crate::model::{MonthCount, Page, Photo, SortKey};
use crate::types::UserId;

/// The owner's photos by [`keys::timeline_sk`], newest first, strictly below `after`.
pub(super) fn page(
    items: &Items,
    owner: &UserId,
    after: Option<&SortKey>,
    limit: usize,
) -> Page<Photo> {
    let mut on_timeline: Vec<(String, Photo)> = items
        .range(prefix_range(&keys::user_pk(owner), keys::PHOTO_PREFIX))
        .filter_map(|(_, i)| match i {
            Item::Photo(p) => Some((keys::timeline_sk(p), p.clone())),
            _ => None,
        })
        .filter(|(k, _)| after.is_none_or(|a| k.as_str() < a.0.as_str()))
        .collect();
    on_timeline.sort_by(|a, b| b.0.cmp(&a.0));
    let more = on_timeline.len() > limit;
    on_timeline.truncate(limit);
    let next = more
        .then(|| on_timeline.last().map(|(k, _)| SortKey(k.clone())))
        .flatten();
    Page {
        items: on_timeline.into_iter().map(|(_, p)| p).collect(),
        next,
    }
}

/// How many of the owner's photos each month holds, newest first.
pub(super) fn months(items: &Items, owner: &UserId) -> Vec<MonthCount> {
    let mut months: BTreeMap<String, u64> = BTreeMap::new();
    for (_, item) in items.range(prefix_range(&keys::user_pk(owner), keys::PHOTO_PREFIX)) {
        if let Item::Photo(p) = item {
            *months.entry(p.timeline_month()).or_default() += 1;
        }
    }
    months
        .into_iter()
        .rev()
        .map(|(month, photos)| MonthCount { month, photos })
        .collect()
}
