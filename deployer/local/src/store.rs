//! The local stage's photo metadata: the single table of the key layout (`photo_domain::keys`), kept in SQLite.
//!
//! The rows are the same items the DynamoDB adapter writes (`pk`, `sk`, `gsi1pk`, `gsi1sk`), with
//! the item itself as JSON in `body`, encoded by photo-domain's [`Item`]. The conditions of each
//! write are evaluated by photo-domain's model of the table ([`InMemoryRepository`]), so the local
//! stage cannot drift from the rules the tests of the domain check; every write then lands in
//! SQLite as one transaction holding exactly the items it changed. If that transaction fails, the
//! model is rolled back, so memory never claims what the disk does not hold.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use photo_domain::keys;
use photo_domain::memory::{InMemoryRepository, Item};
use photo_domain::{
    Album, AlbumId, AlbumName, Error, Page, Photo, PhotoId, PhotoPatch, ProcessingOutcome,
    Repository, Result, Sha256, Share, ShareTarget, ShareToken, SortKey, Usage, UserId,
};
use rusqlite::{Connection, OptionalExtension as _, params};

/// The schema: the single table (`photo_domain::keys`), plus the index `gsi1` answers from.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk     TEXT NOT NULL,
    sk     TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    body   TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
";

/// `gsi1pk` and `gsi1sk` of an item, as in [`photo_domain::keys`].
fn gsi1(item: &Item) -> Option<(String, String)> {
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

type Snapshot = BTreeMap<(String, String), Item>;

fn snapshot(model: &InMemoryRepository) -> Snapshot {
    model
        .export()
        .into_iter()
        .map(|(pk, sk, item)| ((pk, sk), item))
        .collect()
}

fn backend(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Backend(format!("{what}: {e}"))
}

/// Opens (creating when missing) the database file and applies the schema.
pub fn open_database(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL keeps readers off the writer's back; `synchronous = NORMAL` is durable across a
    // process crash, which is what a local stage needs.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    Ok(conn)
}

/// The photo table in SQLite.
#[derive(Debug)]
pub struct SqliteRepository {
    conn: Mutex<Connection>,
    model: InMemoryRepository,
    /// One write at a time: a write's diff must contain only its own changes.
    writes: tokio::sync::Mutex<()>,
}

impl SqliteRepository {
    /// Opens the table in `conn`, creating it when missing, and loads every item. An item that
    /// no longer decodes (a hand-edited row) is an error naming its key, not a silent skip.
    pub fn open(conn: Connection) -> Result<Self> {
        conn.execute_batch(SCHEMA)
            .map_err(|e| backend("creating the photo table", e))?;
        let mut items = Vec::new();
        {
            let mut stmt = conn
                .prepare("SELECT pk, sk, body FROM items ORDER BY pk, sk")
                .map_err(|e| backend("reading the photo table", e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
                })
                .map_err(|e| backend("reading the photo table", e))?;
            for row in rows {
                let (pk, sk, body): (String, String, String) =
                    row.map_err(|e| backend("reading the photo table", e))?;
                let item: Item = serde_json::from_str(&body)
                    .map_err(|e| backend(&format!("item `{pk}` `{sk}` is unreadable"), e))?;
                items.push((pk, sk, item));
            }
        }
        let model = InMemoryRepository::new();
        model.import(items);
        Ok(SqliteRepository {
            conn: Mutex::new(conn),
            model,
            writes: tokio::sync::Mutex::new(()),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one write against the model, then stores exactly the items it changed in one
    /// transaction; on a storage failure the model goes back to where it was.
    async fn write<T>(&self, op: impl AsyncFnOnce(&InMemoryRepository) -> Result<T>) -> Result<T> {
        let _one_at_a_time = self.writes.lock().await;
        let before = snapshot(&self.model);
        let out = op(&self.model).await?;
        let after = snapshot(&self.model);
        if let Err(e) = self.persist(&before, &after) {
            self.model.import(
                before
                    .into_iter()
                    .map(|((pk, sk), item)| (pk, sk, item))
                    .collect(),
            );
            return Err(e);
        }
        Ok(out)
    }

    fn persist(&self, before: &Snapshot, after: &Snapshot) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn
            .transaction()
            .map_err(|e| backend("starting a transaction", e))?;
        for (pk, sk) in before.keys().filter(|k| !after.contains_key(*k)) {
            tx.execute(
                "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                params![pk, sk],
            )
            .map_err(|e| backend("deleting an item", e))?;
        }
        for ((pk, sk), item) in after.iter().filter(|(k, i)| before.get(*k) != Some(*i)) {
            let body = serde_json::to_string(item).map_err(|e| backend("encoding an item", e))?;
            let (g_pk, g_sk) = gsi1(item).unzip();
            tx.execute(
                "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![pk, sk, g_pk, g_sk, body],
            )
            .map_err(|e| backend("writing an item", e))?;
        }
        tx.commit()
            .map_err(|e| backend("committing a transaction", e))
    }

    /// One stored row's body, for tests and diagnostics.
    pub fn raw_item(&self, pk: &str, sk: &str) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT body FROM items WHERE pk = ?1 AND sk = ?2",
                params![pk, sk],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| backend("reading an item", e))
    }

    /// The `(pk, sk)` of every row whose `gsi1pk` is `gsi1pk`, as a `gsi1` query would return.
    pub fn gsi1_keys(&self, gsi1pk: &str) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT pk, sk FROM items WHERE gsi1pk = ?1 ORDER BY gsi1sk")
            .map_err(|e| backend("querying gsi1", e))?;
        let rows = stmt
            .query_map(params![gsi1pk], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| backend("querying gsi1", e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| backend("querying gsi1", e))
    }
}

#[async_trait]
impl Repository for SqliteRepository {
    async fn insert_photo(&self, photo: &Photo, quota_bytes: u64) -> Result<()> {
        self.write(async |m| m.insert_photo(photo, quota_bytes).await)
            .await
    }
    async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>> {
        self.model.get_photo(owner, id).await
    }
    async fn find_photo_by_sha256(
        &self,
        owner: &UserId,
        sha256: &Sha256,
    ) -> Result<Option<PhotoId>> {
        self.model.find_photo_by_sha256(owner, sha256).await
    }
    async fn list_photos(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.model.list_photos(owner, after, limit).await
    }
    async fn update_photo(
        &self,
        owner: &UserId,
        id: &PhotoId,
        patch: &PhotoPatch,
    ) -> Result<Photo> {
        self.write(async |m| m.update_photo(owner, id, patch).await)
            .await
    }
    async fn finish_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Photo> {
        self.write(async |m| m.finish_processing(owner, id, outcome).await)
            .await
    }
    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.write(async |m| m.delete_photo(owner, id).await).await
    }
    async fn get_usage(&self, owner: &UserId) -> Result<Usage> {
        self.model.get_usage(owner).await
    }
    async fn insert_album(&self, album: &Album) -> Result<()> {
        self.write(async |m| m.insert_album(album).await).await
    }
    async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Option<Album>> {
        self.model.get_album(owner, id).await
    }
    async fn list_albums(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Album>> {
        self.model.list_albums(owner, after, limit).await
    }
    async fn rename_album(&self, owner: &UserId, id: &AlbumId, name: &AlbumName) -> Result<Album> {
        self.write(async |m| m.rename_album(owner, id, name).await)
            .await
    }
    async fn delete_album(&self, owner: &UserId, id: &AlbumId) -> Result<()> {
        self.write(async |m| m.delete_album(owner, id).await).await
    }
    async fn add_to_album(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
        self.write(async |m| m.add_to_album(owner, album, photo).await)
            .await
    }
    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        self.write(async |m| m.remove_from_album(owner, album, photo).await)
            .await
    }
    async fn list_album_photos(
        &self,
        owner: &UserId,
        album: &AlbumId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.model
            .list_album_photos(owner, album, after, limit)
            .await
    }
    async fn insert_share(&self, share: &Share) -> Result<()> {
        self.write(async |m| m.insert_share(share).await).await
    }
    async fn get_share(&self, token: &ShareToken) -> Result<Option<Share>> {
        self.model.get_share(token).await
    }
    async fn list_shares(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Share>> {
        self.model.list_shares(owner, after, limit).await
    }
    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        self.write(async |m| m.revoke_share(owner, token).await)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photo_domain::{ContentType, FileName, Timestamp};

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn photo(owner: &UserId, id: &str, sha_byte: u8, size: u64) -> Photo {
        Photo::pending(
            PhotoId::parse(id).unwrap(),
            owner.clone(),
            FileName::parse("beach.jpg").unwrap(),
            ContentType::Jpeg,
            size,
            Sha256::from_bytes([sha_byte; 32]),
            Timestamp::from_secs(1),
        )
    }

    fn open(dir: &Path) -> SqliteRepository {
        SqliteRepository::open(open_database(&dir.join("photos.sqlite3")).unwrap()).unwrap()
    }

    const P1: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const P2: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAW";
    const A1: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAX";

    #[tokio::test]
    async fn items_survive_reopening_with_their_keys_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let album = Album {
            id: AlbumId::parse(A1).unwrap(),
            owner: alice.clone(),
            name: AlbumName::parse("Été").unwrap(),
            created_at: Timestamp::from_secs(2),
        };
        {
            let repo = open(dir.path());
            repo.insert_photo(&photo(&alice, P1, 1, 10), 100)
                .await
                .unwrap();
            repo.insert_album(&album).await.unwrap();
            repo.add_to_album(&alice, &album.id, &PhotoId::parse(P1).unwrap())
                .await
                .unwrap();
        }
        let repo = open(dir.path());
        let p1 = PhotoId::parse(P1).unwrap();
        assert_eq!(
            repo.get_photo(&alice, &p1).await.unwrap(),
            Some(photo(&alice, P1, 1, 10))
        );
        assert_eq!(repo.get_usage(&alice).await.unwrap().used_bytes, 10);
        let page = repo
            .list_album_photos(&alice, &album.id, None, 10)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        // The rows carry the contract's keys, so the index answers "what points at this photo".
        let gsi = keys::target_gsi1pk(&alice, &ShareTarget::Photo(p1));
        assert_eq!(
            repo.gsi1_keys(&gsi).unwrap(),
            vec![(keys::user_pk(&alice), keys::member_sk(&album.id, &p1))]
        );
        assert!(
            repo.raw_item(&keys::user_pk(&alice), &keys::photo_sk(&p1))
                .unwrap()
                .unwrap()
                .contains("beach.jpg")
        );
        // Deleting removes the photo, its lookup item and its membership rows from the file.
        repo.delete_photo(&alice, &p1).await.unwrap();
        drop(repo);
        let repo = open(dir.path());
        assert_eq!(repo.get_photo(&alice, &p1).await.unwrap(), None);
        assert!(repo.gsi1_keys(&gsi).unwrap().is_empty());
        assert_eq!(
            repo.raw_item(
                &keys::user_pk(&alice),
                &keys::sha256_sk(&Sha256::from_bytes([1; 32]))
            )
            .unwrap(),
            None
        );
        assert_eq!(repo.get_usage(&alice).await.unwrap().used_bytes, 0);
    }

    #[tokio::test]
    async fn refused_writes_change_nothing_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let repo = open(dir.path());
        repo.insert_photo(&photo(&alice, P1, 1, 60), 100)
            .await
            .unwrap();
        let over_quota = repo.insert_photo(&photo(&alice, P2, 2, 60), 100).await;
        assert!(matches!(over_quota, Err(Error::QuotaExceeded { .. })));
        let duplicate = repo.insert_photo(&photo(&alice, P2, 1, 1), 100).await;
        assert!(matches!(duplicate, Err(Error::Duplicate { .. })));
        drop(repo);
        let repo = open(dir.path());
        let page = repo.list_photos(&alice, None, 10).await.unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(repo.get_usage(&alice).await.unwrap().used_bytes, 60);
    }

    #[tokio::test]
    async fn a_failed_transaction_rolls_the_model_back() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let repo = open(dir.path());
        // Make every write fail at the database, as a full disk or a broken file would.
        repo.conn()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON items BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        let err = repo
            .insert_photo(&photo(&alice, P1, 1, 10), 100)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(
            repo.get_photo(&alice, &PhotoId::parse(P1).unwrap())
                .await
                .unwrap(),
            None
        );
        assert_eq!(repo.get_usage(&alice).await.unwrap().used_bytes, 0);
    }

    #[test]
    fn an_unreadable_row_is_an_error_naming_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photos.sqlite3");
        drop(open(dir.path()));
        let conn = open_database(&path).unwrap();
        conn.execute(
            "INSERT INTO items (pk, sk, body) VALUES ('USER#a', 'PHOTO#x', '{\"nope\":1}')",
            [],
        )
        .unwrap();
        let err = SqliteRepository::open(conn).unwrap_err().to_string();
        assert!(err.contains("`USER#a` `PHOTO#x`"), "{err}");
    }
}
