//! The behaviour every [`Repository`] adapter must show, as a suite any adapter's tests can run.
//!
//! [`crate::memory::InMemoryRepository`] is the executable specification of the single table;
//! this suite pins what it does (conditional transitions, quota and duplicates checked in the
//! same write, newest-first pagination, what deleting leaves behind) so that the DynamoDB adapter
//! can be held to exactly the same. Failures panic with a message naming the check, as tests do.
//!
//! Each check uses its own users (named from `users`, so several runs can share one table) and
//! looks at the raw table through a [`TableProbe`] to prove that nothing is left behind.

mod album_contents;
mod albums;
mod photos;
mod profile;
mod quotas;
mod shares;
mod timeline;

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Error;
use crate::keys;
use crate::model::{Album, Photo, Share, ShareTarget};
use crate::ports::Repository;
use crate::types::{
    AlbumId, AlbumName, ContentType, FileName, PhotoId, Sha256, ShareToken, Timestamp,
    UlidGenerator, UserId,
};

/// Raw reads of the table, to check what an operation left behind.
#[async_trait]
pub trait TableProbe: Send + Sync {
    /// The `sk` of every item whose `pk` is `pk`, in ascending order.
    async fn sort_keys(&self, pk: &str) -> Vec<String>;
    /// The `(pk, sk)` of every item whose `gsi1pk` is `gsi1pk`, in any order.
    async fn gsi1_keys(&self, gsi1pk: &str) -> Vec<(String, String)>;
}

#[async_trait]
impl TableProbe for crate::memory::InMemoryRepository {
    async fn sort_keys(&self, pk: &str) -> Vec<String> {
        self.export()
            .into_iter()
            .filter(|(p, _, _)| p == pk)
            .map(|(_, sk, _)| sk)
            .collect()
    }

    async fn gsi1_keys(&self, gsi1pk: &str) -> Vec<(String, String)> {
        self.export()
            .into_iter()
            .filter(|(_, _, item)| item.gsi1pk().as_deref() == Some(gsi1pk))
            .map(|(pk, sk, _)| (pk, sk))
            .collect()
    }
}

/// Runs every check against `repo`; `users` prefixes the user ids so runs do not collide.
pub async fn run_all(repo: Arc<dyn Repository>, probe: &dyn TableProbe, users: &str) {
    let t = Suite {
        repo,
        probe,
        users: users.to_owned(),
        ids: UlidGenerator::default(),
    };
    t.photos_insert_with_duplicate_and_quota_checks().await;
    t.abandoned_uploads().await;
    t.photo_updates_and_processing_transitions().await;
    t.photos_page_newest_first().await;
    t.timeline_by_date_taken_with_month_counts().await;
    t.albums_and_memberships().await;
    t.album_counts_covers_and_dates().await;
    t.share_links().await;
    t.share_attempts().await;
    t.display_names().await;
    t.deleting_a_photo_leaves_nothing_behind().await;
    t.deleting_an_album_keeps_its_photos().await;
}

struct Suite<'a> {
    repo: Arc<dyn Repository>,
    probe: &'a dyn TableProbe,
    users: String,
    ids: UlidGenerator,
}

const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);

fn sha(n: u8) -> Sha256 {
    Sha256::from_bytes([n; 32])
}

fn kind(r: &Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(Error::NotFound) => "NotFound".into(),
        Err(Error::AlreadyExists) => "AlreadyExists".into(),
        Err(Error::Conflict(_)) => "Conflict".into(),
        Err(Error::Duplicate { existing }) => format!("Duplicate({existing})"),
        Err(Error::QuotaExceeded {
            used,
            quota,
            requested,
        }) => format!("QuotaExceeded({used}/{quota}+{requested})"),
        Err(e) => format!("other error: {e}"),
    }
}

impl Suite<'_> {
    fn user(&self, name: &str) -> UserId {
        UserId::parse(&format!("{}-{name}", self.users)).expect("test user ids are valid")
    }

    fn photo_id(&self) -> PhotoId {
        PhotoId::from_ulid(self.ids.next(T0))
    }

    fn album_id(&self) -> AlbumId {
        AlbumId::from_ulid(self.ids.next(T0))
    }

    fn photo(&self, owner: &UserId, n: u8, size: u64) -> Photo {
        let id = self.photo_id();
        let file_name = FileName::parse(&format!("IMG_{n}.jpg")).expect("valid file name");
        Photo::pending(
            id,
            owner.clone(),
            file_name,
            ContentType::Jpeg,
            size,
            sha(n),
            id.created_at(),
        )
    }

    fn album(&self, owner: &UserId, name: &str) -> Album {
        let id = self.album_id();
        let name = AlbumName::parse(name).expect("valid album name");
        Album::new(id, owner.clone(), name, id.created_at())
    }

    fn share(&self, owner: &UserId, target: ShareTarget, created_ms: i64) -> Share {
        Share {
            token: ShareToken::generate(),
            owner: owner.clone(),
            target,
            created_at: Timestamp::from_millis(created_ms),
            expires_at: Timestamp::from_millis(created_ms + 86_400_000),
            password_hash: None,
            revoked: false,
            attempts: Default::default(),
            allow_download: false,
            days: Some(1),
        }
    }

    async fn insert(&self, photo: &Photo, quota: u64) {
        self.repo
            .insert_photo(photo, quota)
            .await
            .expect("inserting a photo");
    }

    /// The owner's items but the month counts, which adapters may keep as items or elsewhere
    /// (the timeline check reads them through the repository).
    async fn sort_keys(&self, owner: &UserId) -> Vec<String> {
        let mut sks = self.probe.sort_keys(&keys::user_pk(owner)).await;
        sks.retain(|sk| !sk.starts_with(keys::MONTH_PREFIX));
        sks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryRepository;

    #[tokio::test]
    async fn the_in_memory_repository_conforms() {
        let repo = Arc::new(InMemoryRepository::new());
        run_all(repo.clone(), repo.as_ref(), "mem").await;
    }
}
