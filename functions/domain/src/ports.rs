//! The small traits the domain needs from the outside world: metadata storage, object storage,
//! identity and time. AWS and the local stage implement them; [`crate::memory`] holds in-memory
//! versions for tests.
//!
//! They are object-safe (`async-trait`) so the API can keep them as `Arc<dyn ...>` in axum state.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use photo_contract::keys::{DERIVATIVES_PREFIX, ORIGINALS_PREFIX, UPLOADS_PREFIX};

use crate::error::Result;
use crate::model::{
    Album, MonthCount, Page, Photo, ProcessingOutcome, Share, ShareAttempts, ShareTarget, SortKey,
    Usage,
};
use crate::types::{
    AlbumId, AlbumName, ContentType, DisplayName, PhotoId, Sha256, ShareToken, Timestamp, Title,
    UserId,
};

/// Changes to a photo's user-editable fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoPatch {
    /// `Some(None)` clears the title.
    pub title: Option<Option<Title>>,
    pub favourite: Option<bool>,
}

/// Photo metadata, albums, share links and usage, laid out as in [`crate::keys`].
///
/// Every listing is a key-range query on one partition (`pk = USER#{owner}`), newest first,
/// starting strictly after `after` (the [`SortKey`] of the last item of the previous page), and
/// returns at most `limit` items. Every state change is a conditional write; the documented
/// errors are what a failed condition maps to.
#[async_trait]
pub trait Repository: Send + Sync + fmt::Debug {
    /// Writes a new photo, its checksum lookup item and the owner's raised usage in one transaction.
    /// Errors: [`Error::Duplicate`] if the owner has a photo with `photo.sha256_declared`
    /// (condition on the lookup item), [`Error::QuotaExceeded`] if `used_bytes + size > quota_bytes`
    /// (condition on the usage item), [`Error::AlreadyExists`] if the photo id is taken.
    ///
    /// [`Error::Duplicate`]: crate::Error::Duplicate
    /// [`Error::QuotaExceeded`]: crate::Error::QuotaExceeded
    /// [`Error::AlreadyExists`]: crate::Error::AlreadyExists
    async fn insert_photo(&self, photo: &Photo, quota_bytes: u64) -> Result<()>;

    /// One photo of `owner`, or `None` (also when the id belongs to someone else).
    async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>>;

    /// The owner's photo with this declared SHA-256, from the checksum lookup item.
    async fn find_photo_by_sha256(
        &self,
        owner: &UserId,
        sha256: &Sha256,
    ) -> Result<Option<PhotoId>>;

    /// The owner's photos, newest first (`sk` begins with `PHOTO#`, descending).
    async fn list_photos(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>>;

    /// The owner's photos by [`Photo::timeline_at`], newest first (ties by id, newest first):
    /// a descending query of the `timeline` index, `after` being the [`keys::timeline_sk`] of the
    /// last photo of the previous page. Photos stored before the index existed are listed once
    /// the deployer's backfill has given them their key.
    ///
    /// [`keys::timeline_sk`]: crate::keys::timeline_sk
    async fn list_timeline(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>>;

    /// How many of the owner's photos each month of the timeline holds, newest month first,
    /// months without photos left out: the count items kept by every write, never a count of
    /// the photos themselves.
    async fn timeline_months(&self, owner: &UserId) -> Result<Vec<MonthCount>>;

    /// Applies `patch` if the photo exists (condition `attribute_exists(pk)`), returning the new
    /// photo; [`crate::Error::NotFound`] otherwise.
    async fn update_photo(&self, owner: &UserId, id: &PhotoId, patch: &PhotoPatch)
    -> Result<Photo>;

    /// Takes one processing attempt: adds one to `processing_attempts`, only if the photo is
    /// PENDING and has used fewer than `max_attempts` (one conditional write), returning the
    /// updated photo; [`crate::Error::Conflict`] if the condition fails,
    /// [`crate::Error::NotFound`] if the photo does not exist.
    async fn start_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        max_attempts: u32,
    ) -> Result<Photo>;

    /// Stores the processing outcome, only if the photo is PENDING (condition on `status`), then
    /// widens the dates of the albums the photo is in when it learned the date taken;
    /// [`crate::Error::Conflict`] if it is not, [`crate::Error::NotFound`] if it does not exist.
    async fn finish_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        outcome: &ProcessingOutcome,
    ) -> Result<Photo>;

    /// Up to `limit` PENDING photos that processing never took up (no attempt taken), created
    /// before `created_before`, oldest first within an owner: `owner`'s, or with `None` every
    /// owner's. Reads the sparse index of awaited uploads (see [`crate::keys`]), so its cost is
    /// the number of uploads in flight, not of photos. Photos stored before the index existed
    /// are not in it.
    async fn awaited_uploads(
        &self,
        owner: Option<&UserId>,
        created_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Photo>>;

    /// Removes an upload that never arrived as [`Repository::delete_photo`] does, only while the
    /// photo is still PENDING with no processing attempt taken (one conditional write):
    /// [`crate::Error::Conflict`] if processing took it meanwhile, [`crate::Error::NotFound`] if
    /// it is gone.
    async fn remove_abandoned(&self, owner: &UserId, id: &PhotoId) -> Result<Photo>;

    /// Removes the photo, its checksum lookup item, its album memberships (each album updated as
    /// [`Album::left`] says) and every share link pointing at it (found through `gsi1`), and
    /// releases its bytes from the owner's usage.
    /// Returns the removed photo; [`crate::Error::NotFound`] if it does not exist.
    async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo>;

    /// The owner's usage (zero if nothing was ever uploaded).
    async fn get_usage(&self, owner: &UserId) -> Result<Usage>;

    /// The name the owner chose to be shown by, if any.
    async fn get_display_name(&self, owner: &UserId) -> Result<Option<DisplayName>>;

    /// Sets the owner's display name, or with `None` removes it.
    async fn set_display_name(&self, owner: &UserId, name: Option<&DisplayName>) -> Result<()>;

    /// Writes a new album; [`crate::Error::AlreadyExists`] if the id is taken.
    async fn insert_album(&self, album: &Album) -> Result<()>;

    async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Option<Album>>;

    /// The owner's albums, newest first (`sk` begins with `ALBUM#`, descending).
    async fn list_albums(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Album>>;

    /// Renames an existing album; [`crate::Error::NotFound`] otherwise.
    async fn rename_album(&self, owner: &UserId, id: &AlbumId, name: &AlbumName) -> Result<Album>;

    /// Removes the album, its memberships (not the photos) and the share links pointing at it.
    async fn delete_album(&self, owner: &UserId, id: &AlbumId) -> Result<()>;

    /// Adds a membership item, with condition checks that both the album and the photo exist
    /// under `owner` ([`crate::Error::NotFound`] otherwise), and the album's count, cover and
    /// dates as [`Album::joined`] says, in the same write. Adding twice is not an error and
    /// changes nothing.
    async fn add_to_album(&self, owner: &UserId, album: &AlbumId, photo: &PhotoId) -> Result<()>;

    /// Removes a membership and updates the album as [`Album::left`] says, in the same write;
    /// [`crate::Error::NotFound`] if the photo is not in the album.
    async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()>;

    /// Makes a photo of the album its cover, as the owner's choice; [`crate::Error::NotFound`]
    /// if the photo is not in the album.
    async fn set_album_cover(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album>;

    /// The album's photos, newest first (`sk` begins with `MEMBER#{album}#`, descending, then the
    /// photo items fetched by key). [`crate::Error::NotFound`] if the album does not exist.
    async fn list_album_photos(
        &self,
        owner: &UserId,
        album: &AlbumId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Photo>>;

    /// Writes both share items, with a condition check that the target exists under the owner
    /// ([`crate::Error::NotFound`] otherwise); [`crate::Error::AlreadyExists`] if the token is taken.
    async fn insert_share(&self, share: &Share) -> Result<()>;

    /// Every share link of `owner` pointing at `target` (revoked and expired ones too), found
    /// through `gsi1`.
    async fn shares_of(&self, owner: &UserId, target: &ShareTarget) -> Result<Vec<Share>>;

    /// The share link by token, read strongly consistent: revocation must take effect at once.
    async fn get_share(&self, token: &ShareToken) -> Result<Option<Share>>;

    /// The owner's share links, newest first (`sk` begins with `SHARELINK#`, descending).
    async fn list_shares(
        &self,
        owner: &UserId,
        after: Option<&SortKey>,
        limit: usize,
    ) -> Result<Page<Share>>;

    /// Marks the link revoked, only if `owner` owns it ([`crate::Error::NotFound`] otherwise).
    async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share>;

    /// Sets the link's password attempts to `attempts`, only while they still count `seen`
    /// failures ([`crate::Error::Conflict`] otherwise: another attempt was counted meanwhile);
    /// [`crate::Error::NotFound`] if the link is gone. Links stored before attempts were
    /// counted hold none.
    async fn set_share_attempts(
        &self,
        token: &ShareToken,
        seen: u32,
        attempts: ShareAttempts,
    ) -> Result<()>;
}

/// A key in the photo bucket, built only from the prefixes of the contract
/// ([`photo_contract::keys`]): the bucket notifies the thumbnail function for uploads only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// `uploads/{user}/{photo}`: where the browser uploads, until processing moves the file.
    pub fn upload(owner: &UserId, photo: &PhotoId) -> Self {
        ObjectKey(format!("{UPLOADS_PREFIX}{owner}/{photo}"))
    }
    /// `originals/{user}/{photo}`: the processed original, as its owner downloads it.
    pub fn original(owner: &UserId, photo: &PhotoId) -> Self {
        ObjectKey(format!("{ORIGINALS_PREFIX}{owner}/{photo}"))
    }
    /// `derivatives/{user}/{photo}/thumb.jpg`: the square grid thumbnail.
    pub fn thumbnail(owner: &UserId, photo: &PhotoId) -> Self {
        ObjectKey(format!("{DERIVATIVES_PREFIX}{owner}/{photo}/thumb.jpg"))
    }
    /// `derivatives/{user}/{photo}/preview.jpg`: the larger preview.
    pub fn preview(owner: &UserId, photo: &PhotoId) -> Self {
        ObjectKey(format!("{DERIVATIVES_PREFIX}{owner}/{photo}/preview.jpg"))
    }
    /// The owner and photo of an `uploads/{user}/{photo}` key, as in an S3 event notification;
    /// `None` for any other key, so the thumbnail function ignores what is not an upload.
    pub fn parse_upload(key: &str) -> Option<(UserId, PhotoId)> {
        Self::parse_under(UPLOADS_PREFIX, key)
    }
    /// The owner and photo of an `originals/{user}/{photo}` key.
    pub fn parse_original(key: &str) -> Option<(UserId, PhotoId)> {
        Self::parse_under(ORIGINALS_PREFIX, key)
    }
    fn parse_under(prefix: &str, key: &str) -> Option<(UserId, PhotoId)> {
        let rest = key.strip_prefix(prefix)?;
        let (user, photo) = rest.split_once('/')?;
        Some((UserId::parse(user).ok()?, PhotoId::parse(photo).ok()?))
    }
    /// Every key a photo can have, for deletion.
    pub fn all_for(owner: &UserId, photo: &PhotoId) -> [ObjectKey; 4] {
        [
            Self::upload(owner, photo),
            Self::original(owner, photo),
            Self::thumbnail(owner, photo),
            Self::preview(owner, photo),
        ]
    }
    /// Wraps a key that came from one of the constructors above and was stored as text.
    pub fn from_trusted(key: String) -> Self {
        ObjectKey(key)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an upload must be: the pre-signed POST policy pins all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPolicy {
    pub key: ObjectKey,
    pub content_type: ContentType,
    /// Exact size in bytes (`content-length-range` from `size` to `size`).
    pub size: u64,
    /// For `x-amz-checksum-sha256`, so S3 itself refuses other bytes.
    pub sha256: Sha256,
    pub expires_at: Timestamp,
}

/// A browser-ready pre-signed POST: send `fields` then the file as `multipart/form-data` to `url`.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedPost {
    pub url: String,
    pub fields: BTreeMap<String, String>,
    pub expires_at: Timestamp,
}

// The fields carry a signature: print their names only.
impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedPost")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Whom a download link is for, which bounds what one signature may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grant {
    /// The key's owner, signed in: one signature may cover every object of the owner under the
    /// key's prefix (`derivatives/{owner}/` or `originals/{owner}/`), so a page of photos costs
    /// one signature where signatures are dear (CloudFront's RSA).
    Owner,
    /// A share's guest: the signature covers this photo's objects and nothing else of the
    /// owner's.
    Photo,
}

/// The photo bucket.
#[async_trait]
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// Signs a POST policy for one upload; `now` is the signing time.
    async fn presign_upload(&self, policy: &UploadPolicy, now: Timestamp) -> Result<PresignedPost>;

    /// Signs a GET URL for `grant`, signed at `signed_at` (the start of the link's time window,
    /// so every request in one window gets the same URL) and valid until `expires_at`.
    async fn presign_download(
        &self,
        key: &ObjectKey,
        grant: Grant,
        signed_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String>;

    /// Deletes the objects; keys that do not exist are not an error.
    async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()>;

    /// Whether the object is in the bucket, asked of S3 by listing exactly this key: the roles
    /// may list `uploads/` and `originals/` only, where uploads arrive (and arrived, before
    /// uploads were staged). A `HeadObject` without `s3:ListBucket` answers 403 for a missing
    /// key, which says nothing.
    async fn object_exists(&self, key: &ObjectKey) -> Result<bool>;
}

/// The verified claims the API trusts; nothing else about the caller is believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// From `sub`.
    pub user_id: UserId,
    /// From `cognito:username` or `username`, if present.
    pub username: Option<String>,
    pub expires_at: Timestamp,
}

/// Checks a bearer token and says who it belongs to.
#[async_trait]
pub trait IdentityVerifier: Send + Sync + fmt::Debug {
    /// The claims of a valid token, or [`crate::Error::Unauthenticated`] saying which check failed.
    async fn verify(&self, token: &str) -> Result<Claims>;
}

/// The current time; a trait so tests can move it.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, expected: Option<(&str, &str)>) {
        let got = ObjectKey::parse_upload(key);
        let got = got
            .as_ref()
            .map(|(u, p)| (u.as_str().to_owned(), p.to_string()));
        assert_eq!(
            got.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
            expected,
            "{key}"
        );
    }

    #[test]
    fn upload_keys_parse_back() {
        let photo = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
        let user = UserId::parse("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab").unwrap();
        let id = PhotoId::parse(photo).unwrap();
        let key = ObjectKey::upload(&user, &id);
        check(key.as_str(), Some((user.as_str(), photo)));
        // An original is not an upload: writing one never starts processing again.
        check(ObjectKey::original(&user, &id).as_str(), None);
        check(&format!("derivatives/alice/{photo}/thumb.jpg"), None);
        check(&format!("uploads/alice/{photo}/x"), None);
        check("uploads/alice", None);
        check(&format!("uploads/al%ice/{photo}"), None);
        assert_eq!(
            ObjectKey::parse_original(ObjectKey::original(&user, &id).as_str()),
            Some((user.clone(), id))
        );
    }
}
