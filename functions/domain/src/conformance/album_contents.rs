//! What an album says of its photos: how many, which is its cover, and the dates they span,
//! kept by every write that changes its photos.

use super::timeline::ready;
use super::{Suite, kind};
use crate::model::{Album, Photo};
use crate::types::{AlbumId, Timestamp, UserId};

/// 2019-03-10T08:00:00Z and 2024-06-01T12:03:09Z.
const EARLY: i64 = 1_552_204_800_000;
const LATE: i64 = 1_717_243_389_000;
/// 2030-01-01T00:00:00Z.
const LATER: i64 = 1_893_456_000_000;

fn at(ms: i64) -> Option<Timestamp> {
    Some(Timestamp::from_millis(ms))
}

impl Suite<'_> {
    async fn contents(
        &self,
        owner: &UserId,
        album: &AlbumId,
    ) -> (
        u64,
        Option<Photo>,
        bool,
        Option<Timestamp>,
        Option<Timestamp>,
    ) {
        let a: Album = self.repo.get_album(owner, album).await.unwrap().unwrap();
        let cover = match a.cover {
            Some(id) => self.repo.get_photo(owner, &id).await.unwrap(),
            None => None,
        };
        (
            a.photo_count,
            cover,
            a.cover_chosen,
            a.taken_from,
            a.taken_until,
        )
    }

    pub(super) async fn album_counts_covers_and_dates(&self) {
        let alice = self.user("agg");
        let repo = &self.repo;
        let album = self.album(&alice, "Trips");
        repo.insert_album(&album).await.unwrap();
        assert_eq!(
            self.contents(&alice, &album.id).await,
            (0, None, false, None, None)
        );

        // Taken in 2019, in 2024, and one still processing.
        let photos: Vec<Photo> = (0..3).map(|n| self.photo(&alice, 60 + n, 1)).collect();
        for p in &photos {
            self.insert(p, 1000).await;
        }
        self.finish(&photos[0], &ready(&photos[0], EARLY, None))
            .await;
        self.finish(&photos[1], &ready(&photos[1], LATE, None))
            .await;
        for p in [&photos[1], &photos[0], &photos[2], &photos[1]] {
            repo.add_to_album(&alice, &album.id, &p.id).await.unwrap();
        }
        let (count, cover, chosen, from, until) = self.contents(&alice, &album.id).await;
        assert_eq!(
            (count, chosen, from, until),
            (3, false, at(EARLY), at(LATE)),
            "added twice counts once"
        );
        assert_eq!(
            cover.unwrap().id,
            photos[1].id,
            "the first added is the cover"
        );

        // Processing that learns a date widens the album.
        self.finish(&photos[2], &ready(&photos[2], LATER, None))
            .await;
        assert_eq!(self.contents(&alice, &album.id).await.4, at(LATER));

        // The owner picks a cover among its photos only.
        let outsider = self.photo(&alice, 63, 1);
        self.insert(&outsider, 1000).await;
        let refused = repo.set_album_cover(&alice, &album.id, &outsider.id).await;
        assert_eq!(kind(&refused), "NotFound");
        let picked = repo
            .set_album_cover(&alice, &album.id, &photos[0].id)
            .await
            .unwrap();
        assert_eq!(
            (picked.cover, picked.cover_chosen),
            (Some(photos[0].id), true)
        );

        // The earliest leaves: the range closes in, the picked cover stays.
        repo.remove_from_album(&alice, &album.id, &photos[1].id)
            .await
            .unwrap();
        let (count, cover, chosen, from, until) = self.contents(&alice, &album.id).await;
        assert_eq!(
            (count, cover.map(|c| c.id), chosen),
            (2, Some(photos[0].id), true)
        );
        assert_eq!((from, until), (at(EARLY), at(LATER)));
        // The cover is deleted: the album's earliest upload is its cover, no longer picked.
        repo.delete_photo(&alice, &photos[0].id).await.unwrap();
        let (count, cover, chosen, from, until) = self.contents(&alice, &album.id).await;
        assert_eq!(
            (count, cover.map(|c| c.id), chosen),
            (1, Some(photos[2].id), false)
        );
        assert_eq!((from, until), (at(LATER), at(LATER)));
        assert_eq!(
            kind(
                &repo
                    .remove_from_album(&alice, &album.id, &photos[0].id)
                    .await
            ),
            "NotFound"
        );
        repo.remove_from_album(&alice, &album.id, &photos[2].id)
            .await
            .unwrap();
        assert_eq!(
            self.contents(&alice, &album.id).await,
            (0, None, false, None, None)
        );
    }
}
