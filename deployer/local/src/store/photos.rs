//! Photos, their checksum lookup items and the owner's usage: each write one transaction whose
//! conditions are SQL (`ON CONFLICT DO NOTHING`, a guarded upsert, `WHERE status = 'PENDING'`).

use photo_domain::keys;
use photo_domain::memory::Item;
use photo_domain::{
    Error, MonthCount, Page, Photo, PhotoId, PhotoPatch, PhotoStatus, ProcessingOutcome, Result,
    Sha256, ShareTarget, SortKey, Timestamp, Usage, UserId,
};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::rows::{self, backend};
use super::shares;

/// A byte count as SQLite's integer; what does not fit is larger than any quota.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Writes the photo's place on the timeline ([`keys::timeline_sk`]).
fn place(tx: &Connection, photo: &Photo) -> Result<()> {
    tx.prepare_cached("UPDATE items SET tlsk = ?3 WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| {
            s.execute(params![
                keys::user_pk(&photo.owner),
                keys::photo_sk(&photo.id),
                keys::timeline_sk(photo)
            ])
        })
        .map(drop)
        .map_err(|e| backend("placing a photo on the timeline", e))
}

/// Adds `by` to the owner's count of photos in `month`; a month left with none is removed.
fn count_in_month(tx: &Connection, owner: &UserId, month: &str, by: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO timeline_months (pk, month, photos) VALUES (?1, ?2, ?3) \
         ON CONFLICT (pk, month) DO UPDATE SET photos = photos + ?3",
    )
    .and_then(|mut s| s.execute(params![keys::user_pk(owner), month, by]))
    .and_then(|_| {
        tx.prepare_cached(
            "DELETE FROM timeline_months WHERE pk = ?1 AND month = ?2 AND photos <= 0",
        )
    })
    .and_then(|mut s| s.execute(params![keys::user_pk(owner), month]))
    .map(drop)
    .map_err(|e| backend("counting a month's photos", e))
}

/// The owner's photos by date taken, for [`rows::page`]: the cursor is `tlsk`.
const TIMELINE_PAGE: &str = "SELECT tlsk, body, sk FROM items \
     WHERE pk = ?1 AND tlsk >= ?2 AND tlsk < ?3 ORDER BY tlsk DESC";

pub(super) fn timeline(
    conn: &Connection,
    owner: &UserId,
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page<Photo>> {
    let pk = keys::user_pk(owner);
    let prefix = keys::TIMELINE_PREFIX;
    rows::page(conn, TIMELINE_PAGE, &pk, prefix, after, limit, |r| {
        rows::photo_of(&pk, rows::bytes(r, 2)?, rows::bytes(r, 1)?).map(Some)
    })
}

pub(super) fn months(conn: &Connection, owner: &UserId) -> Result<Vec<MonthCount>> {
    conn.prepare_cached(
        "SELECT month, photos FROM timeline_months WHERE pk = ?1 AND photos > 0 \
         ORDER BY month DESC",
    )
    .and_then(|mut s| {
        s.query_map(params![keys::user_pk(owner)], |r| {
            Ok(MonthCount {
                month: r.get(0)?,
                photos: r.get::<_, i64>(1)?.max(0) as u64,
            })
        })?
        .collect()
    })
    .map_err(|e| backend("reading the months of the timeline", e))
}

/// The photo, its checksum lookup item and the raised usage, or the first failed condition.
pub(super) fn insert(tx: &Connection, photo: &Photo, quota_bytes: u64) -> Result<()> {
    let pk = keys::user_pk(&photo.owner);
    if !rows::put_new(
        tx,
        &pk,
        &keys::photo_sk(&photo.id),
        &Item::Photo(photo.clone()),
    )? {
        return Err(Error::AlreadyExists);
    }
    place(tx, photo)?;
    count_in_month(tx, &photo.owner, &photo.timeline_month(), 1)?;
    let sha_sk = keys::sha256_sk(&photo.sha256_declared);
    if !rows::put_new(tx, &pk, &sha_sk, &Item::Sha256Ref { photo: photo.id })? {
        return match rows::get(tx, &pk, &sha_sk)? {
            Some(Item::Sha256Ref { photo: existing }) => Err(Error::Duplicate { existing }),
            _ => Err(Error::Backend(format!(
                "item `{pk}` `{sha_sk}` is not a lookup item"
            ))),
        };
    }
    // The usage item, created or raised only while the quota holds.
    let raised = tx
        .prepare_cached(
            "INSERT INTO items (pk, sk, body, used_bytes, photo_count) \
             SELECT ?1, ?4, json_object('Usage', json_object('used_bytes', ?2, 'photo_count', 1)), ?2, 1 \
              WHERE ?2 <= ?3 \
             ON CONFLICT (pk, sk) DO UPDATE SET \
               used_bytes = used_bytes + ?2, photo_count = photo_count + 1, \
               body = json_object('Usage', json_object('used_bytes', used_bytes + ?2, \
                                                       'photo_count', photo_count + 1)) \
             WHERE used_bytes + ?2 <= ?3",
        )
        .and_then(|mut s| s.execute(params![pk, int(photo.size), int(quota_bytes), keys::USAGE_SK]))
        .map_err(|e| backend("raising the usage", e))?;
    if raised == 0 {
        return Err(Error::QuotaExceeded {
            used: usage(tx, &photo.owner)?.used_bytes,
            quota: quota_bytes,
            requested: photo.size,
        });
    }
    Ok(())
}

pub(super) fn get(conn: &Connection, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>> {
    let (pk, sk) = (keys::user_pk(owner), keys::photo_sk(id));
    rows::body(conn, &pk, &sk)?
        .map(|b| rows::photo_of(&pk, sk.as_bytes(), b.as_bytes()))
        .transpose()
}

pub(super) fn find_by_sha256(
    conn: &Connection,
    owner: &UserId,
    sha256: &Sha256,
) -> Result<Option<PhotoId>> {
    match rows::get(conn, &keys::user_pk(owner), &keys::sha256_sk(sha256))? {
        Some(Item::Sha256Ref { photo }) => Ok(Some(photo)),
        _ => Ok(None),
    }
}

/// A page of a partition's items, for [`rows::page`].
const PAGE: &str =
    "SELECT sk, body FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 ORDER BY sk DESC";

pub(super) fn list(
    conn: &Connection,
    owner: &UserId,
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page<Photo>> {
    let pk = keys::user_pk(owner);
    rows::page(conn, PAGE, &pk, keys::PHOTO_PREFIX, after, limit, |r| {
        rows::photo_of(&pk, rows::bytes(r, 0)?, rows::bytes(r, 1)?).map(Some)
    })
}

/// Writes a changed photo, only if it is still in the state it was read in.
fn replace(tx: &Connection, photo: &Photo, was: &PhotoStatus) -> Result<bool> {
    let body = rows::encode(&Item::Photo(photo.clone()))?;
    tx.prepare_cached(
        "UPDATE items SET body = ?3, status = ?4 WHERE pk = ?1 AND sk = ?2 AND status = ?5",
    )
    .and_then(|mut s| {
        s.execute(params![
            keys::user_pk(&photo.owner),
            keys::photo_sk(&photo.id),
            body,
            photo.status.as_str(),
            was.as_str()
        ])
    })
    .map(|changed| changed == 1)
    .map_err(|e| backend("writing a photo", e))
}

pub(super) fn update(
    tx: &Connection,
    owner: &UserId,
    id: &PhotoId,
    patch: &PhotoPatch,
) -> Result<Photo> {
    let Some(mut photo) = get(tx, owner, id)? else {
        return Err(Error::NotFound);
    };
    let was = photo.status.clone();
    if let Some(title) = &patch.title {
        photo.title = title.clone();
    }
    if let Some(f) = patch.favourite {
        photo.favourite = f;
    }
    if !replace(tx, &photo, &was)? {
        return Err(Error::NotFound);
    }
    Ok(photo)
}

/// Takes one processing attempt of a PENDING photo with attempts left.
pub(super) fn start_processing(
    tx: &Connection,
    owner: &UserId,
    id: &PhotoId,
    max_attempts: u32,
) -> Result<Photo> {
    let Some(mut p) = get(tx, owner, id)? else {
        return Err(Error::NotFound);
    };
    let conflict = || {
        Error::Conflict(format!(
            "photo `{id}` is not PENDING or has no attempt left"
        ))
    };
    if p.status != PhotoStatus::Pending || p.processing_attempts >= max_attempts {
        return Err(conflict());
    }
    p.processing_attempts += 1;
    if !replace(tx, &p, &PhotoStatus::Pending)? {
        return Err(conflict());
    }
    Ok(p)
}

pub(super) fn finish_processing(
    tx: &Connection,
    owner: &UserId,
    id: &PhotoId,
    outcome: &ProcessingOutcome,
) -> Result<Photo> {
    let Some(mut p) = get(tx, owner, id)? else {
        return Err(Error::NotFound);
    };
    let conflict = || Error::Conflict(format!("photo `{id}` is not PENDING"));
    if p.status != PhotoStatus::Pending {
        return Err(conflict());
    }
    let before = p.clone();
    p.finish(outcome);
    // The condition itself: only a PENDING photo changes.
    if !replace(tx, &p, &PhotoStatus::Pending)? {
        return Err(conflict());
    }
    if keys::timeline_sk(&p) != keys::timeline_sk(&before) {
        place(tx, &p)?;
        let (from, to) = (before.timeline_month(), p.timeline_month());
        if from != to {
            count_in_month(tx, owner, &from, -1)?;
            count_in_month(tx, owner, &to, 1)?;
        }
    }
    super::albums::widen_albums_of(tx, &p)?;
    Ok(p)
}

/// Removes the photo, its lookup item, its memberships and the share links pointing at it, and
/// lowers the usage.
pub(super) fn delete(tx: &Connection, owner: &UserId, id: &PhotoId) -> Result<Photo> {
    let Some(photo) = get(tx, owner, id)? else {
        return Err(Error::NotFound);
    };
    let pk = keys::user_pk(owner);
    // Out of its albums first, while they can still read it.
    for album in super::albums::albums_of(tx, owner, id)? {
        super::albums::remove(tx, owner, &album, id)?;
    }
    count_in_month(tx, owner, &photo.timeline_month(), -1)?;
    rows::delete(tx, &pk, &keys::photo_sk(id))?;
    tx.prepare_cached(
        "DELETE FROM items WHERE pk = ?1 AND sk = ?2 \
           AND json_extract(body, '$.Sha256Ref.photo') = ?3",
    )
    .and_then(|mut s| {
        s.execute(params![
            pk,
            keys::sha256_sk(&photo.sha256_declared),
            id.to_string()
        ])
    })
    .map_err(|e| backend("deleting a lookup item", e))?;
    tx.prepare_cached(
        "UPDATE items SET used_bytes = max(used_bytes - ?3, 0), \
                          photo_count = max(photo_count - 1, 0), \
                          body = json_object('Usage', json_object( \
                              'used_bytes', max(used_bytes - ?3, 0), \
                              'photo_count', max(photo_count - 1, 0))) \
         WHERE pk = ?1 AND sk = ?2",
    )
    .and_then(|mut s| s.execute(params![pk, keys::USAGE_SK, int(photo.size)]))
    .map_err(|e| backend("lowering the usage", e))?;
    let target = ShareTarget::Photo(*id);
    tx.prepare_cached(
        "DELETE FROM items WHERE gsi1pk = ?1 AND gsi1sk >= ?2 AND gsi1sk < ?2 || '~'",
    )
    .and_then(|mut s| {
        s.execute(params![
            keys::target_gsi1pk(owner, &target),
            keys::MEMBER_PREFIX
        ])
    })
    .map_err(|e| backend("deleting memberships", e))?;
    shares::remove_shares_of(tx, owner, &target)?;
    Ok(photo)
}

/// [`delete`], only while the photo is an awaited upload: PENDING, no processing attempt taken.
pub(super) fn remove_abandoned(tx: &Connection, owner: &UserId, id: &PhotoId) -> Result<Photo> {
    match get(tx, owner, id)? {
        None => Err(Error::NotFound),
        Some(p) if !p.is_awaited() => Err(Error::Conflict(format!(
            "photo `{id}` is no longer an awaited upload"
        ))),
        Some(_) => delete(tx, owner, id),
    }
}

/// Up to `limit` awaited uploads created before `created_before`, `owner`'s or everyone's, by
/// owner and oldest first, from the index of PENDING photos.
pub(super) fn awaited_uploads(
    conn: &Connection,
    owner: Option<&UserId>,
    created_before: Timestamp,
    limit: usize,
) -> Result<Vec<Photo>> {
    let pk = owner.map(keys::user_pk);
    let mut stmt = conn
        .prepare_cached(
            "SELECT pk, sk, body FROM items INDEXED BY items_pending \
              WHERE status = 'PENDING' AND (?1 IS NULL OR pk = ?1)",
        )
        .map_err(|e| backend("listing awaited uploads", e))?;
    let rows = stmt
        .query_map(params![pk], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(|e| backend("listing awaited uploads", e))?;
    let photos = rows
        .into_iter()
        .map(|(pk, sk, body)| rows::photo_of(&pk, sk.as_bytes(), body.as_bytes()))
        .collect::<Result<Vec<_>>>()?;
    Ok(photo_domain::abandoned::awaited_before(
        photos,
        created_before,
        limit,
    ))
}

pub(super) fn usage(conn: &Connection, owner: &UserId) -> Result<Usage> {
    conn.prepare_cached("SELECT used_bytes, photo_count FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| {
            s.query_row(params![keys::user_pk(owner), keys::USAGE_SK], |r| {
                Ok(Usage {
                    used_bytes: r.get::<_, i64>(0)?.max(0) as u64,
                    photo_count: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })
            .optional()
        })
        .map(Option::unwrap_or_default)
        .map_err(|e| backend("reading the usage", e))
}

/// Every PENDING photo as `(owner, id)`, from the index of PENDING photos: what recovery at
/// start looks at, however large the library.
pub(super) fn pending(conn: &Connection) -> Result<Vec<(UserId, PhotoId)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT pk, sk FROM items INDEXED BY items_pending WHERE status = 'PENDING'",
        )
        .map_err(|e| backend("listing PENDING photos", e))?;
    let keys = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(|e| backend("listing PENDING photos", e))?;
    keys.into_iter()
        .map(|(pk, sk)| {
            let owner = pk.strip_prefix("USER#").and_then(|u| UserId::parse(u).ok());
            let id = sk
                .strip_prefix(keys::PHOTO_PREFIX)
                .and_then(|p| PhotoId::parse(p).ok());
            owner
                .zip(id)
                .ok_or_else(|| Error::Backend(format!("item `{pk}` `{sk}` has a bad key")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use photo_domain::{ContentType, FileName};
    use rusqlite::StatementStatus;

    #[test]
    fn pages_read_from_one_plan_however_often_they_run() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let alice = UserId::parse("alice").unwrap();
        for n in 0..5u8 {
            let id = PhotoId::parse(&format!("01ARZ3NDEKTSV4RRFFQ69G5FA{n}")).unwrap();
            let photo = Photo::pending(
                id,
                alice.clone(),
                FileName::parse("a.jpg").unwrap(),
                ContentType::Jpeg,
                1,
                Sha256::from_bytes([n; 32]),
                Timestamp::from_secs(1),
            );
            insert(&conn, &photo, 100).unwrap();
        }
        let mut after = None;
        for limit in [2, 2, 2] {
            let page = list(&conn, &alice, after.as_ref(), limit).unwrap();
            after = page.next;
        }
        assert_eq!(after, None, "three pages of two end the five photos");
        // A bound `LIMIT` would have SQLite plan the statement again at each run.
        let stmt = conn.prepare_cached(PAGE).unwrap();
        assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0);
    }

    #[test]
    fn a_changed_row_is_read_afresh_never_from_the_memo() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let alice = UserId::parse("alice").unwrap();
        let id = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        let photo = Photo::pending(
            id,
            alice.clone(),
            FileName::parse("a.jpg").unwrap(),
            ContentType::Jpeg,
            1,
            Sha256::from_bytes([7; 32]),
            Timestamp::from_secs(1),
        );
        insert(&conn, &photo, 100).unwrap();
        // Listed twice: the second read finds the same bytes and takes the memo's copy.
        for _ in 0..2 {
            let page = list(&conn, &alice, None, 10).unwrap();
            assert_eq!(page.items, vec![photo.clone()]);
        }
        let favourite = PhotoPatch {
            title: None,
            favourite: Some(true),
        };
        let changed = update(&conn, &alice, &id, &favourite).unwrap();
        assert!(changed.favourite);
        assert_eq!(
            list(&conn, &alice, None, 10).unwrap().items,
            vec![changed.clone()]
        );
        assert_eq!(get(&conn, &alice, &id).unwrap(), Some(changed));
    }
}
