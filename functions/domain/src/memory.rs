//! In-memory adapters for every port: used by tests, and by the local stage until it persists.
//!
//! The repository is a model of the single table, not a shortcut around it: items sit in a map
//! ordered by `(pk, sk)`, listings are descending range reads over one partition, `gsi1` lookups
//! select by the same `gsi1pk` values the DynamoDB adapter writes, and every write checks the same
//! conditions. The object store signs URLs with an HMAC it can check again, like S3 would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::error::{AuthFailure, Error, Result};
use crate::keys;
use crate::model::{
    Album, Page, Photo, PhotoStatus, ProcessingOutcome, Share, ShareTarget, SortKey, Usage,
};
use crate::ports::{
    Claims, Clock, IdentityVerifier, ObjectKey, ObjectStore, PhotoPatch, PresignedPost, Repository,
    UploadPolicy,
};
use crate::types::{
    AlbumId, AlbumName, PhotoId, Sha256, ShareToken, Timestamp, UserId, random_bytes,
};

type HmacSha256 = Hmac<sha2::Sha256>;

fn mac(secret: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("hmac takes any key length");
    m.update(data);
    m
}

fn sign_hex(secret: &[u8], data: &[u8]) -> String {
    mac(secret, data)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn verify_hex(secret: &[u8], data: &[u8], hex: &str) -> bool {
    let Ok(sig) = Sha256::parse(hex) else {
        return false;
    };
    // `verify_slice` compares in constant time.
    mac(secret, data).verify_slice(sig.as_bytes()).is_ok()
}

fn random_secret() -> [u8; 32] {
    let mut s = [0u8; 32];
    random_bytes(&mut s);
    s
}

/// One table item; the variant decides its attributes, the map key is `(pk, sk)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Item {
    Photo(Photo),
    Sha256Ref {
        photo: PhotoId,
    },
    Usage(Usage),
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
    fn gsi1pk(&self) -> Option<String> {
        match self {
            Item::Member { owner, photo, .. } => {
                Some(keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo)))
            }
            Item::Share(s) => Some(keys::target_gsi1pk(&s.owner, &s.target)),
            _ => None,
        }
    }
}

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

/// Descending range read of `sk` values starting with `prefix`, strictly below `after`.
fn query_desc(
    items: &Items,
    pk: &str,
    prefix: &str,
    after: Option<&SortKey>,
    limit: usize,
) -> (Vec<Item>, Option<SortKey>) {
    // `~` sorts after every character keys use, so this bounds the prefix.
    let range = key(pk.to_owned(), prefix.to_owned())..key(pk.to_owned(), format!("{prefix}~"));
    let mut out: Vec<(String, Item)> = Vec::new();
    let mut more = false;
    for ((_, sk), item) in items.range(range).rev() {
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

    /// Removes every share link (both items) whose `gsi1pk` points at `target`.
    fn remove_shares_of(items: &mut Items, owner: &UserId, target: &ShareTarget) {
        let gsi = keys::target_gsi1pk(owner, target);
        let shares: Vec<Share> = items
            .values()
            .filter(|i| i.gsi1pk().as_deref() == Some(gsi.as_str()))
            .filter_map(|i| match i {
                Item::Share(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        for s in shares {
            items.remove(&key(keys::share_pk(&s.token), keys::SHARE_SK.into()));
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
        let (items, next) = query_desc(
            &self.lock(),
            &keys::user_pk(owner),
            keys::PHOTO_PREFIX,
            after,
            limit,
        );
        let items = items
            .into_iter()
            .filter_map(|i| match i {
                Item::Photo(p) => Some(p),
                _ => None,
            })
            .collect();
        Ok(Page { items, next })
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
        match outcome {
            ProcessingOutcome::Ready(info) => {
                p.status = PhotoStatus::Ready;
                p.sha256_actual = Some(info.sha256_actual);
                p.dimensions = Some(info.dimensions);
                p.taken_at = info.taken_at;
                p.camera = info.camera.clone();
                p.gps = info.gps;
            }
            ProcessingOutcome::Failed { reason, actual } => {
                p.status = PhotoStatus::Failed {
                    reason: reason.clone(),
                };
                p.sha256_actual = *actual;
            }
        }
        Ok(p.clone())
    }

    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        let mut items = self.lock();
        let pk = keys::user_pk(owner);
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
        Self::remove_shares_of(&mut items, owner, &target);
        Ok(photo)
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
        let (items, next) = query_desc(
            &self.lock(),
            &keys::user_pk(owner),
            keys::ALBUM_PREFIX,
            after,
            limit,
        );
        let items = items
            .into_iter()
            .filter_map(|i| match i {
                Item::Album(a) => Some(a),
                _ => None,
            })
            .collect();
        Ok(Page { items, next })
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
        let prefix = keys::member_prefix(id);
        let members: Vec<Key> = items
            .range(key(pk.clone(), prefix.clone())..key(pk, format!("{prefix}~")))
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
        if !Self::album_exists(&items, owner, album)
            || Self::photo_of(&items, owner, photo).is_none()
        {
            return Err(Error::NotFound);
        }
        items.insert(
            key(keys::user_pk(owner), keys::member_sk(album, photo)),
            Item::Member {
                owner: owner.clone(),
                album: *album,
                photo: *photo,
            },
        );
        Ok(())
    }

    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        match self
            .lock()
            .remove(&key(keys::user_pk(owner), keys::member_sk(album, photo)))
        {
            Some(_) => Ok(()),
            None => Err(Error::NotFound),
        }
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
        let (members, next) = query_desc(
            &items,
            &keys::user_pk(owner),
            &keys::member_prefix(album),
            after,
            limit,
        );
        let photos = members
            .into_iter()
            .filter_map(|i| match i {
                Item::Member { photo, .. } => Self::photo_of(&items, owner, &photo),
                _ => None,
            })
            .collect();
        Ok(Page {
            items: photos,
            next,
        })
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
        let main = key(keys::share_pk(&share.token), keys::SHARE_SK.into());
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

    async fn get_share(&self, token: &ShareToken) -> Result<Option<Share>> {
        match self
            .lock()
            .get(&key(keys::share_pk(token), keys::SHARE_SK.into()))
        {
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
        let (links, next) = query_desc(
            &items,
            &keys::user_pk(owner),
            keys::SHARE_LINK_PREFIX,
            after,
            limit,
        );
        let shares = links
            .into_iter()
            .filter_map(|i| match i {
                Item::ShareLink { token } => {
                    match items.get(&key(keys::share_pk(&token), keys::SHARE_SK.into())) {
                        Some(Item::Share(s)) => Some(s.clone()),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        Ok(Page {
            items: shares,
            next,
        })
    }

    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        let mut items = self.lock();
        match items.get_mut(&key(keys::share_pk(token), keys::SHARE_SK.into())) {
            Some(Item::Share(s)) if &s.owner == owner => {
                s.revoked = true;
                Ok(s.clone())
            }
            _ => Err(Error::NotFound),
        }
    }
}

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// The photo bucket, in memory, with HMAC-signed upload policies and download URLs.
#[derive(Debug)]
pub struct InMemoryObjectStore {
    base_url: String,
    secret: [u8; 32],
    objects: Mutex<BTreeMap<String, StoredObject>>,
}

#[derive(Serialize, Deserialize)]
struct Policy {
    key: String,
    content_type: String,
    size: u64,
    sha256: String,
    expires: i64,
}

impl InMemoryObjectStore {
    /// `base_url` is where a local server would accept uploads and serve objects, without a
    /// trailing slash, e.g. `http://127.0.0.1:9000/photos`.
    pub fn new(base_url: impl Into<String>) -> Self {
        InMemoryObjectStore {
            base_url: base_url.into(),
            secret: random_secret(),
            objects: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, StoredObject>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores an object directly, as the thumbnail function writes derivatives.
    pub fn put(&self, key: &ObjectKey, bytes: Vec<u8>, content_type: &str) {
        self.lock().insert(
            key.as_str().to_owned(),
            StoredObject {
                bytes,
                content_type: content_type.into(),
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<StoredObject> {
        self.lock().get(key).cloned()
    }

    /// Every stored key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Accepts a browser upload made with a pre-signed POST, checking what S3 checks: the
    /// signature, the expiry, and that key, content type, size and checksum match the policy.
    pub fn accept_upload(
        &self,
        fields: &BTreeMap<String, String>,
        bytes: Vec<u8>,
        now: Timestamp,
    ) -> Result<ObjectKey> {
        let refuse = |why: &str| Error::invalid("upload", why.to_owned());
        let field = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| refuse(&format!("missing field `{name}`")))
        };
        let policy_b64 = field("policy")?;
        if !verify_hex(&self.secret, policy_b64.as_bytes(), field("x-signature")?) {
            return Err(refuse("bad signature"));
        }
        let policy: Policy = URL_SAFE_NO_PAD
            .decode(policy_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| refuse("malformed policy"))?;
        if now.secs() >= policy.expires {
            return Err(refuse("policy expired"));
        }
        if field("key")? != &policy.key || field("Content-Type")? != &policy.content_type {
            return Err(refuse("fields do not match the policy"));
        }
        if bytes.len() as u64 != policy.size {
            return Err(refuse("size does not match the policy"));
        }
        let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        if Sha256::from_bytes(digest).to_string() != policy.sha256 {
            return Err(refuse("checksum does not match the policy"));
        }
        self.lock().insert(
            policy.key.clone(),
            StoredObject {
                bytes,
                content_type: policy.content_type,
            },
        );
        Ok(ObjectKey::from_trusted(policy.key))
    }

    /// Checks a download URL made by [`ObjectStore::presign_download`]; returns the key it opens.
    pub fn verify_download_url(&self, url: &str, now: Timestamp) -> Option<String> {
        let rest = url.strip_prefix(&self.base_url)?.strip_prefix('/')?;
        let (key, query) = rest.split_once('?')?;
        let mut expires = None;
        let mut signature = None;
        for pair in query.split('&') {
            match pair.split_once('=')? {
                ("expires", v) => expires = v.parse::<i64>().ok(),
                ("signature", v) => signature = Some(v),
                _ => return None,
            }
        }
        let (expires, signature) = (expires?, signature?);
        let ok = now.secs() < expires
            && verify_hex(
                &self.secret,
                format!("GET\n{key}\n{expires}").as_bytes(),
                signature,
            );
        ok.then(|| key.to_owned())
    }
}

#[async_trait]
impl ObjectStore for InMemoryObjectStore {
    async fn presign_upload(
        &self,
        policy: &UploadPolicy,
        _now: Timestamp,
    ) -> Result<PresignedPost> {
        let wire = Policy {
            key: policy.key.as_str().to_owned(),
            content_type: policy.content_type.as_str().to_owned(),
            size: policy.size,
            sha256: policy.sha256.to_string(),
            expires: policy.expires_at.secs(),
        };
        let encoded = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&wire).map_err(|e| Error::Backend(e.to_string()))?);
        let fields = BTreeMap::from([
            ("key".to_owned(), wire.key),
            ("Content-Type".to_owned(), wire.content_type),
            (
                "x-amz-checksum-sha256".to_owned(),
                policy.sha256.to_base64(),
            ),
            (
                "x-signature".to_owned(),
                sign_hex(&self.secret, encoded.as_bytes()),
            ),
            ("policy".to_owned(), encoded),
        ]);
        Ok(PresignedPost {
            url: self.base_url.clone(),
            fields,
            expires_at: policy.expires_at,
        })
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        _now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String> {
        let expires = expires_at.secs();
        let sig = sign_hex(&self.secret, format!("GET\n{key}\n{expires}").as_bytes());
        Ok(format!(
            "{}/{key}?expires={expires}&signature={sig}",
            self.base_url
        ))
    }

    async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
        let mut objects = self.lock();
        for k in keys {
            objects.remove(k.as_str());
        }
        Ok(())
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.millis()))
    }
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

#[derive(Serialize, Deserialize)]
struct TestClaims {
    sub: String,
    aud: String,
    exp: i64,
}

/// Issues and verifies HMAC-signed test tokens, refusing them for the same reasons a Cognito
/// verifier would: malformed, bad signature, wrong audience, expired.
#[derive(Debug)]
pub struct TestIdentityVerifier {
    secret: [u8; 32],
    audience: String,
    clock: Arc<dyn Clock>,
}

impl TestIdentityVerifier {
    pub fn new(audience: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        TestIdentityVerifier {
            secret: random_secret(),
            audience: audience.into(),
            clock,
        }
    }

    /// A token for `user` valid for this verifier's audience until `expires_at`.
    pub fn issue(&self, user: &UserId, expires_at: Timestamp) -> String {
        self.issue_for_audience(user, expires_at, &self.audience.clone())
    }

    /// A token for another audience, to test that it is refused.
    pub fn issue_for_audience(
        &self,
        user: &UserId,
        expires_at: Timestamp,
        audience: &str,
    ) -> String {
        let claims = TestClaims {
            sub: user.as_str().into(),
            aud: audience.into(),
            exp: expires_at.secs(),
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let sig =
            URL_SAFE_NO_PAD.encode(mac(&self.secret, body.as_bytes()).finalize().into_bytes());
        format!("{body}.{sig}")
    }
}

#[async_trait]
impl IdentityVerifier for TestIdentityVerifier {
    async fn verify(&self, token: &str) -> Result<Claims> {
        let fail = Error::Unauthenticated;
        let (body, sig) = token.split_once('.').ok_or(fail(AuthFailure::Malformed))?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| fail(AuthFailure::Malformed))?;
        mac(&self.secret, body.as_bytes())
            .verify_slice(&sig)
            .map_err(|_| fail(AuthFailure::BadSignature))?;
        let claims: TestClaims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(fail(AuthFailure::Malformed))?;
        if claims.aud != self.audience {
            return Err(fail(AuthFailure::WrongAudience));
        }
        if self.clock.now().secs() >= claims.exp {
            return Err(fail(AuthFailure::Expired));
        }
        let user_id = UserId::parse(&claims.sub).map_err(|_| fail(AuthFailure::Malformed))?;
        Ok(Claims {
            user_id,
            username: None,
            expires_at: Timestamp::from_secs(claims.exp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ContentType;

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn uploads_are_checked_like_s3_would() {
        let store = InMemoryObjectStore::new("http://127.0.0.1:1/b");
        let bytes = b"hello photo".to_vec();
        let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        let photo = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        let now = Timestamp::from_secs(1000);
        let policy = UploadPolicy {
            key: ObjectKey::original(&user("alice"), &photo),
            content_type: ContentType::Jpeg,
            size: bytes.len() as u64,
            sha256: Sha256::from_bytes(digest),
            expires_at: now.plus_secs(60),
        };
        let post = store.presign_upload(&policy, now).await.unwrap();
        assert!(
            !format!("{post:?}").contains(&post.fields["x-signature"]),
            "debug hides the signature"
        );
        let check = |fields: &BTreeMap<String, String>, bytes: &[u8], at: Timestamp| {
            store
                .accept_upload(fields, bytes.to_vec(), at)
                .map(|k| k.to_string())
                .map_err(|e| e.to_string())
        };
        let mut other_key = post.fields.clone();
        other_key.insert("key".into(), "originals/bob/x".into());
        let mut forged = post.fields.clone();
        forged.insert("x-signature".into(), "00".repeat(32));
        assert!(
            check(&other_key, &bytes, now)
                .unwrap_err()
                .contains("do not match")
        );
        assert!(
            check(&forged, &bytes, now)
                .unwrap_err()
                .contains("bad signature")
        );
        assert!(
            check(&post.fields, b"hello phot0", now)
                .unwrap_err()
                .contains("checksum")
        );
        assert!(
            check(&post.fields, b"hello", now)
                .unwrap_err()
                .contains("size")
        );
        assert!(
            check(&post.fields, &bytes, now.plus_secs(60))
                .unwrap_err()
                .contains("expired")
        );
        assert!(store.keys().is_empty());
        assert_eq!(
            check(&post.fields, &bytes, now).unwrap(),
            format!("originals/alice/{photo}")
        );
        assert_eq!(
            store
                .get(&format!("originals/alice/{photo}"))
                .unwrap()
                .bytes,
            bytes
        );
        store
            .delete_objects(&ObjectKey::all_for(&user("alice"), &photo))
            .await
            .unwrap();
        assert!(store.keys().is_empty());
    }

    #[tokio::test]
    async fn test_tokens_fail_for_the_reasons_cognito_tokens_do() {
        async fn verify(ids: &TestIdentityVerifier, token: &str) -> Result<Claims> {
            ids.verify(token).await
        }
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1000)));
        let ids = TestIdentityVerifier::new("client", clock.clone());
        let other = TestIdentityVerifier::new("client", clock.clone());
        let alice = user("alice");
        let good = ids.issue(&alice, Timestamp::from_secs(1060));
        let check = async |token: String, expected: Result<&str, AuthFailure>| match (
            verify(&ids, &token).await,
            expected,
        ) {
            (Ok(c), Ok(u)) => assert_eq!(c.user_id.as_str(), u),
            (Err(Error::Unauthenticated(f)), Err(want)) => assert_eq!(f, want),
            (got, want) => panic!("{got:?} != {want:?}"),
        };
        check(good.clone(), Ok("alice")).await;
        check(
            other.issue(&alice, Timestamp::from_secs(1060)),
            Err(AuthFailure::BadSignature),
        )
        .await;
        check(
            ids.issue_for_audience(&alice, Timestamp::from_secs(1060), "x"),
            Err(AuthFailure::WrongAudience),
        )
        .await;
        check(
            ids.issue(&alice, Timestamp::from_secs(1000)),
            Err(AuthFailure::Expired),
        )
        .await;
        check("nodot".into(), Err(AuthFailure::Malformed)).await;
        check(format!("{good}x"), Err(AuthFailure::BadSignature)).await;
        check(format!("{good}!"), Err(AuthFailure::Malformed)).await;
        clock.advance_secs(60);
        check(good, Err(AuthFailure::Expired)).await;
    }

    #[tokio::test]
    async fn the_table_saves_and_loads_as_json() {
        let repo = InMemoryRepository::new();
        let alice = user("alice");
        let album = Album {
            id: AlbumId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
            owner: alice.clone(),
            name: AlbumName::parse("Été").unwrap(),
            created_at: Timestamp::from_secs(5),
        };
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
