//! Albums: names, memberships found from both sides, and deleting an album but not its photos.

use super::{Suite, kind, sha};
use crate::keys;
use crate::model::{Photo, ShareTarget};
use crate::types::AlbumName;

impl Suite<'_> {
    pub(super) async fn albums_and_memberships(&self) {
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

    pub(super) async fn deleting_an_album_keeps_its_photos(&self) {
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
