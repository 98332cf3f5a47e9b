//! Share links: made for one of the owner's photos or albums, opened by anyone holding the
//! token, and, when the owner allowed it, downloaded from.
//!
//! A link made without a password for a target that already has a live one with the same
//! options (download allowed or not, the same expiry choice in days, no password) is that link,
//! not a second one. A link with a password is always new: its password is its own.

use super::{Listing, MAX_PAGE, MAX_SHARED_ALBUM_PHOTOS, PhotoService, SharedPhoto, SharedView};
use crate::error::{Error, Result};
use crate::keys;
use crate::model::{Photo, PhotoStatus, Share, ShareAttempts, ShareTarget};
use crate::password::{self, Password};
use crate::ports::{Grant, ObjectKey};
use crate::types::{PhotoId, ShareToken, Timestamp, UserId};

/// A link to make.
#[derive(Debug)]
pub struct NewShare {
    pub target: ShareTarget,
    /// The stage's default when absent.
    pub expires_in_days: Option<u32>,
    pub password: Option<Password>,
    /// Whether guests may download the originals (which keep their location and camera data).
    pub allow_download: bool,
}

impl PhotoService {
    /// [`PhotoService::share`] of a link that allows no download: the link.
    pub async fn create_share(
        &self,
        owner: &UserId,
        target: ShareTarget,
        expires_in_days: Option<u32>,
        password: Option<Password>,
    ) -> Result<Share> {
        let new = NewShare {
            target,
            expires_in_days,
            password,
            allow_download: false,
        };
        Ok(self.share(owner, new).await?.0)
    }

    /// Makes a share link for one of the owner's photos or albums, or finds the live one with
    /// the same options (see the module documentation): the link, and whether it is new.
    pub async fn share(&self, owner: &UserId, new: NewShare) -> Result<(Share, bool)> {
        let days = new
            .expires_in_days
            .unwrap_or(self.limits.default_share_days);
        if days == 0 || days > self.limits.max_share_days {
            return Err(Error::invalid(
                "expires_in_days",
                format!("expected 1 to {} days", self.limits.max_share_days),
            ));
        }
        match new.target {
            ShareTarget::Photo(id) => drop(self.photo(owner, &id).await?),
            ShareTarget::Album(id) => drop(self.get_album(owner, &id).await?),
        }
        let now = self.clock.now();
        if new.password.is_none() {
            let same = self
                .repo
                .shares_of(owner, &new.target)
                .await?
                .into_iter()
                .filter(|s| s.gone_reason(now).is_none() && s.password_hash.is_none())
                .filter(|s| s.allow_download == new.allow_download && s.days == Some(days))
                .max_by_key(|s| s.created_at);
            if let Some(share) = same {
                return Ok((share, false));
            }
        }
        let password_hash = match new.password {
            Some(p) => Some(password::hash_off_thread(p, self.limits.password_cost).await?),
            None => None,
        };
        let share = Share {
            token: ShareToken::generate(),
            owner: owner.clone(),
            target: new.target,
            created_at: now,
            expires_at: now.plus_secs(i64::from(days) * 86_400),
            password_hash,
            revoked: false,
            attempts: ShareAttempts::default(),
            allow_download: new.allow_download,
            days: Some(days),
        };
        self.repo.insert_share(&share).await?;
        Ok((share, true))
    }

    pub async fn list_shares(
        &self,
        owner: &UserId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<Share>> {
        let limit = super::check_limit(limit)?;
        let after = super::start_after(owner, keys::SHARE_LINK_PREFIX, cursor)?;
        let page = self.repo.list_shares(owner, after.as_ref(), limit).await?;
        Ok(super::listing(owner, page))
    }

    pub async fn revoke_share(&self, owner: &UserId, token: &ShareToken) -> Result<Share> {
        self.repo.revoke_share(owner, token).await
    }

    async fn shared_photo(&self, photo: Photo, share_ends: Timestamp) -> Result<SharedPhoto> {
        let urls = self
            .urls(&photo, false, Grant::Photo, Some(share_ends))
            .await?;
        Ok(SharedPhoto {
            taken_at_local: photo.taken_at_local(),
            id: photo.id,
            title: photo.title,
            dimensions: photo.dimensions,
            taken_at: photo.taken_at,
            camera: photo.camera,
            thumbnail_url: urls.thumbnail,
            preview_url: urls.preview,
        })
    }

    /// The link, if it may be opened: it exists, is neither revoked nor expired, and the
    /// password matches if it has one (each attempt counted before it is checked).
    async fn usable_share(&self, token: &ShareToken, password: Option<&str>) -> Result<Share> {
        let share = self.repo.get_share(token).await?.ok_or(Error::NotFound)?;
        if let Some(reason) = share.gone_reason(self.clock.now()) {
            return Err(Error::ShareGone(reason));
        }
        if let Some(hash) = &share.password_hash {
            let candidate = password.ok_or(Error::PasswordRequired)?;
            let counted =
                password::count_attempt(self.repo.as_ref(), &share, self.clock.now()).await?;
            if !password::verify_off_thread(hash.clone(), candidate.to_owned()).await? {
                return Err(Error::WrongPassword);
            }
            // The right password: the link starts counting afresh. Lost to an attempt counted
            // meanwhile, the count stays, which only errs towards refusing.
            match self
                .repo
                .set_share_attempts(&share.token, counted.failed, ShareAttempts::default())
                .await
            {
                Ok(()) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(share)
    }

    /// The READY photos a link shows: its photo, or the first [`MAX_SHARED_ALBUM_PHOTOS`] of
    /// its album, with the album's name.
    async fn shared_photos(&self, share: &Share) -> Result<(Option<crate::AlbumName>, Vec<Photo>)> {
        let owner = &share.owner;
        let (album_name, mut photos) = match share.target {
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
        photos.retain(|p| p.status == PhotoStatus::Ready);
        Ok((album_name, photos))
    }

    /// Opens a share link for anyone holding the token. Checked on every call: the link must
    /// exist, not be revoked or expired, and the password must match if it has one.
    pub async fn open_share(
        &self,
        token: &ShareToken,
        password: Option<&str>,
    ) -> Result<SharedView> {
        let share = self.usable_share(token, password).await?;
        let (album_name, photos) = self.shared_photos(&share).await?;
        let mut shared = Vec::with_capacity(photos.len());
        for photo in photos {
            shared.push(self.shared_photo(photo, share.expires_at).await?);
        }
        let shared_by = self.repo.get_display_name(&share.owner).await?;
        Ok(SharedView {
            target: share.target,
            album_name,
            expires_at: share.expires_at,
            allow_download: share.allow_download,
            shared_by,
            photos: shared,
        })
    }

    /// A link to download the original of one of a share's photos, for a guest of a link whose
    /// owner allowed downloads ([`Error::DownloadNotAllowed`] otherwise), checked as
    /// [`PhotoService::open_share`] checks. One photo, one signature: a listing of the share
    /// never signs its originals.
    pub async fn share_download(
        &self,
        token: &ShareToken,
        password: Option<&str>,
        photo: &PhotoId,
    ) -> Result<String> {
        let share = self.usable_share(token, password).await?;
        if !share.allow_download {
            return Err(Error::DownloadNotAllowed);
        }
        let (_, photos) = self.shared_photos(&share).await?;
        let photo = photos
            .iter()
            .find(|p| &p.id == photo)
            .ok_or(Error::NotFound)?;
        let (signed_at, until) = self.limits.share_links.at(self.clock.now());
        self.store
            .presign_download(
                &ObjectKey::original(&photo.owner, &photo.id),
                Grant::Photo,
                signed_at,
                until.min(share.expires_at),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock as _;
    use crate::testing::{Fixture, user};
    use crate::types::AlbumName;

    fn fixture() -> Fixture {
        Fixture::new()
    }

    fn alice() -> UserId {
        user("alice")
    }

    /// A READY photo of alice's.
    async fn photo(f: &Fixture, n: u8) -> PhotoId {
        f.ready("alice", n, 10).await.id
    }

    impl Fixture {
        async fn share(
            &self,
            target: ShareTarget,
            days: Option<u32>,
            password: Option<&str>,
            allow_download: bool,
        ) -> (Share, bool) {
            let new = NewShare {
                target,
                expires_in_days: days,
                password: password.map(|p| Password::parse(p).unwrap()),
                allow_download,
            };
            self.service.share(&alice(), new).await.unwrap()
        }
    }

    #[tokio::test]
    async fn a_live_link_with_the_same_options_is_answered_instead_of_a_new_one() {
        let f = fixture();
        let target = ShareTarget::Photo(photo(&f, 1).await);
        let (first, created) = f.share(target, None, None, false).await;
        assert!(created);
        assert_eq!(first.days, Some(7), "the default choice is kept");
        let (again, created) = f.share(target, Some(7), None, false).await;
        assert_eq!((again.token.clone(), created), (first.token.clone(), false));

        // Other options, or a password, make another link.
        for (days, password, download) in [
            (Some(30), None, false),
            (None, None, true),
            (None, Some("correct horse"), false),
            (None, Some("correct horse"), false),
        ] {
            let (other, created) = f.share(target, days, password, download).await;
            assert!(created && other.token != first.token, "{days:?} {download}");
        }
        let (same_download, created) = f.share(target, None, None, true).await;
        assert!(!created && same_download.allow_download);

        // A revoked or expired link is not reused.
        f.service
            .revoke_share(&alice(), &first.token)
            .await
            .unwrap();
        let (after_revoke, created) = f.share(target, None, None, false).await;
        assert!(created && after_revoke.token != first.token);
        f.clock.advance_secs(7 * 86_400);
        let (after_expiry, created) = f.share(target, None, None, false).await;
        assert!(created && after_expiry.token != after_revoke.token);
    }

    #[tokio::test]
    async fn a_guest_downloads_an_original_only_where_the_owner_allowed_it() {
        let f = fixture();
        let (p1, p2, outside) = (photo(&f, 1).await, photo(&f, 2).await, photo(&f, 3).await);
        let album = f
            .service
            .create_album(&alice(), AlbumName::parse("Trip").unwrap())
            .await
            .unwrap();
        for p in [p1, p2] {
            f.service
                .add_to_album(&alice(), &album.id, &p)
                .await
                .unwrap();
        }
        let target = ShareTarget::Album(album.id);
        let (closed, _) = f.share(target, None, None, false).await;
        let (open, _) = f.share(target, None, None, true).await;
        let (locked, _) = f.share(target, None, Some("correct horse"), true).await;

        let refused = f.service.share_download(&closed.token, None, &p1).await;
        assert!(
            matches!(refused, Err(Error::DownloadNotAllowed)),
            "{refused:?}"
        );
        let view = f.service.open_share(&open.token, None).await.unwrap();
        assert!(
            view.allow_download
                && !f
                    .service
                    .open_share(&closed.token, None)
                    .await
                    .unwrap()
                    .allow_download
        );

        let url = f
            .service
            .share_download(&open.token, None, &p2)
            .await
            .unwrap();
        let key = f.store.verify_download_url(&url, f.clock.now()).unwrap();
        assert_eq!(key, ObjectKey::original(&alice(), &p2).as_str());
        let expires: i64 = url
            .split("expires=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            expires <= open.expires_at.secs(),
            "never outlives the share"
        );

        let outsider = f.service.share_download(&open.token, None, &outside).await;
        assert!(matches!(outsider, Err(Error::NotFound)), "{outsider:?}");
        let unheard = f.service.share_download(&locked.token, None, &p1).await;
        assert!(
            matches!(unheard, Err(Error::PasswordRequired)),
            "{unheard:?}"
        );
        let wrong = f
            .service
            .share_download(&locked.token, Some("wrong one"), &p1)
            .await;
        assert!(matches!(wrong, Err(Error::WrongPassword)), "{wrong:?}");
        assert!(
            f.service
                .share_download(&locked.token, Some("correct horse"), &p1)
                .await
                .is_ok()
        );

        f.service.revoke_share(&alice(), &open.token).await.unwrap();
        let gone = f.service.share_download(&open.token, None, &p2).await;
        assert!(matches!(gone, Err(Error::ShareGone(_))), "{gone:?}");
    }
}
