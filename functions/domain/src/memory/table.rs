//! The single table in memory: its items ([`Item`]) and the repository that reads and writes
//! them with the same conditions as the DynamoDB adapter ([`InMemoryRepository`]).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::abandoned;
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{
    Album, MonthCount, Page, Photo, PhotoStatus, ProcessingOutcome, Share, ShareAttempts,
    ShareTarget, SortKey, Usage,
};
use crate::ports::{PhotoPatch, Repository};
use crate::types::{
    AlbumId, AlbumName, DisplayName, PhotoId, Sha256, ShareToken, Timestamp, UserId,
};

/// One table item; the variant decides its attributes, the map key is `(pk, sk)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Item {
    Photo(Photo),
    Sha256Ref {
        photo: PhotoId,
    },
    Usage(Usage),
    Profile {
        display_name: DisplayName,
    },
    Album(Album),
    Member {
        owner: UserId,
        album: AlbumId,
        photo: PhotoId,
    },
    Share(Share),
    ShareLink {
        token: ShareToken,
    },
}

impl Item {
    /// The `gsi1pk` this item carries, as in [`crate::keys`].
    pub(crate) fn gsi1pk(&self) -> Option<String> {
        match self {
            Item::Member { owner, photo, .. } => {
                Some(keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo)))
            }
            Item::Share(s) => Some(keys::target_gsi1pk(&s.owner, &s.target)),
            _ => None,
        }
    }
}

mod albums;
mod timeline;

type Key = (String, String);
type Items = BTreeMap<Key, Item>;

/// The single table, in memory.
#[derive(Debug, Default)]
pub struct InMemoryRepository {
    items: Mutex<Items>,
}

fn key(pk: String, sk: String) -> Key {
    (pk, sk)
}

/// The key of a share link's own item.
fn share_key(token: &ShareToken) -> Key {
    key(keys::share_pk(token), keys::SHARE_SK.into())
}

/// The keys of `pk`'s items whose `sk` starts with `prefix`.
fn prefix_range(pk: &str, prefix: &str) -> std::ops::Range<Key> {
    // `~` sorts after every character keys use, so this bounds the prefix.
    key(pk.to_owned(), prefix.to_owned())..key(pk.to_owned(), format!("{prefix}~"))
}

/// Descending range read of `sk` values starting with `prefix`, strictly below `after`.
fn query_desc(
    items: &Items,
    pk: &str,
    prefix: &str,
    after: Option<&SortKey>,
    limit: usize,
) -> (Vec<Item>, Option<SortKey>) {
    let mut out: Vec<(String, Item)> = Vec::new();
    let mut more = false;
    for ((_, sk), item) in items.range(prefix_range(pk, prefix)).rev() {
        if after.is_some_and(|a| sk.as_str() >= a.0.as_str()) {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        out.push((sk.clone(), item.clone()));
    }
    let next = if more {
        out.last().map(|(sk, _)| SortKey(sk.clone()))
    } else {
        None
    };
    (out.into_iter().map(|(_, i)| i).collect(), next)
}

/// A page of `owner`'s items under `prefix` ([`query_desc`]), as the records `pick` finds in them.
fn page_of<T>(
    items: &Items,
    owner: &UserId,
    prefix: &str,
    after: Option<&SortKey>,
    limit: usize,
    pick: impl FnMut(Item) -> Option<T>,
) -> Page<T> {
    let (found, next) = query_desc(items, &keys::user_pk(owner), prefix, after, limit);
    Page {
        items: found.into_iter().filter_map(pick).collect(),
        next,
    }
}

impl InMemoryRepository {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Items> {
        // A panic elsewhere must not wedge every later request.
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every item as `(pk, sk, item)`, in key order: for tests and for saving the local stage.
    pub fn export(&self) -> Vec<(String, String, Item)> {
        self.lock()
            .iter()
            .map(|((pk, sk), i)| (pk.clone(), sk.clone(), i.clone()))
            .collect()
    }

    /// The whole table as JSON, for the local stage to save between runs.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(&self.export())
            .map_err(|e| Error::Backend(format!("saving the table: {e}")))
    }

    /// Loads a table saved by [`InMemoryRepository::to_json`]; every value is validated again.
    pub fn from_json(json: &str) -> Result<Self> {
        let items = serde_json::from_str(json)
            .map_err(|e| Error::Backend(format!("loading the table: {e}")))?;
        let repo = Self::new();
        repo.import(items);
        Ok(repo)
    }

    /// Replaces the contents with items from [`InMemoryRepository::export`].
    pub fn import(&self, items: Vec<(String, String, Item)>) {
        *self.lock() = items.into_iter().map(|(pk, sk, i)| ((pk, sk), i)).collect();
    }

    fn photo_of(items: &Items, owner: &UserId, id: &PhotoId) -> Option<Photo> {
        match items.get(&key(keys::user_pk(owner), keys::photo_sk(id))) {
            Some(Item::Photo(p)) => Some(p.clone()),
            _ => None,
        }
    }

    fn album_exists(items: &Items, owner: &UserId, id: &AlbumId) -> bool {
        items.contains_key(&key(keys::user_pk(owner), keys::album_sk(id)))
    }

    /// [`Repository::delete_photo`] on the locked items.
    fn delete_photo_in(items: &mut Items, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        let pk = keys::user_pk(owner);
        // Out of its albums first, while the album can still read it.
        for album in Self::albums_of(items, owner, id) {
            Self::leave(items, owner, &album, id)?;
        }
        let Some(Item::Photo(photo)) = items.remove(&key(pk.clone(), keys::photo_sk(id))) else {
            return Err(Error::NotFound);
        };
        let sha_key = key(pk.clone(), keys::sha256_sk(&photo.sha256_declared));
        if matches!(items.get(&sha_key), Some(Item::Sha256Ref { photo: p }) if p == id) {
            items.remove(&sha_key);
        }
        if let Some(Item::Usage(u)) = items.get_mut(&key(pk.clone(), keys::USAGE_SK.into())) {
            u.used_bytes = u.used_bytes.saturating_sub(photo.size);
            u.photo_count = u.photo_count.saturating_sub(1);
        }
        let target = ShareTarget::Photo(*id);
        let gsi = keys::target_gsi1pk(owner, &target);
        let members: Vec<Key> = items
            .iter()
            .filter(|(_, i)| {
                matches!(i, Item::Member { .. }) && i.gsi1pk().as_deref() == Some(gsi.as_str())
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in members {
            items.remove(&k);
        }
        Self::remove_shares_of(items, owner, &target);
        Ok(photo)
    }

    /// Removes every share link (both items) whose `gsi1pk` points at `target`.
    /// Every share link (the `SHARE` item) whose `gsi1pk` points at `target`.
    fn shares_pointing_at(items: &Items, owner: &UserId, target: &ShareTarget) -> Vec<Share> {
        let gsi = keys::target_gsi1pk(owner, target);
        items
            .values()
            .filter(|i| i.gsi1pk().as_deref() == Some(gsi.as_str()))
            .filter_map(|i| match i {
                Item::Share(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    fn remove_shares_of(items: &mut Items, owner: &UserId, target: &ShareTarget) {
        for s in Self::shares_pointing_at(items, owner, target) {
            items.remove(&share_key(&s.token));
            items.remove(&key(
                keys::user_pk(owner),
                keys::share_link_sk(s.created_at, &s.token),
            ));
        }
    }
}

#[async_trait]
impl Repository for InMemoryRepository {
    async fn insert_photo(&self, photo: &Photo, quota_bytes: u64) -> Result<()> {
        let mut items = self.lock();
        let pk = keys::user_pk(&photo.owner);
        let photo_key = key(pk.clone(), keys::photo_sk(&photo.id));
        let sha_key = key(pk.clone(), keys::sha256_sk(&photo.sha256_declared));
        let usage_key = key(pk, keys::USAGE_SK.into());
        if items.contains_key(&photo_key) {
            return Err(Error::AlreadyExists);
        }
        if let Some(Item::Sha256Ref { photo: existing }) = items.get(&sha_key) {
            return Err(Error::Duplicate {
                existing: *existing,
            });
        }
        let mut usage = match items.get(&usage_key) {
            Some(Item::Usage(u)) => *u,
            _ => Usage::default(),
        };
        if usage.used_bytes.saturating_add(photo.size) > quota_bytes {
            return Err(Error::QuotaExceeded {
                used: usage.used_bytes,
                quota: quota_bytes,
                requested: photo.size,
            });
        }
        usage.used_bytes += photo.size;
        usage.photo_count += 1;
        items.insert(photo_key, Item::Photo(photo.clone()));
        items.insert(sha_key, Item::Sha256Ref { photo: photo.id });
        items.insert(usage_key, Item::Usage(usage));
        Ok(())
    }

    async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>> {
        Ok(Self::photo_of(&self.lock(), owner, id))
    }

    async fn find_photo_by_sha256(
        &self,
        owner: &UserId,
        sha256: &Sha256,
    ) -> Result<Option<PhotoId>> {
        match self
            .lock()
            .get(&key(keys::user_pk(owner), keys::sha256_sk(sha256)))
        {
            Some(Item::Sha256Ref { photo }) => Ok(Some(*photo)),
            _ => Ok(None),
        }
    }

    async fn list_photos(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        let pick = |i| match i {
            Item::Photo(p) => Some(p),
            _ => None,
        };
        Ok(page_of(
            &self.lock(),
            owner,
            keys::PHOTO_PREFIX,
            after,
            limit,
            pick,
        ))
    }

    async fn list_timeline(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        Ok(timeline::page(&self.lock(), owner, after, limit))
    }

    async fn timeline_months(&self, owner: &UserId) -> Result<Vec<MonthCount>> {
        Ok(timeline::months(&self.lock(), owner))
    }

    async fn update_photo(
        &self,
        owner: &UserId,
        id: &PhotoId,
        patch: &PhotoPatch,
    ) -> Result<Photo> {
        let mut items = self.lock();
        let Some(Item::Photo(p)) = items.get_mut(&key(keys::user_pk(owner), keys::photo_sk(id)))
        else {
            return Err(Error::NotFound);
        };
        if let Some(title) = &patch.title {
            p.title = title.clone();
        }
        if let Some(f) = patch.favourite {
            p.favourite = f;
        }
        Ok(p.clone())
    }

    async fn start_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        max_attempts: u32,
    ) -> Result<Photo> {
        let mut items = self.lock();
        let Some(Item::Photo(p)) = items.get_mut(&key(keys::user_pk(owner), keys::photo_sk(id)))
        else {
            return Err(Error::NotFound);
        };
        if p.status != PhotoStatus::Pending || p.processing_attempts >= max_attempts {
            return Err(Error::Conflict(format!(
                "photo `{id}` is not PENDING or has no attempt left"
            )));
        }
        p.processing_attempts += 1;
        Ok(p.clone())
    }

    async fn finish_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Photo> {
        let mut items = self.lock();
        let Some(Item::Photo(p)) = items.get_mut(&key(keys::user_pk(owner), keys::photo_sk(id)))
        else {
            return Err(Error::NotFound);
        };
        if p.status != PhotoStatus::Pending {
            return Err(Error::Conflict(format!("photo `{id}` is not PENDING")));
        }
        p.finish(outcome);
        let done = p.clone();
        // A date learned widens the albums it is in.
        if let Some(at) = done.date_taken() {
            for album in Self::albums_of(&items, owner, id) {
                if let Some(a) = Self::album_mut(&mut items, owner, &album) {
                    a.widen(at);
                }
            }
        }
        Ok(done)
    }

    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        Self::delete_photo_in(&mut self.lock(), owner, id)
    }

    async fn awaited_uploads(
        &self,
        owner: Option<&UserId>,
        created_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Photo>> {
        let photos: Vec<Photo> = self
            .lock()
            .values()
            .filter_map(|item| match item {
                Item::Photo(p) if owner.is_none_or(|o| &p.owner == o) => Some(p.clone()),
                _ => None,
            })
            .collect();
        Ok(abandoned::awaited_before(photos, created_before, limit))
    }

    async fn remove_abandoned(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        let mut items = self.lock();
        match Self::photo_of(&items, owner, id) {
            None => Err(Error::NotFound),
            Some(p) if !p.is_awaited() => Err(Error::Conflict(format!(
                "photo `{id}` is no longer an awaited upload"
            ))),
            Some(_) => Self::delete_photo_in(&mut items, owner, id),
        }
    }

    async fn get_usage(&self, owner: &UserId) -> Result<Usage> {
        match self
            .lock()
            .get(&key(keys::user_pk(owner), keys::USAGE_SK.into()))
        {
            Some(Item::Usage(u)) => Ok(*u),
            _ => Ok(Usage::default()),
        }
    }

    async fn get_display_name(&self, owner: &UserId) -> Result<Option<DisplayName>> {
        match self
            .lock()
            .get(&key(keys::user_pk(owner), keys::PROFILE_SK.into()))
        {
            Some(Item::Profile { display_name }) => Ok(Some(display_name.clone())),
            _ => Ok(None),
        }
    }

    async fn set_display_name(&self, owner: &UserId, name: Option<&DisplayName>) -> Result<()> {
        let k = key(keys::user_pk(owner), keys::PROFILE_SK.into());
        let mut items = self.lock();
        match name {
            Some(name) => items.insert(
                k,
                Item::Profile {
                    display_name: name.clone(),
                },
            ),
            None => items.remove(&k),
        };
        Ok(())
    }

    async fn insert_album(&self, album: &Album) -> Result<()> {
        let mut items = self.lock();
        let k = key(keys::user_pk(&album.owner), keys::album_sk(&album.id));
        if items.contains_key(&k) {
            return Err(Error::AlreadyExists);
        }
        items.insert(k, Item::Album(album.clone()));
        Ok(())
    }

    async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Option<Album>> {
        match self
            .lock()
            .get(&key(keys::user_pk(owner), keys::album_sk(id)))
        {
            Some(Item::Album(a)) => Ok(Some(a.clone())),
            _ => Ok(None),
        }
    }

    async fn list_albums(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Album>> {
        let pick = |i| match i {
            Item::Album(a) => Some(a),
            _ => None,
        };
        Ok(page_of(
            &self.lock(),
            owner,
            keys::ALBUM_PREFIX,
            after,
            limit,
            pick,
        ))
    }

    async fn rename_album(&self, owner: &UserId, id: &AlbumId, name: &AlbumName) -> Result<Album> {
        let mut items = self.lock();
        let Some(Item::Album(a)) = items.get_mut(&key(keys::user_pk(owner), keys::album_sk(id)))
        else {
            return Err(Error::NotFound);
        };
        a.name = name.clone();
        Ok(a.clone())
    }

    async fn delete_album(&self, owner: &UserId, id: &AlbumId) -> Result<()> {
        let mut items = self.lock();
        let pk = keys::user_pk(owner);
        if items.remove(&key(pk.clone(), keys::album_sk(id))).is_none() {
            return Err(Error::NotFound);
        }
        let members: Vec<Key> = items
            .range(prefix_range(&pk, &keys::member_prefix(id)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in members {
            items.remove(&k);
        }
        Self::remove_shares_of(&mut items, owner, &ShareTarget::Album(*id));
        Ok(())
    }

    async fn add_to_album(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()> {
        let mut items = self.lock();
        let Some(joining) = Self::photo_of(&items, owner, photo) else {
            return Err(Error::NotFound);
        };
        if !Self::album_exists(&items, owner, album) {
            return Err(Error::NotFound);
        }
        let member = key(keys::user_pk(owner), keys::member_sk(album, photo));
        if items.contains_key(&member) {
            return Ok(());
        }
        items.insert(
            member,
            Item::Member {
                owner: owner.clone(),
                album: *album,
                photo: *photo,
            },
        );
        if let Some(a) = Self::album_mut(&mut items, owner, album) {
            a.joined(&joining);
        }
        Ok(())
    }

    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        let mut items = self.lock();
        Self::leave(&mut items, owner, album, photo).map(drop)
    }

    async fn set_album_cover(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album> {
        let mut items = self.lock();
        if !items.contains_key(&key(keys::user_pk(owner), keys::member_sk(album, photo))) {
            return Err(Error::NotFound);
        }
        let a = Self::album_mut(&mut items, owner, album).ok_or(Error::NotFound)?;
        a.cover = Some(*photo);
        a.cover_chosen = true;
        Ok(a.clone())
    }

    async fn list_album_photos(
        &self,
        owner: &UserId,
        album: &AlbumId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>> {
        let items = self.lock();
        if !Self::album_exists(&items, owner, album) {
            return Err(Error::NotFound);
        }
        let pick = |i| match i {
            Item::Member { photo, .. } => Self::photo_of(&items, owner, &photo),
            _ => None,
        };
        Ok(page_of(
            &items,
            owner,
            &keys::member_prefix(album),
            after,
            limit,
            pick,
        ))
    }

    async fn insert_share(&self, share: &Share) -> Result<()> {
        let mut items = self.lock();
        let target_exists = match &share.target {
            ShareTarget::Photo(p) => Self::photo_of(&items, &share.owner, p).is_some(),
            ShareTarget::Album(a) => Self::album_exists(&items, &share.owner, a),
        };
        if !target_exists {
            return Err(Error::NotFound);
        }
        let main = share_key(&share.token);
        if items.contains_key(&main) {
            return Err(Error::AlreadyExists);
        }
        items.insert(main, Item::Share(share.clone()));
        items.insert(
            key(
                keys::user_pk(&share.owner),
                keys::share_link_sk(share.created_at, &share.token),
            ),
            Item::ShareLink {
                token: share.token.clone(),
            },
        );
        Ok(())
    }

    async fn shares_of(&self, owner: &UserId, target: &ShareTarget) -> Result<Vec<Share>> {
        Ok(Self::shares_pointing_at(&self.lock(), owner, target))
    }

    async fn get_share(&self, token: &ShareToken) -> Result<Option<Share>> {
        match self.lock().get(&share_key(token)) {
            Some(Item::Share(s)) => Ok(Some(s.clone())),
            _ => Ok(None),
        }
    }

    async fn list_shares(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Share>> {
        let items = self.lock();
        let pick = |i| match i {
            Item::ShareLink { token } => match items.get(&share_key(&token)) {
                Some(Item::Share(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        Ok(page_of(
            &items,
            owner,
            keys::SHARE_LINK_PREFIX,
            after,
            limit,
            pick,
        ))
    }

    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        let mut items = self.lock();
        match items.get_mut(&share_key(token)) {
            Some(Item::Share(s)) if &s.owner == owner => {
                s.revoked = true;
                Ok(s.clone())
            }
            _ => Err(Error::NotFound),
        }
    }

    async fn set_share_attempts(
        &self,
        token: &ShareToken,
        seen: u32,
        attempts: ShareAttempts,
    ) -> Result<()> {
        let mut items = self.lock();
        match items.get_mut(&share_key(token)) {
            Some(Item::Share(s)) if s.attempts.failed == seen => {
                s.attempts = attempts;
                Ok(())
            }
            Some(Item::Share(_)) => Err(Error::Conflict("another attempt was counted".into())),
            _ => Err(Error::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Timestamp;

    #[tokio::test]
    async fn the_table_saves_and_loads_as_json() {
        let repo = InMemoryRepository::new();
        let alice = UserId::parse("alice").unwrap();
        let album = Album::new(
            AlbumId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
            alice.clone(),
            AlbumName::parse("Été").unwrap(),
            Timestamp::from_secs(5),
        );
        repo.insert_album(&album).await.unwrap();
        let json = repo.to_json().unwrap();
        let loaded = InMemoryRepository::from_json(&json).unwrap();
        assert_eq!(
            loaded.get_album(&alice, &album.id).await.unwrap(),
            Some(album)
        );
        assert_eq!(loaded.export(), repo.export());
        let tampered = json.replace("alice", "al#ce");
        assert!(
            InMemoryRepository::from_json(&tampered).is_err(),
            "ids are validated on load"
        );
        assert!(InMemoryRepository::from_json("{").is_err());
    }

    #[test]
    fn range_reads_stay_inside_the_prefix_and_page_exactly() {
        let mut items = Items::new();
        for sk in [
            "ALBUM#1", "PHOTO#1", "PHOTO#2", "PHOTO#3", "PHOTOX", "SHA256#1",
        ] {
            items.insert(
                key("USER#a".into(), sk.into()),
                Item::Usage(Usage::default()),
            );
        }
        items.insert(
            key("USER#b".into(), "PHOTO#9".into()),
            Item::Usage(Usage::default()),
        );
        let page = |after: Option<&str>, limit| {
            let after = after.map(|a| SortKey(a.into()));
            let (items, next) = query_desc(&items, "USER#a", "PHOTO#", after.as_ref(), limit);
            (items.len(), next.map(|k| k.0))
        };
        assert_eq!(page(None, 2), (2, Some("PHOTO#2".into())));
        assert_eq!(page(Some("PHOTO#2"), 2), (1, None));
        assert_eq!(
            page(None, 3),
            (3, None),
            "no next key when the page ends the range"
        );
        assert_eq!(page(Some("PHOTO#1"), 5), (0, None));
    }
}
