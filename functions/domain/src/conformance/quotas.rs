//! Inserting photos: the id, the checksum and the quota, all checked in the same write.

use super::{Suite, T0, kind, sha};
use crate::keys;
use crate::model::Photo;
use crate::model::Usage;

impl Suite<'_> {
    pub(super) async fn photos_insert_with_duplicate_and_quota_checks(&self) {
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

    /// The awaited uploads: PENDING photos processing never took, by owner and oldest first;
    /// removing an abandoned one returns its quota and its checksum, only while it is awaited.
    pub(super) async fn abandoned_uploads(&self) {
        let alice = self.user("abandon");
        let bob = self.user("abandon-bob");
        let repo = &self.repo;
        let ids = |photos: &[Photo]| photos.iter().map(|p| p.id).collect::<Vec<_>>();
        let later = T0.plus_secs(86_400);
        let (first, second, taken) = (
            self.photo(&alice, 1, 10),
            self.photo(&alice, 2, 20),
            self.photo(&alice, 3, 30),
        );
        let bobs = self.photo(&bob, 1, 40);
        for p in [&first, &second, &taken, &bobs] {
            self.insert(p, 1000).await;
        }
        repo.start_processing(&alice, &taken.id, 3).await.unwrap();

        let awaited = repo.awaited_uploads(Some(&alice), later, 10).await.unwrap();
        assert_eq!(
            ids(&awaited),
            [first.id, second.id],
            "alice's awaited uploads"
        );
        assert_eq!(awaited[0], first, "the photo as stored");
        let one = repo.awaited_uploads(Some(&alice), later, 1).await.unwrap();
        assert_eq!(ids(&one), [first.id], "the limit keeps the oldest");
        let none = repo.awaited_uploads(Some(&alice), T0, 10).await.unwrap();
        assert!(none.is_empty(), "created before is strict: {none:?}");
        // Everyone's, in a table other runs may share: at least these, and never a taken one.
        let all = ids(&repo.awaited_uploads(None, later, 10_000).await.unwrap());
        for id in [first.id, second.id, bobs.id] {
            assert!(all.contains(&id), "{id} among everyone's awaited uploads");
        }
        assert!(
            !all.contains(&taken.id),
            "a photo processing took is not awaited"
        );

        assert_eq!(
            kind(&repo.remove_abandoned(&alice, &taken.id).await),
            "Conflict",
            "processing took it"
        );
        assert_eq!(
            repo.remove_abandoned(&alice, &first.id).await.unwrap(),
            first
        );
        assert_eq!(
            repo.get_usage(&alice).await.unwrap(),
            Usage {
                used_bytes: 50,
                photo_count: 2
            },
            "its bytes are returned"
        );
        assert_eq!(
            repo.find_photo_by_sha256(&alice, &sha(1)).await.unwrap(),
            None
        );
        assert!(
            !self
                .sort_keys(&alice)
                .await
                .contains(&keys::photo_sk(&first.id))
        );
        assert_eq!(
            kind(&repo.remove_abandoned(&alice, &first.id).await),
            "NotFound"
        );
        // Once processing takes the last one, alice awaits nothing.
        repo.start_processing(&alice, &second.id, 3).await.unwrap();
        let awaited = repo.awaited_uploads(Some(&alice), later, 10).await.unwrap();
        assert!(awaited.is_empty(), "{awaited:?}");
        assert_eq!(
            ids(&repo.awaited_uploads(Some(&bob), later, 10).await.unwrap()),
            [bobs.id]
        );
    }
}
