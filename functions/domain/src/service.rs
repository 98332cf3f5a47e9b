//! The photo service: every rule about who may see or change what lives here.

mod batch;
mod profile;
mod shares;
mod timeline;

pub use batch::{BatchAction, MAX_BATCH};
pub use shares::NewShare;

use std::sync::Arc;

use crate::abandoned::{Abandoned, UPLOAD_FORM_SECS};
use crate::cursor;
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{Album, Page, Photo, PhotoStatus, ProcessedInfo, ShareTarget, SortKey, Usage};
use crate::password::PasswordCost;
use crate::ports::{
    Clock, Grant, ObjectKey, ObjectStore, PhotoPatch, PresignedPost, Repository, UploadPolicy,
};
use crate::processing::Processing;
use crate::types::{
    AlbumId, AlbumName, Camera, ContentType, Dimensions, DisplayName, FileName, PhotoId, Sha256,
    Timestamp, Title, UlidGenerator, UserId,
};

/// Limits and lifetimes the service enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted original, in bytes.
    pub max_upload_bytes: u64,
    /// Bytes each user may hold.
    pub quota_bytes: u64,
    /// Longest a share link may live.
    pub max_share_days: u32,
    /// Lifetime of a link created without `expires_in_days`.
    pub default_share_days: u32,
    /// Links to a signed-in owner's photos.
    pub owner_links: LinkTerms,
    /// Links to the photos of a share, for its guests.
    pub share_links: LinkTerms,
    pub password_cost: PasswordCost,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 50 * 1024 * 1024,
            quota_bytes: 5 * 1024 * 1024 * 1024,
            max_share_days: 30,
            default_share_days: 7,
            owner_links: Limits::DEFAULT_OWNER_LINKS,
            share_links: Limits::DEFAULT_SHARE_LINKS,
            password_cost: PasswordCost::Standard,
        }
    }
}

/// How download links are issued: signed for fixed time windows, so that every request within
/// one window gets byte-identical links (which browsers and the edge can cache, and which cost
/// one signature per window where signing is dear), each valid for `lifetime_secs` after its
/// window ends. A link is so valid between `lifetime_secs` and `window_secs + lifetime_secs`
/// after it is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTerms {
    pub window_secs: i64,
    pub lifetime_secs: i64,
}

impl LinkTerms {
    /// The window `now` falls in: when its links are signed (its start) and when they expire.
    pub fn at(self, now: Timestamp) -> (Timestamp, Timestamp) {
        let window = self.window_secs.max(1);
        let start = now.secs().div_euclid(window) * window;
        (
            Timestamp::from_secs(start),
            Timestamp::from_secs(start + window + self.lifetime_secs),
        )
    }
}

impl Limits {
    /// A gallery left open for the day keeps working; links change once an hour.
    pub const DEFAULT_OWNER_LINKS: LinkTerms = LinkTerms {
        window_secs: 60 * 60,
        lifetime_secs: 12 * 60 * 60,
    };
    /// CloudFront cannot revoke a signed URL: a revoked share's links die within the hour.
    pub const DEFAULT_SHARE_LINKS: LinkTerms = LinkTerms {
        window_secs: 10 * 60,
        lifetime_secs: 50 * 60,
    };
}

/// The most items one page may hold.
pub const MAX_PAGE: usize = 100;
/// Album share pages list at most this many photos.
pub const MAX_SHARED_ALBUM_PHOTOS: usize = 500;

/// A request to upload one photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub file_name: FileName,
    pub content_type: ContentType,
    pub size: u64,
    pub sha256: Sha256,
}

/// Pre-signed links for a photo's objects; present only when the object should exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoUrls {
    pub thumbnail: Option<String>,
    pub preview: Option<String>,
    /// Owner-only.
    pub original: Option<String>,
}

/// A photo as its owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoView {
    pub photo: Photo,
    pub urls: PhotoUrls,
}

/// A page of results with the cursor for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A photo as a share link shows it: derivatives and non-sensitive metadata only.
///
/// There is no field for GPS or for the original, so no listing can leak them through a link;
/// an original leaves only through [`PhotoService::share_download`], where the owner allowed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedPhoto {
    pub id: PhotoId,
    pub title: Option<Title>,
    pub dimensions: Option<Dimensions>,
    pub taken_at: Option<Timestamp>,
    /// As [`Photo::taken_at_local`].
    pub taken_at_local: Option<String>,
    pub camera: Option<Camera>,
    pub thumbnail_url: Option<String>,
    pub preview_url: Option<String>,
}

/// What an open share link shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedView {
    pub target: ShareTarget,
    pub album_name: Option<AlbumName>,
    pub expires_at: Timestamp,
    /// Whether the guest may download the originals ([`PhotoService::share_download`]).
    pub allow_download: bool,
    /// The owner's display name, when they chose one.
    pub shared_by: Option<DisplayName>,
    pub photos: Vec<SharedPhoto>,
}

/// A user's usage against their quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageReport {
    pub usage: Usage,
    pub quota_bytes: u64,
    pub max_upload_bytes: u64,
    /// The longest a share link may live, in days.
    pub max_share_days: u32,
}

/// The domain service; cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct PhotoService {
    repo: Arc<dyn Repository>,
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    ids: Arc<UlidGenerator>,
}

/// The sort key a page starts after: the decoded `cursor`, which must be `owner`'s and name an
/// item under `prefix`.
fn start_after(owner: &UserId, prefix: &str, cursor: Option<&str>) -> Result<Option<SortKey>> {
    cursor.map(|c| cursor::decode(owner, prefix, c)).transpose()
}

/// A page as a listing, its next key as `owner`'s cursor.
fn listing<T>(owner: &UserId, page: Page<T>) -> Listing<T> {
    Listing {
        items: page.items,
        next_cursor: page.next.map(|k| cursor::encode(owner, &k)),
    }
}

fn check_limit(limit: usize) -> Result<usize> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::invalid("limit", format!("expected 1 to {MAX_PAGE}")))
    }
}

impl PhotoService {
    pub fn new(
        repo: Arc<dyn Repository>,
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Self {
        PhotoService {
            repo,
            store,
            clock,
            limits,
            ids: Arc::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Starts an upload: checks type, size, duplicates and quota before any bytes move, records a
    /// PENDING photo and returns the pre-signed POST the browser uploads with.
    pub async fn start_upload(
        &self,
        owner: &UserId,
        upload: NewUpload,
    ) -> Result<(Photo, PresignedPost)> {
        if upload.size == 0 {
            return Err(Error::invalid("size", "an empty file is not a photo"));
        }
        if upload.size > self.limits.max_upload_bytes {
            return Err(Error::TooLarge {
                size: upload.size,
                max: self.limits.max_upload_bytes,
            });
        }
        // An abandoned upload of the same file, or abandoned uploads holding the quota, are
        // removed first: they must not refuse this one. Where that cannot be found out (the
        // bucket does not answer), the refusal stands, as before the check.
        let abandoned = self.abandoned();
        let unsure = |e: Error| {
            tracing::warn!(error = %e, "looking for abandoned uploads");
            false
        };
        if let Some(existing) = self
            .repo
            .find_photo_by_sha256(owner, &upload.sha256)
            .await?
        {
            let gone = match self.repo.get_photo(owner, &existing).await? {
                Some(photo) => abandoned.expire(&photo).await.unwrap_or_else(unsure),
                None => false,
            };
            if !gone {
                return Err(Error::Duplicate { existing });
            }
        }
        let over = |used: u64| used.saturating_add(upload.size) > self.limits.quota_bytes;
        let mut usage = self.repo.get_usage(owner).await?;
        if over(usage.used_bytes) {
            // Those removed before a failure count too: read the usage again either way.
            if let Err(e) = abandoned.sweep(Some(owner)).await {
                unsure(e);
            }
            usage = self.repo.get_usage(owner).await?;
        }
        if over(usage.used_bytes) {
            return Err(Error::QuotaExceeded {
                used: usage.used_bytes,
                quota: self.limits.quota_bytes,
                requested: upload.size,
            });
        }
        let now = self.clock.now();
        let photo = Photo::pending(
            PhotoId::from_ulid(self.ids.next(now)),
            owner.clone(),
            upload.file_name,
            upload.content_type,
            upload.size,
            upload.sha256,
            now,
        );
        // The checks above are a fast path with friendly numbers; this write re-checks both
        // conditions atomically, so two racing uploads cannot both pass.
        self.repo
            .insert_photo(&photo, self.limits.quota_bytes)
            .await?;
        let policy = UploadPolicy {
            key: ObjectKey::upload(owner, &photo.id),
            content_type: photo.content_type,
            size: photo.size,
            sha256: photo.sha256_declared,
            expires_at: now.plus_secs(UPLOAD_FORM_SECS),
        };
        match self.store.presign_upload(&policy, now).await {
            Ok(post) => Ok((photo, post)),
            Err(e) => {
                // Without a way to upload, the record would only hold quota: take it back.
                let _ = self.repo.delete_photo(owner, &photo.id).await;
                Err(e)
            }
        }
    }

    /// Expiry of abandoned uploads, over this service's table, bucket and clock.
    pub fn abandoned(&self) -> Abandoned {
        Abandoned::new(self.repo.clone(), self.store.clone(), self.clock.clone())
    }

    /// The photo's links for `grant`; a share's (`Grant::Photo`) never outlive `share_ends`.
    async fn urls(
        &self,
        photo: &Photo,
        with_original: bool,
        grant: Grant,
        share_ends: Option<Timestamp>,
    ) -> Result<PhotoUrls> {
        if photo.status != PhotoStatus::Ready {
            return Ok(PhotoUrls::default());
        }
        let terms = match grant {
            Grant::Owner => self.limits.owner_links,
            Grant::Photo => self.limits.share_links,
        };
        let (signed_at, mut until) = terms.at(self.clock.now());
        if let Some(ends) = share_ends {
            until = until.min(ends);
        }
        let sign = |key: ObjectKey| async move {
            self.store
                .presign_download(&key, grant, signed_at, until)
                .await
        };
        Ok(PhotoUrls {
            thumbnail: Some(sign(ObjectKey::thumbnail(&photo.owner, &photo.id)).await?),
            preview: Some(sign(ObjectKey::preview(&photo.owner, &photo.id)).await?),
            original: if with_original {
                Some(sign(ObjectKey::original(&photo.owner, &photo.id)).await?)
            } else {
                None
            },
        })
    }

    async fn views(
        &self,
        owner: &UserId,
        page: Page<Photo>,
        with_original: bool,
    ) -> Result<Listing<PhotoView>> {
        let mut items = Vec::with_capacity(page.items.len());
        for photo in page.items {
            let urls = self.urls(&photo, with_original, Grant::Owner, None).await?;
            items.push(PhotoView { photo, urls });
        }
        Ok(Listing {
            items,
            next_cursor: page.next.map(|k| cursor::encode(owner, &k)),
        })
    }

    /// The owner's photos, newest first.
    pub async fn list_photos(
        &self,
        owner: &UserId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<PhotoView>> {
        let limit = check_limit(limit)?;
        let after = start_after(owner, keys::PHOTO_PREFIX, cursor)?;
        let page = self.repo.list_photos(owner, after.as_ref(), limit).await?;
        self.views(owner, page, false).await
    }

    async fn photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.repo.get_photo(owner, id).await?.ok_or(Error::NotFound)
    }

    /// One of the owner's photos, with a link to the original.
    pub async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<PhotoView> {
        let photo = self.photo(owner, id).await?;
        let urls = self.urls(&photo, true, Grant::Owner, None).await?;
        Ok(PhotoView { photo, urls })
    }

    pub async fn update_photo(
        &self,
        owner: &UserId,
        id: &PhotoId,
        patch: &PhotoPatch,
    ) -> Result<PhotoView> {
        let photo = self.repo.update_photo(owner, id, patch).await?;
        let urls = self.urls(&photo, true, Grant::Owner, None).await?;
        Ok(PhotoView { photo, urls })
    }

    /// Deletes the photo's objects, then everything the table holds about it, then its objects
    /// once more.
    ///
    /// Objects go first: if the record's deletion fails, the photo is still listed and deleting
    /// again finishes the job, whereas the other order could strand objects nobody can find. The
    /// second sweep catches what a processing attempt running at the same time wrote between the
    /// first sweep and the record's deletion (an attempt that finishes later finds no record and
    /// removes its own writes).
    pub async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<()> {
        self.photo(owner, id).await?;
        let keys = ObjectKey::all_for(owner, id);
        self.store.delete_objects(&keys).await?;
        self.repo.delete_photo(owner, id).await?;
        self.store.delete_objects(&keys).await?;
        Ok(())
    }

    /// The processing side of this service, for the thumbnail step (see [`Processing`]).
    pub fn processing(&self) -> Processing {
        Processing::new(self.repo.clone())
    }

    /// Records what the thumbnail function measured; see [`Processing::complete`].
    pub async fn complete_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        info: ProcessedInfo,
    ) -> Result<Photo> {
        self.processing().complete(owner, id, info).await
    }

    /// Marks the photo FAILED with `reason`; see [`Processing::fail`].
    pub async fn fail_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        reason: &str,
    ) -> Result<Photo> {
        self.processing().fail(owner, id, reason).await
    }

    pub async fn create_album(&self, owner: &UserId, name: AlbumName) -> Result<Album> {
        let now = self.clock.now();
        let id = AlbumId::from_ulid(self.ids.next(now));
        let album = Album::new(id, owner.clone(), name, now);
        self.repo.insert_album(&album).await?;
        Ok(album)
    }

    pub async fn list_albums(
        &self,
        owner: &UserId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<Album>> {
        let limit = check_limit(limit)?;
        let after = start_after(owner, keys::ALBUM_PREFIX, cursor)?;
        let page = self.repo.list_albums(owner, after.as_ref(), limit).await?;
        Ok(listing(owner, page))
    }

    pub async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Album> {
        self.repo.get_album(owner, id).await?.ok_or(Error::NotFound)
    }

    /// A link to the thumbnail of an album's cover, for its owner (`None` for an empty album).
    /// Signed without reading the photo: a cover is one of the album's photos, and one still
    /// being processed has a link that answers 404 until its thumbnail exists.
    pub async fn album_cover_link(&self, album: &Album) -> Result<Option<String>> {
        let Some(cover) = &album.cover else {
            return Ok(None);
        };
        let (signed_at, until) = self.limits.owner_links.at(self.clock.now());
        let key = ObjectKey::thumbnail(&album.owner, cover);
        self.store
            .presign_download(&key, Grant::Owner, signed_at, until)
            .await
            .map(Some)
    }

    pub async fn rename_album(
        &self,
        owner: &UserId,
        id: &AlbumId,
        name: &AlbumName,
    ) -> Result<Album> {
        self.repo.rename_album(owner, id, name).await
    }

    /// Shows one of the album's photos for it, as the owner's choice.
    pub async fn set_album_cover(
        &self,
        owner: &UserId,
        id: &AlbumId,
        photo: &PhotoId,
    ) -> Result<Album> {
        self.repo.set_album_cover(owner, id, photo).await
    }

    pub async fn delete_album(&self, owner: &UserId, id: &AlbumId) -> Result<()> {
        self.repo.delete_album(owner, id).await
    }

    pub async fn add_to_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        self.repo.add_to_album(owner, album, photo).await
    }

    pub async fn remove_from_album(
        &self,
        owner: &UserId,
        album: &AlbumId,
        photo: &PhotoId,
    ) -> Result<()> {
        self.repo.remove_from_album(owner, album, photo).await
    }

    pub async fn list_album_photos(
        &self,
        owner: &UserId,
        album: &AlbumId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<PhotoView>> {
        let limit = check_limit(limit)?;
        let after = start_after(owner, &keys::member_prefix(album), cursor)?;
        let page = self
            .repo
            .list_album_photos(owner, album, after.as_ref(), limit)
            .await?;
        self.views(owner, page, false).await
    }

    pub async fn usage(&self, owner: &UserId) -> Result<UsageReport> {
        Ok(UsageReport {
            usage: self.repo.get_usage(owner).await?,
            quota_bytes: self.limits.quota_bytes,
            max_upload_bytes: self.limits.max_upload_bytes,
            max_share_days: self.limits.max_share_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{InMemoryObjectStore, InMemoryRepository, ManualClock};
    use crate::model::ShareAttempts;
    use crate::password::Password;
    use crate::types::{Gps, Ulid};

    use crate::testing::Fixture;

    fn fixture() -> Fixture {
        Fixture::new()
    }

    fn alice() -> UserId {
        UserId::parse("alice").unwrap()
    }

    fn sha(n: u8) -> Sha256 {
        Sha256::from_bytes([n; 32])
    }

    async fn pending(f: &Fixture, n: u8, size: u64) -> Photo {
        let upload = NewUpload {
            file_name: FileName::parse("a.jpg").unwrap(),
            content_type: ContentType::Jpeg,
            size,
            sha256: sha(n),
        };
        f.service.start_upload(&alice(), upload).await.unwrap().0
    }

    /// A photo of alice's, uploaded and processed: READY.
    async fn ready(f: &Fixture) -> Photo {
        let p = pending(f, 1, 10).await;
        f.service
            .complete_processing(&alice(), &p.id, info(1, 10))
            .await
            .unwrap();
        p
    }

    fn info(n: u8, size: u64) -> ProcessedInfo {
        ProcessedInfo {
            dimensions: Dimensions {
                width: 2,
                height: 1,
            },
            taken_at: None,
            taken_offset_minutes: None,
            camera: None,
            gps: Some(Gps::new(1.0, 2.0).unwrap()),
            sha256_actual: sha(n),
            size,
        }
    }

    #[tokio::test]
    async fn processing_sets_ready_or_failed_and_is_idempotent() {
        let f = fixture();
        let p = pending(&f, 1, 10).await;
        let ready = f
            .service
            .complete_processing(&alice(), &p.id, info(1, 10))
            .await
            .unwrap();
        assert_eq!(ready.status, PhotoStatus::Ready);
        assert_eq!(
            ready.dimensions,
            Some(Dimensions {
                width: 2,
                height: 1
            })
        );
        assert_eq!(
            f.service
                .complete_processing(&alice(), &p.id, info(1, 10))
                .await
                .unwrap(),
            ready
        );
        let err = f
            .service
            .fail_processing(&alice(), &p.id, "cannot decode")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err}");
        let err = f
            .service
            .complete_processing(&alice(), &p.id, info(2, 10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Conflict(_)),
            "a different checksum after READY is a conflict"
        );

        let q = pending(&f, 3, 10).await;
        let failed = f
            .service
            .complete_processing(&alice(), &q.id, info(3, 11))
            .await
            .unwrap();
        assert_eq!(
            failed.status,
            PhotoStatus::Failed {
                reason: "size mismatch".into()
            }
        );
        assert_eq!(
            failed.gps, None,
            "nothing measured is kept from a refused file"
        );

        let r = pending(&f, 4, 10).await;
        let failed = f
            .service
            .fail_processing(&alice(), &r.id, "cannot\ndecode")
            .await
            .unwrap();
        assert_eq!(
            failed.status,
            PhotoStatus::Failed {
                reason: "cannotdecode".into()
            }
        );
        assert_eq!(
            f.service
                .fail_processing(&alice(), &r.id, "cannotdecode")
                .await
                .unwrap(),
            failed
        );
        assert!(
            f.service
                .fail_processing(&alice(), &r.id, "")
                .await
                .is_err()
        );

        let bob = UserId::parse("bob").unwrap();
        assert!(matches!(
            f.service
                .complete_processing(&bob, &p.id, info(1, 10))
                .await,
            Err(Error::NotFound)
        ));
    }

    #[tokio::test]
    async fn the_repository_rechecks_quota_and_duplicates_atomically() {
        let f = fixture();
        let first = pending(&f, 1, 100).await;
        // Bypass the service's fast path, as a racing request would.
        let mut racing = first.clone();
        racing.id = PhotoId::from_ulid(Ulid::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap());
        assert!(
            matches!(f.repo.insert_photo(&racing, 150).await, Err(Error::Duplicate { existing }) if existing == first.id)
        );
        racing.sha256_declared = sha(9);
        assert!(matches!(
            f.repo.insert_photo(&racing, 150).await,
            Err(Error::QuotaExceeded {
                used: 100,
                quota: 150,
                requested: 100
            })
        ));
        assert!(matches!(
            f.repo.insert_photo(&first, 1000).await,
            Err(Error::AlreadyExists)
        ));
        assert_eq!(
            f.repo.get_usage(&alice()).await.unwrap(),
            Usage {
                used_bytes: 100,
                photo_count: 1
            }
        );
    }

    #[tokio::test]
    async fn uploads_are_checked_before_anything_is_written() {
        let f = fixture();
        let upload = |size, n| NewUpload {
            file_name: FileName::parse("a.jpg").unwrap(),
            content_type: ContentType::Png,
            size,
            sha256: sha(n),
        };
        assert!(matches!(
            f.service.start_upload(&alice(), upload(101, 1)).await,
            Err(Error::TooLarge {
                size: 101,
                max: 100
            })
        ));
        assert!(matches!(
            f.service.start_upload(&alice(), upload(0, 1)).await,
            Err(Error::Invalid { field: "size", .. })
        ));
        pending(&f, 1, 100).await;
        assert!(matches!(
            f.service.start_upload(&alice(), upload(51, 2)).await,
            Err(Error::QuotaExceeded { .. })
        ));
        assert_eq!(
            f.repo.export().len(),
            3,
            "one photo, its checksum item, usage"
        );
    }

    #[tokio::test]
    async fn share_passwords_take_five_guesses_then_one_a_minute_then_one_an_hour() {
        let f = fixture();
        let p = ready(&f).await;
        let right = "correct horse";
        let share = f
            .service
            .create_share(
                &alice(),
                ShareTarget::Photo(p.id),
                Some(30),
                Some(Password::parse(right).unwrap()),
            )
            .await
            .unwrap();
        let guess = |password: &'static str| f.service.open_share(&share.token, Some(password));
        let refused_for = |r: Result<SharedView>| match r {
            Err(Error::TooManyAttempts { retry_after_secs }) => retry_after_secs,
            other => panic!("expected a refusal unheard, got {other:?}"),
        };
        let wrong =
            |r: Result<SharedView>| assert!(matches!(r, Err(Error::WrongPassword)), "{r:?}");
        for _ in 0..5 {
            wrong(guess("wrong horse").await);
        }
        // Locked: even the right password is refused without being checked.
        assert_eq!(refused_for(guess(right).await), 60);
        f.clock.advance_secs(45);
        assert_eq!(refused_for(guess(right).await), 15);
        f.clock.advance_secs(15);
        wrong(guess("wrong horse").await);
        assert_eq!(refused_for(guess("wrong horse").await), 60);
        // One a minute up to the 20th failure, then one an hour.
        for _ in 7..=20 {
            f.clock.advance_secs(60);
            wrong(guess("wrong horse").await);
        }
        f.clock.advance_secs(60);
        assert_eq!(refused_for(guess(right).await), 3_540);
        let stored = || async { f.repo.get_share(&share.token).await.unwrap().unwrap() };
        assert_eq!(
            stored().await.attempts.failed,
            20,
            "refusals are not counted"
        );
        f.clock.advance_secs(3_540);
        assert_eq!(
            f.service
                .open_share(&share.token, Some(right))
                .await
                .unwrap()
                .photos
                .len(),
            1
        );
        // The right password starts the count afresh: five guesses again.
        assert_eq!(stored().await.attempts, ShareAttempts::default());
        for _ in 0..5 {
            wrong(guess("wrong horse").await);
        }
        assert_eq!(refused_for(guess(right).await), 60);
    }

    #[tokio::test]
    async fn guesses_made_at_once_are_each_counted() {
        let f = fixture();
        let p = pending(&f, 1, 10).await;
        let share = f
            .service
            .create_share(
                &alice(),
                ShareTarget::Photo(p.id),
                None,
                Some(Password::parse("correct horse").unwrap()),
            )
            .await
            .unwrap();
        let guesses = (0..40).map(|_| f.service.open_share(&share.token, Some("wrong horse")));
        let results = futures_util::future::join_all(guesses).await;
        let heard = results
            .iter()
            .filter(|r| matches!(r, Err(Error::WrongPassword)))
            .count();
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Err(Error::WrongPassword | Error::TooManyAttempts { .. }))),
            "{results:?}"
        );
        assert_eq!(heard, 5, "five guesses heard of 40 made together");
    }

    #[tokio::test]
    async fn share_links_check_expiry_revocation_and_password_every_time() {
        let f = fixture();
        let p = ready(&f).await;
        let target = ShareTarget::Photo(p.id);
        let share = f
            .service
            .create_share(
                &alice(),
                target,
                Some(1),
                Some(Password::parse("pass word").unwrap()),
            )
            .await
            .unwrap();
        assert!(matches!(
            f.service.open_share(&share.token, None).await,
            Err(Error::PasswordRequired)
        ));
        assert!(matches!(
            f.service.open_share(&share.token, Some("nope")).await,
            Err(Error::WrongPassword)
        ));
        let view = f
            .service
            .open_share(&share.token, Some("pass word"))
            .await
            .unwrap();
        assert_eq!(view.photos.len(), 1);
        assert!(
            view.photos[0]
                .thumbnail_url
                .as_deref()
                .unwrap()
                .contains("derivatives/")
        );
        f.clock.advance_secs(86_400);
        assert!(matches!(
            f.service.open_share(&share.token, Some("pass word")).await,
            Err(Error::ShareGone("expired"))
        ));

        let open = f
            .service
            .create_share(&alice(), target, None, None)
            .await
            .unwrap();
        assert_eq!(open.expires_at, f.service.now().plus_secs(7 * 86_400));
        f.service.revoke_share(&alice(), &open.token).await.unwrap();
        assert!(matches!(
            f.service.open_share(&open.token, None).await,
            Err(Error::ShareGone("been revoked"))
        ));
        let bob = UserId::parse("bob").unwrap();
        assert!(matches!(
            f.service.revoke_share(&bob, &share.token).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            f.service.create_share(&bob, target, None, None).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            f.service
                .create_share(&alice(), target, Some(31), None)
                .await,
            Err(Error::Invalid { .. })
        ));
    }

    /// Processing writes the photo's objects again between the first sweep and the record's
    /// deletion (an attempt in flight when its owner deletes it): the second sweep removes them.
    #[tokio::test]
    async fn a_photo_deleted_while_processing_writes_keeps_no_object() {
        #[derive(Debug)]
        struct WritesDuringDelete {
            inner: InMemoryObjectStore,
            sweeps: std::sync::Mutex<u32>,
        }
        #[async_trait::async_trait]
        impl ObjectStore for WritesDuringDelete {
            async fn presign_upload(
                &self,
                policy: &UploadPolicy,
                now: Timestamp,
            ) -> Result<PresignedPost> {
                self.inner.presign_upload(policy, now).await
            }
            async fn presign_download(
                &self,
                key: &ObjectKey,
                grant: Grant,
                signed_at: Timestamp,
                expires_at: Timestamp,
            ) -> Result<String> {
                self.inner
                    .presign_download(key, grant, signed_at, expires_at)
                    .await
            }
            async fn object_exists(&self, key: &ObjectKey) -> Result<bool> {
                self.inner.object_exists(key).await
            }
            async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
                self.inner.delete_objects(keys).await?;
                let mut sweeps = self.sweeps.lock().unwrap();
                *sweeps += 1;
                if *sweeps == 1 {
                    // The thumbnail step, just now: the original and a derivative.
                    for key in &keys[1..3] {
                        self.inner.put(key, b"late".to_vec(), "image/jpeg");
                    }
                }
                Ok(())
            }
        }
        let store = Arc::new(WritesDuringDelete {
            inner: InMemoryObjectStore::new("mem://b"),
            sweeps: std::sync::Mutex::new(0),
        });
        let repo = Arc::new(InMemoryRepository::new());
        let service = PhotoService::new(
            repo,
            store.clone(),
            Arc::new(ManualClock::new(Timestamp::from_secs(1_800_000_000))),
            Limits::default(),
        );
        let upload = NewUpload {
            file_name: FileName::parse("a.jpg").unwrap(),
            content_type: ContentType::Jpeg,
            size: 10,
            sha256: sha(1),
        };
        let (photo, _) = service.start_upload(&alice(), upload).await.unwrap();
        service.delete_photo(&alice(), &photo.id).await.unwrap();
        assert_eq!(store.inner.keys(), Vec::<String>::new());
        assert_eq!(*store.sweeps.lock().unwrap(), 2);
    }
}
