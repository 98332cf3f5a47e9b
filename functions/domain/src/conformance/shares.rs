//! Share links: conditional on their target, listed newest first, revoked at once.

use super::{Suite, T0, kind};
use crate::model::{ShareAttempts, ShareTarget};
use crate::types::ShareToken;

impl Suite<'_> {
    pub(super) async fn share_links(&self) {
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
            if i == 2 {
                s.allow_download = true;
                s.days = Some(3);
            }
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
            Some(revoked.clone()),
            "revocation is visible at once"
        );

        // The links of one target, revoked ones too, with their options as stored.
        let tokens = |mut found: Vec<crate::model::Share>| {
            found.sort_by_key(|s| s.created_at);
            found
        };
        let of_photo = tokens(
            repo.shares_of(&alice, &ShareTarget::Photo(photo.id))
                .await
                .unwrap(),
        );
        assert_eq!(of_photo, vec![revoked, shares[2].clone()]);
        assert!(of_photo[1].allow_download && of_photo[1].days == Some(3));
        assert_eq!(
            repo.shares_of(&alice, &ShareTarget::Album(album.id))
                .await
                .unwrap(),
            vec![shares[1].clone()]
        );
        assert!(
            repo.shares_of(&bob, &ShareTarget::Photo(photo.id))
                .await
                .unwrap()
                .is_empty(),
            "another owner's view of the same id"
        );
    }

    /// Password attempts are counted by a write conditional on the count read.
    pub(super) async fn share_attempts(&self) {
        let alice = self.user("att");
        let repo = &self.repo;
        let photo = self.photo(&alice, 1, 1);
        self.insert(&photo, 1000).await;
        let share = self.share(&alice, ShareTarget::Photo(photo.id), 1_790_000_000_000);
        repo.insert_share(&share).await.unwrap();
        let stored = |token: ShareToken| async move {
            let share = repo.get_share(&token).await.unwrap();
            share.expect("the link is there").attempts
        };
        assert_eq!(stored(share.token.clone()).await, ShareAttempts::default());

        let first = ShareAttempts::default().after_one_more(T0);
        repo.set_share_attempts(&share.token, 0, first)
            .await
            .unwrap();
        assert_eq!(stored(share.token.clone()).await, first);
        // A second attempt that read the count before the first was written loses.
        let stale = ShareAttempts {
            failed: 1,
            locked_until: Some(T0),
        };
        assert_eq!(
            kind(&repo.set_share_attempts(&share.token, 0, stale).await),
            "Conflict"
        );
        assert_eq!(
            stored(share.token.clone()).await,
            first,
            "the loser wrote nothing"
        );

        let locked = ShareAttempts {
            failed: 5,
            locked_until: Some(T0.plus_secs(60)),
        };
        repo.set_share_attempts(&share.token, 1, locked)
            .await
            .unwrap();
        assert_eq!(stored(share.token.clone()).await, locked);
        repo.set_share_attempts(&share.token, 5, ShareAttempts::default())
            .await
            .unwrap();
        assert_eq!(stored(share.token.clone()).await, ShareAttempts::default());

        assert_eq!(
            kind(
                &repo
                    .set_share_attempts(&ShareToken::generate(), 0, first)
                    .await
            ),
            "NotFound"
        );
        // The rest of the link is untouched.
        let now = repo.get_share(&share.token).await.unwrap().unwrap();
        assert_eq!(now, share);
    }
}
