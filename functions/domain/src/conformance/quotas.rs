//! Inserting photos: the id, the checksum and the quota, all checked in the same write.

use super::{Suite, kind, sha};
use crate::keys;
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
}
