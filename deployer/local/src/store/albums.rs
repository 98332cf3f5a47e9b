//! Albums and their memberships: each write one transaction whose conditions are SQL.

use photo_domain::keys;
use photo_domain::memory::Item;
use photo_domain::{
    Album, AlbumId, AlbumName, Error, Page, Photo, PhotoId, Result, ShareTarget, SortKey, UserId,
};
use rusqlite::{Connection, params};

use super::rows::{self, backend};
use super::shares;

pub(super) fn insert(tx: &Connection, album: &Album) -> Result<()> {
    let pk = keys::user_pk(&album.owner);
    if !rows::put_new(
        tx,
        &pk,
        &keys::album_sk(&album.id),
        &Item::Album(album.clone()),
    )? {
        return Err(Error::AlreadyExists);
    }
    Ok(())
}

pub(super) fn get(conn: &Connection, owner: &UserId, id: &AlbumId) -> Result<Option<Album>> {
    match rows::get(conn, &keys::user_pk(owner), &keys::album_sk(id))? {
        Some(Item::Album(a)) => Ok(Some(a)),
        _ => Ok(None),
    }
}

pub(super) fn list(
    conn: &Connection,
    owner: &UserId,
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page<Album>> {
    let pk = keys::user_pk(owner);
    rows::page(
        conn,
        "SELECT sk, body FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 \
         ORDER BY sk DESC",
        &pk,
        keys::ALBUM_PREFIX,
        after,
        limit,
        |r| {
            let (sk, body): (String, String) = (
                r.get(0).map_err(rows::read_error)?,
                r.get(1).map_err(rows::read_error)?,
            );
            match rows::decode(&pk, &sk, &body)? {
                Item::Album(a) => Ok(Some(a)),
                _ => Ok(None),
            }
        },
    )
}

pub(super) fn rename(
    tx: &Connection,
    owner: &UserId,
    id: &AlbumId,
    name: &AlbumName,
) -> Result<Album> {
    let Some(mut album) = get(tx, owner, id)? else {
        return Err(Error::NotFound);
    };
    album.name = name.clone();
    rows::put(
        tx,
        &keys::user_pk(owner),
        &keys::album_sk(id),
        &Item::Album(album.clone()),
    )?;
    Ok(album)
}

/// Removes the album, its memberships (not the photos) and the share links pointing at it.
pub(super) fn delete(tx: &Connection, owner: &UserId, id: &AlbumId) -> Result<()> {
    let pk = keys::user_pk(owner);
    if !rows::delete(tx, &pk, &keys::album_sk(id))? {
        return Err(Error::NotFound);
    }
    tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?2 || '~'")
        .and_then(|mut s| s.execute(params![pk, keys::member_prefix(id)]))
        .map_err(|e| backend("deleting memberships", e))?;
    shares::remove_shares_of(tx, owner, &ShareTarget::Album(*id))
}

fn save(tx: &Connection, album: &Album) -> Result<()> {
    let (pk, sk) = (keys::user_pk(&album.owner), keys::album_sk(&album.id));
    rows::put(tx, &pk, &sk, &Item::Album(album.clone()))
}

/// The album's photos, by id.
fn members(tx: &Connection, owner: &UserId, album: &AlbumId) -> Result<Vec<Photo>> {
    let pk = keys::user_pk(owner);
    let ids: Vec<String> = tx
        .prepare_cached(
            "SELECT sk FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?2 || '~' ORDER BY sk",
        )
        .and_then(|mut s| {
            s.query_map(params![pk, keys::member_prefix(album)], |r| r.get(0))?
                .collect()
        })
        .map_err(|e| backend("reading an album's photos", e))?;
    let mut photos = Vec::with_capacity(ids.len());
    for sk in ids {
        let id = sk.rsplit('#').next().unwrap_or_default();
        if let Some(p) = super::photos::get(tx, owner, &PhotoId::parse(id)?)? {
            photos.push(p);
        }
    }
    Ok(photos)
}

/// The albums `photo` is in, from the memberships' `gsi1` keys.
pub(super) fn albums_of(tx: &Connection, owner: &UserId, photo: &PhotoId) -> Result<Vec<AlbumId>> {
    let gsi = keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo));
    let sks: Vec<String> = tx
        .prepare_cached(
            "SELECT gsi1sk FROM items WHERE gsi1pk = ?1 AND gsi1sk >= ?2 AND gsi1sk < ?2 || '~'",
        )
        .and_then(|mut s| {
            s.query_map(params![gsi, keys::MEMBER_PREFIX], |r| r.get(0))?
                .collect()
        })
        .map_err(|e| backend("reading a photo's albums", e))?;
    sks.iter()
        .map(|sk| AlbumId::parse(sk.strip_prefix(keys::MEMBER_PREFIX).unwrap_or(sk)))
        .collect()
}

/// Adds a membership only while both the album and the photo exist under `owner`, and counts
/// it in the album; adding twice changes nothing.
pub(super) fn add(tx: &Connection, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
    let pk = keys::user_pk(owner);
    let (Some(mut a), Some(joining)) = (
        get(tx, owner, album)?,
        super::photos::get(tx, owner, photo)?,
    ) else {
        return Err(Error::NotFound);
    };
    let item = Item::Member {
        owner: owner.clone(),
        album: *album,
        photo: *photo,
    };
    if rows::put_new(tx, &pk, &keys::member_sk(album, photo), &item)? {
        a.joined(&joining);
        save(tx, &a)?;
    }
    Ok(())
}

/// Removes a membership and says so in the album's count, cover and dates.
pub(super) fn remove(
    tx: &Connection,
    owner: &UserId,
    album: &AlbumId,
    photo: &PhotoId,
) -> Result<()> {
    if !rows::delete(tx, &keys::user_pk(owner), &keys::member_sk(album, photo))? {
        return Err(Error::NotFound);
    }
    let Some(mut a) = get(tx, owner, album)? else {
        return Ok(());
    };
    match super::photos::get(tx, owner, photo)? {
        Some(leaving) if !a.leaving_needs_members(&leaving) => a.left(&leaving, &[]),
        Some(leaving) => a.left(&leaving, &members(tx, owner, album)?),
        // A membership whose photo is gone: the album counted anew.
        None => a.recount(&members(tx, owner, album)?),
    }
    save(tx, &a)
}

/// Makes a photo of the album its cover, as the owner's choice.
pub(super) fn set_cover(
    tx: &Connection,
    owner: &UserId,
    album: &AlbumId,
    photo: &PhotoId,
) -> Result<Album> {
    let pk = keys::user_pk(owner);
    let Some(mut a) = get(tx, owner, album)? else {
        return Err(Error::NotFound);
    };
    if !rows::exists(tx, &pk, &keys::member_sk(album, photo))? {
        return Err(Error::NotFound);
    }
    a.cover = Some(*photo);
    a.cover_chosen = true;
    save(tx, &a)?;
    Ok(a)
}

/// Widens the albums `photo` is in to its date taken.
pub(super) fn widen_albums_of(tx: &Connection, photo: &Photo) -> Result<()> {
    let Some(at) = photo.date_taken() else {
        return Ok(());
    };
    for album in albums_of(tx, &photo.owner, &photo.id)? {
        if let Some(mut a) = get(tx, &photo.owner, &album)? {
            a.widen(at);
            save(tx, &a)?;
        }
    }
    Ok(())
}

/// Counts, covers and dates every album written before albums kept them (no `photo_count` in
/// its item): once, when the stage opens.
pub(super) fn recount_older(tx: &Connection) -> Result<usize> {
    let older: Vec<(String, String)> = tx
        .prepare(
            "SELECT pk, sk FROM items WHERE sk >= 'ALBUM#' AND sk < 'ALBUM#~' \
               AND json_extract(body, '$.Album.photo_count') IS NULL",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(|e| backend("finding albums to count", e))?;
    for (pk, sk) in &older {
        if let Some(Item::Album(mut a)) = rows::get(tx, pk, sk)? {
            let members = members(tx, &a.owner.clone(), &a.id)?;
            a.recount(&members);
            save(tx, &a)?;
        }
    }
    Ok(older.len())
}

/// A page of the album's memberships, newest first, each joined to its photo.
pub(super) fn photos(
    conn: &Connection,
    owner: &UserId,
    album: &AlbumId,
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page<Photo>> {
    let pk = keys::user_pk(owner);
    if !rows::exists(conn, &pk, &keys::album_sk(album))? {
        return Err(Error::NotFound);
    }
    let prefix = keys::member_prefix(album);
    // The member's `sk` ends with the photo id: `MEMBER#{album}#{photo}`.
    let sql = format!(
        "SELECT m.sk, p.sk, p.body FROM items m \
           LEFT JOIN items p ON p.pk = m.pk AND p.sk = '{}' || substr(m.sk, {}) \
          WHERE m.pk = ?1 AND m.sk >= ?2 AND m.sk < ?3 ORDER BY m.sk DESC",
        keys::PHOTO_PREFIX,
        prefix.len() + 1
    );
    rows::page(conn, &sql, &pk, &prefix, after, limit, |r| {
        match (rows::bytes_or_null(r, 1)?, rows::bytes_or_null(r, 2)?) {
            (Some(sk), Some(body)) => rows::photo_of(&pk, sk, body).map(Some),
            _ => Ok(None),
        }
    })
}
