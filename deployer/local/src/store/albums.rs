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

/// Adds a membership only while both the album and the photo exist under `owner`.
pub(super) fn add(tx: &Connection, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
    let pk = keys::user_pk(owner);
    let item = Item::Member {
        owner: owner.clone(),
        album: *album,
        photo: *photo,
    };
    let (g_pk, g_sk) = rows::gsi1(&item).unzip();
    let body = rows::encode(&item)?;
    let sk = keys::member_sk(album, photo);
    let added = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, body) \
             SELECT ?1, ?2, ?3, ?4, ?5 \
              WHERE EXISTS (SELECT 1 FROM items WHERE pk = ?1 AND sk = ?6) \
                AND EXISTS (SELECT 1 FROM items WHERE pk = ?1 AND sk = ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                pk,
                sk,
                g_pk,
                g_sk,
                body,
                keys::album_sk(album),
                keys::photo_sk(photo)
            ])
        })
        .map_err(|e| backend("adding to an album", e))?;
    if added == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub(super) fn remove(
    tx: &Connection,
    owner: &UserId,
    album: &AlbumId,
    photo: &PhotoId,
) -> Result<()> {
    if !rows::delete(tx, &keys::user_pk(owner), &keys::member_sk(album, photo))? {
        return Err(Error::NotFound);
    }
    Ok(())
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
