//! The photo service: every rule about who may see or change what lives here.

use std::sync::Arc;

use crate::cursor;
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{
    Album, Page, Photo, PhotoStatus, ProcessedInfo, ProcessingOutcome, Share, ShareTarget, Usage,
};
use crate::password::{self, Password, PasswordCost};
use crate::ports::{
    Clock, ObjectKey, ObjectStore, PhotoPatch, PresignedPost, Repository, UploadPolicy,
};
use crate::types::{
    AlbumId, AlbumName, Camera, ContentType, Dimensions, FileName, PhotoId, Sha256, ShareToken,
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
    /// Lifetime of a pre-signed upload.
    pub upload_url_secs: i64,
    /// Lifetime of a pre-signed download.
    pub download_url_secs: i64,
    pub password_cost: PasswordCost,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 50 * 1024 * 1024,
            quota_bytes: 5 * 1024 * 1024 * 1024,
            max_share_days: 30,
            default_share_days: 7,
            upload_url_secs: 15 * 60,
            download_url_secs: 5 * 60,
            password_cost: PasswordCost::Standard,
        }
    }
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
/// There is no field for GPS or for the original, so no code path can leak them through a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedPhoto {
    pub id: PhotoId,
    pub title: Option<Title>,
    pub dimensions: Option<Dimensions>,
    pub taken_at: Option<Timestamp>,
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
    pub photos: Vec<SharedPhoto>,
}

/// A user's usage against their quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageReport {
    pub usage: Usage,
    pub quota_bytes: u64,
    pub max_upload_bytes: u64,
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
        if let Some(existing) = self
            .repo
            .find_photo_by_sha256(owner, &upload.sha256)
            .await?
        {
            return Err(Error::Duplicate { existing });
        }
        let usage = self.repo.get_usage(owner).await?;
        if usage.used_bytes.saturating_add(upload.size) > self.limits.quota_bytes {
            return Err(Error::QuotaExceeded {
                used: usage.used_bytes,
                quota: self.limits.quota_bytes,
                requested: upload.size,
            });
        }
        let now = self.clock.now();
        let photo = Photo {
            id: PhotoId::from_ulid(self.ids.next(now)),
            owner: owner.clone(),
            status: PhotoStatus::Pending,
            file_name: upload.file_name,
            content_type: upload.content_type,
            size: upload.size,
            sha256_declared: upload.sha256,
            sha256_actual: None,
            dimensions: None,
            taken_at: None,
            camera: None,
            gps: None,
            title: None,
            favourite: false,
            created_at: now,
        };
        // The checks above are a fast path with friendly numbers; this write re-checks both
        // conditions atomically, so two racing uploads cannot both pass.
        self.repo
            .insert_photo(&photo, self.limits.quota_bytes)
            .await?;
        let policy = UploadPolicy {
            key: ObjectKey::original(owner, &photo.id),
            content_type: photo.content_type,
            size: photo.size,
            sha256: photo.sha256_declared,
            expires_at: now.plus_secs(self.limits.upload_url_secs),
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

    async fn urls(&self, photo: &Photo, with_original: bool) -> Result<PhotoUrls> {
        if photo.status != PhotoStatus::Ready {
            return Ok(PhotoUrls::default());
        }
        let now = self.clock.now();
        let until = now.plus_secs(self.limits.download_url_secs);
        let sign =
            |key: ObjectKey| async move { self.store.presign_download(&key, now, until).await };
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
            let urls = self.urls(&photo, with_original).await?;
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
        let after = cursor
            .map(|c| cursor::decode(owner, keys::PHOTO_PREFIX, c))
            .transpose()?;
        let page = self.repo.list_photos(owner, after.as_ref(), limit).await?;
        self.views(owner, page, false).await
    }

    async fn photo(&self, owner: &UserId, id: &PhotoId) -> Result<Photo> {
        self.repo.get_photo(owner, id).await?.ok_or(Error::NotFound)
    }

    /// One of the owner's photos, with a link to the original.
    pub async fn get_photo(&self, owner: &UserId, id: &PhotoId) -> Result<PhotoView> {
        let photo = self.photo(owner, id).await?;
        let urls = self.urls(&photo, true).await?;
        Ok(PhotoView { photo, urls })
    }

    pub async fn update_photo(
        &self,
        owner: &UserId,
        id: &PhotoId,
        patch: &PhotoPatch,
    ) -> Result<PhotoView> {
        let photo = self.repo.update_photo(owner, id, patch).await?;
        let urls = self.urls(&photo, true).await?;
        Ok(PhotoView { photo, urls })
    }

    /// Deletes the photo's objects, then everything the table holds about it.
    ///
    /// Objects go first: if the second step fails, the photo is still listed and deleting again
    /// finishes the job, whereas the other order could strand objects nobody can find.
    pub async fn delete_photo(&self, owner: &UserId, id: &PhotoId) -> Result<()> {
        self.photo(owner, id).await?;
        self.store
            .delete_objects(&ObjectKey::all_for(owner, id))
            .await?;
        self.repo.delete_photo(owner, id).await?;
        Ok(())
    }

    /// Records what the thumbnail function measured: READY if the checksum and size match the
    /// declaration, FAILED otherwise. Calling it again with the same facts is a no-op.
    pub async fn complete_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        info: ProcessedInfo,
    ) -> Result<Photo> {
        let photo = self.photo(owner, id).await?;
        let outcome = if info.sha256_actual != photo.sha256_declared {
            ProcessingOutcome::Failed {
                reason: "checksum mismatch".into(),
                actual: Some(info.sha256_actual),
            }
        } else if info.size != photo.size {
            ProcessingOutcome::Failed {
                reason: "size mismatch".into(),
                actual: Some(info.sha256_actual),
            }
        } else {
            ProcessingOutcome::Ready(info)
        };
        self.finish(owner, photo, outcome).await
    }

    /// Marks the photo FAILED with `reason` (e.g. the bytes do not decode). Idempotent.
    pub async fn fail_processing(
        &self,
        owner: &UserId,
        id: &PhotoId,
        reason: &str,
    ) -> Result<Photo> {
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect();
        if reason.is_empty() {
            return Err(Error::invalid("reason", "a failure needs a reason"));
        }
        let photo = self.photo(owner, id).await?;
        self.finish(
            owner,
            photo,
            ProcessingOutcome::Failed {
                reason,
                actual: None,
            },
        )
        .await
    }

    async fn finish(
        &self,
        owner: &UserId,
        photo: Photo,
        outcome: ProcessingOutcome,
    ) -> Result<Photo> {
        let current = if photo.status == PhotoStatus::Pending {
            match self
                .repo
                .finish_processing(owner, &photo.id, &outcome)
                .await
            {
                Ok(done) => return Ok(done),
                // Someone else finished it between our read and write: judge their result.
                Err(Error::Conflict(_)) => self.photo(owner, &photo.id).await?,
                Err(e) => return Err(e),
            }
        } else {
            photo
        };
        let same = match (&current.status, &outcome) {
            (PhotoStatus::Ready, ProcessingOutcome::Ready(info)) => {
                current.sha256_actual == Some(info.sha256_actual)
            }
            (PhotoStatus::Failed { reason }, ProcessingOutcome::Failed { reason: wanted, .. }) => {
                reason == wanted
            }
            _ => false,
        };
        if same {
            Ok(current)
        } else {
            Err(Error::Conflict(format!(
                "photo `{}` is already {}",
                current.id,
                current.status.as_str()
            )))
        }
    }

    pub async fn create_album(&self, owner: &UserId, name: AlbumName) -> Result<Album> {
        let now = self.clock.now();
        let album = Album {
            id: AlbumId::from_ulid(self.ids.next(now)),
            owner: owner.clone(),
            name,
            created_at: now,
        };
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
        let after = cursor
            .map(|c| cursor::decode(owner, keys::ALBUM_PREFIX, c))
            .transpose()?;
        let page = self.repo.list_albums(owner, after.as_ref(), limit).await?;
        Ok(Listing {
            items: page.items,
            next_cursor: page.next.map(|k| cursor::encode(owner, &k)),
        })
    }

    pub async fn get_album(&self, owner: &UserId, id: &AlbumId) -> Result<Album> {
        self.repo.get_album(owner, id).await?.ok_or(Error::NotFound)
    }

    pub async fn rename_album(
        &self,
        owner: &UserId,
        id: &AlbumId,
        name: &AlbumName,
    ) -> Result<Album> {
        self.repo.rename_album(owner, id, name).await
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
        let after = cursor
            .map(|c| cursor::decode(owner, &keys::member_prefix(album), c))
            .transpose()?;
        let page = self
            .repo
            .list_album_photos(owner, album, after.as_ref(), limit)
            .await?;
        self.views(owner, page, false).await
    }

    /// Creates a share link for one of the owner's photos or albums.
    pub async fn create_share(
        &self,
        owner: &UserId,
        target: ShareTarget,
        expires_in_days: Option<u32>,
        password: Option<Password>,
    ) -> Result<Share> {
        let days = expires_in_days.unwrap_or(self.limits.default_share_days);
        if days == 0 || days > self.limits.max_share_days {
            return Err(Error::invalid(
                "expires_in_days",
                format!("expected 1 to {} days", self.limits.max_share_days),
            ));
        }
        match target {
            ShareTarget::Photo(id) => drop(self.photo(owner, &id).await?),
            ShareTarget::Album(id) => drop(self.get_album(owner, &id).await?),
        }
        let password_hash = password
            .map(|p| password::hash(&p, self.limits.password_cost))
            .transpose()?;
        let now = self.clock.now();
        let share = Share {
            token: ShareToken::generate(),
            owner: owner.clone(),
            target,
            created_at: now,
            expires_at: now.plus_secs(i64::from(days) * 86_400),
            password_hash,
            revoked: false,
        };
        self.repo.insert_share(&share).await?;
        Ok(share)
    }

    pub async fn list_shares(
        &self,
        owner: &UserId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<Share>> {
        let limit = check_limit(limit)?;
        let after = cursor
            .map(|c| cursor::decode(owner, keys::SHARE_LINK_PREFIX, c))
            .transpose()?;
        let page = self.repo.list_shares(owner, after.as_ref(), limit).await?;
        Ok(Listing {
            items: page.items,
            next_cursor: page.next.map(|k| cursor::encode(owner, &k)),
        })
    }

    pub async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        self.repo.revoke_share(owner, token).await
    }

    async fn shared_photo(&self, photo: Photo) -> Result<SharedPhoto> {
        let urls = self.urls(&photo, false).await?;
        Ok(SharedPhoto {
            id: photo.id,
            title: photo.title,
            dimensions: photo.dimensions,
            taken_at: photo.taken_at,
            camera: photo.camera,
            thumbnail_url: urls.thumbnail,
            preview_url: urls.preview,
        })
    }

    /// Opens a share link for anyone holding the token. Checked on every call: the link must
    /// exist, not be revoked or expired, and the password must match if it has one.
    pub async fn open_share(
        &self,
        token: &ShareToken,
        password: Option<&str>,
    ) -> Result<SharedView> {
        let share = self.repo.get_share(token).await?.ok_or(Error::NotFound)?;
        if let Some(reason) = share.gone_reason(self.clock.now()) {
            return Err(Error::ShareGone(reason));
        }
        if let Some(hash) = &share.password_hash {
            match password {
                None => return Err(Error::PasswordRequired),
                Some(p) if !password::verify(hash, p) => return Err(Error::WrongPassword),
                Some(_) => {}
            }
        }
        let owner = &share.owner;
        let (album_name, photos) = match share.target {
            ShareTarget::Photo(id) => (None, vec![self.photo(owner, &id).await?]),
            ShareTarget::Album(id) => {
                let album = self.get_album(owner, &id).await?;
                let mut photos = Vec::new();
                let mut after = None;
                while photos.len() < MAX_SHARED_ALBUM_PHOTOS {
                    let page = self
                        .repo
                        .list_album_photos(owner, &id, after.as_ref(), MAX_PAGE)
                        .await?;
                    photos.extend(page.items);
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                photos.truncate(MAX_SHARED_ALBUM_PHOTOS);
                (Some(album.name), photos)
            }
        };
        let mut shared = Vec::with_capacity(photos.len());
        for photo in photos
            .into_iter()
            .filter(|p| p.status == PhotoStatus::Ready)
        {
            shared.push(self.shared_photo(photo).await?);
        }
        Ok(SharedView {
            target: share.target,
            album_name,
            expires_at: share.expires_at,
            photos: shared,
        })
    }

    pub async fn usage(&self, owner: &UserId) -> Result<UsageReport> {
        Ok(UsageReport {
            usage: self.repo.get_usage(owner).await?,
            quota_bytes: self.limits.quota_bytes,
            max_upload_bytes: self.limits.max_upload_bytes,
        })
    }
}
