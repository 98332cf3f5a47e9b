//! Photos after upload: edits, processing transitions, newest-first pages and deletion.

use super::{Suite, kind, sha};
use crate::keys;
use crate::model::{PhotoStatus, ProcessedInfo, ProcessingOutcome, ShareTarget, SortKey, Usage};
use crate::ports::PhotoPatch;
use crate::types::{Camera, Dimensions, Gps, Timestamp, Title};

impl Suite<'_> {
    pub(super) async fn photo_updates_and_processing_transitions(&self) {
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
            taken_offset_minutes: Some(-330),
            camera: Some(Camera::parse("FUJIFILM X100V").unwrap()),
            gps: Some(Gps::new(59.3293, 18.0686).unwrap()),
            sha256_actual: sha(1),
            size: 10,
        };
        // Attempts: counted one conditional write at a time, up to the caller's limit, and
        // kept through finishing.
        for attempt in 1..=2 {
            let started = repo.start_processing(&alice, &p.id, 2).await.unwrap();
            assert_eq!(started.processing_attempts, attempt);
            assert_eq!(started.status, PhotoStatus::Pending);
        }
        assert_eq!(
            kind(&repo.start_processing(&alice, &p.id, 2).await),
            "Conflict",
            "no attempt is left"
        );
        assert_eq!(
            repo.start_processing(&alice, &p.id, 3)
                .await
                .unwrap()
                .processing_attempts,
            3
        );
        assert_eq!(
            kind(&repo.start_processing(&alice, &missing, 3).await),
            "NotFound"
        );
        let ready = repo
            .finish_processing(&alice, &p.id, &ProcessingOutcome::Ready(info.clone()))
            .await
            .unwrap();
        assert_eq!(ready.processing_attempts, 3);
        assert_eq!(
            kind(&repo.start_processing(&alice, &p.id, 10).await),
            "Conflict",
            "only PENDING photos start"
        );
        assert_eq!(ready.status, PhotoStatus::Ready);
        assert_eq!(ready.dimensions, Some(info.dimensions));
        assert_eq!(ready.taken_at, info.taken_at);
        assert_eq!(
            ready.taken_offset_minutes,
            Some(-330),
            "the camera's offset is kept"
        );
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

    pub(super) async fn photos_page_newest_first(&self) {
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

    pub(super) async fn deleting_a_photo_leaves_nothing_behind(&self) {
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
}
