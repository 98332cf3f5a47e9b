//! The behaviour every [`Repository`] adapter must show, as a suite any adapter's tests can run.
//!
//! [`crate::memory::InMemoryRepository`] is the executable specification of the single table;
//! this suite pins what it does (conditional transitions, quota and duplicates checked in the
//! same write, newest-first pagination, what deleting leaves behind) so that the DynamoDB adapter
//! can be held to exactly the same. Failures panic with a message naming the check, as tests do.
//!
//! Each check uses its own users (named from `users`, so several runs can share one table) and
//! looks at the raw table through a [`TableProbe`] to prove that nothing is left behind.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Error;
use crate::keys;
use crate::model::{
    Album, Photo, PhotoStatus, ProcessedInfo, ProcessingOutcome, Share, ShareTarget, SortKey, Usage,
};
use crate::ports::{PhotoPatch, Repository};
use crate::types::{
    AlbumId, AlbumName, Camera, ContentType, Dimensions, FileName, Gps, PhotoId, Sha256,
    ShareToken, Timestamp, Title, UlidGenerator, UserId,
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
            .filter(|(_, _, item)| item_gsi1pk(item).as_deref() == Some(gsi1pk))
            .map(|(pk, sk, _)| (pk, sk))
            .collect()
    }
}

fn item_gsi1pk(item: &crate::memory::Item) -> Option<String> {
    use crate::memory::Item;
    match item {
        Item::Member { owner, photo, .. } => {
            Some(keys::target_gsi1pk(owner, &ShareTarget::Photo(*photo)))
        }
        Item::Share(s) => Some(keys::target_gsi1pk(&s.owner, &s.target)),
        _ => None,
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
    t.photo_updates_and_processing_transitions().await;
    t.photos_page_newest_first().await;
    t.albums_and_memberships().await;
    t.share_links().await;
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
        Photo {
            id,
            owner: owner.clone(),
            status: PhotoStatus::Pending,
            file_name: FileName::parse(&format!("IMG_{n}.jpg")).expect("valid file name"),
            content_type: ContentType::Jpeg,
            size,
            sha256_declared: sha(n),
            sha256_actual: None,
            dimensions: None,
            taken_at: None,
            camera: None,
            gps: None,
            title: None,
            favourite: false,
            created_at: id.created_at(),
        }
    }

    fn album(&self, owner: &UserId, name: &str) -> Album {
        let id = self.album_id();
        Album {
            id,
            owner: owner.clone(),
            name: AlbumName::parse(name).expect("valid album name"),
            created_at: id.created_at(),
        }
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
        }
    }

    async fn insert(&self, photo: &Photo, quota: u64) {
        self.repo
            .insert_photo(photo, quota)
            .await
            .expect("inserting a photo");
    }

    async fn sort_keys(&self, owner: &UserId) -> Vec<String> {
        self.probe.sort_keys(&keys::user_pk(owner)).await
    }

    async fn photos_insert_with_duplicate_and_quota_checks(&self) {
        let alice = self.user("ins");
        let bob = self.user("ins-bob");
        let repo = &self.repo;
        assert_eq!(repo.get_usage(&alice).await.unwrap(), Usage::default());

        let first = self.photo(&alice, 1, 60);
        self.insert(&first, 100).await;
        assert_eq!(
            repo.get_photo(&alice, &first.id).await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(
            repo.get_photo(&bob, &first.id).await.unwrap(),
            None,
            "owner isolation"
        );
        assert_eq!(
            repo.find_photo_by_sha256(&alice, &sha(1)).await.unwrap(),
            Some(first.id)
        );
        assert_eq!(
            repo.find_photo_by_sha256(&bob, &sha(1)).await.unwrap(),
            None
        );
        assert_eq!(
            repo.get_usage(&alice).await.unwrap(),
            Usage {
                used_bytes: 60,
                photo_count: 1
            }
        );
        let before = self.sort_keys(&alice).await;

        // The same id again, even with another checksum.
        let mut same_id = self.photo(&alice, 2, 1);
        same_id.id = first.id;
        assert_eq!(
            kind(&repo.insert_photo(&same_id, 100).await),
            "AlreadyExists"
        );
        // The same bytes under a new id.
        let dup = self.photo(&alice, 1, 1);
        assert_eq!(
            kind(&repo.insert_photo(&dup, 100).await),
            format!("Duplicate({})", first.id)
        );
        // Over quota: 60 + 41 > 100; exactly at quota is fine afterwards.
        let big = self.photo(&alice, 3, 41);
        assert_eq!(
            kind(&repo.insert_photo(&big, 100).await),
            "QuotaExceeded(60/100+41)"
        );
        let larger_than_quota = self.photo(&alice, 4, 500);
        assert_eq!(
            kind(&repo.insert_photo(&larger_than_quota, 100).await),
            "QuotaExceeded(60/100+500)"
        );
        assert_eq!(
            self.sort_keys(&alice).await,
            before,
            "failed inserts write nothing"
        );
        assert_eq!(repo.get_usage(&alice).await.unwrap().used_bytes, 60);

        let fits = self.photo(&alice, 3, 40);
        self.insert(&fits, 100).await;
        assert_eq!(
            repo.get_usage(&alice).await.unwrap(),
            Usage {
                used_bytes: 100,
                photo_count: 2
            }
        );
        // Bob's checksum space and quota are his own.
        self.insert(&self.photo(&bob, 1, 100), 100).await;
        let mut expected = vec![
            keys::photo_sk(&first.id),
            keys::photo_sk(&fits.id),
            keys::sha256_sk(&sha(1)),
            keys::sha256_sk(&sha(3)),
            keys::USAGE_SK.to_owned(),
        ];
        expected.sort();
        assert_eq!(self.sort_keys(&alice).await, expected);
    }

    async fn photo_updates_and_processing_transitions(&self) {
        let alice = self.user("upd");
        let repo = &self.repo;
        let p = self.photo(&alice, 1, 10);
        self.insert(&p, 1000).await;
        let title = Title::parse("Harbour at dawn").unwrap();
        let patched = repo
            .update_photo(
                &alice,
                &p.id,
                &PhotoPatch {
                    title: Some(Some(title.clone())),
                    favourite: Some(true),
                },
            )
            .await
            .unwrap();
        assert_eq!(patched.title.as_ref(), Some(&title));
        assert!(patched.favourite);
        let only_fav = repo
            .update_photo(
                &alice,
                &p.id,
                &PhotoPatch {
                    title: None,
                    favourite: Some(false),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            only_fav.title.as_ref(),
            Some(&title),
            "None leaves the title"
        );
        let cleared = repo
            .update_photo(
                &alice,
                &p.id,
                &PhotoPatch {
                    title: Some(None),
                    favourite: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(cleared.title, None);
        assert!(!cleared.favourite);
        assert_eq!(repo.get_photo(&alice, &p.id).await.unwrap(), Some(cleared));
        let unchanged = repo
            .update_photo(&alice, &p.id, &PhotoPatch::default())
            .await;
        assert_eq!(unchanged.ok().map(|u| u.id), Some(p.id));
        let missing = self.photo_id();
        assert_eq!(
            kind(
                &repo
                    .update_photo(&alice, &missing, &PhotoPatch::default())
                    .await
            ),
            "NotFound"
        );
        assert_eq!(
            kind(
                &repo
                    .update_photo(&self.user("upd-bob"), &p.id, &PhotoPatch::default())
                    .await
            ),
            "NotFound"
        );

        let info = ProcessedInfo {
            dimensions: Dimensions {
                width: 4000,
                height: 3000,
            },
            taken_at: Some(Timestamp::from_millis(1_700_000_000_123)),
            camera: Some(Camera::parse("FUJIFILM X100V").unwrap()),
            gps: Some(Gps::new(59.3293, 18.0686).unwrap()),
            sha256_actual: sha(1),
            size: 10,
        };
        let ready = repo
            .finish_processing(&alice, &p.id, &ProcessingOutcome::Ready(info.clone()))
            .await
            .unwrap();
        assert_eq!(ready.status, PhotoStatus::Ready);
        assert_eq!(ready.dimensions, Some(info.dimensions));
        assert_eq!(ready.taken_at, info.taken_at);
        assert_eq!(ready.camera, info.camera);
        assert_eq!(ready.gps, info.gps);
        assert_eq!(ready.sha256_actual, Some(sha(1)));
        assert_eq!(repo.get_photo(&alice, &p.id).await.unwrap(), Some(ready));
        let again = ProcessingOutcome::Failed {
            reason: "late".into(),
            actual: None,
        };
        assert_eq!(
            kind(&repo.finish_processing(&alice, &p.id, &again).await),
            "Conflict",
            "only PENDING photos finish"
        );
        assert_eq!(
            kind(&repo.finish_processing(&alice, &missing, &again).await),
            "NotFound"
        );

        let q = self.photo(&alice, 2, 10);
        self.insert(&q, 1000).await;
        let failed = repo
            .finish_processing(
                &alice,
                &q.id,
                &ProcessingOutcome::Failed {
                    reason: "checksum mismatch".into(),
                    actual: Some(sha(9)),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            failed.status,
            PhotoStatus::Failed {
                reason: "checksum mismatch".into()
            }
        );
        assert_eq!(failed.sha256_actual, Some(sha(9)));
        assert_eq!(repo.get_photo(&alice, &q.id).await.unwrap(), Some(failed));
    }

    async fn photos_page_newest_first(&self) {
        let alice = self.user("page");
        let repo = &self.repo;
        let mut ids = Vec::new();
        for n in 0..5 {
            let p = self.photo(&alice, n, 1);
            self.insert(&p, 1000).await;
            ids.push(p.id);
        }
        // Another user's photos and the owner's other items must not show up.
        self.insert(&self.photo(&self.user("page-bob"), 1, 1), 1000)
            .await;
        repo.insert_album(&self.album(&alice, "Not a photo"))
            .await
            .unwrap();
        ids.reverse();

        let mut seen = Vec::new();
        let mut after: Option<SortKey> = None;
        let mut pages = 0;
        loop {
            let page = repo.list_photos(&alice, after.as_ref(), 2).await.unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(page.items.iter().map(|p| p.id));
            pages += 1;
            match page.next {
                Some(next) => {
                    assert_eq!(
                        next,
                        SortKey(keys::photo_sk(seen.last().expect("a full page")))
                    );
                    after = Some(next);
                }
                None => break,
            }
            assert!(pages < 10, "pagination terminates");
        }
        assert_eq!(seen, ids, "newest first, each photo once");
        assert_eq!(pages, 3);
        let exact = repo.list_photos(&alice, None, 5).await.unwrap();
        assert_eq!(exact.items.len(), 5);
        assert_eq!(
            exact.next, None,
            "no next key when the page ends the listing"
        );
        let last = SortKey(keys::photo_sk(&ids[4]));
        let empty = repo.list_photos(&alice, Some(&last), 5).await.unwrap();
        assert!(empty.items.is_empty() && empty.next.is_none());
        let nobody = repo
            .list_photos(&self.user("page-nobody"), None, 5)
            .await
            .unwrap();
        assert!(nobody.items.is_empty() && nobody.next.is_none());
    }

    async fn albums_and_memberships(&self) {
        let alice = self.user("alb");
        let bob = self.user("alb-bob");
        let repo = &self.repo;
        let a1 = self.album(&alice, "Summer");
        let a2 = self.album(&alice, "Winter");
        repo.insert_album(&a1).await.unwrap();
        repo.insert_album(&a2).await.unwrap();
        assert_eq!(kind(&repo.insert_album(&a1).await), "AlreadyExists");
        assert_eq!(
            repo.get_album(&alice, &a1.id).await.unwrap(),
            Some(a1.clone())
        );
        assert_eq!(repo.get_album(&bob, &a1.id).await.unwrap(), None);

        let page = repo.list_albums(&alice, None, 1).await.unwrap();
        assert_eq!(page.items, vec![a2.clone()]);
        let rest = repo
            .list_albums(&alice, page.next.as_ref(), 1)
            .await
            .unwrap();
        assert_eq!(rest.items, vec![a1.clone()]);
        assert_eq!(rest.next, None);

        let name = AlbumName::parse("Summer 2026").unwrap();
        let renamed = repo.rename_album(&alice, &a1.id, &name).await.unwrap();
        assert_eq!(renamed.name, name);
        assert_eq!(renamed.created_at, a1.created_at);
        assert_eq!(
            kind(&repo.rename_album(&bob, &a1.id, &name).await),
            "NotFound"
        );

        let photos: Vec<Photo> = (0..3).map(|n| self.photo(&alice, n, 1)).collect();
        for p in &photos {
            self.insert(p, 1000).await;
        }
        let bobs = self.photo(&bob, 7, 1);
        self.insert(&bobs, 1000).await;
        for p in &photos {
            repo.add_to_album(&alice, &a1.id, &p.id).await.unwrap();
        }
        repo.add_to_album(&alice, &a1.id, &photos[0].id)
            .await
            .expect("adding twice is not an error");
        assert_eq!(
            kind(&repo.add_to_album(&alice, &a1.id, &bobs.id).await),
            "NotFound",
            "another user's photo"
        );
        assert_eq!(
            kind(&repo.add_to_album(&bob, &a1.id, &bobs.id).await),
            "NotFound",
            "another user's album"
        );
        assert_eq!(
            kind(
                &repo
                    .add_to_album(&alice, &self.album_id(), &photos[0].id)
                    .await
            ),
            "NotFound"
        );

        let first = repo
            .list_album_photos(&alice, &a1.id, None, 2)
            .await
            .unwrap();
        assert_eq!(
            first.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![photos[2].id, photos[1].id]
        );
        let second = repo
            .list_album_photos(&alice, &a1.id, first.next.as_ref(), 2)
            .await
            .unwrap();
        assert_eq!(second.items, vec![photos[0].clone()]);
        assert_eq!(second.next, None);
        assert!(
            repo.list_album_photos(&alice, &a2.id, None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert_eq!(
            kind(&repo.list_album_photos(&bob, &a1.id, None, 10).await),
            "NotFound"
        );

        repo.remove_from_album(&alice, &a1.id, &photos[1].id)
            .await
            .unwrap();
        assert_eq!(
            kind(&repo.remove_from_album(&alice, &a1.id, &photos[1].id).await),
            "NotFound"
        );
        let left = repo
            .list_album_photos(&alice, &a1.id, None, 10)
            .await
            .unwrap();
        assert_eq!(
            left.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![photos[2].id, photos[0].id]
        );
        // Memberships are found from the photo's side through gsi1.
        let gsi = keys::target_gsi1pk(&alice, &ShareTarget::Photo(photos[0].id));
        assert_eq!(
            self.probe.gsi1_keys(&gsi).await,
            vec![(
                keys::user_pk(&alice),
                keys::member_sk(&a1.id, &photos[0].id)
            )]
        );
    }

    async fn share_links(&self) {
        let alice = self.user("shr");
        let bob = self.user("shr-bob");
        let repo = &self.repo;
        let photo = self.photo(&alice, 1, 1);
        self.insert(&photo, 1000).await;
        let album = self.album(&alice, "Trip");
        repo.insert_album(&album).await.unwrap();

        let missing = self.share(&alice, ShareTarget::Photo(self.photo_id()), 1_000);
        assert_eq!(kind(&repo.insert_share(&missing).await), "NotFound");
        let not_owner = self.share(&bob, ShareTarget::Album(album.id), 1_000);
        assert_eq!(kind(&repo.insert_share(&not_owner).await), "NotFound");
        assert_eq!(repo.get_share(&missing.token).await.unwrap(), None);

        let mut shares = Vec::new();
        for (i, target) in [
            ShareTarget::Photo(photo.id),
            ShareTarget::Album(album.id),
            ShareTarget::Photo(photo.id),
        ]
        .into_iter()
        .enumerate()
        {
            let mut s = self.share(&alice, target, 1_790_000_000_000 + i as i64);
            if i == 1 {
                s.password_hash = Some(crate::model::PasswordHash::from_stored(
                    "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
                ));
            }
            repo.insert_share(&s).await.unwrap();
            shares.push(s);
        }
        let mut taken = self.share(&alice, ShareTarget::Photo(photo.id), 5);
        taken.token = shares[0].token.clone();
        assert_eq!(kind(&repo.insert_share(&taken).await), "AlreadyExists");
        assert_eq!(
            repo.get_share(&shares[1].token).await.unwrap(),
            Some(shares[1].clone())
        );

        let page = repo.list_shares(&alice, None, 2).await.unwrap();
        assert_eq!(page.items, vec![shares[2].clone(), shares[1].clone()]);
        let rest = repo
            .list_shares(&alice, page.next.as_ref(), 2)
            .await
            .unwrap();
        assert_eq!(rest.items, vec![shares[0].clone()]);
        assert_eq!(rest.next, None);
        assert!(
            repo.list_shares(&bob, None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );

        assert_eq!(
            kind(&repo.revoke_share(&bob, &shares[0].token).await),
            "NotFound"
        );
        assert_eq!(
            kind(&repo.revoke_share(&alice, &ShareToken::generate()).await),
            "NotFound"
        );
        let revoked = repo.revoke_share(&alice, &shares[0].token).await.unwrap();
        assert!(revoked.revoked);
        assert_eq!(
            repo.get_share(&shares[0].token).await.unwrap(),
            Some(revoked),
            "revocation is visible at once"
        );
    }

    async fn deleting_a_photo_leaves_nothing_behind(&self) {
        let alice = self.user("del");
        let repo = &self.repo;
        let photo = self.photo(&alice, 1, 30);
        let other = self.photo(&alice, 2, 20);
        self.insert(&photo, 1000).await;
        self.insert(&other, 1000).await;
        let album = self.album(&alice, "Keep");
        repo.insert_album(&album).await.unwrap();
        repo.add_to_album(&alice, &album.id, &photo.id)
            .await
            .unwrap();
        repo.add_to_album(&alice, &album.id, &other.id)
            .await
            .unwrap();
        let photo_share = self.share(&alice, ShareTarget::Photo(photo.id), 10);
        let other_share = self.share(&alice, ShareTarget::Photo(other.id), 11);
        let album_share = self.share(&alice, ShareTarget::Album(album.id), 12);
        for s in [&photo_share, &other_share, &album_share] {
            repo.insert_share(s).await.unwrap();
        }

        assert_eq!(repo.delete_photo(&alice, &photo.id).await.unwrap(), photo);
        assert_eq!(
            kind(&repo.delete_photo(&alice, &photo.id).await),
            "NotFound"
        );
        assert_eq!(
            kind(&repo.delete_photo(&self.user("del-bob"), &other.id).await),
            "NotFound"
        );
        assert_eq!(repo.get_photo(&alice, &photo.id).await.unwrap(), None);
        assert_eq!(
            repo.find_photo_by_sha256(&alice, &sha(1)).await.unwrap(),
            None
        );
        assert_eq!(repo.get_share(&photo_share.token).await.unwrap(), None);
        assert_eq!(
            repo.get_usage(&alice).await.unwrap(),
            Usage {
                used_bytes: 20,
                photo_count: 1
            }
        );
        let gsi = keys::target_gsi1pk(&alice, &ShareTarget::Photo(photo.id));
        assert!(
            self.probe.gsi1_keys(&gsi).await.is_empty(),
            "nothing points at it"
        );
        assert!(
            self.probe
                .sort_keys(&keys::share_pk(&photo_share.token))
                .await
                .is_empty()
        );
        let mut expected = vec![
            keys::album_sk(&album.id),
            keys::member_sk(&album.id, &other.id),
            keys::photo_sk(&other.id),
            keys::sha256_sk(&sha(2)),
            keys::share_link_sk(other_share.created_at, &other_share.token),
            keys::share_link_sk(album_share.created_at, &album_share.token),
            keys::USAGE_SK.to_owned(),
        ];
        expected.sort();
        assert_eq!(
            self.sort_keys(&alice).await,
            expected,
            "only the others remain"
        );
        assert_eq!(
            repo.get_share(&album_share.token).await.unwrap(),
            Some(album_share)
        );
        // The same bytes can be uploaded again once the photo is gone.
        self.insert(&self.photo(&alice, 1, 30), 1000).await;
    }

    async fn deleting_an_album_keeps_its_photos(&self) {
        let alice = self.user("dalb");
        let repo = &self.repo;
        let photo = self.photo(&alice, 1, 5);
        self.insert(&photo, 1000).await;
        let album = self.album(&alice, "Gone");
        let kept = self.album(&alice, "Kept");
        repo.insert_album(&album).await.unwrap();
        repo.insert_album(&kept).await.unwrap();
        repo.add_to_album(&alice, &album.id, &photo.id)
            .await
            .unwrap();
        repo.add_to_album(&alice, &kept.id, &photo.id)
            .await
            .unwrap();
        let album_share = self.share(&alice, ShareTarget::Album(album.id), 20);
        let photo_share = self.share(&alice, ShareTarget::Photo(photo.id), 21);
        repo.insert_share(&album_share).await.unwrap();
        repo.insert_share(&photo_share).await.unwrap();

        repo.delete_album(&alice, &album.id).await.unwrap();
        assert_eq!(
            kind(&repo.delete_album(&alice, &album.id).await),
            "NotFound"
        );
        assert_eq!(repo.get_album(&alice, &album.id).await.unwrap(), None);
        assert_eq!(repo.get_share(&album_share.token).await.unwrap(), None);
        assert_eq!(
            kind(&repo.list_album_photos(&alice, &album.id, None, 10).await),
            "NotFound"
        );
        let gsi = keys::target_gsi1pk(&alice, &ShareTarget::Album(album.id));
        assert!(self.probe.gsi1_keys(&gsi).await.is_empty());
        let mut expected = vec![
            keys::album_sk(&kept.id),
            keys::member_sk(&kept.id, &photo.id),
            keys::photo_sk(&photo.id),
            keys::sha256_sk(&sha(1)),
            keys::share_link_sk(photo_share.created_at, &photo_share.token),
            keys::USAGE_SK.to_owned(),
        ];
        expected.sort();
        assert_eq!(self.sort_keys(&alice).await, expected);
        assert_eq!(
            repo.get_photo(&alice, &photo.id).await.unwrap(),
            Some(photo)
        );
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
