//! Uploads that never came: a PENDING photo holds its size against the owner's quota and its
//! checksum against a re-upload until its bytes arrive, so one whose upload form expired long
//! ago, and whose bytes are not in the bucket, is removed.
//!
//! "Long ago" is the form's lifetime plus [`ARRIVAL_GRACE_SECS`]: the bucket refuses a form after
//! it expires, and the grace covers a slow upload begun just before. "Not in the bucket" (neither
//! under its upload key nor, as uploads from before staging arrived, as its original) is asked of
//! the object store, never assumed: an upload that arrived but waits for processing (S3 retries
//! a throttled notification for hours; the local queue can fall behind) is kept, however old. The
//! removal itself is conditional on the photo still being PENDING with no processing attempt
//! taken, so processing that starts meanwhile wins.
//!
//! [`Abandoned::expire`] runs lazily where an upload starts (so quota and duplicates are right at
//! once) and [`Abandoned::sweep`] runs on a schedule (the thumbnail function on AWS, a task on the
//! local stage).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::Photo;
use crate::ports::{Clock, ObjectKey, ObjectStore, Repository};
use crate::types::{Timestamp, UserId};

/// How long an upload form is valid.
pub const UPLOAD_FORM_SECS: i64 = 15 * 60;

/// How long after its form expires an upload may still be arriving before it counts as abandoned.
pub const ARRIVAL_GRACE_SECS: i64 = 60 * 60;

/// How many awaited uploads one sweep looks at, at most: a sweep that finds this many runs again.
pub const SWEEP_BATCH: usize = 100;

/// The awaited uploads among `photos` created before `created_before`, as
/// [`Repository::awaited_uploads`] answers them: by owner, oldest first, at most `limit`.
pub fn awaited_before(
    photos: impl IntoIterator<Item = Photo>,
    created_before: Timestamp,
    limit: usize,
) -> Vec<Photo> {
    let mut awaited: Vec<Photo> = photos
        .into_iter()
        .filter(|p| p.is_awaited() && p.created_at < created_before)
        .collect();
    awaited.sort_by(|a, b| (&a.owner, a.created_at, a.id).cmp(&(&b.owner, b.created_at, b.id)));
    awaited.truncate(limit);
    awaited
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Abandoned uploads removed, their quota returned.
    pub removed: usize,
    /// Old awaited uploads kept: their bytes are in the bucket, or processing took them up.
    pub kept: usize,
}

/// Finds and removes abandoned uploads; see the module documentation.
#[derive(Debug, Clone)]
pub struct Abandoned {
    repo: Arc<dyn Repository>,
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

impl Abandoned {
    pub fn new(
        repo: Arc<dyn Repository>,
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Abandoned { repo, store, clock }
    }

    /// Uploads started before this may be abandoned.
    pub fn cutoff(now: Timestamp) -> Timestamp {
        now.plus_secs(-(UPLOAD_FORM_SECS + ARRIVAL_GRACE_SECS))
    }

    /// Whether `photo` is old enough, and untouched enough, to ask the bucket about.
    fn candidate(photo: &Photo, now: Timestamp) -> bool {
        photo.is_awaited() && photo.created_at < Self::cutoff(now)
    }

    /// Removes `photo` if its upload was abandoned: `Ok(true)` if it was removed now or is gone
    /// already, `Ok(false)` if it stays (recent, arrived, or taken up by processing).
    pub async fn expire(&self, photo: &Photo) -> Result<bool> {
        if !Self::candidate(photo, self.clock.now()) {
            return Ok(false);
        }
        let upload = ObjectKey::upload(&photo.owner, &photo.id);
        // Uploads made before they were staged arrived as the original.
        for arrived in [&upload, &ObjectKey::original(&photo.owner, &photo.id)] {
            if self.store.object_exists(arrived).await? {
                return Ok(false);
            }
        }
        match self.repo.remove_abandoned(&photo.owner, &photo.id).await {
            Ok(_) | Err(Error::NotFound) => {}
            Err(Error::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        tracing::info!(photo = %photo.id, bytes = photo.size, "removed an abandoned upload");
        // Nothing should be there; an object that arrived against all odds is not kept orphaned.
        if let Err(e) = self.store.delete_objects(&[upload]).await {
            tracing::warn!(photo = %photo.id, error = %e, "deleting an abandoned upload's key");
        }
        Ok(true)
    }

    /// Removes the abandoned uploads among up to [`SWEEP_BATCH`] old awaited ones: `owner`'s, or
    /// everyone's. One that fails is logged and left for the next sweep; the first such error is
    /// returned after the others were tried.
    pub async fn sweep(&self, owner: Option<&UserId>) -> Result<Sweep> {
        let now = self.clock.now();
        let awaited = self
            .repo
            .awaited_uploads(owner, Self::cutoff(now), SWEEP_BATCH)
            .await?;
        let mut sweep = Sweep::default();
        let mut first_error = None;
        for photo in &awaited {
            match self.expire(photo).await {
                Ok(true) => sweep.removed += 1,
                Ok(false) => sweep.kept += 1,
                Err(e) => {
                    tracing::warn!(photo = %photo.id, error = %e, "checking an awaited upload");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(sweep),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Usage;
    use crate::memory::InMemoryObjectStore;
    use crate::service::PhotoService;
    use crate::testing::{Fixture, user};

    fn fixture() -> Fixture {
        Fixture::new()
    }

    impl Fixture {
        async fn exists(&self, photo: &Photo) -> bool {
            self.repo
                .get_photo(&photo.owner, &photo.id)
                .await
                .unwrap()
                .is_some()
        }

        async fn usage(&self, owner: &str) -> Usage {
            self.repo.get_usage(&user(owner)).await.unwrap()
        }
    }

    fn refusal(r: Result<Photo>) -> String {
        match r {
            Ok(p) => format!("accepted {}", p.id),
            Err(Error::QuotaExceeded { used, .. }) => format!("quota, {used} used"),
            Err(Error::Duplicate { existing }) => format!("duplicate of {existing}"),
            Err(e) => format!("{e}"),
        }
    }

    const STALE_SECS: i64 = UPLOAD_FORM_SECS + ARRIVAL_GRACE_SECS;

    #[tokio::test]
    async fn abandoned_uploads_give_back_their_quota_and_checksum_when_an_upload_starts() {
        let f = fixture();
        let never_sent = f.start("alice", 1, 100).await.unwrap();
        assert_eq!(refusal(f.start("alice", 2, 60).await), "quota, 100 used");
        assert_eq!(
            refusal(f.start("alice", 1, 100).await),
            format!("duplicate of {}", never_sent.id)
        );
        // Until the form expired and the grace passed, it is still on its way.
        f.clock.advance_secs(STALE_SECS);
        assert_eq!(refusal(f.start("alice", 2, 60).await), "quota, 100 used");
        f.clock.advance_secs(1);
        let fits = f.start("alice", 2, 60).await.unwrap();
        assert!(!f.exists(&never_sent).await, "the abandoned upload is gone");
        assert_eq!(
            f.usage("alice").await,
            Usage {
                used_bytes: 60,
                photo_count: 1
            }
        );
        assert!(f.exists(&fits).await);

        // The same file again, once its first start is abandoned, is not a duplicate.
        let again = f.start("alice", 3, 10).await.unwrap();
        f.clock.advance_secs(STALE_SECS + 1);
        let replaced = f.start("alice", 3, 10).await.unwrap();
        assert_ne!(replaced.id, again.id);
        assert!(!f.exists(&again).await);
        // `fits` was abandoned too by now, but only the duplicate was looked at.
        assert_eq!(f.usage("alice").await.used_bytes, 70);
    }

    #[tokio::test]
    async fn an_upload_that_arrived_is_kept_however_late_its_processing() {
        let f = fixture();
        let arrived = f.start("alice", 1, 100).await.unwrap();
        f.store.put(
            &ObjectKey::upload(&arrived.owner, &arrived.id),
            vec![0; 100],
            "image/jpeg",
        );
        // Processing took this one up and moved its bytes: no upload object, but not abandoned.
        let taken = f.start("bob", 1, 100).await.unwrap();
        f.repo
            .start_processing(&taken.owner, &taken.id, 3)
            .await
            .unwrap();
        // Uploads from before staging arrived as the original.
        let legacy = f.start("carol", 1, 100).await.unwrap();
        f.store.put(
            &ObjectKey::original(&legacy.owner, &legacy.id),
            vec![0; 100],
            "image/jpeg",
        );
        f.clock.advance_secs(10 * 3600);

        let abandoned = f.service.abandoned();
        assert_eq!(
            abandoned.sweep(None).await.unwrap(),
            Sweep {
                removed: 0,
                kept: 2
            },
            "the index lists what processing never took: the arrived uploads, kept"
        );
        assert!(f.exists(&legacy).await);
        assert_eq!(refusal(f.start("alice", 2, 60).await), "quota, 100 used");
        assert_eq!(refusal(f.start("bob", 2, 60).await), "quota, 100 used");
        assert!(!abandoned.expire(&taken).await.unwrap());
        // Its processing, hours late, still completes it.
        let done = f
            .service
            .complete_processing(
                &arrived.owner,
                &arrived.id,
                crate::ProcessedInfo {
                    dimensions: crate::Dimensions {
                        width: 1,
                        height: 1,
                    },
                    taken_at: None,
                    taken_offset_minutes: None,
                    camera: None,
                    gps: None,
                    sha256_actual: arrived.sha256_declared,
                    size: 100,
                },
            )
            .await
            .unwrap();
        assert_eq!(done.status, crate::PhotoStatus::Ready);
    }

    #[tokio::test]
    async fn the_sweep_removes_everyones_old_abandoned_uploads_only() {
        let f = fixture();
        let alices = f.start("alice", 1, 50).await.unwrap();
        let bobs = f.start("bob", 1, 70).await.unwrap();
        f.clock.advance_secs(STALE_SECS - 60);
        let recent = f.start("bob", 2, 10).await.unwrap();
        f.clock.advance_secs(61);
        assert_eq!(
            f.service.abandoned().sweep(None).await.unwrap(),
            Sweep {
                removed: 2,
                kept: 0
            },
            "alice's and bob's old ones; bob's recent one is not looked at"
        );
        assert!(!f.exists(&alices).await && !f.exists(&bobs).await);
        assert!(f.exists(&recent).await);
        assert_eq!(f.usage("alice").await, Usage::default());
        assert_eq!(
            f.usage("bob").await,
            Usage {
                used_bytes: 10,
                photo_count: 1
            }
        );
        assert_eq!(
            f.service.abandoned().sweep(None).await.unwrap(),
            Sweep::default(),
            "nothing left to do"
        );
    }

    /// A bucket that signs but cannot be asked what it holds.
    #[derive(Debug)]
    struct Unreachable(InMemoryObjectStore);

    #[async_trait::async_trait]
    impl ObjectStore for Unreachable {
        async fn presign_upload(
            &self,
            policy: &crate::UploadPolicy,
            now: Timestamp,
        ) -> Result<crate::PresignedPost> {
            self.0.presign_upload(policy, now).await
        }
        async fn presign_download(
            &self,
            key: &ObjectKey,
            grant: crate::Grant,
            signed_at: Timestamp,
            expires_at: Timestamp,
        ) -> Result<String> {
            self.0
                .presign_download(key, grant, signed_at, expires_at)
                .await
        }
        async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
            self.0.delete_objects(keys).await
        }
        async fn object_exists(&self, _key: &ObjectKey) -> Result<bool> {
            Err(Error::Backend("listing the bucket: access denied".into()))
        }
    }

    #[tokio::test]
    async fn when_the_bucket_cannot_say_the_refusal_stands_and_nothing_is_removed() {
        let mut f = fixture();
        f.service = PhotoService::new(
            f.repo.clone(),
            Arc::new(Unreachable(InMemoryObjectStore::new("mem://b"))),
            f.clock.clone(),
            *f.service.limits(),
        );
        let first = f.start("alice", 1, 100).await.unwrap();
        f.clock.advance_secs(STALE_SECS + 1);
        assert_eq!(
            refusal(f.start("alice", 1, 100).await),
            format!("duplicate of {}", first.id)
        );
        assert_eq!(refusal(f.start("alice", 2, 60).await), "quota, 100 used");
        assert!(f.exists(&first).await, "kept: it may have arrived");
        let swept = f.service.abandoned().sweep(None).await;
        assert!(
            matches!(&swept, Err(Error::Backend(m)) if m.contains("access denied")),
            "{swept:?}"
        );
    }
}
