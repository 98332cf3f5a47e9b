//! The local stage's photo metadata: the single table of the key layout (`photo_domain::keys`),
//! in SQLite, which is the source of truth.
//!
//! The rows are the items the DynamoDB adapter writes (`pk`, `sk`, `gsi1pk`, `gsi1sk`, the item
//! as JSON in `body`), plus the columns the conditions and indexes read ([`rows`]). Every read
//! is a query on the primary key or an index (a partition's range, newest first; an item by
//! key; `gsi1`; the PENDING photos); every write is one transaction that checks its own
//! conditions in SQL and touches only its rows ([`photos`], [`albums`], [`shares`]). Nothing
//! holds the table in memory. Readers take a connection of their own from a small pool and,
//! under WAL, never wait for the writer; writes take the one writing connection for the length
//! of their transaction. The file's layout is versioned and migrated on open ([`schema`]).

mod albums;
mod photos;
mod rows;
pub mod schema;
mod shares;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use photo_domain::keys;
use photo_domain::memory::Item;
use photo_domain::{
    Album, AlbumId, AlbumName, DisplayName, MonthCount, Page, Photo, PhotoId, PhotoPatch,
    ProcessingOutcome, Repository, Result, Sha256, Share, ShareAttempts, ShareTarget, ShareToken,
    SortKey, Timestamp, Usage, UserId,
};
use rusqlite::{Connection, TransactionBehavior, params};

pub use schema::{SCHEMA_VERSION, open_database};

use rows::backend;

/// Idle reading connections kept for the next reader; more are opened when many read at once.
const IDLE_READERS: usize = 16;

/// The photo table in SQLite.
#[derive(Debug)]
pub struct SqliteRepository {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not wedge every later request.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SqliteRepository {
    /// Opens the database file at `path` (creating it when missing) and migrates it to
    /// [`SCHEMA_VERSION`]. Nothing is loaded: the table is read as it is queried.
    pub fn open(path: &Path) -> Result<Self> {
        let writer = open_database(path)
            .map_err(|e| backend(&format!("opening the photo table `{}`", path.display()), e))?;
        let repo = SqliteRepository {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        };
        // Albums from before albums kept their counts, cover and dates: counted once.
        repo.write(albums::recount_older)?;
        Ok(repo)
    }

    /// Runs `f` on a reading connection of the pool.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open(&self.path)
                    .and_then(|c| schema::configure(&c).map(|()| c))
                    .map_err(|e| backend("opening a reading connection", e))?;
                c.set_prepared_statement_cache_capacity(32);
                c
            }
        };
        let out = f(&conn);
        let mut idle = lock(&self.readers);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// Runs `f` as one write transaction, holding the write lock from its start (`BEGIN
    /// IMMEDIATE`) to its commit; an `Err` from `f` rolls everything back.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend("starting a transaction", e))?;
        let out = f(&tx)?;
        tx.commit()
            .map_err(|e| backend("committing a transaction", e))?;
        Ok(out)
    }

    /// Every PENDING photo as `(owner, id)`, from its index: uploads that may need processing.
    pub fn pending_photos(&self) -> Result<Vec<(UserId, PhotoId)>> {
        self.read(photos::pending)
    }

    /// One stored row's body, for tests and diagnostics.
    pub fn raw_item(&self, pk: &str, sk: &str) -> Result<Option<String>> {
        self.read(|c| rows::body(c, pk, sk))
    }

    /// The `sk` of every row of partition `pk`, ascending: a query of the table.
    pub fn sort_keys(&self, pk: &str) -> Result<Vec<String>> {
        self.read(|c| {
            c.prepare_cached("SELECT sk FROM items WHERE pk = ?1 ORDER BY sk")
                .and_then(|mut s| s.query_map(params![pk], |r| r.get(0))?.collect())
                .map_err(|e| backend("querying a partition", e))
        })
    }

    /// The `(pk, sk)` of every row whose `gsi1pk` is `gsi1pk`, as a `gsi1` query would return.
    pub fn gsi1_keys(&self, gsi1pk: &str) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            c.prepare_cached("SELECT pk, sk FROM items WHERE gsi1pk = ?1 ORDER BY gsi1sk")
                .and_then(|mut s| {
                    s.query_map(params![gsi1pk], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect()
                })
                .map_err(|e| backend("querying gsi1", e))
        })
    }
}

#[async_trait]
impl Repository for SqliteRepository {
    async fn insert_photo(&self, photo: &Photo, quota_bytes: u64) -> Result<()> {
        self.write(|tx| photos::insert(tx, photo, quota_bytes))
    }
    async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>> {
        self.read(|c| photos::get(c, owner, id))
    }
    async fn find_photo_by_sha256(
        &self,
        owner: &UserId,
        sha256: &Sha256,
    ) -> Result<Option<PhotoId>> {
        self.read(|c| photos::find_by_sha256(c, owner, sha256))
    }
    async fn list_photos(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.read(|c| photos::list(c, owner, after, limit))
    }
    async fn list_timeline(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.read(|c| photos::timeline(c, owner, after, limit))
    }
    async fn timeline_months(&self, owner: &UserId) -> Result<Vec<MonthCount>> {
        self.read(|c| photos::months(c, owner))
    }
    async fn update_photo(
        &self,
        owner: &UserId,
        id: &PhotoId,
        patch: &PhotoPatch,
    ) -> Result<Photo> {
        self.write(|tx| photos::update(tx, owner, id, patch))
    }
    async fn start_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        max_attempts: u32,
    ) -> Result<Photo> {
        self.write(|tx| photos::start_processing(tx, owner, id, max_attempts))
    }
    async fn finish_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Photo> {
        self.write(|tx| photos::finish_processing(tx, owner, id, outcome))
    }
    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.write(|tx| photos::delete(tx, owner, id))
    }
    async fn awaited_uploads(
        &self,
        owner: Option<&UserId>,
        created_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Photo>> {
        self.read(|c| photos::awaited_uploads(c, owner, created_before, limit))
    }
    async fn remove_abandoned(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.write(|tx| photos::remove_abandoned(tx, owner, id))
    }
    async fn get_usage(&self, owner: &UserId) -> Result<Usage> {
        self.read(|c| photos::usage(c, owner))
    }
    async fn get_display_name(&self, owner: &UserId) -> Result<Option<DisplayName>> {
        self.read(
            |c| match rows::get(c, &keys::user_pk(owner), keys::PROFILE_SK)? {
                Some(Item::Profile { display_name }) => Ok(Some(display_name)),
                _ => Ok(None),
            },
        )
    }
    async fn set_display_name(&self, owner: &UserId, name: Option<&DisplayName>) -> Result<()> {
        let pk = keys::user_pk(owner);
        self.write(|tx| match name {
            Some(name) => rows::put(
                tx,
                &pk,
                keys::PROFILE_SK,
                &Item::Profile {
                    display_name: name.clone(),
                },
            ),
            None => rows::delete(tx, &pk, keys::PROFILE_SK).map(drop),
        })
    }
    async fn insert_album(&self, album: &Album) -> Result<()> {
        self.write(|tx| albums::insert(tx, album))
    }
    async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Option<Album>> {
        self.read(|c| albums::get(c, owner, id))
    }
    async fn list_albums(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Album>> {
        self.read(|c| albums::list(c, owner, after, limit))
    }
    async fn rename_album(&self, owner: &UserId, id: &AlbumId, name: &AlbumName) -> Result<Album> {
        self.write(|tx| albums::rename(tx, owner, id, name))
    }
    async fn delete_album(&self, owner: &UserId, id: &AlbumId) -> Result<()> {
        self.write(|tx| albums::delete(tx, owner, id))
    }
    async fn add_to_album(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
        self.write(|tx| albums::add(tx, owner, album, photo))
    }
    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        self.write(|tx| albums::remove(tx, owner, album, photo))
    }
    async fn set_album_cover(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album> {
        self.write(|tx| albums::set_cover(tx, owner, album, photo))
    }
    async fn list_album_photos(
        &self,
        owner: &UserId,
        album: &AlbumId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        self.read(|c| albums::photos(c, owner, album, after, limit))
    }
    async fn insert_share(&self, share: &Share) -> Result<()> {
        self.write(|tx| shares::insert(tx, share))
    }
    async fn shares_of(&self, owner: &UserId, target: &ShareTarget) -> Result<Vec<Share>> {
        self.read(|c| shares::of_target(c, owner, target))
    }
    async fn get_share(&self, token: &ShareToken) -> Result<Option<Share>> {
        self.read(|c| shares::get(c, token))
    }
    async fn list_shares(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Share>> {
        self.read(|c| shares::list(c, owner, after, limit))
    }
    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        self.write(|tx| shares::revoke(tx, owner, token))
    }

    async fn set_share_attempts(
        &self,
        token: &ShareToken,
        seen: u32,
        attempts: ShareAttempts,
    ) -> Result<()> {
        self.write(|tx| shares::set_attempts(tx, token, seen, attempts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photo_domain::keys;
    use photo_domain::{ContentType, Error, FileName, ShareTarget, Timestamp};

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
        SqliteRepository::open(&dir.join("photos.sqlite3")).unwrap()
    }

    const P1: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const P2: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAW";
    const A1: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAX";

    #[tokio::test]
    async fn items_survive_reopening_with_their_keys_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let album = Album::new(
            AlbumId::parse(A1).unwrap(),
            alice.clone(),
            AlbumName::parse("Été").unwrap(),
            Timestamp::from_secs(2),
        );
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
        assert_eq!(
            repo.sort_keys(&keys::user_pk(&alice)).unwrap().len(),
            3,
            "the photo, its lookup item and the usage: nothing of the refused ones"
        );
    }

    #[tokio::test]
    async fn a_failed_transaction_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let repo = open(dir.path());
        // Make the usage write fail at the database, as a full disk or a broken file would,
        // after the photo and its lookup item were written in the same transaction.
        Connection::open(dir.path().join("photos.sqlite3"))
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.sk = 'USAGE' \
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
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
        assert!(repo.sort_keys(&keys::user_pk(&alice)).unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unreadable_row_is_an_error_naming_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let repo = open(dir.path());
        Connection::open(dir.path().join("photos.sqlite3"))
            .unwrap()
            .execute(
                &format!(
                    "INSERT INTO items (pk, sk, body) VALUES ('USER#alice', 'PHOTO#{P1}', '{{\"nope\":1}}')"
                ),
                [],
            )
            .unwrap();
        let err = repo
            .get_photo(&user("alice"), &PhotoId::parse(P1).unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`USER#alice` `PHOTO#{P1}`")), "{err}");
    }

    #[tokio::test]
    async fn readers_do_not_wait_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let repo = open(dir.path());
        repo.insert_photo(&photo(&alice, P1, 1, 10), 100)
            .await
            .unwrap();
        // Another writer holds the write lock with an uncommitted change.
        let mut other = Connection::open(dir.path().join("photos.sqlite3")).unwrap();
        let tx = other
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute("DELETE FROM items WHERE sk LIKE 'PHOTO#%'", [])
            .unwrap();
        let started = std::time::Instant::now();
        let page = repo.list_photos(&alice, None, 10).await.unwrap();
        assert_eq!(page.items.len(), 1, "the last committed state");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        drop(tx);
    }

    #[tokio::test]
    async fn pending_photos_come_from_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let alice = user("alice");
        let repo = open(dir.path());
        repo.insert_photo(&photo(&alice, P1, 1, 10), 100)
            .await
            .unwrap();
        repo.insert_photo(&photo(&alice, P2, 2, 10), 100)
            .await
            .unwrap();
        let failed = ProcessingOutcome::Failed {
            reason: "not a photo".into(),
            actual: None,
        };
        let p1 = PhotoId::parse(P1).unwrap();
        repo.finish_processing(&alice, &p1, &failed).await.unwrap();
        assert_eq!(
            repo.pending_photos().unwrap(),
            vec![(alice.clone(), PhotoId::parse(P2).unwrap())]
        );
        // The query reads the index, not the table.
        let plan: String = Connection::open(dir.path().join("photos.sqlite3"))
            .unwrap()
            .query_row(
                "EXPLAIN QUERY PLAN SELECT pk, sk FROM items INDEXED BY items_pending \
                 WHERE status = 'PENDING'",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("items_pending"), "{plan}");
    }
}
