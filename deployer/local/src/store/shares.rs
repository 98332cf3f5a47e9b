//! Share links: the link's own item (`SHARE#{token}`) and the owner's copy (`SHARELINK#...`),
//! written together only while the target exists.

use photo_domain::keys;
use photo_domain::memory::Item;
use photo_domain::{
    Error, Page, Result, Share, ShareAttempts, ShareTarget, ShareToken, SortKey, UserId,
};
use rusqlite::{Connection, params};

use super::rows::{self, backend};

/// The `sk` of the item a share targets, under its owner's partition.
fn target_sk(target: &ShareTarget) -> String {
    match target {
        ShareTarget::Photo(p) => keys::photo_sk(p),
        ShareTarget::Album(a) => keys::album_sk(a),
    }
}

pub(super) fn insert(tx: &Connection, share: &Share) -> Result<()> {
    let owner_pk = keys::user_pk(&share.owner);
    let item = Item::Share(share.clone());
    let (g_pk, g_sk) = rows::gsi1(&item).unzip();
    let body = rows::encode(&item)?;
    let written = tx
        .prepare_cached(
            "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, body) \
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM items WHERE pk = ?6 AND sk = ?7) \
             ON CONFLICT (pk, sk) DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                keys::share_pk(&share.token),
                keys::SHARE_SK,
                g_pk,
                g_sk,
                body,
                owner_pk,
                target_sk(&share.target)
            ])
        })
        .map_err(|e| backend("writing a share link", e))?;
    if written == 0 {
        return Err(if rows::exists(tx, &owner_pk, &target_sk(&share.target))? {
            Error::AlreadyExists
        } else {
            Error::NotFound
        });
    }
    rows::put(
        tx,
        &owner_pk,
        &keys::share_link_sk(share.created_at, &share.token),
        &Item::ShareLink {
            token: share.token.clone(),
        },
    )
}

pub(super) fn get(conn: &Connection, token: &ShareToken) -> Result<Option<Share>> {
    match rows::get(conn, &keys::share_pk(token), keys::SHARE_SK)? {
        Some(Item::Share(s)) => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// A page of the owner's links, newest first, each joined to the link's own item.
pub(super) fn list(
    conn: &Connection,
    owner: &UserId,
    after: Option<&SortKey>,
    limit: usize,
) -> Result<Page<Share>> {
    let pk = keys::user_pk(owner);
    rows::page(
        conn,
        "SELECT l.sk, s.pk, s.body FROM items l \
           LEFT JOIN items s ON s.pk = 'SHARE#' || json_extract(l.body, '$.ShareLink.token') \
                            AND s.sk = 'SHARE' \
          WHERE l.pk = ?1 AND l.sk >= ?2 AND l.sk < ?3 ORDER BY l.sk DESC",
        &pk,
        keys::SHARE_LINK_PREFIX,
        after,
        limit,
        |r| {
            let share_pk: Option<String> = r.get(1).map_err(rows::read_error)?;
            let body: Option<String> = r.get(2).map_err(rows::read_error)?;
            let (Some(share_pk), Some(body)) = (share_pk, body) else {
                return Ok(None);
            };
            match rows::decode(&share_pk, keys::SHARE_SK, &body)? {
                Item::Share(s) => Ok(Some(s)),
                _ => Ok(None),
            }
        },
    )
}

pub(super) fn revoke(tx: &Connection, owner: &UserId, token: &ShareToken) -> Result<Share> {
    let Some(mut share) = get(tx, token)?.filter(|s| &s.owner == owner) else {
        return Err(Error::NotFound);
    };
    share.revoked = true;
    rows::put(
        tx,
        &keys::share_pk(token),
        keys::SHARE_SK,
        &Item::Share(share.clone()),
    )?;
    Ok(share)
}

/// Sets the link's attempts while they count `seen` failures, in the caller's transaction.
pub(super) fn set_attempts(
    tx: &Connection,
    token: &ShareToken,
    seen: u32,
    attempts: ShareAttempts,
) -> Result<()> {
    let Some(mut share) = get(tx, token)? else {
        return Err(Error::NotFound);
    };
    if share.attempts.failed != seen {
        return Err(Error::Conflict("another attempt was counted".into()));
    }
    share.attempts = attempts;
    rows::put(
        tx,
        &keys::share_pk(token),
        keys::SHARE_SK,
        &Item::Share(share),
    )
}

/// Removes every share link (both items) pointing at `target`, found through `gsi1`.
/// Every share link of `owner` pointing at `target`, from `gsi1`.
pub(super) fn of_target(
    conn: &Connection,
    owner: &UserId,
    target: &ShareTarget,
) -> Result<Vec<Share>> {
    let gsi = keys::target_gsi1pk(owner, target);
    let found: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT pk, body FROM items WHERE gsi1pk = ?1 AND gsi1sk >= 'SHARE#' AND gsi1sk < 'SHARE#~'",
        )
        .and_then(|mut s| {
            s.query_map(params![gsi], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(|e| backend("finding share links", e))?;
    let mut shares = Vec::with_capacity(found.len());
    for (pk, body) in found {
        if let Item::Share(s) = rows::decode(&pk, keys::SHARE_SK, &body)? {
            shares.push(s);
        }
    }
    Ok(shares)
}

pub(super) fn remove_shares_of(
    tx: &Connection,
    owner: &UserId,
    target: &ShareTarget,
) -> Result<()> {
    for s in of_target(tx, owner, target)? {
        rows::delete(tx, &keys::share_pk(&s.token), keys::SHARE_SK)?;
        rows::delete(
            tx,
            &keys::user_pk(owner),
            &keys::share_link_sk(s.created_at, &s.token),
        )?;
    }
    Ok(())
}
