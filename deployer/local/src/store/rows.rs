//! Rows of the single table: an item of `photo_domain::keys` as `pk`, `sk`, `gsi1pk`, `gsi1sk`,
//! the item as JSON in `body` (photo-domain's [`Item`]), and the columns the conditions and the
//! indexes read (`status` of a photo; `used_bytes` and `photo_count` of the usage item).
//!
//! Also the one way a listing reads: a key range of one partition, newest first, a page at a time.

use std::cell::RefCell;
use std::collections::HashMap;

use photo_domain::keys;
use photo_domain::memory::Item;
use photo_domain::{Error, Page, Photo, Result, ShareTarget, SortKey};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

/// A storage failure while doing `what`.
pub(super) fn backend(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Backend(format!("{what}: {e}"))
}

/// `gsi1pk` and `gsi1sk` of an item, as in [`photo_domain::keys`].
pub(super) fn gsi1(item: &Item) -> Option<(String, String)> {
    match item {
        Item::Member {
            owner,
            album,
            photo,
        } => Some((
            keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo)),
            keys::member_gsi1sk(album),
        )),
        Item::Share(s) => Some((
            keys::target_gsi1pk(&s.owner, &s.target),
            keys::share_gsi1sk(&s.token),
        )),
        _ => None,
    }
}

pub(super) fn encode(item: &Item) -> Result<String> {
    serde_json::to_string(item).map_err(|e| backend("encoding an item", e))
}

/// Decodes a stored item; one that no longer decodes (a hand-edited row) is an error naming
/// its key, not a silent skip. Every value is validated again on the way in.
pub(super) fn decode(pk: &str, sk: &str, body: &str) -> Result<Item> {
    serde_json::from_str(body).map_err(|e| backend(&format!("item `{pk}` `{sk}` is unreadable"), e))
}

/// Photos recently decoded from their rows, by `sk`, with the exact bytes they were decoded from:
/// a read finding the same bytes under the same key takes a copy instead of decoding again
/// (listing 50 photos would otherwise spend most of its time parsing JSON). It can never serve
/// a stale photo, since a row whose bytes changed is decoded afresh, and it is bounded: at
/// [`DECODED_MAX`] entries it starts over. It is a memo of decoding, not a copy of the table;
/// one per thread, so readers never wait for each other.
type Decoded = HashMap<Box<[u8]>, (Box<[u8]>, Photo), foldhash::fast::RandomState>;
thread_local! {
    static DECODED: RefCell<Decoded> = RefCell::new(HashMap::default());
}
const DECODED_MAX: usize = 4096;

/// The photo in a stored row (an error naming the key if the row holds something else).
///
/// Takes the row's bytes as SQLite hands them over: a row found in the memo is compared byte for
/// byte and never needs its text checked; one decoded afresh is checked as it is parsed.
pub(super) fn photo_of(pk: &str, sk: &[u8], body: &[u8]) -> Result<Photo> {
    let remembered = DECODED.with_borrow(|memo| {
        memo.get(sk)
            .filter(|(seen, _)| **seen == *body)
            .map(|(_, photo)| photo.clone())
    });
    if let Some(photo) = remembered {
        return Ok(photo);
    }
    let sk_text = String::from_utf8_lossy(sk);
    let item: Item = serde_json::from_slice(body)
        .map_err(|e| backend(&format!("item `{pk}` `{sk_text}` is unreadable"), e))?;
    let Item::Photo(photo) = item else {
        return Err(Error::Backend(format!(
            "item `{pk}` `{sk_text}` is not a photo"
        )));
    };
    DECODED.with_borrow_mut(|memo| {
        if memo.len() >= DECODED_MAX {
            memo.clear();
        }
        memo.insert(sk.into(), (body.into(), photo.clone()));
    });
    Ok(photo)
}

/// A failure reading a column of a row.
pub(super) fn read_error(e: impl std::fmt::Display) -> Error {
    backend("reading a row", e)
}

/// A column of `row` as text, borrowed from the row.
pub(super) fn text<'r>(row: &'r Row<'_>, column: usize) -> Result<&'r str> {
    row.get_ref(column)
        .map_err(read_error)?
        .as_str()
        .map_err(read_error)
}

/// A text column of `row` as its bytes, unchecked: for [`photo_of`], which checks what it parses.
pub(super) fn bytes<'r>(row: &'r Row<'_>, column: usize) -> Result<&'r [u8]> {
    row.get_ref(column)
        .map_err(read_error)?
        .as_bytes()
        .map_err(read_error)
}

/// A text column of `row` as its bytes when it is not NULL (the missing side of a join).
pub(super) fn bytes_or_null<'r>(row: &'r Row<'_>, column: usize) -> Result<Option<&'r [u8]>> {
    row.get_ref(column)
        .map_err(read_error)?
        .as_bytes_or_null()
        .map_err(read_error)
}

/// Reads one row's body.
pub(super) fn body(conn: &Connection, pk: &str, sk: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| s.query_row(params![pk, sk], |r| r.get(0)).optional())
        .map_err(|e| backend("reading an item", e))
}

/// Reads and decodes one item.
pub(super) fn get(conn: &Connection, pk: &str, sk: &str) -> Result<Option<Item>> {
    body(conn, pk, sk)?.map(|b| decode(pk, sk, &b)).transpose()
}

/// Whether the item exists.
pub(super) fn exists(conn: &Connection, pk: &str, sk: &str) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| s.exists(params![pk, sk]))
        .map_err(|e| backend("reading an item", e))
}

/// The `status` column of an item: a photo's state, for conditions and the PENDING index.
fn status(item: &Item) -> Option<&'static str> {
    match item {
        Item::Photo(p) => Some(p.status.as_str()),
        _ => None,
    }
}

/// Writes the item, replacing what its key held. Not for the usage item (see `photos`).
pub(super) fn put(conn: &Connection, pk: &str, sk: &str, item: &Item) -> Result<()> {
    let (g_pk, g_sk) = gsi1(item).unzip();
    let body = encode(item)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, body, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| s.execute(params![pk, sk, g_pk, g_sk, body, status(item)]))
    .map_err(|e| backend("writing an item", e))?;
    Ok(())
}

/// Writes the item only if its key is free (`attribute_not_exists(pk)`): whether it was written.
pub(super) fn put_new(conn: &Connection, pk: &str, sk: &str, item: &Item) -> Result<bool> {
    let (g_pk, g_sk) = gsi1(item).unzip();
    let body = encode(item)?;
    conn.prepare_cached(
        "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, body, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (pk, sk) DO NOTHING",
    )
    .and_then(|mut s| s.execute(params![pk, sk, g_pk, g_sk, body, status(item)]))
    .map(|changed| changed == 1)
    .map_err(|e| backend("writing an item", e))
}

/// Deletes the item: whether it existed.
pub(super) fn delete(conn: &Connection, pk: &str, sk: &str) -> Result<bool> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| s.execute(params![pk, sk]))
        .map(|changed| changed == 1)
        .map_err(|e| backend("deleting an item", e))
}

/// The bounds of a descending page of `sk` values that start with `prefix`, strictly below
/// `after`: `sk >= low AND sk < high`. `~` sorts after every character keys use.
fn bounds(prefix: &str, after: Option<&SortKey>) -> (String, String) {
    let end = format!("{prefix}~");
    let high = match after {
        Some(a) if a.0 < end => a.0.clone(),
        _ => end,
    };
    (prefix.to_owned(), high)
}

/// A page of `pk`'s items under `prefix`, newest first: `sql` selects the rows in `sk` order
/// descending (the primary key's order, so SQLite reads rows only as they are stepped through)
/// with `?1` the partition and `?2`..`?3` the bounds of `sk`, its first column the row's `sk`;
/// `pick` turns a row into a record (or skips it). `next` is the `sk` of the last row when
/// another row follows, as a DynamoDB query's `LastEvaluatedKey`. There is no `LIMIT ?`: a
/// bound limit makes SQLite plan the statement again at every run, and stopping after
/// `limit + 1` rows reads no more than a limit would.
pub(super) fn page<T>(
    conn: &Connection,
    sql: &str,
    pk: &str,
    prefix: &str,
    after: Option<&SortKey>,
    limit: usize,
    mut pick: impl FnMut(&Row<'_>) -> Result<Option<T>>,
) -> Result<Page<T>> {
    let (low, high) = bounds(prefix, after);
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| backend("querying a partition", e))?;
    let mut rows = stmt
        .query(params![pk, low, high])
        .map_err(|e| backend("querying a partition", e))?;
    let mut items = Vec::with_capacity(limit.min(128));
    let mut last_sk = None;
    let mut seen = 0;
    while let Some(row) = rows
        .next()
        .map_err(|e| backend("querying a partition", e))?
    {
        if seen == limit {
            return Ok(Page {
                items,
                next: last_sk.map(SortKey),
            });
        }
        seen += 1;
        // Only the page's last key becomes its cursor.
        if seen == limit {
            last_sk = Some(text(row, 0)?.to_owned());
        }
        if let Some(item) = pick(row)? {
            items.push(item);
        }
    }
    Ok(Page { items, next: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bounds_stay_inside_the_prefix() {
        assert_eq!(bounds("PHOTO#", None), ("PHOTO#".into(), "PHOTO#~".into()));
        let after = SortKey("PHOTO#2".into());
        assert_eq!(bounds("PHOTO#", Some(&after)).1, "PHOTO#2");
        // A cursor past the prefix (another listing's) cannot widen the range.
        let past = SortKey("SHA256#1".into());
        assert_eq!(bounds("PHOTO#", Some(&past)).1, "PHOTO#~");
    }
}
